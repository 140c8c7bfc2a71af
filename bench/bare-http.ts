// What the bare servers of the benchmark share: JSON answers with a content-length (as yoga and
// oidc-provider give them), reading a request body, and stopping on a signal.
import http from 'node:http';

export function send(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** A GraphQL-over-HTTP error answer with its code, as the service gives it. */
export function graphqlError(response: http.ServerResponse, status: number, code: string, message: string): void {
  send(response, status, { errors: [{ message, extensions: { code } }] });
}

export async function readBody(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The body as JSON, or undefined when it is not JSON (the caller answers 400). */
export async function readJsonBody<Body>(request: http.IncomingMessage): Promise<Body | undefined> {
  try {
    return JSON.parse(await readBody(request)) as Body;
  } catch {
    return undefined;
  }
}

/**
 * Serves `handle` on 127.0.0.1:port with GET /health; a handler that throws gets a 500 answer
 * (and a line on stderr). SIGTERM and SIGINT close the server, then `close` (the pool), then exit.
 */
export function serve(port: number, handle: (request: http.IncomingMessage, response: http.ServerResponse) => Promise<void> | void, close: () => Promise<void>): http.Server {
  const server = http.createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/health') return send(response, 200, { status: 'ok' });
    if (request.method !== 'POST') return send(response, 405, { error: 'method not allowed' });
    Promise.resolve(handle(request, response)).catch((error: unknown) => {
      console.error(`${request.url} failed:`, error);
      if (!response.headersSent) graphqlError(response, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
    });
  });
  server.listen(port, '127.0.0.1');
  const stop = () => {
    server.close();
    server.closeAllConnections();
    void close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return server;
}
