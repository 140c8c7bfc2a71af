// One HTTP attempt, to exactly the address the URL guard checked.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from './url-guard.js';
import type { AttemptOutcome } from './retry-policy.js';

/** How much of an answer is read: enough for an excerpt; the rest is never downloaded. */
const MAX_ANSWER_BYTES = 4096;
const EXCERPT_LENGTH = 200;
const USER_AGENT = 'SRS-Webhooks/1.0';

/**
 * POSTs the body to the URL, connecting to `address` whatever DNS says now (the custom lookup
 * pins it; TLS still checks the certificate against the URL's host name). Redirects are not
 * followed: a 3xx is an answer like any other non-2xx. Never throws.
 */
export function postWebhook(target: { url: URL; address: ResolvedAddress }, headers: Record<string, string>, body: string, timeoutMs: number): Promise<AttemptOutcome> {
  const pinnedLookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) (callback as (error: null, addresses: Array<{ address: string; family: number }>) => void)(null, [{ address: target.address.address, family: target.address.family }]);
    else callback(null, target.address.address, target.address.family);
  };
  const transport = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const request = transport.request(
      target.url,
      {
        method: 'POST',
        lookup: pinnedLookup,
        agent: false,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': USER_AGENT },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let received = 0;
        const done = () => {
          const excerpt = Buffer.concat(chunks).toString('utf8').slice(0, EXCERPT_LENGTH).trim();
          const retryAfter = response.headers['retry-after'];
          finish({ kind: 'response', status: response.statusCode ?? 0, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, excerpt });
          response.destroy();
          request.destroy();
        };
        response.on('data', (chunk: Buffer) => {
          if (received < MAX_ANSWER_BYTES) chunks.push(chunk.subarray(0, MAX_ANSWER_BYTES - received));
          received += chunk.length;
          if (received >= MAX_ANSWER_BYTES) done();
        });
        response.on('end', done);
        response.on('error', done);
      },
    );
    const timer = setTimeout(() => {
      finish({ kind: 'error', message: `No answer within ${timeoutMs / 1000} s.` });
      request.destroy();
    }, timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => finish({ kind: 'error', message: `Could not deliver: ${error.code ?? error.message}.` }));
    request.end(body);
  });
}
