// Several processes behave as one service: two real server processes (and, for some cases, a
// third) on one fresh PostgreSQL database and one Redis channel. Tokens of one are good at the
// other; a subscriber on one sees every event written by the other, in order, once, through
// Redis (each process polls the event table only once an hour here, so nothing else could tell
// it in time); a subscriber resumes on the other process where it left off; with the broker
// out of the way the stored events still arrive by the poll; timeouts and SMS happen once;
// a process that stops (SIGTERM) or crashes (SIGKILL) leaves the other one serving.
// Everything is observed over HTTP and WebSocket; the database is written directly once, to
// make target URLs expire (no API sets the clock).
import { randomInt } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { backend, freshDatabaseEnv, methodGlobalId, placeOrderBrief, reportStatus, revokeToken, type ServiceEndpoint, type TestClient } from '../kit.js';
import { PlaceOrderBriefMutation, SimulateBriefMutation } from '../documents.js';
import { connectWs, type Collected, type WsConnection } from '../ws-kit.js';
import { cliClient, cliDisable, killAll, startServiceProcess, uniqueChannel, type ServiceProcess } from './cluster-kit.js';

const CASE_TIMEOUT_MS = 180_000;
/** How long an event may take to show: generous, as three servers share a small machine. */
const EVENT_WAIT_MS = 30_000;

const ClusterOrderQuery = graphql(`
  query ClusterOrder($refId: ID!) {
    order(refId: $refId) {
      status
      statusReason
      events { sequence type status previousStatus }
      evidence { mobileNumber terms { channel smsSentAt } }
    }
  }
`);

const ClusterViewerQuery = graphql(`
  query ClusterViewer {
    viewer { clientId }
  }
`);

const ORDER_EVENTS = `subscription ClusterEvents($filter: OrderEventFilter) {
  orderEvents(filter: $filter) { refId sequence type status previousStatus }
}`;
const STATUS_CHANGED = `subscription ClusterStatusChanged($refId: ID!) {
  orderStatusChanged(refId: $refId) { refId sequence type status previousStatus }
}`;

interface EventView {
  refId: string;
  sequence: string;
  type: string;
  status: string;
  previousStatus: string | null;
}
type OrderEventsData = { orderEvents: EventView };
type StatusChangedData = { orderStatusChanged: EventView };

// ---- the cluster -----------------------------------------------------------------------------

let database: Awaited<ReturnType<typeof freshDatabaseEnv>> | undefined;
let channel: string;
let A: ServiceProcess;
let B: ServiceProcess;
/** The IPSP client of the TEST partner, for reportIdentificationStatus. */
let testPartner: TestClient;
const started: ServiceProcess[] = [];

/**
 * The environment of a cluster process. EVENT_POLL_SECONDS is an hour: within a test, a process
 * learns of another's events only through Redis. The sweeps run often, in every process.
 */
function clusterEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...database!.env,
    REDIS_URL: process.env.TEST_REDIS_URL!,
    REDIS_CHANNEL: channel,
    SRS_TEST_MODE: '1',
    EVENT_POLL_SECONDS: '3600',
    TIMEOUT_SWEEP_SECONDS: '0.2',
    SMS_OUTBOX_SWEEP_SECONDS: '0.2',
    SUBSCRIPTION_TOKEN_CHECK_SECONDS: '0.5',
    // A process keeps a token it checked for five minutes: it refuses a token revoked elsewhere
    // (or of a client disabled with the CLI) within a test only when Redis told it to forget it.
    TOKEN_CACHE_SECONDS: '300',
    ...overrides,
  };
}

async function startProcess(name: string, overrides: Record<string, string> = {}): Promise<ServiceProcess> {
  const child = await startServiceProcess(name, clusterEnv(overrides));
  started.push(child);
  return child;
}

beforeAll(async () => {
  if (backend !== 'postgres' || !process.env.TEST_DATABASE_URL || !process.env.TEST_REDIS_URL) {
    throw new Error('The cluster tests need SRS_TEST_BACKEND=postgres, TEST_DATABASE_URL and TEST_REDIS_URL (vitest --project cluster sets the first).');
  }
  database = await freshDatabaseEnv();
  channel = uniqueChannel();
  // Both start at once on the empty database: migrations, catalogue and simulator clients race.
  [A, B] = await Promise.all([startProcess('A'), startProcess('B')]);
  testPartner = await cliClient(database.env, 'IPSP', 'TEST');
}, 240_000);

afterAll(async () => {
  await Promise.all(open.splice(0).map((item) => item.dispose()));
  await killAll();
  await database?.drop();
}, 60_000);

// A failed case shows what the servers printed.
beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    for (const child of started) console.error(`---- output of process ${child.name} (${child.url}) ----\n${child.output().slice(-6000)}`);
  });
});

// Every WebSocket a test opens is closed after it, even when it fails.
const open: Array<{ dispose(): unknown }> = [];
function ws(at: Pick<ServiceEndpoint, 'url'>, auth: string, options?: { lazy?: boolean }): WsConnection {
  const connection = connectWs(at, auth, options);
  open.push(connection);
  return connection;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((item) => item.dispose()));
});

// ---- steps -----------------------------------------------------------------------------------

/** A new service provider, created with the operator CLI on the shared database. */
function newServiceProvider(): Promise<TestClient> {
  return cliClient(database!.env, 'SERVICE_PROVIDER');
}

/** Places a TEST order (silent SMS unless initial data asks otherwise); its refId. */
async function placeOrder(at: ServiceEndpoint, token: string, extra: { initialData?: Record<string, string>; disabledSmsAlerts?: boolean } = {}): Promise<string> {
  const order = await placeOrderBrief(at, token, { methodId: methodGlobalId('test-video'), disabledSmsAlerts: true, ...extra });
  expect(order.status).toBe('INITIALIZED');
  return order.refId;
}

/** The TEST partner concludes the order as the end user would; the order's status after it. */
async function simulate(at: ServiceEndpoint, token: string, refId: string, outcome: 'SUCCESS' | 'ABORTED' = 'SUCCESS'): Promise<string> {
  const response = await at.graphql(SimulateBriefMutation, { variables: { input: { refId, outcome } }, token });
  expect(response.errors).toBeUndefined();
  expect(response.data!.simulateIdentification.userErrors).toEqual([]);
  return response.data!.simulateIdentification.order!.status;
}

async function orderOf(at: ServiceEndpoint, token: string, refId: string) {
  const response = await at.graphql(ClusterOrderQuery, { variables: { refId }, token });
  expect(response.errors).toBeUndefined();
  return response.data!.order!;
}

/** The stored events of these orders as a subscription shows them, in sequence order. */
async function storedEvents(at: ServiceEndpoint, token: string, refIds: string[]): Promise<EventView[]> {
  const orders = await Promise.all(refIds.map((refId) => orderOf(at, token, refId)));
  return orders
    .flatMap((order, i) => order.events.map((event) => ({ refId: refIds[i], ...event })))
    .sort((x, y) => (BigInt(x.sequence) < BigInt(y.sequence) ? -1 : 1));
}

async function viewerClientId(at: ServiceEndpoint, token: string): Promise<{ status: number; clientId?: string; code?: string }> {
  const response = await at.graphql(ClusterViewerQuery, { token });
  return { status: response.status, clientId: response.data?.viewer.clientId, code: response.errors?.[0]?.extensions?.code };
}

const eventsOf = (subscription: Collected<OrderEventsData>) => subscription.items.map((item) => item.orderEvents);
const lastSequence = (events: EventView[]) => events.reduce((max, event) => (BigInt(event.sequence) > max ? BigInt(event.sequence) : max), 0n);
const after = (events: EventView[], point: bigint) => events.filter((event) => BigInt(event.sequence) > point);

function expectStrictlyIncreasing(events: EventView[]) {
  for (let i = 1; i < events.length; i++) expect(BigInt(events[i].sequence), `event ${i} of ${JSON.stringify(events)}`).toBeGreaterThan(BigInt(events[i - 1].sequence));
}

/**
 * Waits until the subscription has received the event of `refId` that left it in `status`.
 * A stream is in sequence order, so once a marker placed last has arrived, everything stored
 * before it has arrived too: the list can then be compared with what is stored, and a missing
 * or repeated event shows without waiting "a while".
 */
async function waitForEvent(subscription: Collected<OrderEventsData>, refId: string, status: string): Promise<void> {
  await expect
    .poll(() => subscription.items.some((item) => item.orderEvents.refId === refId && item.orderEvents.status === status), {
      timeout: EVENT_WAIT_MS,
      message: `no ${status} event of ${refId}; received ${JSON.stringify(eventsOf(subscription).slice(-4))}, errors ${JSON.stringify(subscription.errors)}, ended ${subscription.endedBy ?? 'no'}`,
    })
    .toBe(true);
}

/** Places an order whose INITIALIZED event every given subscription must have received. */
async function marker(at: ServiceEndpoint, token: string, subscriptions: Array<Collected<OrderEventsData>>): Promise<string> {
  const refId = await placeOrder(at, token);
  for (const subscription of subscriptions) await waitForEvent(subscription, refId, 'INITIALIZED');
  return refId;
}

/** Makes the target URLs of these orders a minute past their expiry: the one direct database write. */
async function expireTargetUrls(refIds: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: database!.env.DATABASE_URL });
  await client.connect();
  try {
    const { rowCount } = await client.query(`UPDATE "Order" SET "targetUrlExpiresAt" = now() - interval '1 minute' WHERE "refId" = ANY($1)`, [refIds]);
    expect(rowCount).toBe(refIds.length);
  } finally {
    await client.end();
  }
}

interface RecordedSms {
  to: string;
  text: string;
  sentAt: string | null;
}
async function recordedSms(at: ServiceEndpoint): Promise<RecordedSms[]> {
  const response = await fetch(`${at.url}/dev/sms`);
  expect(response.status).toBe(200);
  return (await response.json()) as RecordedSms[];
}

const usedNumbers = new Set<string>();
function freshNumber(): string {
  for (;;) {
    const number = `+4179${randomInt(1_000_000, 10_000_000)}`;
    if (!usedNumbers.has(number)) {
      usedNumbers.add(number);
      return number;
    }
  }
}

// ---- the cases -------------------------------------------------------------------------------

describe('two processes, one service', () => {
  it('a token issued by one process is accepted by the other; revocation and disabling are honoured by both', { timeout: CASE_TIMEOUT_MS }, async () => {
    const sp = await newServiceProvider();
    const token = await A.token(sp);
    for (const at of [A, B]) expect(await viewerClientId(at, token)).toEqual({ status: 200, clientId: sp.clientId, code: undefined });

    // A subscription on B with the token A issued.
    const refId = await placeOrder(B, token);
    const onB = ws(B, token).subscribe<StatusChangedData>(STATUS_CHANGED, { refId });
    expect((await onB.waitFor(1))[0].orderStatusChanged).toMatchObject({ refId, status: 'INITIALIZED' });

    // Revoked at A: B, which has just checked it, refuses it once the invalidation reached it
    // through Redis, and ends the running subscription.
    expect(await revokeToken(A, sp, token)).toBe(200);
    expect(await viewerClientId(A, token)).toEqual({ status: 401, clientId: undefined, code: 'UNAUTHENTICATED' });
    await expect.poll(() => viewerClientId(B, token), { timeout: EVENT_WAIT_MS }).toEqual({ status: 401, clientId: undefined, code: 'UNAUTHENTICATED' });
    await onB.waitForEnd(EVENT_WAIT_MS);
    expect(onB.errors.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    const again = ws(B, token).subscribe<StatusChangedData>(STATUS_CHANGED, { refId });
    await again.waitForEnd(EVENT_WAIT_MS);
    expect(again.closeEvent?.code).toBe(4403);

    // The other way round; then the operator disables the client with the CLI (given the
    // service's Redis, as the README says), which ends every token of it on every process.
    const fromB = await B.token(sp);
    for (const at of [A, B]) expect(await viewerClientId(at, fromB)).toEqual({ status: 200, clientId: sp.clientId, code: undefined });
    await cliDisable({ ...database!.env, REDIS_URL: process.env.TEST_REDIS_URL!, REDIS_CHANNEL: channel }, sp.clientId);
    for (const at of [A, B]) {
      await expect.poll(() => viewerClientId(at, fromB), { timeout: EVENT_WAIT_MS }).toEqual({ status: 401, clientId: undefined, code: 'UNAUTHENTICATED' });
      expect((await at.requestToken(sp)).status).toBe(401);
    }
  });

  it('a subscriber on A receives every event of orders driven on B, in order, once, through Redis', { timeout: CASE_TIMEOUT_MS }, async () => {
    const sp = await newServiceProvider();
    const [tokenA, tokenB, partnerB] = await Promise.all([A.token(sp), B.token(sp), B.token(testPartner)]);
    // From sequence 0: this client has no orders yet, so the stream starts empty and cannot miss one.
    const onA = ws(A, tokenA).subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: '0' } });
    const first = await placeOrder(B, tokenB);
    await onA.waitFor(2, EVENT_WAIT_MS);
    const changes = ws(A, tokenA).subscribe<StatusChangedData>(STATUS_CHANGED, { refId: first });
    await changes.waitFor(1, EVENT_WAIT_MS);

    // The stream on A is live now: what follows reaches A only through a Redis notice.
    await reportStatus(B, partnerB, first, 'IDENTIFICATION_DONE');
    await reportStatus(B, partnerB, first, 'DATA_READY');
    expect(await simulate(B, tokenB, first)).toBe('TERMINATED'); // the partner imports the evidence
    const second = await placeOrder(B, tokenB);
    expect(await simulate(B, tokenB, second, 'ABORTED')).toBe('ABORTED');
    expect(await simulate(B, tokenB, second)).toBe('TERMINATED');
    const end = await marker(B, tokenB, [onA]);

    const stored = await storedEvents(B, tokenB, [first, second, end]);
    expect(stored).toHaveLength(6 + 7 + 2);
    expectStrictlyIncreasing(eventsOf(onA));
    expect(eventsOf(onA)).toEqual(stored);
    expect(onA.errors).toEqual([]);

    // orderStatusChanged on A: the current state, then every later event of the order.
    const ofFirst = stored.filter((event) => event.refId === first);
    await changes.waitFor(ofFirst.length - 1, EVENT_WAIT_MS);
    expect(changes.items.map((item) => item.orderStatusChanged)).toEqual(ofFirst.slice(1));
    expect(ofFirst.slice(1).map((event) => [event.type, event.status])).toEqual([
      ['STATUS_CHANGED', 'INITIALIZED'],
      ['STATUS_CHANGED', 'IDENTIFICATION_DONE'],
      ['STATUS_CHANGED', 'DATA_READY'],
      ['STATUS_CHANGED', 'TERMINATED'],
      ['EVIDENCE_IMPORTED', 'TERMINATED'],
    ]);

    // Both processes writing at once, orders placed on one and driven on the other: a
    // subscriber on each process sees the same single stream.
    const point = lastSequence(stored);
    const both = [ws(A, tokenA), ws(B, tokenB)].map((connection) =>
      connection.subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: String(point) } }),
    );
    const where = [A, B, A, B, A, B];
    const refIds = await Promise.all(where.map((at) => placeOrder(at, at === A ? tokenA : tokenB)));
    const outcomes = await Promise.all(refIds.map((refId, i) => simulate(where[i] === A ? B : A, where[i] === A ? tokenB : tokenA, refId)));
    expect(outcomes).toEqual(refIds.map(() => 'TERMINATED'));
    const last = await marker(A, tokenA, both);
    const expected = after(await storedEvents(A, tokenA, [...refIds, last]), point);
    expect(expected).toHaveLength(6 * 6 + 2);
    for (const [name, subscription] of [['on A', both[0]], ['on B', both[1]]] as const) {
      expect({ name, events: eventsOf(subscription) }).toEqual({ name, events: expected });
      expect(subscription.errors).toEqual([]);
    }
  });

  it('a subscriber that resumes with afterSequence on the other process gets exactly the events after it', { timeout: CASE_TIMEOUT_MS }, async () => {
    const sp = await newServiceProvider();
    const token = await A.token(sp);
    const first = await placeOrder(B, token);
    const second = await placeOrder(A, token);

    const onA = ws(A, token).subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: '0' } });
    const simulating = simulate(B, token, first);
    // Leave in the middle of the stream, while B is still writing.
    await onA.waitFor(3, EVENT_WAIT_MS);
    onA.dispose();
    const seen = eventsOf(onA).slice();
    expect(await simulating).toBe('TERMINATED');
    // Meanwhile, with nobody listening.
    expect(await simulate(A, token, second)).toBe('TERMINATED');

    // Resume on B after the last event seen on A; then more, live, from A.
    const resumeAt = seen.at(-1)!.sequence;
    const onB = ws(B, token).subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: resumeAt } });
    const third = await placeOrder(A, token);
    expect(await simulate(A, token, third, 'ABORTED')).toBe('ABORTED');
    const end = await marker(A, token, [onB]);

    const stored = await storedEvents(A, token, [first, second, third, end]);
    expect(eventsOf(onB)).toEqual(after(stored, BigInt(resumeAt)));
    expect([...seen, ...eventsOf(onB)]).toEqual(stored);
    expect(onB.errors).toEqual([]);
  });

  it('with the broker out of the way, stored events still arrive: by the poll, and a lost notice only delays', { timeout: CASE_TIMEOUT_MS }, async () => {
    // C shares the database but not the Redis channel: it hears no notice of A and B, and they
    // hear none of it. C polls the event table every half second; A and B once an hour.
    const C = await startProcess('C', { REDIS_CHANNEL: `${channel}:elsewhere`, EVENT_POLL_SECONDS: '0.5' });
    try {
      const sp = await newServiceProvider();
      const token = await A.token(sp);
      const onC = ws(C, token).subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: '0' } });
      const onA = ws(A, token).subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: '0' } });
      const first = await placeOrder(B, token);
      await Promise.all([onC.waitFor(2, EVENT_WAIT_MS), onA.waitFor(2, EVENT_WAIT_MS)]);

      // Written on B: A hears of it through Redis, C finds it by its poll.
      expect(await simulate(B, token, first)).toBe('TERMINATED');
      const ofFirst = await storedEvents(B, token, [first]);
      await Promise.all([onC.waitFor(ofFirst.length, EVENT_WAIT_MS), onA.waitFor(ofFirst.length, EVENT_WAIT_MS)]);
      expect(eventsOf(onC)).toEqual(ofFirst);
      expect(eventsOf(onA)).toEqual(ofFirst);

      // Written on C: its notices go where A does not listen, and A's poll is an hour away.
      const second = await placeOrder(C, token);
      expect(await simulate(C, token, second)).toBe('TERMINATED');
      const soFar = await storedEvents(C, token, [first, second]);
      await onC.waitFor(soFar.length, EVENT_WAIT_MS);
      expect(eventsOf(onC)).toEqual(soFar);
      expect(eventsOf(onA)).toEqual(ofFirst);

      // The next notice A hears makes it read everything it had missed: nothing is lost, in order.
      const end = await marker(B, token, [onA, onC]);
      const stored = await storedEvents(A, token, [first, second, end]);
      expect(eventsOf(onA)).toEqual(stored);
      expect(eventsOf(onC)).toEqual(stored);
      expect([...onA.errors, ...onC.errors]).toEqual([]);
    } finally {
      await C.stop('SIGTERM');
    }
  });

  it('without Redis, PostgreSQL carries the notices (EVENT_NOTICES=postgres): events and revocations reach the other process at once', { timeout: CASE_TIMEOUT_MS }, async () => {
    // C and D share the database only; their polls are an hour away, so whatever C learns of
    // D's work within the test came through LISTEN/NOTIFY.
    const [C, D] = await Promise.all([startProcess('C', { REDIS_URL: '', EVENT_NOTICES: 'postgres' }), startProcess('D', { REDIS_URL: '', EVENT_NOTICES: 'postgres' })]);
    try {
      expect(C.output()).toContain('"broker":"postgres"');
      const sp = await newServiceProvider();
      const [tokenC, tokenD] = await Promise.all([C.token(sp), D.token(sp)]);
      const onC = ws(C, tokenC).subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: '0' } });
      const first = await placeOrder(D, tokenD);
      expect(await simulate(D, tokenD, first)).toBe('TERMINATED');
      const end = await marker(D, tokenD, [onC]);
      expect(eventsOf(onC)).toEqual(await storedEvents(D, tokenD, [first, end]));
      expect(onC.errors).toEqual([]);

      // C has checked this token and would keep it for five minutes; revoked on D, it is refused on C at once.
      expect(await viewerClientId(C, tokenC)).toEqual({ status: 200, clientId: sp.clientId });
      expect(await revokeToken(D, sp, tokenC)).toBe(200);
      await expect.poll(async () => (await viewerClientId(C, tokenC)).code, { timeout: 10_000 }).toBe('UNAUTHENTICATED');
    } finally {
      await Promise.all([C.stop('SIGTERM'), D.stop('SIGTERM')]);
    }
  });

  it('an order that times out gets exactly one TIMEOUT event, with both processes sweeping', { timeout: CASE_TIMEOUT_MS }, async () => {
    const sp = await newServiceProvider();
    const token = await A.token(sp);
    const refIds = await Promise.all([A, B, A, B, A, B, A, B].map((at) => placeOrder(at, token)));
    const control = await placeOrder(B, token);
    const point = lastSequence(await storedEvents(A, token, [...refIds, control]));
    const subscriptions = [ws(A, token), ws(B, token)].map((connection) =>
      connection.subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: String(point) } }),
    );

    await expireTargetUrls(refIds);
    for (const subscription of subscriptions) await subscription.waitFor(refIds.length, EVENT_WAIT_MS);
    const end = await marker(B, token, subscriptions);

    const stored = await storedEvents(A, token, [...refIds, control, end]);
    for (const refId of refIds) {
      const order = await orderOf(B, token, refId);
      expect(order.status).toBe('TIMEOUT');
      expect(order.statusReason).toMatch(/target URL/i);
      expect(order.events.map((event) => [event.type, event.status, event.previousStatus])).toEqual([
        ['STATUS_CHANGED', 'CREATED', null],
        ['STATUS_CHANGED', 'INITIALIZED', 'CREATED'],
        ['STATUS_CHANGED', 'TIMEOUT', 'INITIALIZED'],
      ]);
    }
    expect((await orderOf(A, token, control)).status).toBe('INITIALIZED');
    const timeouts = after(stored, point).filter((event) => event.status === 'TIMEOUT');
    expect(timeouts.map((event) => event.refId).sort()).toEqual([...refIds].sort());
    for (const subscription of subscriptions) {
      expect(eventsOf(subscription)).toEqual(after(stored, point));
      expect(subscription.errors).toEqual([]);
    }
  });

  it('a T&C SMS goes out exactly once, with both processes draining the outbox', { timeout: CASE_TIMEOUT_MS }, async () => {
    const sp = await newServiceProvider();
    const token = await A.token(sp);
    const numbers = Array.from({ length: 6 }, () => freshNumber());
    const where = (i: number) => (i % 2 === 0 ? A : B);
    const refIds = await Promise.all(
      numbers.map((mobileNumber, i) =>
        placeOrder(where(i), token, { disabledSmsAlerts: false, initialData: { givenNames: 'Erika', surname: 'Muster', dateOfBirth: '1988-02-29', nationality: 'CH', mobileNumber } }),
      ),
    );
    const point = lastSequence(await storedEvents(A, token, refIds));
    const subscriptions = [ws(A, token), ws(B, token)].map((connection) =>
      connection.subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: String(point) } }),
    );

    // Identified on both processes at once: each queues its SMS and wakes its own outbox
    // worker, while the other process's sweeps (every 0.2 s) go for the same rows.
    expect(await Promise.all(refIds.map((refId, i) => simulate(where(i + 1), token, refId)))).toEqual(refIds.map(() => 'TERMINATED'));
    for (const subscription of subscriptions) {
      await expect
        .poll(() => eventsOf(subscription).filter((event) => event.type === 'TERMS_SENT').length, { timeout: EVENT_WAIT_MS })
        .toBeGreaterThanOrEqual(refIds.length);
    }
    const end = await marker(B, token, subscriptions);

    const stored = await storedEvents(A, token, [...refIds, end]);
    for (const [i, refId] of refIds.entries()) {
      const order = await orderOf(B, token, refId);
      expect(order.events.filter((event) => event.type === 'TERMS_SENT')).toHaveLength(1);
      expect(order.evidence).toMatchObject({ mobileNumber: numbers[i], terms: { channel: 'SMS_LINK', smsSentAt: expect.any(String) } });
    }
    for (const at of [A, B]) {
      const sms = (await recordedSms(at)).filter((message) => numbers.includes(message.to));
      expect(sms.map((message) => message.to).sort()).toEqual([...numbers].sort());
      for (const message of sms) expect(message.text).toMatch(/\/terms\/[A-Za-z0-9_-]+/);
    }
    for (const subscription of subscriptions) {
      expect(eventsOf(subscription)).toEqual(after(stored, point));
      expect(subscription.errors).toEqual([]);
    }
  });

  it('logs JSON lines that carry the request id and the order’s reference id, on the process that did the work', { timeout: CASE_TIMEOUT_MS }, async () => {
    const sp = await newServiceProvider();
    const token = await B.token(sp);
    const requestId = `cluster-${randomInt(1_000_000, 10_000_000)}`;
    const response = await B.graphql(PlaceOrderBriefMutation, {
      variables: { input: { methodId: methodGlobalId('test-video'), disabledSmsAlerts: true } },
      token,
      headers: { 'x-request-id': requestId },
    });
    const refId = response.data!.placeOrder.order!.refId;
    const linesOf = (at: ServiceProcess) =>
      at
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    await expect.poll(() => linesOf(B).filter((line) => line.requestId === requestId).map((line) => line.msg)).toEqual(
      expect.arrayContaining(['order placed', 'order status changed', 'request completed']),
    );
    const ofRequest = linesOf(B).filter((line) => line.requestId === requestId);
    expect(ofRequest.find((line) => line.msg === 'order placed')).toMatchObject({ refId, level: 30, service: 'srs' });
    expect(ofRequest.find((line) => line.msg === 'order status changed')).toMatchObject({ refId, from: 'CREATED', to: 'INITIALIZED' });
    expect(ofRequest.find((line) => line.msg === 'request completed')).toMatchObject({ refId, operation: 'placeOrder', method: 'POST', path: '/graphql', status: 200 });
    // The partner's calls back into the service are requests of their own, with their own ids.
    expect(linesOf(B).some((line) => line.msg === 'request completed' && line.requestId !== requestId && String(line.path).startsWith('/ipsp/'))).toBe(true);
    expect(linesOf(A).some((line) => line.requestId === requestId)).toBe(false);
  });

  it('SIGTERM: a process stops in order (exit 0, WebSocket clients get 1001) and the other carries on', { timeout: CASE_TIMEOUT_MS }, async () => {
    const D = await startProcess('D');
    const sp = await newServiceProvider();
    const token = await D.token(sp);
    const refId = await placeOrder(A, token);
    const point = lastSequence(await storedEvents(A, token, [refId]));

    const connection = ws(D, token);
    const onD = connection.subscribe<StatusChangedData>(STATUS_CHANGED, { refId });
    await onD.waitFor(1, EVENT_WAIT_MS);
    const idle = ws(D, token, { lazy: false });
    await expect.poll(() => idle.acknowledged(), { timeout: EVENT_WAIT_MS }).toBe(true);
    const onA = ws(A, token).subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: String(point) } });

    expect(await D.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    await onD.waitForEnd(EVENT_WAIT_MS);
    expect(onD.endedBy).toBe('closed');
    expect(onD.closeEvent?.code).toBe(1001);
    expect(connection.closes.map((close) => close.code)).toEqual([1001]);
    await expect.poll(() => idle.closes.map((close) => close.code), { timeout: EVENT_WAIT_MS }).toEqual([1001]);

    // D is gone; A serves D's token and D's clients.
    await expect(fetch(`${D.url}/health`)).rejects.toThrow();
    expect(await viewerClientId(A, token)).toEqual({ status: 200, clientId: sp.clientId, code: undefined });
    expect(await simulate(A, token, refId)).toBe('TERMINATED');
    const end = await marker(A, token, [onA]);
    expect(eventsOf(onA)).toEqual(after(await storedEvents(A, token, [refId, end]), point));
  });

  it('SIGKILL: when a process crashes, the other carries on, and the dead one’s subscriber resumes there without a gap', { timeout: CASE_TIMEOUT_MS }, async () => {
    const sp = await newServiceProvider();
    const token = await B.token(sp);
    const first = await placeOrder(B, token);
    const onB = ws(B, token).subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: '0' } });
    const onA = ws(A, token).subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: '0' } });
    await Promise.all([onB.waitFor(2, EVENT_WAIT_MS), onA.waitFor(2, EVENT_WAIT_MS)]);

    expect(await B.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    await onB.waitForEnd(EVENT_WAIT_MS);
    expect(onB.endedBy).toBe('closed');
    // No closing handshake: the connection just broke.
    expect(onB.closeEvent?.code).toBe(1006);
    const seenOnB = eventsOf(onB).slice();

    // The survivor: B's token, new tokens, queries, and the order placed on B goes on here.
    await expect(fetch(`${B.url}/health`)).rejects.toThrow();
    expect(await viewerClientId(A, token)).toEqual({ status: 200, clientId: sp.clientId, code: undefined });
    const fresh = await A.token(sp);
    expect(await viewerClientId(A, fresh)).toEqual({ status: 200, clientId: sp.clientId, code: undefined });
    expect(await simulate(A, fresh, first)).toBe('TERMINATED');
    const second = await placeOrder(A, fresh);
    await waitForEvent(onA, second, 'INITIALIZED');
    const stored = await storedEvents(A, fresh, [first, second]);
    expect(eventsOf(onA)).toEqual(stored);

    // B's subscriber comes back on A after the last event it saw.
    const resumed = ws(A, fresh).subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: seenOnB.at(-1)!.sequence } });
    await resumed.waitFor(stored.length - seenOnB.length, EVENT_WAIT_MS);
    const end = await marker(A, fresh, [resumed]);
    expect([...seenOnB, ...eventsOf(resumed)]).toEqual(await storedEvents(A, fresh, [first, second, end]));

    // And A alone still runs the jobs: an expired order times out.
    await expireTargetUrls([second]);
    await expect.poll(async () => (await orderOf(A, fresh, second)).status, { timeout: EVENT_WAIT_MS }).toBe('TIMEOUT');
  });
});
