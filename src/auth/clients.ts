import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PrismaClient, Client } from '../generated/prisma/client.js';
import { METHOD_CATALOGUE } from '../domain/catalogue.js';
import { CLIENT_ROLES, SCOPES_BY_ROLE, type ClientRole, type Scope } from './scopes.js';
import { disableClientRow, insertClient } from './client-store.js';

export interface NewClientInput {
  name: string;
  role: string;
  issuer?: string;
  scopes?: string[];
}

/** A request to create a client that cannot be honoured, with every reason. */
export class InvalidClientInputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

const SECRET_HASH_PREFIX = 'sha256:';

/**
 * Secrets are 256 random bits, so a fast hash is as safe as a slow one here and keeps the token
 * endpoint cheap; only the hash is stored.
 */
export function hashClientSecret(secret: string): string {
  return SECRET_HASH_PREFIX + createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function clientSecretMatches(storedHash: string, presentedSecret: string): boolean {
  const expected = Buffer.from(storedHash, 'utf8');
  const actual = Buffer.from(hashClientSecret(presentedSecret), 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Checks a new client's input; returns the normalised values or throws with every problem. */
export function validateNewClient(input: NewClientInput): { name: string; role: ClientRole; issuer: string | null; scopes: Scope[] } {
  const problems: string[] = [];
  const name = input.name?.trim() ?? '';
  if (!name) problems.push('name: must not be empty');
  const role = input.role?.toUpperCase() as ClientRole;
  if (!CLIENT_ROLES.includes(role)) problems.push(`role: must be one of ${CLIENT_ROLES.join(', ')} (got "${input.role}")`);
  const issuers = [...new Set(METHOD_CATALOGUE.map((method) => method.issuer))];
  let issuer: string | null = input.issuer?.trim().toUpperCase() || null;
  if (role === 'IPSP' && !issuer) problems.push(`issuer: an IPSP client needs the issuer it serves (one of ${issuers.join(', ')})`);
  if (issuer && role !== 'IPSP') problems.push('issuer: only IPSP clients serve an issuer');
  if (issuer && role === 'IPSP' && !issuers.includes(issuer)) problems.push(`issuer: unknown issuer "${input.issuer}" (known: ${issuers.join(', ')})`);
  if (role !== 'IPSP') issuer = null;
  const allowed = SCOPES_BY_ROLE[role] ?? [];
  const scopes = (input.scopes?.length ? [...new Set(input.scopes)] : allowed) as Scope[];
  const refused = scopes.filter((scope) => !allowed.includes(scope));
  if (CLIENT_ROLES.includes(role) && refused.length) {
    problems.push(`scopes: ${refused.join(', ')} not allowed for role ${role} (allowed: ${allowed.join(', ')})`);
  }
  if (problems.length) throw new InvalidClientInputError(problems);
  return { name, role, issuer, scopes };
}

/** Creates a client; the returned secret is the only copy there will ever be. */
export async function createClient(prisma: PrismaClient, input: NewClientInput): Promise<{ client: Client; clientSecret: string }> {
  const values = validateNewClient(input);
  const clientSecret = randomBytes(32).toString('base64url');
  const client = await insertClient(prisma, {
    id: `srs_${randomBytes(12).toString('base64url')}`,
    name: values.name,
    role: values.role,
    issuer: values.issuer,
    scopes: values.scopes,
    secretHash: hashClientSecret(clientSecret),
  });
  return { client, clientSecret };
}

/** Disables a client and revokes every token it holds; returns null for an unknown id. */
export async function disableClient(prisma: PrismaClient, clientId: string): Promise<Client | null> {
  return prisma.$transaction(async (tx) => {
    const client = await disableClientRow(tx, clientId);
    if (!client) return null;
    await tx.oidcPayload.deleteMany({ where: { payload: { path: ['clientId'], equals: clientId } } });
    return client;
  });
}
