// The Client aggregate's store: every statement on the "Client" table is here (the OIDC payload
// statements only join it, to keep a disabled client's tokens unusable in the same statement).
// The hot paths each call one function here, one statement each: bearer authentication
// (findClient), the token endpoint's client lookup (findClientMetadata) and the rate limiter's
// per-client limit (findClientRateLimit).
import type { Client, Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { DatabaseHandle } from '../db/adapter.js';

export function insertClient(prisma: PrismaClient, data: Prisma.ClientCreateInput): Promise<Client> {
  return prisma.client.create({ data });
}

export function findClient(prisma: PrismaClient, clientId: string): Promise<Client | null> {
  return prisma.client.findUnique({ where: { id: clientId } });
}

export function listClients(prisma: PrismaClient): Promise<Client[]> {
  return prisma.client.findMany({ orderBy: { createdAt: 'asc' } });
}

/** The clients the operator created: the built-in simulators' own IPSP clients (sim-*) aside. */
export function listOperatorClients(prisma: PrismaClient): Promise<Array<Pick<Client, 'id' | 'name' | 'enabled'>>> {
  return prisma.client.findMany({ where: { NOT: { id: { startsWith: 'sim-' } } }, select: { id: true, name: true, enabled: true } });
}

export function clientNames(prisma: PrismaClient, clientIds: string[]): Promise<Array<Pick<Client, 'id' | 'name'>>> {
  return prisma.client.findMany({ where: { id: { in: clientIds } }, select: { id: true, name: true } });
}

/** Disables a client in the caller's transaction; null for an unknown id. */
export async function disableClientRow(tx: Prisma.TransactionClient, clientId: string): Promise<Client | null> {
  const found = await tx.client.findUnique({ where: { id: clientId } });
  if (!found) return null;
  return tx.client.update({ where: { id: clientId }, data: { enabled: false } });
}

/** Creates the client or refreshes it; an operator's disabling is kept since `data` has no `enabled`. */
export async function upsertClient(prisma: PrismaClient, clientId: string, data: Omit<Prisma.ClientCreateInput, 'id' | 'enabled'>): Promise<void> {
  await prisma.client.upsert({ where: { id: clientId }, create: { id: clientId, ...data }, update: data });
}

/** The operator's limit for the client in requests per second; null: none set (or no such client). */
export async function findClientRateLimit(prisma: PrismaClient, clientId: string): Promise<number | null> {
  const row = await prisma.client.findUnique({ where: { id: clientId }, select: { rateLimitPerSecond: true } });
  return row?.rateLimitPerSecond ?? null;
}

/**
 * The operator's limit for one client (`npm run cli -- clients set-rate-limit`): requests per
 * second, 0 for none, null for RATE_LIMIT_PER_CLIENT. Running processes apply it within the
 * rate limiter's CLIENT_LIMIT_CACHE_MS. False when there is no such client.
 */
export async function setClientRateLimit(prisma: PrismaClient, clientId: string, perSecond: number | null): Promise<boolean> {
  const { count } = await prisma.client.updateMany({ where: { id: clientId }, data: { rateLimitPerSecond: perSecond } });
  return count === 1;
}

export interface ClientMetadataRow {
  id: string;
  name: string;
  role: string;
  issuer: string | null;
  scopes: string[];
  secretHash: string;
  enabled: boolean;
}

/** The columns oidc-provider needs, in plain SQL: read on a token request whose client is not cached. */
export async function findClientMetadata(query: DatabaseHandle['query'], clientId: string): Promise<ClientMetadataRow | undefined> {
  const [client] = await query<ClientMetadataRow>(
    `SELECT id, name, role::text AS role, issuer, scopes::text[] AS scopes, "secretHash", enabled FROM "Client" WHERE id = $1`,
    [clientId],
  );
  return client;
}
