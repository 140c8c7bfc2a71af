// The bare baseline for the lookup scenario: node:http and pg, no GraphQL, no Prisma, no
// oidc-provider. It answers the same request (the GraphQL body's variables) with the SQL one
// lookup needs, one round trip per statement:
//   1. the access token row            SELECT FROM "OidcPayload" WHERE id AND type (the id is
//                                      the token's SHA-256, as the service stores it)
//   2. the token's client              SELECT FROM "Client" WHERE id
//   3. the number's evidence and T&C   the service's own statement (src/services/verification.ts)
//   4. the audit record                the service's own INSERT INTO "VerificationAudit"
// and the same domain rules (number normalisation, keyed hash, verifyEvidence), so the ratio of
// the two throughputs is what the service's layers cost. The token check runs on every request
// here; the service keeps recent checks in memory (TOKEN_CACHE_SECONDS), so it may run fewer
// statements than this baseline (the queries scenario counts both).
//
// Env: DATABASE_URL and DATA_HASH_KEY (the service's), PORT.
import http from 'node:http';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import pg from 'pg';
import { graphqlError, send } from './bare-http.js';
import { normaliseMobileNumber } from '../src/domain/initial-data.js';
import { effectiveTermsStatus } from '../src/domain/terms.js';
import { verifyEvidence, type EvidenceFacts } from '../src/domain/verification.js';
import type { SignatureCapability } from '../src/domain/catalogue.js';

// Prisma stores UTC in TIMESTAMP(3) columns (no time zone); read them as UTC like Prisma does.
pg.types.setTypeParser(pg.types.builtins.TIMESTAMP, (value) => new Date(`${value.replace(' ', 'T')}Z`));

const databaseUrl = process.env.DATABASE_URL;
const hashKey = Buffer.from(process.env.DATA_HASH_KEY ?? '', 'base64');
if (!databaseUrl || hashKey.length !== 32) throw new Error('DATABASE_URL and DATA_HASH_KEY (base64 of 32 bytes) are required');

// The same pool size as the service's (src/db/adapter.ts).
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });

interface TokenPayload {
  clientId: string;
  scope?: string;
  exp?: number;
  extra?: { srs_ref_id?: string };
}


async function readBody(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function lookup(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const body = JSON.parse(await readBody(request)) as { variables?: { input?: { mobileNumber?: string; jurisdiction?: 'EIDAS' | 'ZERTES'; loa?: 'LOA3' | 'LOA4' } } };
  const accessToken = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
  if (!accessToken) return graphqlError(response, 401, 'UNAUTHENTICATED', 'Send an OAuth2 access token.');

  const tokenRows = await pool.query<{ payload: TokenPayload; expiresAt: Date | null }>(
    'SELECT id, type, payload, "grantId", "userCode", uid, "expiresAt", "consumedAt", "createdAt" FROM "OidcPayload" WHERE id = $1 AND type = $2 LIMIT 1',
    // storedIdOf (src/auth/oidc-adapter.ts), written out: importing it would load oidc-provider.
    [createHash('sha256').update(accessToken).digest('base64url'), 'ClientCredentials'],
  );
  const token = tokenRows.rows[0];
  const now = new Date();
  if (!token || (token.expiresAt && token.expiresAt <= now) || (token.payload.exp ?? 0) * 1000 <= now.getTime() || token.payload.extra?.srs_ref_id) {
    return graphqlError(response, 401, 'UNAUTHENTICATED', 'The access token is unknown, expired or revoked.');
  }
  const clientRows = await pool.query<{ id: string; enabled: boolean; scopes: string[] }>(
    'SELECT id, name, role::text, issuer, scopes, "secretHash", enabled, "createdAt", "updatedAt" FROM "Client" WHERE id = $1 LIMIT 1',
    [token.payload.clientId],
  );
  const client = clientRows.rows[0];
  if (!client?.enabled) return graphqlError(response, 401, 'UNAUTHENTICATED', 'The client of this access token is disabled.');
  const scopes = (token.payload.scope ?? '').split(' ').filter((scope) => client.scopes.includes(scope));
  if (!scopes.includes('verify')) return graphqlError(response, 200, 'FORBIDDEN', 'Needs the verify scope.');

  const input = body.variables?.input;
  const mobileNumber = input?.mobileNumber ? normaliseMobileNumber(input.mobileNumber.trim()) : null;
  if (!mobileNumber) return graphqlError(response, 200, 'BAD_USER_INPUT', 'mobileNumber must be a mobile number in international form.');
  const lookupHash = createHmac('sha256', hashKey).update(mobileNumber).digest('base64url');

  const evidenceRows = await pool.query<{
    id: string;
    status: EvidenceFacts['status'];
    identifiedAt: Date;
    validUntil: Date;
    capabilities: SignatureCapability[];
    termsStatus: Parameters<typeof effectiveTermsStatus>[0]['status'] | null;
    termsLinkExpiresAt: Date | null;
  }>(
    `SELECT e.id, e.status::text AS status, e."identifiedAt", e."validUntil", e.capabilities, e."personalDataSealed",
            t.status::text AS "termsStatus", t."linkExpiresAt" AS "termsLinkExpiresAt"
     FROM "Evidence" e LEFT JOIN "TermsAcceptance" t ON t."evidenceId" = e.id
     WHERE e."mobileNumberHash" = $1`,
    [lookupHash],
  );
  const facts: EvidenceFacts[] = evidenceRows.rows.map((row) => ({
    id: row.id,
    status: row.status,
    identifiedAt: row.identifiedAt,
    validUntil: row.validUntil,
    capabilities: row.capabilities,
    termsAccepted: row.termsStatus ? effectiveTermsStatus({ status: row.termsStatus, linkExpiresAt: row.termsLinkExpiresAt }) === 'ACCEPTED' : false,
    subject: { givenNames: '', surname: '' },
  }));
  const verification = verifyEvidence(facts, { jurisdiction: input?.jurisdiction, loa: input?.loa });

  await pool.query(
    `INSERT INTO "VerificationAudit" (id, "clientId", operation, "mobileNumberHash", reason, valid, "evidenceId")
     VALUES ($1, $2, $3::"VerificationOperation", $4, $5, $6, $7)`,
    [randomUUID(), client.id, 'LOOKUP', lookupHash, verification.reason, verification.valid, verification.evidence?.id ?? null],
  );
  send(response, 200, {
    data: {
      lookup: {
        valid: verification.valid,
        reason: verification.reason,
        evidenceId: verification.evidence ? Buffer.from(`Evidence:${verification.evidence.id}`).toString('base64') : null,
        validUntil: verification.evidence?.validUntil.toISOString() ?? null,
        expiresWithin90Days: verification.expiresWithin90Days,
      },
    },
  });
}

const server = http.createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/health') return send(response, 200, { status: 'ok' });
  if (request.method !== 'POST') return send(response, 405, { error: 'method not allowed' });
  lookup(request, response).catch((error: unknown) => {
    console.error('lookup failed:', error);
    if (!response.headersSent) graphqlError(response, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');

const stop = () => {
  server.close();
  server.closeAllConnections();
  void pool.end().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
