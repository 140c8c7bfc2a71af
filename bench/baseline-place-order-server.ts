// The bare baseline for the placeOrder scenario: node:http and pg, no GraphQL, no Prisma, no
// oidc-provider, in one process with the TEST partner like the service. It answers the same
// request (the GraphQL body's variables, a bearer token) with the same HTTP exchanges and the
// same SQL, run by the service's own plain functions rather than written again:
//   1. the method                  findMethod (src/services/order-store.ts)
//   2. the order and its event     insertCreatedOrder
//   3. the order token             the oidc-provider storage's batched INSERT (src/auth/oidc-adapter.ts),
//                                  with the payload oidc-provider stores for it, under the token's SHA-256
//   -> POST /ipsp/test/api/orders  createHttpConnector (src/partners/http-connector.ts), kept-alive agent
//      -> POST /oidc/token/introspection  the simulator's createSrsApiClient, Basic client auth
//         4. the token            the storage's batched lookup, with the partner's enabled flag
//      5. SimulatedIdentification  the TEST simulator itself (createSimulators, src/partners/simulators.ts)
//   6. INITIALIZED and its event   changeOrderStatus, the token and target URL sealed as the service seals them
//   the new events                 the service's event feed (src/events/feed.ts) on an in-process
//                                  bus, woken by both changes as in the service; with no
//                                  subscriber listening it reads nothing, as in the service
// with the same domain rules (initial data, idempotency key and request hash, the state machine,
// the introspection policy, role and scope). Statements run as named prepared statements on a
// pool of 10, as the service's plain statements do (src/db/adapter.ts). A checked bearer token is
// kept for TOKEN_CACHE_SECONDS (default 5, the service's), client metadata as long (the storage's
// own cache, as in the service), so per order neither costs a statement. Left out: GraphQL
// parsing, validation and execution (yoga, Pothos); oidc-provider's Koa stack, client
// authentication and token models (here a hash comparison and a JSON payload; the package is
// loaded only because the storage imports its error classes); Prisma (the service reads the
// client of an uncached bearer token with Prisma, here through the storage's client cache);
// logging, metrics and request ids; WebSockets; the background jobs (timeouts, SMS outbox).
// Only the simulator's open-order route is served (its others need Prisma). The service's
// replay (without the service's wait for an order still being opened) and partner-failure paths
// are here too, but the benchmark takes neither.
//
// Env: DATABASE_URL, DATA_ENCRYPTION_KEYS and DATA_HASH_KEY (the service's), PORT;
// optional TOKEN_CACHE_SECONDS, EVENT_POLL_SECONDS.
import http from 'node:http';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import pg from 'pg';
import { graphqlError, send } from './bare-http.js';
import type { Order } from '../src/generated/prisma/client.js';
import { createOidcAdapter } from '../src/auth/oidc-adapter.js';
import { clientSecretMatches } from '../src/auth/clients.js';
import { orderClaimsOf, type OrderTokenClaims } from '../src/auth/order-tokens.js';
import { INTROSPECTING_ROLES, type ClientRole } from '../src/auth/scopes.js';
import { createDataProtection, parseEncryptionKeys } from '../src/crypto/data-protection.js';
import type { SqlRunner } from '../src/db/adapter.js';
import { validateInitialData, type InitialIdentityData, type InitialIdentityDataInput } from '../src/domain/initial-data.js';
import { statusesThatMayMoveTo, type OrderStatus } from '../src/domain/order-status.js';
import { userError, type UserError } from '../src/domain/user-errors.js';
import { createInProcessEventBus } from '../src/events/bus.js';
import { startEventFeed } from '../src/events/feed.js';
import { createHttpConnector } from '../src/partners/http-connector.js';
import { readForm, readJson } from '../src/partners/http-helpers.js';
import { createSimulators, partnerByIssuer } from '../src/partners/simulators.js';
import { asDefinition } from '../src/services/methods.js';
import { changeOrderStatus, findMethod, findOrderByIdempotencyKey, insertCreatedOrder, markOrderStarted } from '../src/services/order-store.js';

const databaseUrl = process.env.DATABASE_URL;
const encryptionKeys = parseEncryptionKeys(process.env.DATA_ENCRYPTION_KEYS ?? '').keys;
const hashKey = Buffer.from(process.env.DATA_HASH_KEY ?? '', 'base64');
const port = Number(process.env.PORT);
if (!databaseUrl || !encryptionKeys || hashKey.length !== 32 || !port) throw new Error('DATABASE_URL, DATA_ENCRYPTION_KEYS, DATA_HASH_KEY and PORT are required');
const cacheSeconds = Number(process.env.TOKEN_CACHE_SECONDS ?? 5);
const url = `http://127.0.0.1:${port}`;
const UNTIL_CANCELLED_SECONDS = 365 * 24 * 60 * 60;

// The service's pool size (src/db/adapter.ts); every text here is a constant, so each one is
// prepared once per connection.
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
pool.on('error', () => {});
const statementNames = new Map<string, string>();
const sql: SqlRunner = {
  async query<Row>(text: string, params?: unknown[]) {
    let name = statementNames.get(text);
    if (!name) statementNames.set(text, (name = `bare_${statementNames.size}`));
    return (await pool.query({ name, text, values: params })).rows as Row[];
  },
};

// oidc-provider's storage as the service configures it; the client an introspection request
// authenticated is what oidc-provider's request context gives the service.
const introspectingClient = new AsyncLocalStorage<string>();
const OidcStorage = createOidcAdapter({ query: sql.query, clientCacheSeconds: cacheSeconds, authenticatedClientId: () => introspectingClient.getStore() });
const tokens = new OidcStorage('ClientCredentials');
const clients = new OidcStorage('Client');

const dataProtection = createDataProtection({ encryptionKeys, hashKey });
const bus = createInProcessEventBus();
const ordersBeingOpened = new Set<string>();

// The simulators' secrets derive from the master secret the service keeps in the database (ensureSimulatorClients).
const test = partnerByIssuer('TEST')!;
const [master] = await sql.query<{ privateJwk: { k: string } }>(`SELECT "privateJwk" FROM "ServiceKey" WHERE id = 'simulator-master'`);
if (!master) throw new Error('No simulator master secret: start the service on this database first');
const simulators = createSimulators({
  // Only the open-order route is served, and it does not use Prisma.
  prisma: undefined as never,
  database: sql,
  internalUrl: url,
  publicUrl: url,
  secrets: new Map([[test.issuer, createHmac('sha256', master.privateJwk.k).update(test.issuer).digest('base64url')]]),
  testMode: true,
  dataProtection,
});
const connector = createHttpConnector(`${url}/ipsp/${test.slug}/api`);

const [{ last }] = await sql.query<{ last: string | null }>('SELECT max(sequence)::text AS last FROM "OrderEvent"');
const feed = await startEventFeed({
  // The feed asks Prisma only where to start.
  prisma: { orderEvent: { aggregate: async () => ({ _max: { sequence: BigInt(last ?? 0) } }) } } as never,
  database: sql,
  bus,
  pollIntervalMs: Number(process.env.EVENT_POLL_SECONDS ?? 1) * 1000,
  onError: (message) => console.error(message),
});

// ---- bearer tokens ---------------------------------------------------------------------------

interface Viewer {
  clientId: string;
  role: ClientRole;
  scopes: string[];
}

async function checkToken(accessToken: string): Promise<{ viewer: Viewer; expiresAt: number } | undefined> {
  const token = await tokens.find(accessToken);
  if (!token?.clientId || (token.exp ?? 0) * 1000 <= Date.now() || orderClaimsOf(token.extra)) return undefined;
  const client = await clients.find(token.clientId);
  if (!client) return undefined;
  const allowed = String(client.scope ?? '').split(' ');
  const scopes = String(token.scope ?? '').split(' ').filter((scope) => allowed.includes(scope));
  return { viewer: { clientId: token.clientId, role: client.srs_role as ClientRole, scopes }, expiresAt: token.exp! * 1000 };
}

/** Checks of recent tokens, as the service keeps them (src/auth/bearer.ts); a check under way is shared. */
const checked = new Map<string, { check: Promise<{ viewer: Viewer; expiresAt: number } | undefined>; until: number }>();

async function authenticate(authorization: string | undefined): Promise<Viewer | undefined> {
  const accessToken = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (!accessToken) return undefined;
  const hit = checked.get(accessToken);
  if (hit && hit.until > Date.now()) return (await hit.check)?.viewer;
  const entry = { check: checkToken(accessToken), until: Infinity };
  checked.set(accessToken, entry);
  const result = await entry.check.catch(() => undefined);
  if (!result || cacheSeconds <= 0) checked.delete(accessToken);
  else entry.until = Math.min(Date.now() + cacheSeconds * 1000, result.expiresAt);
  return result?.viewer;
}

// ---- POST /graphql: placeOrder ---------------------------------------------------------------

interface PlaceOrderVariables {
  input?: {
    methodId?: string;
    initialData?: InitialIdentityDataInput | null;
    externalId?: string | null;
    language?: string | null;
    disabledSmsAlerts?: boolean | null;
    idempotencyKey?: string | null;
  };
}


function answer(response: http.ServerResponse, order: Order | null, userErrors: UserError[] = []): void {
  send(response, 200, {
    data: { placeOrder: { order: order && { refId: order.refId, status: order.status }, userErrors: userErrors.map(({ code, message }) => ({ code, message })) } },
  });
}

function newRefId(): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const id = Array.from(randomBytes(16), (byte) => alphabet[byte % 32]).join('');
  return `SRS-${id.slice(0, 8)}-${id.slice(8)}`;
}

/** The method's database id in a Relay global id (`IdentificationMethod:<id>`). */
function methodIdOf(globalId: string | undefined): string | null {
  const [typename, ...id] = Buffer.from(globalId ?? '', 'base64').toString('utf8').split(':');
  return typename === 'IdentificationMethod' && id.length ? id.join(':') : null;
}

async function placeOrder(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const body = (await readJson(request)) as { variables?: PlaceOrderVariables } | undefined;
  const viewer = await authenticate(request.headers.authorization);
  if (!viewer) return graphqlError(response, 401, 'UNAUTHENTICATED', 'The access token is unknown, expired or revoked.');
  if (viewer.role !== 'SERVICE_PROVIDER' || !viewer.scopes.includes('orders:write')) return graphqlError(response, 200, 'FORBIDDEN', 'Needs orders:write.');
  const input = body?.variables?.input ?? {};

  const methodId = methodIdOf(input.methodId);
  const method = methodId ? await findMethod(sql, methodId) : null;
  if (!method?.enabled) return answer(response, null, [userError(method ? 'METHOD_UNAVAILABLE' : 'METHOD_NOT_FOUND', 'No usable method has this id.', ['input', 'methodId'])]);
  const definition = asDefinition(method);
  const { data, errors } = validateInitialData(definition, input.initialData, input.language);
  const externalId = input.externalId?.trim() || null;
  const idempotencyKey = input.idempotencyKey?.trim() || null;
  if ((externalId?.length ?? 0) > 200 || (idempotencyKey?.length ?? 0) > 200) errors.push(userError('INVALID_INPUT', 'externalId and idempotencyKey take 200 characters at most.'));
  if (errors.length) return answer(response, null, errors);

  const disabledSmsAlerts = input.disabledSmsAlerts ?? false;
  const requestHash = createHash('sha256').update(JSON.stringify({ methodId: method.id, data, externalId, disabledSmsAlerts })).digest('hex');
  const createdAt = new Date();
  const created = await insertCreatedOrder(
    sql,
    {
      refId: newRefId(),
      clientId: viewer.clientId,
      methodId: method.id,
      issuer: method.issuer,
      externalId,
      language: data.language ?? null,
      disabledSmsAlerts,
      initialDataSealed: dataProtection.seal(data),
      idempotencyKey,
      requestHash,
      targetUrlExpiresAt: method.targetUrlValiditySeconds ? new Date(createdAt.getTime() + method.targetUrlValiditySeconds * 1000) : null,
      createdAt,
    },
    viewer.clientId,
  );
  if (!created) {
    const previous = await findOrderByIdempotencyKey(sql, viewer.clientId, idempotencyKey!);
    if (previous?.requestHash === requestHash) return answer(response, previous);
    return answer(response, null, [userError('IDEMPOTENCY_CONFLICT', 'This idempotencyKey was used with different input.', ['input', 'idempotencyKey'])]);
  }
  bus.publish([{ orderId: created.id, refId: created.refId, clientId: created.clientId, issuer: created.issuer }]);
  answer(response, await openAtPartner(created, definition.name, data));
}

/** What createOrderTokens (src/auth/order-tokens.ts) has oidc-provider store: an opaque ClientCredentials token. */
async function issueOrderToken(order: Order): Promise<string> {
  if (!(await clients.find(order.clientId))) throw new Error(`Client ${order.clientId} is unknown or disabled`);
  const expiresIn = order.targetUrlExpiresAt ? Math.max(60, Math.ceil((order.targetUrlExpiresAt.getTime() - Date.now()) / 1000)) : UNTIL_CANCELLED_SECONDS;
  const jti = randomBytes(32).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  const extra = { srs_ref_id: order.refId, srs_issuer: order.issuer } satisfies OrderTokenClaims;
  await tokens.upsert(jti, { iat, exp: iat + expiresIn, jti, kind: 'ClientCredentials', clientId: order.clientId, extra }, expiresIn);
  return jti;
}

async function changeStatus(order: Order, to: OrderStatus, reason: string | null, changes: Parameters<typeof changeOrderStatus>[1]['changes']): Promise<Order> {
  const changed = await changeOrderStatus(sql, { orderId: order.id, to, reason, actor: 'system', changes, allowedFrom: statusesThatMayMoveTo(to), lock: 'wait' });
  if (!changed.order) throw new Error(`Order ${order.refId} could not move from ${changed.from} to ${to}`);
  bus.publish([{ orderId: changed.order.id, refId: changed.order.refId, clientId: changed.order.clientId, issuer: changed.order.issuer }]);
  return changed.order;
}

async function openAtPartner(order: Order, methodName: string, initialData: InitialIdentityData): Promise<Order> {
  let orderToken: string | undefined;
  try {
    orderToken = await issueOrderToken(order);
    ordersBeingOpened.add(order.refId);
    const opened = await connector
      .openOrder({ refId: order.refId, issuer: order.issuer, methodName, orderToken, language: order.language, initialData, targetUrlExpiresAt: order.targetUrlExpiresAt })
      .finally(() => ordersBeingOpened.delete(order.refId));
    // Sealed as the service stores them (createOrderTokens' sealSecret).
    return await changeStatus(order, 'INITIALIZED', null, { ipspOrderId: opened.ipspOrderId, targetUrl: dataProtection.seal(opened.targetUrl), orderToken: dataProtection.seal(orderToken) });
  } catch (error) {
    if (orderToken) await tokens.destroy(orderToken).catch(() => undefined);
    return changeStatus(order, 'ERROR', (error as Error).message, {});
  }
}

// ---- POST /oidc/token/introspection ----------------------------------------------------------

async function introspect(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  const [clientId, secret] = Buffer.from(basic ?? '', 'base64').toString('utf8').split(':').map(decodeURIComponent);
  const client = clientId ? await clients.find(clientId) : undefined;
  if (!client || !secret || !clientSecretMatches(String(client.client_secret), secret)) {
    return send(response, 401, { error: 'invalid_client', error_description: 'client authentication failed' });
  }
  const form = await readForm(request);
  // A disabled requester makes the lookup throw, as in the service.
  const token = form.token ? await introspectingClient.run(clientId, () => tokens.find(form.token)).catch(() => null) : undefined;
  if (token === null) return send(response, 401, { error: 'invalid_client', error_description: 'client authentication failed' });
  const claims = orderClaimsOf(token?.extra);
  const role = client.srs_role as ClientRole;
  const allowed = INTROSPECTING_ROLES.includes(role) && (role === 'ADMIN' || (client.srs_issuer !== undefined && claims?.srs_issuer === client.srs_issuer));
  if (!token || (token.exp ?? 0) * 1000 <= Date.now() || !allowed) return send(response, 200, { active: false });
  // A partner checking the token of an order being opened here is this process's own doing.
  if (claims && !ordersBeingOpened.has(claims.srs_ref_id)) await markOrderStarted(sql, claims.srs_ref_id, new Date());
  send(response, 200, {
    ...(token.extra as object | undefined),
    active: true,
    client_id: token.clientId,
    exp: token.exp,
    iat: token.iat,
    iss: `${url}/oidc`,
    scope: token.scope || undefined,
    token_type: 'Bearer',
  });
}

// ---- the server ------------------------------------------------------------------------------

const openOrderPath = `/ipsp/${test.slug}/api/orders`;
const server = http.createServer((request, response) => {
  const path = request.url ?? '/';
  if (request.method === 'GET' && path === '/health') return send(response, 200, { status: 'ok' });
  if (request.method !== 'POST') return send(response, 405, { error: 'method not allowed' });
  const work = path === '/graphql' ? placeOrder : path === '/oidc/token/introspection' ? introspect : path === openOrderPath ? simulators.handle : undefined;
  if (!work) return send(response, 404, { error: 'not_found' });
  Promise.resolve(work(request, response)).catch((error: unknown) => {
    console.error(`${path} failed:`, error);
    if (!response.headersSent) graphqlError(response, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
  });
});
server.listen(port, '127.0.0.1');

const stop = () => {
  server.close();
  server.closeAllConnections();
  void feed
    .close()
    .then(() => pool.end())
    .finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
