// The floor of placeOrder (issue 17): the work an order placed at the TEST partner cannot do
// without, as node:http and pg with tables and SQL of its own, sharing no code with the service.
// Like the service it holds both sides in one process, and both talk over HTTP:
//   POST /graphql            the provider's request (the GraphQL body's variables, a bearer token)
//     bearer check           one SELECT, then kept for TOKEN_CACHE_SECONDS (the service's default: 5)
//     1. the order           one statement: the order, its CREATED event and its order token's hash
//     -> POST /partner/orders              the TEST partner, over HTTP, the order token as bearer
//        -> POST /oidc/token/introspection the partner checks the token (client Basic auth, cached)
//           2. the token      one SELECT
//        3. its own record    one INSERT (the order token and the initial data sealed)
//     4. INITIALIZED          one statement: the status, the partner's id, the target URL sealed, the event
//     answer                  { placeOrder { order { refId status } userErrors } }
// Personal data, the target URL and the order token are sealed with AES-256-GCM (the service
// keeps them sealed too); tokens are stored as SHA-256 hashes. Left out, because an order can do
// without them: GraphQL parsing and execution, an OAuth2 server's request handling, an ORM,
// events numbered in commit order (here a plain bigserial), logging and metrics.
//
// Env: DATABASE_URL (a database of its own: it creates its floor_* tables), PORT, ACCESS_TOKEN
// (the bearer the benchmark sends; registered at start with orders:write); TOKEN_CACHE_SECONDS.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import pg from 'pg';
import { graphqlError, readBody, readJsonBody, send, serve } from './bare-http.js';

const databaseUrl = process.env.DATABASE_URL;
const port = Number(process.env.PORT);
const accessToken = process.env.ACCESS_TOKEN;
if (!databaseUrl || !port || !accessToken) throw new Error('DATABASE_URL, PORT and ACCESS_TOKEN are required');
const cacheMs = Number(process.env.TOKEN_CACHE_SECONDS ?? 5) * 1000;
const url = `http://127.0.0.1:${port}`;

/** The one method this floor offers: the TEST partner's, as the service's catalogue has it. */
const TEST_METHOD = { globalId: Buffer.from('IdentificationMethod:test-video').toString('base64'), name: 'TEST video', issuer: 'TEST', targetUrlValiditySeconds: 30 * 60 };
const PARTNER = { clientId: 'floor-partner-test', secret: randomBytes(32).toString('base64url') };

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
const sealKey = randomBytes(32);
function seal(value: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
  const sealed = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return `${iv.toString('base64url')}.${sealed.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
}

const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
pool.on('error', () => {});
await pool.query(`
  CREATE TABLE IF NOT EXISTS floor_client (id text PRIMARY KEY, secret_hash text, role text NOT NULL, issuer text, scopes text NOT NULL);
  CREATE TABLE IF NOT EXISTS floor_access_token (hash text PRIMARY KEY, client_id text NOT NULL REFERENCES floor_client, expires_at timestamptz NOT NULL);
  CREATE TABLE IF NOT EXISTS floor_order (
    ref_id text PRIMARY KEY, client_id text NOT NULL, method_id text NOT NULL, issuer text NOT NULL, status text NOT NULL,
    external_id text, idempotency_key text, initial_data_sealed text NOT NULL, ipsp_order_id text, target_url_sealed text,
    target_url_expires_at timestamptz, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (client_id, idempotency_key));
  CREATE TABLE IF NOT EXISTS floor_order_event (sequence bigserial PRIMARY KEY, ref_id text NOT NULL REFERENCES floor_order, status text NOT NULL, previous_status text, at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE IF NOT EXISTS floor_order_token (hash text PRIMARY KEY, ref_id text NOT NULL REFERENCES floor_order, issuer text NOT NULL, expires_at timestamptz NOT NULL);
  CREATE TABLE IF NOT EXISTS floor_partner_order (id text PRIMARY KEY, ref_id text NOT NULL UNIQUE, order_token_sealed text NOT NULL, initial_data_sealed text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
`);
await pool.query(
  `INSERT INTO floor_client VALUES ('floor-provider', NULL, 'SERVICE_PROVIDER', NULL, 'orders:read orders:write'), ($1, $2, 'IPSP', 'TEST', '') ON CONFLICT DO NOTHING`,
  [PARTNER.clientId, sha256(PARTNER.secret)],
);
await pool.query(`INSERT INTO floor_access_token VALUES ($1, 'floor-provider', now() + interval '1 day') ON CONFLICT DO NOTHING`, [sha256(accessToken)]);

/** Named, so that each pooled connection plans each statement once. */
const run = async <Row extends pg.QueryResultRow>(name: string, text: string, values: unknown[]) => (await pool.query<Row>({ name, text, values })).rows;

/** Answers of recent checks, kept for the cache's lifetime; a check under way is shared, a failed one not kept. */
function cachedChecks<Answer>(check: (key: string) => Promise<Answer | undefined>): (key: string) => Promise<Answer | undefined> {
  const kept = new Map<string, { answer: Promise<Answer | undefined>; until: number }>();
  return async (key) => {
    const hit = kept.get(key);
    if (hit && hit.until > Date.now()) return hit.answer;
    const entry = { answer: check(key).catch(() => undefined), until: Infinity };
    kept.set(key, entry);
    if (!(await entry.answer)) kept.delete(key);
    else entry.until = Date.now() + cacheMs;
    return entry.answer;
  };
}

interface Client {
  id: string;
  role: string;
  issuer: string | null;
  scopes: string[];
}
const toClient = (row: { id: string; role: string; issuer: string | null; scopes: string }): Client => ({ ...row, scopes: row.scopes.split(' ') });

const bearerClient = cachedChecks(async (token) => {
  const [row] = await run<{ id: string; role: string; issuer: string | null; scopes: string }>(
    'floor_bearer',
    'SELECT c.id, c.role, c.issuer, c.scopes FROM floor_access_token t JOIN floor_client c ON c.id = t.client_id WHERE t.hash = $1 AND t.expires_at > now()',
    [sha256(token)],
  );
  return row && toClient(row);
});

const basicClient = cachedChecks(async (credentials) => {
  const [id, secret] = Buffer.from(credentials, 'base64').toString('utf8').split(':').map(decodeURIComponent);
  const [row] = await run<{ id: string; role: string; issuer: string | null; scopes: string; secret_hash: string | null }>('floor_client', 'SELECT * FROM floor_client WHERE id = $1', [id]);
  const presented = Buffer.from(sha256(secret ?? ''));
  return row?.secret_hash && presented.length === row.secret_hash.length && timingSafeEqual(presented, Buffer.from(row.secret_hash)) ? toClient(row) : undefined;
});

const credentialsOf = (request: http.IncomingMessage, scheme: 'Bearer' | 'Basic') => new RegExp(`^${scheme}\\s+(\\S+)\\s*$`, 'i').exec(request.headers.authorization ?? '')?.[1];

// ---- SRS: placeOrder -------------------------------------------------------------------------

interface PlaceOrderInput {
  methodId?: unknown;
  externalId?: unknown;
  idempotencyKey?: unknown;
  language?: unknown;
  initialData?: Record<string, unknown> | null;
}

const REQUIRED_FIELDS = ['givenNames', 'surname', 'dateOfBirth', 'mobileNumber'] as const;
const keepAlive = new http.Agent({ keepAlive: true });

function answer(response: http.ServerResponse, order: { refId: string; status: string } | null, userErrors: Array<{ code: string; message: string }> = []): void {
  send(response, 200, { data: { placeOrder: { order, userErrors } } });
}

/** A JSON POST over the kept-alive agent; resolves with the status and the parsed answer. */
function post(path: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}${path}`, { method: 'POST', agent: keepAlive, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (response) => {
      readBody(response).then((text) => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }), reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

async function placeOrder(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const body = await readJsonBody<{ variables?: { input?: PlaceOrderInput } }>(request);
  if (!body) return graphqlError(response, 400, 'BAD_REQUEST', 'The body is not JSON.');
  const token = credentialsOf(request, 'Bearer');
  const client = token ? await bearerClient(token) : undefined;
  if (!client) return graphqlError(response, 401, 'UNAUTHENTICATED', 'The access token is unknown, expired or revoked.');
  if (client.role !== 'SERVICE_PROVIDER' || !client.scopes.includes('orders:write')) return graphqlError(response, 200, 'FORBIDDEN', 'Needs orders:write.');

  const input = body.variables?.input ?? {};
  if (input.methodId !== TEST_METHOD.globalId) return answer(response, null, [{ code: 'METHOD_NOT_FOUND', message: 'No usable method has this id.' }]);
  const data = input.initialData ?? {};
  const missing = REQUIRED_FIELDS.filter((field) => typeof data[field] !== 'string' || !(data[field] as string).trim());
  const textOrNull = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim().slice(0, 200) : null);
  if (missing.length) return answer(response, null, missing.map((field) => ({ code: 'REQUIRED', message: `initialData.${field} is required.` })));

  const refId = `SRS-${randomBytes(8).toString('hex').toUpperCase()}`;
  const orderToken = randomBytes(32).toString('base64url');
  const targetUrlExpiresAt = new Date(Date.now() + TEST_METHOD.targetUrlValiditySeconds * 1000);
  const [created] = await run<{ ref_id: string }>(
    'floor_create',
    `WITH o AS (
       INSERT INTO floor_order (ref_id, client_id, method_id, issuer, status, external_id, idempotency_key, initial_data_sealed, target_url_expires_at)
       VALUES ($1, $2, 'test-video', $3, 'CREATED', $4, $5, $6, $7) ON CONFLICT (client_id, idempotency_key) DO NOTHING RETURNING ref_id),
     e AS (INSERT INTO floor_order_event (ref_id, status) SELECT ref_id, 'CREATED' FROM o),
     t AS (INSERT INTO floor_order_token (hash, ref_id, issuer, expires_at) SELECT $8, ref_id, $3, $7 FROM o)
     SELECT ref_id FROM o`,
    [refId, client.id, TEST_METHOD.issuer, textOrNull(input.externalId), textOrNull(input.idempotencyKey), seal(data), targetUrlExpiresAt, sha256(orderToken)],
  );
  if (!created) return answer(response, null, [{ code: 'IDEMPOTENCY_CONFLICT', message: 'This idempotencyKey was used before.' }]);

  let status = 'INITIALIZED';
  let opened: { ipspOrderId?: unknown; targetUrl?: unknown } = {};
  try {
    const partner = await post(
      '/partner/orders',
      { authorization: `Bearer ${orderToken}`, 'content-type': 'application/json' },
      JSON.stringify({ refId, methodName: TEST_METHOD.name, language: textOrNull(input.language), initialData: data, targetUrlExpiresAt }),
    );
    opened = partner.body;
    if (partner.status !== 201 || typeof opened.ipspOrderId !== 'string' || typeof opened.targetUrl !== 'string') status = 'ERROR';
  } catch {
    status = 'ERROR';
  }
  const [changed] = await run<{ sequence: string }>(
    'floor_opened',
    `WITH o AS (
       UPDATE floor_order SET status = $2, ipsp_order_id = $3, target_url_sealed = $4, updated_at = now() WHERE ref_id = $1 AND status = 'CREATED' RETURNING ref_id)
     INSERT INTO floor_order_event (ref_id, status, previous_status) SELECT ref_id, $2, 'CREATED' FROM o RETURNING sequence`,
    [refId, status, status === 'ERROR' ? null : opened.ipspOrderId, status === 'ERROR' ? null : seal(opened.targetUrl)],
  );
  if (!changed) throw new Error(`Order ${refId} left CREATED meanwhile`);
  answer(response, { refId, status });
}

// ---- SRS: the order token's introspection ----------------------------------------------------

async function introspect(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const credentials = credentialsOf(request, 'Basic');
  const client = credentials ? await basicClient(credentials) : undefined;
  if (!client) return send(response, 401, { error: 'invalid_client' });
  const token = new URLSearchParams(await readBody(request)).get('token');
  const [row] = token
    ? await run<{ ref_id: string; issuer: string; expires_at: Date }>('floor_introspect', 'SELECT ref_id, issuer, expires_at FROM floor_order_token WHERE hash = $1', [sha256(token)])
    : [];
  if (!row || row.expires_at.getTime() <= Date.now() || client.role !== 'IPSP' || client.issuer !== row.issuer) return send(response, 200, { active: false });
  send(response, 200, { active: true, srs_ref_id: row.ref_id, srs_issuer: row.issuer, exp: Math.floor(row.expires_at.getTime() / 1000) });
}

// ---- the TEST partner: opening an order ------------------------------------------------------

const partnerAuthorization = `Basic ${Buffer.from(`${PARTNER.clientId}:${PARTNER.secret}`).toString('base64')}`;

async function partnerOpenOrder(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const body = await readJsonBody<{ refId?: unknown; initialData?: unknown }>(request);
  const token = credentialsOf(request, 'Bearer');
  if (!body || typeof body.refId !== 'string' || !token) return send(response, 400, { error: 'refId and an order token are required' });
  const claims = await post('/oidc/token/introspection', { authorization: partnerAuthorization, 'content-type': 'application/x-www-form-urlencoded' }, `token=${encodeURIComponent(token)}`);
  if (claims.body.active !== true || claims.body.srs_ref_id !== body.refId || claims.body.srs_issuer !== TEST_METHOD.issuer) return send(response, 401, { error: 'invalid order token' });
  const [{ id }] = await run<{ id: string }>(
    'floor_partner_open',
    `INSERT INTO floor_partner_order (id, ref_id, order_token_sealed, initial_data_sealed) VALUES ($1, $2, $3, $4)
     ON CONFLICT (ref_id) DO UPDATE SET order_token_sealed = EXCLUDED.order_token_sealed RETURNING id`,
    [`TEST-${randomBytes(6).toString('hex').toUpperCase()}`, body.refId, seal(token), seal(body.initialData ?? {})],
  );
  send(response, 201, { ipspOrderId: id, targetUrl: `${url}/partner/ident/${id}?token=${encodeURIComponent(token)}` });
}

// ---- the server ------------------------------------------------------------------------------

const routes: Record<string, (request: http.IncomingMessage, response: http.ServerResponse) => Promise<void>> = {
  '/graphql': placeOrder,
  '/oidc/token/introspection': introspect,
  '/partner/orders': partnerOpenOrder,
};
const server = serve(
  port,
  (request, response) => {
    const route = routes[request.url ?? ''];
    return route ? route(request, response) : send(response, 404, { error: 'not_found' });
  },
  () => pool.end(),
);
server.once('listening', () => console.log(`floor placeOrder on ${(server.address() as AddressInfo).port}`));
