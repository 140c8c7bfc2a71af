// POST /oauth/token as the commercial SRS's clients send it (credentials and grant in the query
// string, no body) turned into the standard token request our OAuth2 server answers.
import type http from 'node:http';
import { Readable } from 'node:stream';
import { OIDC_MOUNT_PATH } from '../auth/oidc.js';
import { readBody, RestError, sendJson } from './http.js';

/** The commercial SRS's name for "every scope the client holds". */
const ALL_CLIENT_SCOPES = 'miss';

/**
 * The form the token endpoint expects, from the query string and any form body (the body wins):
 * client_id and client_secret become HTTP Basic authentication (what our clients are registered
 * for), and the scope `miss` is dropped, which grants every scope of the client.
 */
export function tokenRequestFrom(query: URLSearchParams, form: URLSearchParams, authorization: string | undefined): { form: URLSearchParams; authorization?: string } {
  const merged = new URLSearchParams(query);
  for (const key of new Set(form.keys())) merged.set(key, form.get(key)!);
  const clientId = merged.get('client_id');
  const clientSecret = merged.get('client_secret');
  if (clientId !== null && clientSecret !== null) {
    // RFC 6749 2.3: one authentication method per request; silently preferring one would let the
    // header's client and the query's client differ unnoticed.
    if (authorization) throw new RestError(400, 'invalid_request', 'Send the client credentials either in the query string or body, or in the Authorization header, not in both.');
    // RFC 6749 2.3.1: both are form-encoded before they are joined.
    const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
    authorization = `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
    merged.delete('client_id');
    merged.delete('client_secret');
  }
  const scopes = (merged.get('scope') ?? '').split(' ').filter((scope) => scope && scope !== ALL_CLIENT_SCOPES);
  if (scopes.length) merged.set('scope', scopes.join(' '));
  else merged.delete('scope');
  return { form: merged, authorization };
}

/**
 * Answers POST /oauth/token by handing oidc-provider a token request of its own form, in this
 * process: the same endpoint, client checks and errors as POST /oidc/token.
 */
export async function serveTokenRoute(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  query: URLSearchParams,
  oidc: (request: http.IncomingMessage, response: http.ServerResponse) => Promise<void> | void,
): Promise<void> {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const body = await readBody(request);
  if (body.length && contentType !== 'application/x-www-form-urlencoded') {
    throw new RestError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the token request in the query string, or as an application/x-www-form-urlencoded body.');
  }
  let translated: ReturnType<typeof tokenRequestFrom>;
  try {
    translated = tokenRequestFrom(query, new URLSearchParams(body.toString('utf8')), request.headers.authorization);
  } catch (error) {
    // In the token endpoint's own error format (RFC 6749 5.2), as oidc-provider answers.
    if (error instanceof RestError) return sendJson(response, error.status, { error: error.code, error_description: error.message });
    throw error;
  }
  const formBody = Buffer.from(translated.form.toString());
  const headers: http.IncomingHttpHeaders = { ...request.headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(formBody.length) };
  delete headers['transfer-encoding'];
  delete headers.authorization;
  if (translated.authorization) headers.authorization = translated.authorization;
  await oidc(forwardedRequest(request, '/token', headers, formBody), response);
}

/**
 * A request for oidc-provider that is the client's request (its socket, address, HTTP version)
 * with another path, headers and body: the original stream has been read and cannot be refilled.
 */
function forwardedRequest(original: http.IncomingMessage, path: string, headers: http.IncomingHttpHeaders, body: Buffer): http.IncomingMessage {
  const stream = new Readable({ read() {} });
  stream.push(body);
  stream.push(null);
  return Object.assign(stream, {
    method: 'POST',
    url: path,
    // oidc-provider finds its mount path here (see the oidc route of src/http/routes.ts).
    originalUrl: `${OIDC_MOUNT_PATH}${path}`,
    headers,
    rawHeaders: [],
    socket: original.socket,
    connection: original.socket,
    httpVersion: original.httpVersion,
    httpVersionMajor: original.httpVersionMajor,
    httpVersionMinor: original.httpVersionMinor,
    complete: true,
    aborted: false,
  }) as unknown as http.IncomingMessage;
}
