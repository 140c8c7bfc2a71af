// The bare baseline for the lookup scenario: node:http and pg, no GraphQL, no Prisma, no
// oidc-provider. It answers the same request (the GraphQL body's variables) with the SQL one
// lookup needs, one round trip per statement:
//   1. the access token row            SELECT FROM "OidcPayload" WHERE id AND type (the id is
//                                      the token's SHA-256, as the service stores it)
//   2. the token's client              SELECT FROM "Client" WHERE id
//   3. the number's evidence and T&C   the service's own statement (src/services/verification.ts)
//   4. the audit record                the service's own INSERT INTO "VerificationAudit"
// and the same answer (number normalisation by libphonenumber-js, keyed hash, the newest evidence
// decides), written here on their own rather than imported from src/, so the ratio of the two
// throughputs is what the service's layers cost. Since the service writes its audit rows by group
// commit and this baseline commits one per request, it is now extra information: the lookup is
// judged against floor-lookup-server.ts. The token check runs on every request
// here; the service keeps recent checks in memory (TOKEN_CACHE_SECONDS), so it may run fewer
// statements than this baseline (the queries scenario counts both).
//
// Env: DATABASE_URL and DATA_HASH_KEY (the service's), PORT.
import type http from 'node:http';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import pg from 'pg';
import { graphqlError, readJsonBody, send, serve } from './bare-http.js';

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

interface EvidenceRow {
  id: string;
  status: 'ACTIVE' | 'EXPIRED' | 'REVOKED';
  identifiedAt: Date;
  validUntil: Date;
  capabilities: unknown[];
  termsStatus: string | null;
  termsLinkExpiresAt: Date | null;
}

const NINETY_DAYS_MS = 90 * 24 * 60 * 60 * 1000;

function mobileNumberOf(value: string): string | null {
  const parsed = parsePhoneNumberFromString(value.trim());
  const type = parsed?.isValid() ? parsed.getType() : 'INVALID';
  return type === undefined || type === 'MOBILE' || type === 'FIXED_LINE_OR_MOBILE' ? parsed!.number : null;
}

/** Why one evidence does or does not let its holder sign now (no jurisdiction or level asked). */
function reasonOf(evidence: EvidenceRow, now: Date): string {
  if (evidence.status === 'REVOKED') return 'REVOKED';
  if (evidence.status === 'EXPIRED' || evidence.validUntil <= now) return 'EXPIRED';
  if (!evidence.capabilities.length) return 'INSUFFICIENT_LOA';
  const termsExpired = evidence.termsStatus === 'PENDING' && evidence.termsLinkExpiresAt !== null && evidence.termsLinkExpiresAt <= now;
  return evidence.termsStatus === 'ACCEPTED' && !termsExpired ? 'OK' : 'TERMS_PENDING';
}

async function lookup(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const body = await readJsonBody<{ variables?: { input?: { mobileNumber?: string } } }>(request);
  if (!body) return graphqlError(response, 400, 'BAD_REQUEST', 'The body is not JSON.');
  const accessToken = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
  if (!accessToken) return graphqlError(response, 401, 'UNAUTHENTICATED', 'Send an OAuth2 access token.');

  const tokenRows = await pool.query<{ payload: TokenPayload; expiresAt: Date | null }>(
    'SELECT id, type, payload, "grantId", "userCode", uid, "expiresAt", "consumedAt", "createdAt" FROM "OidcPayload" WHERE id = $1 AND type = $2 LIMIT 1',
    // The service keeps a token's row under the token's SHA-256.
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
  const mobileNumber = typeof input?.mobileNumber === 'string' ? mobileNumberOf(input.mobileNumber) : null;
  if (!mobileNumber) return graphqlError(response, 200, 'BAD_USER_INPUT', 'mobileNumber must be a mobile number in international form.');
  const lookupHash = createHmac('sha256', hashKey).update(mobileNumber).digest('base64url');

  const evidenceRows = await pool.query<EvidenceRow>(
    `SELECT e.id, e.status::text AS status, e."identifiedAt", e."validUntil", e.capabilities, e."personalDataSealed",
            t.status::text AS "termsStatus", t."linkExpiresAt" AS "termsLinkExpiresAt"
     FROM "Evidence" e LEFT JOIN "TermsAcceptance" t ON t."evidenceId" = e.id
     WHERE e."mobileNumberHash" = $1`,
    [lookupHash],
  );
  // The newest valid evidence decides; without one, the newest evidence's reason is given.
  const judged = evidenceRows.rows.sort((a, b) => b.identifiedAt.getTime() - a.identifiedAt.getTime()).map((evidence) => ({ evidence, reason: reasonOf(evidence, now) }));
  const chosen = judged.find((entry) => entry.reason === 'OK') ?? judged[0];
  const valid = chosen?.reason === 'OK';

  await pool.query(
    `INSERT INTO "VerificationAudit" (id, "clientId", operation, "mobileNumberHash", reason, valid, "evidenceId")
     VALUES ($1, $2, $3::"VerificationOperation", $4, $5, $6, $7)`,
    [randomUUID(), client.id, 'LOOKUP', lookupHash, chosen?.reason ?? 'NO_EVIDENCE', valid, chosen?.evidence.id ?? null],
  );
  send(response, 200, {
    data: {
      lookup: {
        valid,
        reason: chosen?.reason ?? 'NO_EVIDENCE',
        evidenceId: chosen ? Buffer.from(`Evidence:${chosen.evidence.id}`).toString('base64') : null,
        validUntil: chosen?.evidence.validUntil.toISOString() ?? null,
        expiresWithin90Days: valid && chosen.evidence.validUntil.getTime() - now.getTime() <= NINETY_DAYS_MS,
      },
    },
  });
}

serve(Number(process.env.PORT ?? 0), lookup, () => pool.end());
