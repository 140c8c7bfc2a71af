import http from 'node:http';
import https from 'node:https';

// Server-to-server calls between SRS and its partners. node:http with kept-alive connections
// instead of fetch: undici's fetch costs 0.5 to 1 ms more CPU per request, and every order
// makes two such calls (SRS opens it at the partner, the partner introspects the token).
// An idle connection is given up after 4 s, before a peer with Node's default keep-alive
// timeout (5 s) closes it: a request sent on a connection the peer is closing is reset.
const KEEP_ALIVE = { keepAlive: true, timeout: 4_000 };
const agents = { 'http:': new http.Agent(KEEP_ALIVE), 'https:': new https.Agent(KEEP_ALIVE) };
const MAX_ANSWER_BYTES = 1024 * 1024;

export interface HttpAnswer {
  status: number;
  ok: boolean;
  text: string;
}

/** Kept-alive connections for one peer with TLS settings of its own (a client certificate, its CA). */
export function httpsAgent(tls: { cert?: string; key?: string; ca?: string }): https.Agent {
  return new https.Agent({ ...KEEP_ALIVE, ...tls });
}

/**
 * POSTs a body and reads the whole answer; rejects when the peer cannot be reached or takes longer
 * than timeoutMs. `agent` (https only) replaces the shared one, e.g. to present a client certificate.
 */
export function post(url: string, options: { headers: Record<string, string>; body: string; timeoutMs: number; agent?: https.Agent }): Promise<HttpAnswer> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  const agent = target.protocol === 'https:' && options.agent ? options.agent : agents[target.protocol as keyof typeof agents];
  if (!agent) return Promise.reject(new Error(`Unsupported protocol in ${target.origin}`));
  return new Promise((resolve, reject) => {
    const request = client.request(
      target,
      {
        method: 'POST',
        agent,
        headers: { ...options.headers, 'content-length': Buffer.byteLength(options.body) },
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) request.destroy(new Error('The answer is larger than 1 MB.'));
          else chunks.push(chunk);
        });
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          resolve({ status, ok: status >= 200 && status < 300, text: Buffer.concat(chunks).toString('utf8') });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}
