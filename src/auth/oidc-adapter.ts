import type { Adapter, AdapterPayload } from 'oidc-provider';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';

/**
 * oidc-provider storage in one table for every kind of payload, so tokens survive restarts and
 * are valid in every process that shares the database. Clients are the exception: they are read
 * from the service's own Client table, where secrets are stored hashed.
 */
export function createOidcAdapter(prisma: PrismaClient, onDestroyed: (type: string, id: string) => void = () => {}) {
  return class PrismaOidcAdapter implements Adapter {
    constructor(private readonly type: string) {}

    // Tokens are written and read on every token request and introspection: plain SQL here,
    // because Prisma 6 plans every typed query anew in WebAssembly (see BENCHMARKS.md).
    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      await prisma.$executeRaw`
        INSERT INTO "OidcPayload" (id, type, payload, "grantId", "userCode", uid, "expiresAt")
        VALUES (${id}, ${this.type}, ${JSON.stringify(payload)}::jsonb, ${payload.grantId ?? null}, ${payload.userCode ?? null}, ${payload.uid ?? null}, ${expiresAt})
        ON CONFLICT (id, type) DO UPDATE SET payload = EXCLUDED.payload, "grantId" = EXCLUDED."grantId",
          "userCode" = EXCLUDED."userCode", uid = EXCLUDED.uid, "expiresAt" = EXCLUDED."expiresAt"`;
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.type === 'Client') return findClientMetadata(prisma, id);
      const [row] = await prisma.$queryRaw<Array<{ payload: AdapterPayload; expiresAt: Date | null }>>`
        SELECT payload, "expiresAt" FROM "OidcPayload" WHERE id = ${id} AND type = ${this.type}`;
      return row && !(row.expiresAt && row.expiresAt.getTime() <= Date.now()) ? row.payload : undefined;
    }

    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.findWhere({ userCode, type: this.type });
    }

    findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.findWhere({ uid, type: this.type });
    }

    async consume(id: string): Promise<void> {
      const row = await prisma.oidcPayload.findUnique({ where: { id_type: { id, type: this.type } } });
      if (!row) return;
      const consumed = Math.floor(Date.now() / 1000);
      await prisma.oidcPayload.update({
        where: { id_type: { id, type: this.type } },
        data: { consumedAt: new Date(), payload: { ...(row.payload as Prisma.JsonObject), consumed } },
      });
    }

    async destroy(id: string): Promise<void> {
      await prisma.oidcPayload.deleteMany({ where: { id, type: this.type } });
      onDestroyed(this.type, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await prisma.oidcPayload.deleteMany({ where: { grantId } });
    }

    private async findWhere(where: Prisma.OidcPayloadWhereInput): Promise<AdapterPayload | undefined> {
      const row = await prisma.oidcPayload.findFirst({ where });
      if (!row || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return undefined;
      return row.payload as AdapterPayload;
    }
  };
}

/** Client metadata in oidc-provider's terms; a disabled or unknown client is simply not found. */
async function findClientMetadata(prisma: PrismaClient, clientId: string): Promise<AdapterPayload | undefined> {
  const [client] = await prisma.$queryRaw<Array<{ id: string; name: string; role: string; issuer: string | null; scopes: string[]; secretHash: string; enabled: boolean }>>`
    SELECT id, name, role::text AS role, issuer, scopes, "secretHash", enabled FROM "Client" WHERE id = ${clientId}`;
  if (!client?.enabled) return undefined;
  return {
    client_id: client.id,
    client_name: client.name,
    // The hash stands where oidc-provider expects the secret; comparison hashes the presented one.
    client_secret: client.secretHash,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: client.scopes.join(' '),
    srs_role: client.role,
    srs_issuer: client.issuer ?? undefined,
  };
}

/**
 * oidc-provider's storage held in this process's memory, clients still from the Client table.
 * Tokens die with the process and are unknown to other processes: only for measuring what the
 * database adapter costs (OIDC_STORE=memory in the benchmarks).
 */
export function createMemoryOidcAdapter(prisma: PrismaClient, onDestroyed: (type: string, id: string) => void = () => {}) {
  const store = new Map<string, { payload: AdapterPayload; expiresAt?: number }>();
  return class MemoryOidcAdapter implements Adapter {
    constructor(private readonly type: string) {}

    private key(id: string) {
      return `${this.type}:${id}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      store.set(this.key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.type === 'Client') return findClientMetadata(prisma, id);
      const entry = store.get(this.key(id));
      if (!entry || (entry.expiresAt && entry.expiresAt <= Date.now())) return undefined;
      return entry.payload;
    }

    async findByUserCode(): Promise<undefined> {
      return undefined;
    }

    async findByUid(): Promise<undefined> {
      return undefined;
    }

    async consume(id: string): Promise<void> {
      const entry = store.get(this.key(id));
      if (entry) entry.payload = { ...entry.payload, consumed: Math.floor(Date.now() / 1000) };
    }

    async destroy(id: string): Promise<void> {
      store.delete(this.key(id));
      onDestroyed(this.type, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      for (const [key, entry] of store) if (entry.payload.grantId === grantId) store.delete(key);
    }
  };
}
