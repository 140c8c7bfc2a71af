// With the default PUBLIC_URL (http://127.0.0.1:PORT) a person may just as well say
// http://localhost:PORT: OpenID discovery must then name that issuer, or clients such as
// openid-client refuse it (the issuer must equal the URL discovery started from). For the other
// loopback spelling only, the discovery documents are answered with its origin.
import type http from 'node:http';
import { OIDC_MOUNT_PATH } from '../auth/oidc.js';
import { sendJson } from '../partners/http-helpers.js';

const DISCOVERY_PATHS = [`${OIDC_MOUNT_PATH}/.well-known/openid-configuration`, `${OIDC_MOUNT_PATH}/.well-known/oauth-authorization-server`];

/** The other spellings of a loopback PUBLIC_URL (localhost for 127.0.0.1 and back); none for a real host. */
export function loopbackAliases(publicUrl: string): string[] {
  const url = new URL(publicUrl);
  const other = url.hostname === '127.0.0.1' ? 'localhost' : url.hostname === 'localhost' ? '127.0.0.1' : undefined;
  if (!other) return [];
  url.hostname = other;
  return [url.origin];
}

/** Answers a discovery request addressed to an alias (by its Host header); false for any other request. */
export async function serveAliasDiscovery(request: http.IncomingMessage, response: http.ServerResponse, options: { publicUrl: string; internalUrl: string; aliases: string[] }): Promise<boolean> {
  if (!options.aliases.length || request.method !== 'GET') return false;
  const path = (request.url ?? '').split('?')[0];
  if (!DISCOVERY_PATHS.includes(path)) return false;
  const alias = options.aliases.find((origin) => new URL(origin).host === request.headers.host);
  if (!alias) return false;
  const answer = await fetch(`${options.internalUrl}${path}`);
  if (!answer.ok) return false;
  const publicOrigin = new URL(options.publicUrl).origin;
  const document = JSON.parse(JSON.stringify(await answer.json(), (_key, value: unknown) => (typeof value === 'string' && value.startsWith(publicOrigin) ? alias + value.slice(publicOrigin.length) : value)));
  sendJson(response, 200, document);
  return true;
}
