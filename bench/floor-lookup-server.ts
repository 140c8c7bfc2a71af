// The floor of a lookup (issue 17): the least a correct lookup has to do, as node:http and pg with
// a table and SQL of its own, sharing no code with the service. Per request: read the number from
// the GraphQL body's variables, hash it with a key (numbers are kept only as keyed hashes), run
// one indexed SELECT, answer. No bearer check, no audit record, no GraphQL execution: the gap
// between the service and this server is what all of those cost together.
//
// Env: DATABASE_URL (a database of its own: it creates the table floor_evidence), PORT, and
// REGISTERED, a JSON list of {"mobileNumber", "termsAccepted"} to register at start.
import type http from 'node:http';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { graphqlError, readJsonBody, send, serve } from './bare-http.js';

const databaseUrl = process.env.DATABASE_URL;
const port = Number(process.env.PORT);
if (!databaseUrl || !port) throw new Error('DATABASE_URL and PORT are required');
const registered = JSON.parse(process.env.REGISTERED ?? '[]') as Array<{ mobileNumber: string; termsAccepted: boolean }>;

const hashKey = randomBytes(32);
const hashOf = (mobileNumber: string) => createHmac('sha256', hashKey).update(mobileNumber).digest('base64url');
const E164 = /^\+[1-9]\d{6,14}$/;
const NINETY_DAYS_MS = 90 * 24 * 60 * 60 * 1000;

// The service's pool size, so both have as many connections to PostgreSQL.
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
await pool.query('CREATE TABLE IF NOT EXISTS floor_evidence (mobile_number_hash text PRIMARY KEY, evidence_id text NOT NULL, valid_until timestamptz NOT NULL, terms_accepted boolean NOT NULL)');
for (const { mobileNumber, termsAccepted } of registered) {
  await pool.query("INSERT INTO floor_evidence VALUES ($1, $2, now() + interval '2 years', $3) ON CONFLICT DO NOTHING", [hashOf(mobileNumber), randomUUID(), termsAccepted]);
}

const SELECT_EVIDENCE = { name: 'floor_evidence', text: 'SELECT evidence_id, valid_until, terms_accepted FROM floor_evidence WHERE mobile_number_hash = $1' };

async function lookup(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const body = await readJsonBody<{ variables?: { input?: { mobileNumber?: unknown } } }>(request);
  if (!body) return graphqlError(response, 400, 'BAD_REQUEST', 'The body is not JSON.');
  const mobileNumber = body.variables?.input?.mobileNumber;
  if (typeof mobileNumber !== 'string' || !E164.test(mobileNumber)) return graphqlError(response, 200, 'BAD_USER_INPUT', 'mobileNumber must be a mobile number in international form.');
  const { rows } = await pool.query<{ evidence_id: string; valid_until: Date; terms_accepted: boolean }>({ ...SELECT_EVIDENCE, values: [hashOf(mobileNumber)] });
  const evidence = rows[0];
  const now = Date.now();
  const reason = !evidence ? 'NO_EVIDENCE' : evidence.valid_until.getTime() <= now ? 'EXPIRED' : evidence.terms_accepted ? 'OK' : 'TERMS_PENDING';
  send(response, 200, {
    data: {
      lookup: {
        valid: reason === 'OK',
        reason,
        evidenceId: evidence ? Buffer.from(`Evidence:${evidence.evidence_id}`).toString('base64') : null,
        validUntil: evidence?.valid_until.toISOString() ?? null,
        expiresWithin90Days: reason === 'OK' && evidence!.valid_until.getTime() - now <= NINETY_DAYS_MS,
      },
    },
  });
}

serve(port, lookup, () => pool.end());
