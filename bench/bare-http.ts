// What the bare baselines answer with: JSON with a content-length, as yoga and oidc-provider do.
import type http from 'node:http';

export function send(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** A GraphQL-over-HTTP error answer with its code, as the service gives it. */
export function graphqlError(response: http.ServerResponse, status: number, code: string, message: string): void {
  send(response, status, { errors: [{ message, extensions: { code } }] });
}
