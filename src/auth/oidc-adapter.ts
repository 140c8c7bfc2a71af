import { createHash } from 'node:crypto';
import { errors, type Adapter, type AdapterConstructor, type AdapterPayload } from 'oidc-provider';
import type { DatabaseHandle } from '../db/adapter.js';
import { findClientMetadata, type ClientMetadataRow } from './client-store.js';
import { perTurnBatches } from '../db/per-turn-batches.js';

export interface OidcStorageOptions {
  /**
   * Plain statements on the service's database, outside Prisma: a token request and an
   * introspection are little more than one statement each, and Prisma 6 costs more CPU per
   * statement than PostgreSQL does (see BENCHMARKS.md).
   */
  query: DatabaseHandle['query'];
  /** How long a process keeps a client's metadata in memory (0: read it on every request). */
  clientCacheSeconds: number;
  /** The client that authenticated the OAuth2 request being served, if any. */
  authenticatedClientId: () => string | undefined;
  onDestroyed?: (type: string, id: string) => void;
}

/** The service's clients as oidc-provider reads them: from the Client table, kept in memory for a while. */
export interface OidcClientDirectory {
  find(clientId: string): Promise<AdapterPayload | undefined>;
}

/**
 * Builds oidc-provider's storage. The service's own is createOidcAdapter; createApp's
 * `oidcAdapter` override plugs in another (the benchmarks' in-memory one), given the same
 * options and the client directory.
 */
export type OidcAdapterFactory = (options: OidcStorageOptions & { clients: OidcClientDirectory }) => AdapterConstructor;

/**
 * oidc-provider storage in one table for every kind of payload, so tokens survive restarts and
 * are valid in every process that shares the database. Clients are the exception: they are read
 * from the service's own Client table, where secrets are stored hashed.
 *
 * Client metadata is kept in memory, yet a disabled client is refused at once on every process:
 * the statement each client-authenticated request runs anyway (storing the new token, reading
 * the presented one) also checks that the client is still enabled.
 *
 * Token reads and writes wait for the end of the current turn of the event loop and go to
 * PostgreSQL in one statement with the others of that turn: under load most of a statement's
 * cost (the round trip, parsing, planning, the commit's flush) is shared by the requests served
 * together; alone, a request is a batch of one. A write resolves once its statement committed,
 * and a read is sent after it was asked, so it sees every write that completed before.
 */
export function createOidcAdapter(options: OidcStorageOptions & { clients?: ReturnType<typeof createClientDirectory> }) {
  const { query } = options;
  const clients = options.clients ?? createClientDirectory(query, options.clientCacheSeconds);
  const refuseDisabledClient = (clientId: string): never => {
    clients.forget(clientId);
    // What oidc-provider answers for an unknown client: 401 invalid_client.
    throw new errors.InvalidClientAuth('client not found');
  };
  const writePayload = perTurnBatches(writePayloads(query));
  const lookUpPayloads = perTurnBatches(lookUpPayloadsById(query));

  return class DatabaseOidcAdapter implements Adapter {
    constructor(private readonly type: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const { jti: _token, ...withoutToken } = payload;
      const write: PayloadWrite = {
        id: storedIdOf(id),
        type: this.type,
        payload: withoutToken,
        grantId: payload.grantId ?? null,
        userCode: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expiresAt: expiresIn ? timestampParameter(Date.now() + expiresIn * 1000) : null,
        clientId: payload.clientId ?? null,
      };
      // Of two writes of one payload in one turn, the later one wins, as it would one by one.
      const stored = await writePayload(JSON.stringify([write.id, this.type]), write);
      if (!stored) refuseDisabledClient(payload.clientId!);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.type === 'Client') return clients.find(id);
      // oidc-provider looks a presented token up as every kind it could be at once (access token,
      // client credentials): those lookups, and identical ones of other requests, share an answer.
      const requester = options.authenticatedClientId() ?? null;
      const storedId = storedIdOf(id);
      const found = await lookUpPayloads(JSON.stringify([storedId, requester]), { id: storedId, requester });
      if (requester !== null && !found.requesterEnabled) refuseDisabledClient(requester);
      const payload = unlessExpired(found.payloads.find((row) => row.type === this.type));
      // The token itself is not stored: the one presented is what was found.
      return payload && { ...payload, jti: id };
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const [row] = await query<PayloadRow>(`SELECT ${PAYLOAD_COLUMNS} FROM "OidcPayload" WHERE "userCode" = $1 AND type = $2 LIMIT 1`, [userCode, this.type]);
      return unlessExpired(row);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const [row] = await query<PayloadRow>(`SELECT ${PAYLOAD_COLUMNS} FROM "OidcPayload" WHERE uid = $1 AND type = $2 LIMIT 1`, [uid, this.type]);
      return unlessExpired(row);
    }

    async consume(id: string): Promise<void> {
      const now = Date.now();
      await query(
        `UPDATE "OidcPayload" SET "consumedAt" = $3::timestamp(3), payload = payload || jsonb_build_object('consumed', $4::int)
         WHERE id = $1 AND type = $2`,
        [storedIdOf(id), this.type, timestampParameter(now), Math.floor(now / 1000)],
      );
    }

    async destroy(id: string): Promise<void> {
      await query(`DELETE FROM "OidcPayload" WHERE id = $1 AND type = $2`, [storedIdOf(id), this.type]);
      options.onDestroyed?.(this.type, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await query(`DELETE FROM "OidcPayload" WHERE "grantId" = $1`, [grantId]);
    }
  };
}

/**
 * How a payload's id is stored: its SHA-256. The ids of tokens are the tokens themselves, which
 * open the API (or an order's target URL); a copy of the database must not hand them out. The
 * tokens are 256 random bits, so an unsalted fast hash is enough: there is nothing to guess.
 */
export function storedIdOf(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

interface PayloadWrite {
  id: string;
  type: string;
  payload: AdapterPayload;
  grantId: string | null;
  userCode: string | null;
  uid: string | null;
  /** See timestampParameter. */
  expiresAt: string | null;
  clientId: string | null;
}

/** Upserts a batch of payloads; answers for each whether it was stored. */
function writePayloads(query: DatabaseHandle['query']) {
  return async (writes: Map<string, PayloadWrite>) => {
    const rows = [...writes.values()];
    const column = <Key extends keyof PayloadWrite>(key: Key) => rows.map((row) => row[key]);
    // One array per column: unnest of parameters tells the planner the true number of rows, so
    // it keeps to index lookups however large the table grows. A payload that names its client
    // is stored only while that client is enabled.
    const stored = await query<{ id: string; type: string }>(
      `INSERT INTO "OidcPayload" (id, type, payload, "grantId", "userCode", uid, "expiresAt")
       SELECT write.id, write.type, write.payload, write."grantId", write."userCode", write.uid, write."expiresAt"
       FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[], $5::text[], $6::text[], $7::timestamp(3)[], $8::text[])
         AS write(id, type, payload, "grantId", "userCode", uid, "expiresAt", "clientId")
       WHERE write."clientId" IS NULL OR EXISTS (SELECT 1 FROM "Client" WHERE id = write."clientId" AND enabled)
       ON CONFLICT (id, type) DO UPDATE SET payload = EXCLUDED.payload, "grantId" = EXCLUDED."grantId",
         "userCode" = EXCLUDED."userCode", uid = EXCLUDED.uid, "expiresAt" = EXCLUDED."expiresAt"
       RETURNING id, type`,
      [
        column('id'),
        column('type'),
        rows.map((row) => JSON.stringify(row.payload)),
        column('grantId'),
        column('userCode'),
        column('uid'),
        column('expiresAt'),
        column('clientId'),
      ],
    );
    const storedKeys = new Set(stored.map((row) => JSON.stringify([row.id, row.type])));
    return (key: string) => storedKeys.has(key);
  };
}

interface PayloadLookup {
  id: string;
  /** The client that authenticated the request, whose enabled flag comes back with the payloads. */
  requester: string | null;
}

interface PayloadRow {
  type: string;
  payload: AdapterPayload;
  expiresAtMs: number | null;
}

// Epoch milliseconds: pg and PGlite would parse a timestamp column differently (local time or
// UTC), a float8 they both read as a number.
const PAYLOAD_COLUMNS = `type, payload, (extract(epoch FROM "expiresAt") * 1000)::float8 AS "expiresAtMs"`;

/** Reads the payloads of a batch of ids, every kind at once; answers a lookup with all it found. */
function lookUpPayloadsById(query: DatabaseHandle['query']) {
  return async (lookups: Map<string, PayloadLookup>) => {
    // At least one row per lookup (its requester's flag), joined with the payloads found; arrays
    // for the same reason as in writePayloads. A token of a disabled client is not found:
    // disabling deletes its tokens, but one stored in the same instant may outlive that.
    const rows = await query<PayloadRow & { key: string; requesterEnabled: boolean | null }>(
      `SELECT lookup.key, requester.enabled AS "requesterEnabled", ${PAYLOAD_COLUMNS}
       FROM unnest($1::text[], $2::text[], $3::text[]) AS lookup(key, id, requester)
       LEFT JOIN "Client" requester ON requester.id = lookup.requester
       LEFT JOIN "OidcPayload" ON "OidcPayload".id = lookup.id
         AND NOT EXISTS (SELECT FROM "Client" owner WHERE owner.id = "OidcPayload".payload->>'clientId' AND NOT owner.enabled)`,
      [[...lookups.keys()], [...lookups.values()].map((lookup) => lookup.id), [...lookups.values()].map((lookup) => lookup.requester)],
    );
    const answers = new Map<string, { requesterEnabled: boolean; payloads: PayloadRow[] }>();
    for (const row of rows) {
      let answer = answers.get(row.key);
      if (!answer) answers.set(row.key, (answer = { requesterEnabled: row.requesterEnabled === true, payloads: [] }));
      if (row.type !== null) answer.payloads.push(row);
    }
    return (key: string) => answers.get(key)!;
  };
}

/**
 * Prisma stores a DateTime as the UTC wall-clock time in a `timestamp(3)` (without time zone).
 * An ISO string in UTC is exactly that: PostgreSQL ignores the zone of input for this type.
 */
function timestampParameter(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

function unlessExpired(row: PayloadRow | undefined): AdapterPayload | undefined {
  return row && !(row.expiresAtMs !== null && row.expiresAtMs <= Date.now()) ? row.payload : undefined;
}

/**
 * Client metadata in oidc-provider's terms, read on every token request and introspection and
 * so kept in memory for `cacheSeconds`. Of a client's columns only `enabled` changes after it is
 * created, and the database store checks that in the request's own statement; a disabled or
 * unknown client is simply not found (and never kept).
 */
export function createClientDirectory(query: DatabaseHandle['query'], cacheSeconds: number) {
  const known = new Map<string, { metadata: AdapterPayload; until: number }>();
  return {
    async find(clientId: string): Promise<AdapterPayload | undefined> {
      const hit = known.get(clientId);
      if (hit && hit.until > Date.now()) return hit.metadata;
      const client = await findClientMetadata(query, clientId);
      if (!client?.enabled) {
        known.delete(clientId);
        return undefined;
      }
      const metadata = clientMetadataOf(client);
      // Only clients in the table are kept, so the operator's client count bounds the map.
      if (cacheSeconds > 0) known.set(clientId, { metadata, until: Date.now() + cacheSeconds * 1000 });
      return metadata;
    },
    forget(clientId: string): void {
      known.delete(clientId);
    },
  };
}

function clientMetadataOf(client: ClientMetadataRow): AdapterPayload {
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
