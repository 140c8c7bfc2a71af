// HTTP Basic sign-in of a partner's staff with one of the partner's OAuth2 clients (an enabled
// IPSP client of that issuer, e.g. one the operator created with `clients create`): the same id
// and secret the partner uses at the token endpoint, checked against the same client store.
import type { PrismaClient } from '../generated/prisma/client.js';
import { clientSecretMatches, hashClientSecret } from '../auth/clients.js';
import { findClient } from '../auth/client-store.js';

/** A hash no secret has, compared when the client is unknown so both cases take the same time. */
const NO_SECRET_HASH = hashClientSecret('\u0000no client\u0000');

/** Client id and secret of a `Basic` Authorization header (RFC 7617); undefined when malformed. */
export function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=_-]{1,1024})$/i.exec(header?.trim() ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || decoded.includes('\u0000')) return undefined;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** The client id when the header names an enabled IPSP client of `issuer` with its right secret. */
export async function partnerCredentials(prisma: PrismaClient, issuer: string, authorization: string | undefined): Promise<string | undefined> {
  const presented = basicCredentials(authorization);
  if (!presented || presented.id.length > 200) return undefined;
  const client = await findClient(prisma, presented.id);
  const secretOk = clientSecretMatches(client?.secretHash ?? NO_SECRET_HASH, presented.secret);
  return client && secretOk && client.enabled && client.role === 'IPSP' && client.issuer?.toUpperCase() === issuer.toUpperCase() ? client.id : undefined;
}
