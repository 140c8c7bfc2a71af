// placeOrder on the TEST method: each request a new order (unique externalId and idempotency
// key), opened at the built-in TEST partner over HTTP, as with a real partner. Only answers with
// an INITIALIZED order count; GraphQL errors, user errors and non-2xx answers are failures.
// Next to it, the bare baseline (bench/baseline-place-order-server.ts: node:http + pg running the
// same flow with the service's statements) on the same database, under the same load.
import pg from 'pg';
import { storedIdOf } from '../../src/auth/oidc-adapter.js';
import { createDataProtection, parseEncryptionKeys } from '../../src/crypto/data-protection.js';
import { describeLoad, freePort, isPlacedOrder, PLACE_ORDER, placeOrderInput, profileFlags, runLoad, RUN_STAMP, spawnTsNode, startService, waitForHttp, type Child, type PlaceOrderResponse } from '../harness.js';
import { info, lessIsBetter, moreIsBetter } from '../report.js';
import type { BenchOptions, Scenario, ScenarioResult } from '../options.js';

const TARGET_ORDERS_PER_SECOND = 500;
const TARGET_P99_MS = 50;
const SCALED_OUT_WORKERS = 2;

/**
 * What one placed order left in the database (the order, its events, its token, the partner's
 * record), without what differs from one order to the next: the service's and the baseline's
 * must be the same for the comparison to mean something. The order token and the target URL
 * are stored sealed (random IV: two seals of one value differ) and the token's OidcPayload row
 * under the token's SHA-256, so they are compared opened, with whether each was stored sealed:
 * a baseline that kept them in clear would not match.
 */
async function footprint(env: Record<string, string>, refId: string): Promise<string> {
  const dataProtection = createDataProtection({
    encryptionKeys: parseEncryptionKeys(env.DATA_ENCRYPTION_KEYS).keys!,
    hashKey: Buffer.from(env.DATA_HASH_KEY, 'base64'),
  });
  const sealed = (stored: string | null) => stored !== null && /^v1\.[\w-]+\./.test(stored);
  const open = (stored: string) => (sealed(stored) ? dataProtection.open<string>(stored) : stored);
  const db = new pg.Client({ connectionString: env.DATABASE_URL });
  await db.connect();
  try {
    const { rows } = await db.query(
      `SELECT o.status::text AS status, o."statusReason", o."clientId", o."ipspOrderId", o."targetUrl", o."orderToken", o.language,
         round(extract(epoch FROM o."targetUrlExpiresAt" - o."createdAt") / 60) AS "targetUrlMinutes",
         (SELECT json_agg(json_build_array(e.type, e.status, e."previousStatus", e.reason, e.actor) ORDER BY e.sequence) FROM "OrderEvent" e WHERE e."orderId" = o.id) AS events,
         s.id AS "partnerId", s.issuer AS "partnerIssuer", s."orderToken" AS "partnerOrderToken", s.uses, s.closed
       FROM "Order" o LEFT JOIN "SimulatedIdentification" s ON s."refId" = o."refId"
       WHERE o."refId" = $1`,
      [refId],
    );
    const { clientId, ipspOrderId, targetUrl, orderToken, partnerOrderToken, events, ...rest } = rows[0] as Record<string, string> & { events: string[][] };
    const token = open(orderToken);
    const [payload] = (
      await db.query(
        `SELECT p.type AS "tokenType", p.payload AS "tokenPayload", round(extract(epoch FROM p."expiresAt" - o."createdAt") / 60) AS "tokenMinutes"
         FROM "OidcPayload" p JOIN "Order" o ON o."refId" = $2 WHERE p.id = $1`,
        [storedIdOf(token), refId],
      )
    ).rows as Array<{ tokenType: string; tokenPayload: Record<string, unknown>; tokenMinutes: string }>;
    const url = new URL(open(targetUrl));
    return JSON.stringify({
      ...rest,
      ipspOrderId: ipspOrderId.replace(/[0-9A-F]{12}$/, '<hex>'),
      partnerId: rest.partnerId === ipspOrderId,
      targetUrl: `${url.pathname.replace(ipspOrderId, '<ipspOrderId>')}${url.search.replace(token, '<orderToken>')}`,
      storedSealed: { targetUrl: sealed(targetUrl), orderToken: sealed(orderToken), partnerOrderToken: sealed(partnerOrderToken) },
      partnerHasToken: partnerOrderToken !== null && open(partnerOrderToken) === token,
      events: events.map((event) => event.map((value) => (value === clientId ? '<client>' : value))),
      tokenType: payload?.tokenType,
      tokenMinutes: payload?.tokenMinutes,
      tokenPayload: payload && Object.keys(payload.tokenPayload).sort().map((key) => (key === 'extra' ? JSON.stringify(payload.tokenPayload.extra).replace(refId, '<refId>') : key)),
    });
  } finally {
    await db.end();
  }
}

async function run(options: BenchOptions): Promise<ScenarioResult> {
  const service = await startService({ label: 'place_order', nodeFlags: profileFlags(options.cpuProfile), echo: options.verbose });
  const provider = await service.createClient('SERVICE_PROVIDER', { name: 'bench placeOrder provider' });
  const token = await service.token(provider);

  // The baseline uses the service's database: its schema, methods, clients, simulator secret and token.
  const port = await freePort();
  const bare = spawnTsNode('bare-place-order', 'bench/baseline-place-order-server.ts', {
    env: { DATABASE_URL: service.env.DATABASE_URL, DATA_ENCRYPTION_KEYS: service.env.DATA_ENCRYPTION_KEYS, DATA_HASH_KEY: service.env.DATA_HASH_KEY, PORT: String(port) },
    nodeFlags: profileFlags(options.cpuProfile),
    echo: options.verbose,
  });
  const bareUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${bareUrl}/health`, bare);

  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  let placed = 0;
  const body = () => {
    const key = `bench-${RUN_STAMP}-${placed}`;
    return JSON.stringify({ query: PLACE_ORDER, variables: { input: placeOrderInput(key, placed++) } });
  };

  // One order through each first: both must leave the same in the database.
  const [fromService, fromBare] = await Promise.all(
    [service.url, bareUrl].map(async (url) => {
      const response = await fetch(`${url}/graphql`, { method: 'POST', headers, body: body() });
      const text = await response.text();
      if (!isPlacedOrder(response.status, text)) throw new Error(`${url} did not place the order (${response.status}): ${text}`);
      return footprint(service.env, (JSON.parse(text) as PlaceOrderResponse).data!.placeOrder!.order!.refId);
    }),
  );
  if (fromService !== fromBare) throw new Error(`The baseline places orders differently: service ${fromService}, bare ${fromBare}`);

  const load = (url: string, child: Child, name: string) =>
    runLoad({
      url,
      path: '/graphql',
      headers,
      body,
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      accept: isPlacedOrder,
      watch: { service: service.child.pid, bare: bare.pid },
      databaseUrl: service.env.DATABASE_URL,
      profile: options.cpuProfile ? { child, name } : undefined,
    });
  const result = await load(service.url, service.child, 'place-order-service');
  console.log(describeLoad('placeOrder', result));
  const viaBare = await load(bareUrl, bare, 'place-order-bare');
  console.log(describeLoad('bare placeOrder', viaBare));
  await Promise.all([bare.stop(), service.stop()]);

  // The same service as two processes on the port (WORKERS=2), on a database of its own: what
  // scaling out buys on this machine, where PostgreSQL and the load generator share the cores.
  const workers = await startService({ label: 'place_order_workers', env: { WORKERS: String(SCALED_OUT_WORKERS) }, echo: options.verbose });
  const workersToken = await workers.token(await workers.createClient('SERVICE_PROVIDER', { name: 'bench placeOrder provider' }));
  const scaledOut = await runLoad({
    url: workers.url,
    path: '/graphql',
    headers: { ...headers, authorization: `Bearer ${workersToken}` },
    body,
    connections: options.connections,
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    accept: isPlacedOrder,
    watch: { service: workers.child.pid },
    databaseUrl: workers.env.DATABASE_URL,
  });
  console.log(describeLoad(`placeOrder, WORKERS=${SCALED_OUT_WORKERS}`, scaledOut));
  await workers.stop();

  const note = 'the same flow: 6 SQL statements and 3 HTTP exchanges per order (the request, SRS to the partner, the partner to the introspection endpoint)';
  return {
    figures: [
      moreIsBetter({
        scenario: 'placeOrder',
        figure: 'orders created per second',
        value: result.rps,
        unit: 'orders/s',
        reference: { kind: 'target', label: 'target', value: TARGET_ORDERS_PER_SECOND },
        minRatio: 1,
      }),
      lessIsBetter({
        scenario: 'placeOrder',
        figure: 'p99 latency',
        value: result.latencyMs.p99,
        unit: 'ms',
        reference: { kind: 'target', label: 'target', value: TARGET_P99_MS },
        minRatio: 1,
      }),
      info({ scenario: 'placeOrder', figure: 'p50 latency', value: result.latencyMs.p50, unit: 'ms' }),
      info({ scenario: 'placeOrder', figure: 'failed answers', value: result.failed + result.errors, unit: '' }),
      // Throughput on two shared cores says little elsewhere; the CPU one order costs carries over.
      info({ scenario: 'placeOrder', figure: 'service CPU per order (partner included)', value: (result.cpu.byProcess.service * 1000) / result.rps, unit: 'ms' }),
      info({ scenario: 'placeOrder', figure: 'PostgreSQL CPU per order', value: (result.cpu.byProcess.postgres * 1000) / result.rps, unit: 'ms' }),
      moreIsBetter({
        scenario: 'placeOrder',
        figure: 'orders/s vs bare node:http + pg running the same flow',
        value: result.rps,
        unit: 'orders/s',
        reference: { kind: 'baseline', label: 'bare', value: viaBare.rps },
        note,
      }),
      lessIsBetter({
        scenario: 'placeOrder',
        figure: 'p99 latency vs bare',
        value: result.latencyMs.p99,
        unit: 'ms',
        reference: { kind: 'baseline', label: 'bare', value: viaBare.latencyMs.p99 },
      }),
      info({ scenario: 'placeOrder', figure: 'failed answers (bare)', value: viaBare.failed + viaBare.errors, unit: '' }),
      info({ scenario: 'placeOrder', figure: 'bare CPU per order (partner included)', value: (viaBare.cpu.byProcess.bare * 1000) / viaBare.rps, unit: 'ms' }),
      info({ scenario: 'placeOrder', figure: 'PostgreSQL CPU per order (bare)', value: (viaBare.cpu.byProcess.postgres * 1000) / viaBare.rps, unit: 'ms' }),
      moreIsBetter({
        scenario: 'placeOrder',
        figure: `orders/s with WORKERS=${SCALED_OUT_WORKERS} vs one process`,
        value: scaledOut.rps,
        unit: 'orders/s',
        reference: { kind: 'baseline', label: 'one process', value: result.rps },
      }),
      info({ scenario: 'placeOrder', figure: `p99 latency with WORKERS=${SCALED_OUT_WORKERS}`, value: scaledOut.latencyMs.p99, unit: 'ms' }),
      info({ scenario: 'placeOrder', figure: `failed answers with WORKERS=${SCALED_OUT_WORKERS}`, value: scaledOut.failed + scaledOut.errors, unit: '' }),
      info({ scenario: 'placeOrder', figure: `service CPU per order with WORKERS=${SCALED_OUT_WORKERS}`, value: (scaledOut.cpu.byProcess.service * 1000) / scaledOut.rps, unit: 'ms' }),
    ],
    details: { footprint: fromService, note, result, bare: viaBare, scaledOut },
  };
}

export const placeOrderScenario: Scenario = {
  name: 'placeOrder',
  description: 'placeOrder on the TEST partner: orders/s and p99 against 500/s and 50 ms, and against a bare node:http + pg server running the same flow',
  run,
};
