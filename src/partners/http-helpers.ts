// Small helpers for the service's own HTML pages and JSON endpoints on node:http.
import type http from 'node:http';
import { ClientRequestError, requestIncomplete, requestTooLarge } from '../http/errors.js';
import { setContentSecurityPolicy } from '../http/security-headers.js';

const MAX_BODY_BYTES = 64 * 1024;

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);
}

/** The body as text; a body over the limit is 413, one cut off mid-way 400 (see http/errors.ts). */
async function readBody(request: http.IncomingMessage): Promise<string> {
  if (Number(request.headers['content-length']) > MAX_BODY_BYTES) throw requestTooLarge(MAX_BODY_BYTES);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) throw requestTooLarge(MAX_BODY_BYTES);
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    throw error instanceof ClientRequestError ? error : requestIncomplete();
  }
  if (!request.complete) throw requestIncomplete();
  return Buffer.concat(chunks).toString('utf8');
}

export async function readForm(request: http.IncomingMessage): Promise<Record<string, string>> {
  return Object.fromEntries(new URLSearchParams(await readBody(request)));
}

/** The body parsed as JSON; undefined when it is not JSON. */
export async function readJson(request: http.IncomingMessage): Promise<unknown> {
  const body = await readBody(request);
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

export function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

/** An HTML page, with the pages' Content-Security-Policy (the other security headers come from http/request-handler.ts). */
export function sendHtml(response: http.ServerResponse, status: number, html: string): void {
  setContentSecurityPolicy(response);
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(html);
}

/** A complete, plain page that works in any browser, without scripts. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
main{max-width:40rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 3px #0002}
h1{font-size:1.4rem}label{display:block;margin:.5rem 0}input{display:block;width:100%;padding:.4rem;box-sizing:border-box}
fieldset{border:1px solid #ccd;border-radius:6px;margin:1rem 0}button{margin:.3rem .3rem 0 0;padding:.5rem .8rem;cursor:pointer}
.meta{color:#556;font-size:.9rem}.notice{background:#fff3cd;padding:.6rem;border-radius:4px}.code strong{font-size:1.5rem;letter-spacing:.1em}
</style></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>`;
}
