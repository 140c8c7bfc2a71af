// placeOrder on the TEST method: each request a new order (unique externalId and idempotency
// key), opened at the built-in TEST partner over HTTP, as with a real partner. Only answers with
// an INITIALIZED order count; GraphQL errors, user errors and non-2xx answers are failures.
// Judged against the floor (bench/floor-place-order-server.ts: node:http + pg doing the work an
// order needs, with the TEST partner in the same process, on a database of its own) under the
// same load in the same run: >= 0.8 of its throughput, p99 at most 1.5 times its p99. The old
// absolute targets (500 orders/s, p99 50 ms) are shown for information.
import pg from 'pg';
import { createDatabase, describeLoad, freePort, isPlacedOrder, PLACE_ORDER, placeOrderInput, profileFlags, runLoad, RUN_STAMP, spawnTsNode, startService, waitForHttp, type Child, type PlaceOrderResponse, type ServiceChild } from '../harness.js';
import { cpuBoundRatio, cpuPerRequestFigures, info, lessIsBetter, moreIsBetter } from '../report.js';
import type { BenchOptions, Scenario, ScenarioResult } from '../options.js';

const TARGET_THROUGHPUT_RATIO = 0.8;
const TARGET_P99_RATIO = 1 / 1.5;
const ABSOLUTE_ORDERS_PER_SECOND = 500;
const ABSOLUTE_P99_MS = 50;
const SCALED_OUT_WORKERS = 2;

/** What an opened order shows: its status, its events' statuses, and whether the partner's id and target URL were kept. */
interface OpenedOrder {
  status: string;
  events: string[];
  openedAtPartner: boolean;
}

const ORDER = `query BenchOrder($refId: ID!) { order(refId: $refId) { status ipspOrderId targetUrl events { status } } }`;

/** The service's order, read back through its API as the provider sees it. */
async function openedThroughApi(service: ServiceChild, token: string, refId: string): Promise<OpenedOrder> {
  const { order } = await service.graphql<{ order: { status: string; ipspOrderId: string | null; targetUrl: string | null; events: Array<{ status: string }> } | null }>(ORDER, { refId }, token);
  if (!order) throw new Error(`The service does not show order ${refId}`);
  return { status: order.status, events: order.events.map((event) => event.status), openedAtPartner: Boolean(order.ipspOrderId && order.targetUrl?.startsWith('http')) };
}

/** The floor's order, from its own tables. */
async function openedInFloor(databaseUrl: string, refId: string): Promise<OpenedOrder> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ status: string; events: string[]; opened: boolean }>(
      `SELECT o.status, (SELECT array_agg(e.status ORDER BY e.sequence) FROM floor_order_event e WHERE e.ref_id = o.ref_id) AS events,
              o.target_url_sealed IS NOT NULL AND EXISTS (SELECT FROM floor_partner_order p WHERE p.id = o.ipsp_order_id AND p.ref_id = o.ref_id) AS opened
       FROM floor_order o WHERE o.ref_id = $1`,
      [refId],
    );
    if (!rows[0]) throw new Error(`The floor has no order ${refId}`);
    return { status: rows[0].status, events: rows[0].events, openedAtPartner: rows[0].opened };
  } finally {
    await db.end();
  }
}

async function run(options: BenchOptions): Promise<ScenarioResult> {
  const service = await startService({ label: 'place_order', nodeFlags: profileFlags(options.cpuProfile), echo: options.verbose });
  const provider = await service.createClient('SERVICE_PROVIDER', { name: 'bench placeOrder provider' });
  const token = await service.token(provider);

  // The floor keeps its own tables in a database of its own and accepts the same bearer token,
  // so both get the very same requests.
  const floorDatabaseUrl = await createDatabase('place_order_floor');
  const port = await freePort();
  const floor = spawnTsNode('floor-place-order', 'bench/floor-place-order-server.ts', {
    env: { DATABASE_URL: floorDatabaseUrl, PORT: String(port), ACCESS_TOKEN: token },
    nodeFlags: profileFlags(options.cpuProfile),
    echo: options.verbose,
  });
  const floorUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${floorUrl}/health`, floor);

  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  let placed = 0;
  const body = () => {
    const key = `bench-${RUN_STAMP}-${placed}`;
    return JSON.stringify({ query: PLACE_ORDER, variables: { input: placeOrderInput(key, placed++) } });
  };

  // One order through each first: both must have opened it at the partner, with the same events.
  const [fromService, fromFloor] = await Promise.all(
    [service.url, floorUrl].map(async (url) => {
      const response = await fetch(`${url}/graphql`, { method: 'POST', headers, body: body() });
      const text = await response.text();
      if (!isPlacedOrder(response.status, text)) throw new Error(`${url} did not place the order (${response.status}): ${text}`);
      const refId = (JSON.parse(text) as PlaceOrderResponse).data!.placeOrder!.order!.refId;
      return JSON.stringify(url === service.url ? await openedThroughApi(service, token, refId) : await openedInFloor(floorDatabaseUrl, refId));
    }),
  );
  if (fromService !== fromFloor) throw new Error(`The floor opens orders differently: service ${fromService}, floor ${fromFloor}`);

  const load = (url: string, child: Child, name: string, databaseUrl: string) =>
    runLoad({
      url,
      path: '/graphql',
      headers,
      body,
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      accept: isPlacedOrder,
      watch: { service: service.child.pid, floor: floor.pid },
      databaseUrl,
      profile: options.cpuProfile ? { child, name } : undefined,
    });
  const result = await load(service.url, service.child, 'place-order-service', service.env.DATABASE_URL);
  console.log(describeLoad('placeOrder', result));
  const viaFloor = await load(floorUrl, floor, 'place-order-floor', floorDatabaseUrl);
  console.log(describeLoad('floor placeOrder', viaFloor));
  await Promise.all([floor.stop(), service.stop()]);

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

  const note = 'the floor: 4 SQL statements and 3 HTTP exchanges per order (the request, SRS to the partner, the partner to the introspection endpoint); the service: the same exchanges, its statements counted by the queries scenario';
  return {
    figures: [
      moreIsBetter({
        scenario: 'placeOrder',
        figure: 'orders opened per second vs the floor (node:http + pg, the necessary work)',
        value: result.rps,
        unit: 'orders/s',
        reference: { kind: 'baseline', label: 'floor', value: viaFloor.rps },
        minRatio: TARGET_THROUGHPUT_RATIO,
        note,
      }),
      lessIsBetter({
        scenario: 'placeOrder',
        figure: 'p99 latency vs the floor (target: at most 1.5x, ratio >= 0.67)',
        value: result.latencyMs.p99,
        unit: 'ms',
        reference: { kind: 'baseline', label: 'floor', value: viaFloor.latencyMs.p99 },
        minRatio: TARGET_P99_RATIO,
      }),
      lessIsBetter({ scenario: 'placeOrder', figure: 'p50 latency vs the floor', value: result.latencyMs.p50, unit: 'ms', reference: { kind: 'baseline', label: 'floor', value: viaFloor.latencyMs.p50 } }),
      info({ scenario: 'placeOrder', figure: 'failed answers', value: result.failed + result.errors, unit: '' }),
      info({ scenario: 'placeOrder', figure: 'failed answers (floor)', value: viaFloor.failed + viaFloor.errors, unit: '' }),
      moreIsBetter({
        scenario: 'placeOrder',
        figure: 'orders/s vs the former absolute target',
        value: result.rps,
        unit: 'orders/s',
        reference: { kind: 'target', label: 'former target', value: ABSOLUTE_ORDERS_PER_SECOND },
      }),
      lessIsBetter({
        scenario: 'placeOrder',
        figure: 'p99 latency vs the former absolute target',
        value: result.latencyMs.p99,
        unit: 'ms',
        reference: { kind: 'target', label: 'former target', value: ABSOLUTE_P99_MS },
      }),
      cpuBoundRatio('placeOrder', 'order', [result, 'service'], ['floor', viaFloor, 'floor']),
      ...cpuPerRequestFigures('placeOrder', 'order', [
        ['service (partner included)', result, 'service'],
        ['floor (partner included)', viaFloor, 'floor'],
      ]),
      moreIsBetter({
        scenario: 'placeOrder',
        figure: `orders/s with WORKERS=${SCALED_OUT_WORKERS} vs one process`,
        value: scaledOut.rps,
        unit: 'orders/s',
        reference: { kind: 'baseline', label: 'one process', value: result.rps },
      }),
      info({ scenario: 'placeOrder', figure: `p99 latency with WORKERS=${SCALED_OUT_WORKERS}`, value: scaledOut.latencyMs.p99, unit: 'ms' }),
      info({ scenario: 'placeOrder', figure: `failed answers with WORKERS=${SCALED_OUT_WORKERS}`, value: scaledOut.failed + scaledOut.errors, unit: '' }),
      ...cpuPerRequestFigures('placeOrder', 'order', [[`service with WORKERS=${SCALED_OUT_WORKERS}`, scaledOut, 'service']]),
    ],
    details: { openedOrder: fromService, note, result, floor: viaFloor, scaledOut },
  };
}

export const placeOrderScenario: Scenario = {
  name: 'placeOrder',
  description: 'placeOrder on the TEST partner: orders/s and p99 against the floor (node:http + pg doing the necessary work), and with WORKERS=2',
  run,
};
