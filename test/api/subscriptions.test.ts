// Subscriptions: orderStatusChanged and orderEvents over graphql-ws and SSE. Current state first,
// replay after a sequence without gap or duplicate at the seam, filters, isolation between
// clients, scopes, revocation and expiry ending a stream, release of server-side resources, and
// what must hold when subscribers of one operation share the execution of an event.
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { methodGlobalId, placeOrderBrief, revokeToken, spToken, startTestService, type TestService } from '../kit.js';
import { SimulateBriefMutation } from '../documents.js';
import { connectWs, subscribeSse, type Collected, type WsConnection } from '../ws-kit.js';
import { writeOrderEvents } from '../../src/services/order-store.js';

/** Open subscriptions of the service, as its /metrics reports them. */
async function openSubscriptions(srs: TestService): Promise<number> {
  const text = await (await fetch(`${srs.url}/metrics`)).text();
  const line = /^srs_open_subscriptions (\d+)$/m.exec(text);
  if (!line) throw new Error(`No srs_open_subscriptions in /metrics:\n${text.slice(0, 500)}`);
  return Number(line[1]);
}

const OrderEvents = graphql(`
  query SubsOrderEvents($refId: ID!) {
    order(refId: $refId) {
      status
      events { sequence type status previousStatus }
    }
  }
`);

const Viewer = graphql(`
  query SubsViewer {
    viewer { clientId }
  }
`);

const STATUS_CHANGED = `subscription StatusChanged($refId: ID!) {
  orderStatusChanged(refId: $refId) { refId sequence type status previousStatus }
}`;
const ORDER_EVENTS = `subscription Events($filter: OrderEventFilter) {
  orderEvents(filter: $filter) { refId sequence type status previousStatus }
}`;

interface EventView {
  refId: string;
  sequence: string;
  type: string;
  status: string;
  previousStatus: string | null;
}
type StatusChanged = { orderStatusChanged: EventView };
type OrderEventsData = { orderEvents: EventView };

/** What SUCCESS does to an INITIALIZED TEST order, as (type, status, previousStatus). */
const SUCCESS_EVENTS = [
  ['STATUS_CHANGED', 'IDENTIFICATION_DONE', 'INITIALIZED'],
  ['STATUS_CHANGED', 'DATA_READY', 'IDENTIFICATION_DONE'],
  ['STATUS_CHANGED', 'TERMINATED', 'DATA_READY'],
  ['EVIDENCE_IMPORTED', 'TERMINATED', 'TERMINATED'],
];

const KLARNA_DATA = { givenNames: 'Erika', surname: 'Muster', dateOfBirth: '1990-01-01', mobileNumber: '+41791234567', country: 'CH' };

// Silent SMS: the T&C events (TERMS_SENT once the SMS is out) would otherwise arrive at a time
// of their own after TERMINATED; registration.test.ts covers them.
async function placeOrder(srs: TestService, token: string, methodId = 'test-video', initialData?: object): Promise<string> {
  return (await placeOrderBrief(srs, token, { methodId: methodGlobalId(methodId), initialData, disabledSmsAlerts: true })).refId;
}

/** A stream is live once it delivers something: places probe orders until one shows up. */
async function placeUntilLive(srs: TestService, token: string, subscription: Collected<unknown>): Promise<string[]> {
  const probes: string[] = [];
  for (let attempt = 0; attempt < 20 && subscription.items.length === 0; attempt++) {
    probes.push(await placeOrder(srs, token));
    await sleep(250);
  }
  await subscription.waitFor(1);
  return probes;
}

async function simulate(srs: TestService, token: string, refId: string, outcome: 'SUCCESS' | 'ABORTED' = 'SUCCESS'): Promise<string> {
  const response = await srs.graphql(SimulateBriefMutation, { variables: { input: { refId, outcome } }, token });
  expect(response.errors).toBeUndefined();
  expect(response.data!.simulateIdentification.userErrors).toEqual([]);
  return response.data!.simulateIdentification.order!.status;
}

/** The stored events of one order, oldest first, with its refId, as a subscription shows them. */
async function storedEvents(srs: TestService, token: string, refId: string): Promise<EventView[]> {
  const response = await srs.graphql(OrderEvents, { variables: { refId }, token });
  expect(response.errors).toBeUndefined();
  return response.data!.order!.events.map((event) => ({ refId, ...event }));
}

async function storedEventsOf(srs: TestService, token: string, refIds: string[]): Promise<EventView[]> {
  const all = (await Promise.all(refIds.map((refId) => storedEvents(srs, token, refId)))).flat();
  return all.sort((a, b) => (BigInt(a.sequence) < BigInt(b.sequence) ? -1 : 1));
}

function lastSequence(events: EventView[]): bigint {
  return events.reduce((max, event) => (BigInt(event.sequence) > max ? BigInt(event.sequence) : max), 0n);
}

const after = (events: EventView[], point: bigint) => events.filter((event) => BigInt(event.sequence) > point);
const sequences = (events: EventView[]) => events.map((event) => event.sequence);

function expectStrictlyIncreasing(events: EventView[]) {
  for (let i = 1; i < events.length; i++) expect(BigInt(events[i].sequence)).toBeGreaterThan(BigInt(events[i - 1].sequence));
}

/** Waits for n items, then a moment longer, so a late extra item (a duplicate) would show. */
async function settle<Data>(subscription: Collected<Data>, n: number, timeoutMs = 15_000): Promise<Data[]> {
  await subscription.waitFor(n, timeoutMs);
  await sleep(400);
  return subscription.items;
}

// Everything a test opens is closed after it, even when it fails.
const open: Array<{ dispose(): unknown }> = [];
function ws(srs: TestService, auth: string | Record<string, unknown> | null, options?: { lazy?: boolean }): WsConnection {
  const connection = connectWs(srs, auth, options);
  open.push(connection);
  return connection;
}
function sse<Data>(srs: TestService, token: string | null, query: string, variables?: Record<string, unknown>) {
  const subscription = subscribeSse<Data>(srs, token, query, variables);
  open.push(subscription);
  return subscription;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((item) => item.dispose()));
});

describe('subscriptions', () => {
  let srs: TestService;

  beforeAll(async () => {
    srs = await startTestService();
  });
  afterAll(() => srs?.stop());

  describe('orderStatusChanged over graphql-ws', () => {
    it('sends the current state first, then every event in sequence order', async () => {
      const token = await spToken(srs);
      const refId = await placeOrder(srs, token);
      const [created, initialized] = await storedEvents(srs, token, refId);
      expect(initialized.status).toBe('INITIALIZED');

      const subscription = ws(srs, token).subscribe<StatusChanged>(STATUS_CHANGED, { refId });
      const [first] = await subscription.waitFor(1);
      expect(first.orderStatusChanged).toEqual({ ...initialized, refId });
      expect(BigInt(first.orderStatusChanged.sequence)).toBeGreaterThan(BigInt(created.sequence));

      expect(await simulate(srs, token, refId)).toBe('TERMINATED');
      const items = await settle(subscription, 5);
      const events = items.map((item) => item.orderStatusChanged);
      expect(events).toHaveLength(5);
      expect(events.slice(1).map((event) => [event.type, event.status, event.previousStatus])).toEqual(SUCCESS_EVENTS);
      for (const event of events) expect(event.refId).toBe(refId);
      expectStrictlyIncreasing(events);
      // Exactly what is stored, from the current state on.
      expect(events).toEqual((await storedEvents(srs, token, refId)).slice(1));
      expect(subscription.errors).toEqual([]);
    });

    it('starts with the latest event of an order that is already further along', async () => {
      const token = await spToken(srs);
      const refId = await placeOrder(srs, token);
      await simulate(srs, token, refId, 'ABORTED');
      const stored = await storedEvents(srs, token, refId);
      expect(stored.at(-1)!.status).toBe('ABORTED');

      const subscription = ws(srs, token).subscribe<StatusChanged>(STATUS_CHANGED, { refId });
      const [first] = await subscription.waitFor(1);
      expect(first.orderStatusChanged).toEqual(stored.at(-1));
      await simulate(srs, token, refId, 'SUCCESS');
      const events = (await settle(subscription, 5)).map((item) => item.orderStatusChanged);
      expect(events.map((event) => event.status)).toEqual(['ABORTED', 'IDENTIFICATION_DONE', 'DATA_READY', 'TERMINATED', 'TERMINATED']);
      expect(events[1].previousStatus).toBe('ABORTED');
      expect(events).toEqual((await storedEvents(srs, token, refId)).slice(-5));
    });
  });

  describe('orderEvents with afterSequence', () => {
    it('replays the stored events after the point, then goes live, with no gap and no duplicate', async () => {
      const token = await spToken(srs);
      const refIds = [await placeOrder(srs, token), await placeOrder(srs, token), await placeOrder(srs, token)];
      const point = BigInt((await storedEvents(srs, token, refIds[0]))[0].sequence) - 1n;

      const subscription = ws(srs, token).subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: String(point) } });
      // Drive orders at once, while the replay may still be running.
      await simulate(srs, token, refIds[0], 'ABORTED');
      refIds.push(await placeOrder(srs, token));
      await simulate(srs, token, refIds[1]);
      await simulate(srs, token, refIds[0]);

      const expected = after(await storedEventsOf(srs, token, refIds), point);
      expect(expected.length).toBe(4 * 2 + 1 + 4 + 4);
      const received = (await settle(subscription, expected.length)).map((item) => item.orderEvents);
      expectStrictlyIncreasing(received);
      expect(sequences(received)).toEqual(sequences(expected));
      expect(received).toEqual(expected);
      expect(subscription.errors).toEqual([]);
    });

    it('resumes after the last event seen without losing or repeating one', async () => {
      const token = await spToken(srs);
      const refIds = [await placeOrder(srs, token), await placeOrder(srs, token)];
      const point = lastSequence(await storedEventsOf(srs, token, refIds));
      const connection = ws(srs, token);
      const first = connection.subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: String(point) } });
      await simulate(srs, token, refIds[0]);
      const seen = (await first.waitFor(2)).map((item) => item.orderEvents);
      first.dispose();
      await first.waitForEnd();
      // Resume from the last one seen, while more happens.
      const resumeAt = seen.at(-1)!.sequence;
      const second = connection.subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: resumeAt } });
      await simulate(srs, token, refIds[1]);

      const expected = after(await storedEventsOf(srs, token, refIds), BigInt(resumeAt));
      const received = (await settle(second, expected.length)).map((item) => item.orderEvents);
      expect(received).toEqual(expected);
      expect(sequences([...first.items.map((item) => item.orderEvents).filter((event) => BigInt(event.sequence) <= BigInt(resumeAt)), ...received])).toEqual(
        sequences(after(await storedEventsOf(srs, token, refIds), point)),
      );
    });

    it('keeps order, no gap and no duplicate under concurrent writes and a replay longer than a page', async () => {
      const token = await spToken(srs);
      const refIds: string[] = [];
      for (let batch = 0; batch < 2; batch++) refIds.push(...(await Promise.all(Array.from({ length: 8 }, () => placeOrder(srs, token)))));
      // More stored events than one replay page (200) before subscribing: a long history written
      // straight to the database, as placing a hundred orders through the API takes too long.
      const prisma = srs.service.prisma;
      const long = await prisma.order.findUniqueOrThrow({ where: { refId: refIds[0] } });
      await srs.service.database.transaction((sql) =>
        writeOrderEvents(sql, long, Array.from({ length: 210 }, () => ({ type: 'TERMS_SENT' as const, status: 'INITIALIZED' as const, previousStatus: 'INITIALIZED' as const, actor: 'test' }))),
      );
      const stored = await storedEventsOf(srs, token, refIds);
      expect(stored.length).toBeGreaterThan(200);
      const point = BigInt(stored[0].sequence) - 1n;

      const connection = ws(srs, token);
      const replaying = connection.subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: String(point) } });
      const live = connection.subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: String(lastSequence(stored)) } });
      // Several simulations and new orders at the same time, during the replay.
      const placed = await Promise.all([
        ...refIds.slice(0, 8).map((refId) => simulate(srs, token, refId)),
        placeOrder(srs, token),
        placeOrder(srs, token),
        ...refIds.slice(8, 12).map((refId) => simulate(srs, token, refId, 'ABORTED')),
      ]);
      refIds.push(placed[8], placed[9]);
      await Promise.all(refIds.slice(8, 12).map((refId) => simulate(srs, token, refId)));

      const all = await storedEventsOf(srs, token, refIds);
      const expected = after(all, point);
      expect(expected.length).toBe(stored.length + 12 * 4 + 2 * 2 + 4);
      const received = (await settle(replaying, expected.length, 30_000)).map((item) => item.orderEvents);
      expectStrictlyIncreasing(received);
      expect(new Set(sequences(received)).size).toBe(received.length);
      expect(sequences(received)).toEqual(sequences(expected));
      const liveExpected = after(all, lastSequence(stored));
      const liveReceived = (await settle(live, liveExpected.length)).map((item) => item.orderEvents);
      expect(liveReceived).toEqual(liveExpected);
      // A replay with nothing happening meanwhile: no notice wakes it between pages.
      const quiet = connection.subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: String(point) } });
      expect(sequences((await settle(quiet, expected.length)).map((item) => item.orderEvents))).toEqual(sequences(expected));
      expect([...replaying.errors, ...live.errors, ...quiet.errors]).toEqual([]);
    });

    it('refuses an afterSequence that is not a sequence', async () => {
      const token = await spToken(srs);
      const subscription = ws(srs, token).subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: 'yesterday' } });
      await subscription.waitForEnd();
      expect(subscription.items).toEqual([]);
      expect(subscription.errors.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('orderEvents without afterSequence and with filters', () => {
    it('delivers only events committed after subscribing', async () => {
      const token = await spToken(srs);
      const earlier = await placeOrder(srs, token);
      const earlierEvents = await storedEvents(srs, token, earlier);
      const subscription = ws(srs, token).subscribe<OrderEventsData>(ORDER_EVENTS);
      const probes = await placeUntilLive(srs, token, subscription);
      await simulate(srs, token, earlier);

      const live = after(await storedEvents(srs, token, earlier), lastSequence(earlierEvents));
      expect(live.map((event) => event.status)).toEqual(['IDENTIFICATION_DONE', 'DATA_READY', 'TERMINATED', 'TERMINATED']);
      const firstSeen = BigInt(subscription.items[0].orderEvents.sequence);
      const expected = after(await storedEventsOf(srs, token, [earlier, ...probes]), firstSeen - 1n);
      const received = (await settle(subscription, expected.length)).map((item) => item.orderEvents);
      expect(received).toEqual(expected);
      // Nothing from before the subscription: not the earlier order's first events.
      for (const event of earlierEvents) expect(sequences(received)).not.toContain(event.sequence);
      expect(received.filter((event) => event.refId === earlier)).toEqual(live);
    });

    it('filters by refIds, types and statuses', async () => {
      const token = await spToken(srs);
      const [y, z] = [await placeOrder(srs, token), await placeOrder(srs, token)];
      const point = String(lastSequence(await storedEventsOf(srs, token, [y, z])));
      const connection = ws(srs, token);
      const filters = {
        byRef: { refIds: [y] },
        byType: { types: ['EVIDENCE_IMPORTED'] },
        byStatus: { statuses: ['DATA_READY', 'ABORTED'] },
        combined: { refIds: [z], types: ['STATUS_CHANGED'], statuses: ['TERMINATED'] },
        unknownRef: { refIds: ['SRS-NOSUCHOR-DER00000'] },
      };
      const subscriptions = Object.fromEntries(
        Object.entries(filters).map(([name, filter]) => [name, connection.subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { ...filter, afterSequence: point } })]),
      );
      await simulate(srs, token, y, 'ABORTED');
      await simulate(srs, token, z);
      await simulate(srs, token, y);

      const all = after(await storedEventsOf(srs, token, [y, z]), BigInt(point));
      const expected = {
        byRef: all.filter((event) => event.refId === y),
        byType: all.filter((event) => event.type === 'EVIDENCE_IMPORTED'),
        byStatus: all.filter((event) => event.status === 'DATA_READY' || event.status === 'ABORTED'),
        combined: all.filter((event) => event.refId === z && event.type === 'STATUS_CHANGED' && event.status === 'TERMINATED'),
        unknownRef: [],
      };
      expect(expected.byRef).toHaveLength(5);
      expect(expected.byType).toHaveLength(2);
      expect(expected.byStatus).toHaveLength(3);
      expect(expected.combined).toHaveLength(1);
      for (const [name, events] of Object.entries(expected)) {
        const received = (await settle(subscriptions[name], events.length)).map((item) => item.orderEvents);
        expect({ name, received }).toEqual({ name, received: events });
        expect(subscriptions[name].errors).toEqual([]);
      }
    });

    it('filters live events too (no afterSequence)', async () => {
      const token = await spToken(srs);
      const [y, z] = [await placeOrder(srs, token), await placeOrder(srs, token)];
      const connection = ws(srs, token);
      const evidence = connection.subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { types: ['EVIDENCE_IMPORTED'] } });
      const ofZ = connection.subscribe<StatusChanged>(STATUS_CHANGED, { refId: z });
      // orderStatusChanged answers at once: the connection and the server are serving it.
      await ofZ.waitFor(1);
      // The evidence stream started independently; make sure it is live with a probe of its own kind.
      for (let attempt = 0; attempt < 20 && evidence.items.length === 0; attempt++) {
        const probe = await placeOrder(srs, token);
        await simulate(srs, token, probe);
        await sleep(250);
      }
      await evidence.waitFor(1);
      const before = evidence.items.length;
      await simulate(srs, token, y);
      await simulate(srs, token, z);
      const items = await settle(evidence, before + 2);
      expect(items.slice(before).map((item) => [item.orderEvents.refId, item.orderEvents.type])).toEqual([
        [y, 'EVIDENCE_IMPORTED'],
        [z, 'EVIDENCE_IMPORTED'],
      ]);
      expect(items).toHaveLength(before + 2);
      const zEvents = (await settle(ofZ, 5)).map((item) => item.orderStatusChanged);
      expect(zEvents.every((event) => event.refId === z)).toBe(true);
      expect(zEvents).toHaveLength(5);
    });
  });

  describe('isolation', () => {
    it('shows each subscriber only the orders it may read', async () => {
      const spA = await srs.createClient('SERVICE_PROVIDER');
      const spB = await srs.createClient('SERVICE_PROVIDER');
      const [tokenA, tokenB] = [await srs.token(spA), await srs.token(spB)];
      const tokenTest = await srs.token(await srs.createClient('IPSP', { issuer: 'TEST' }));
      const tokenKlarna = await srs.token(await srs.createClient('IPSP', { issuer: 'KLARNA' }));
      const a1 = await placeOrder(srs, tokenA);
      const point = lastSequence(await storedEvents(srs, tokenA, a1));
      const filter = { afterSequence: String(point) };

      const ofB = ws(srs, tokenB).subscribe<OrderEventsData>(ORDER_EVENTS, { filter });
      const ofTest = ws(srs, tokenTest).subscribe<OrderEventsData>(ORDER_EVENTS, { filter });
      const ofKlarna = ws(srs, tokenKlarna).subscribe<OrderEventsData>(ORDER_EVENTS, { filter });

      const a2 = await placeOrder(srs, tokenA);
      await simulate(srs, tokenA, a1);
      const b1 = await placeOrder(srs, tokenB);
      await simulate(srs, tokenB, b1);
      const k1 = await placeOrder(srs, tokenB, 'klarna-bank', KLARNA_DATA);

      const eventsA = after(await storedEventsOf(srs, tokenA, [a1, a2]), point);
      const eventsB = await storedEventsOf(srs, tokenB, [b1, k1]);
      const byOrder = (refIds: string[]) => [...eventsA, ...eventsB].filter((event) => refIds.includes(event.refId)).sort((x, y) => (BigInt(x.sequence) < BigInt(y.sequence) ? -1 : 1));

      const expectations: Array<[string, Collected<OrderEventsData>, EventView[]]> = [
        ['SP B', ofB, byOrder([b1, k1])],
        ['IPSP TEST', ofTest, byOrder([a1, a2, b1])],
        ['IPSP KLARNA', ofKlarna, byOrder([k1])],
      ];
      for (const [name, subscription, events] of expectations) {
        expect(events.length).toBeGreaterThan(0);
        const received = (await settle(subscription, events.length)).map((item) => item.orderEvents);
        expect({ name, received }).toEqual({ name, received: events });
        expect(subscription.errors).toEqual([]);
      }
      expect(ofB.items.map((item) => item.orderEvents.refId)).not.toContain(a1);
      expect(ofKlarna.items.map((item) => item.orderEvents.refId).filter((refId) => refId !== k1)).toEqual([]);
    });

    it('answers orderStatusChanged on another client’s order with NOT_FOUND', async () => {
      const tokenA = await spToken(srs);
      const tokenB = await spToken(srs);
      const tokenTest = await srs.token(await srs.createClient('IPSP', { issuer: 'TEST' }));
      const tokenKlarna = await srs.token(await srs.createClient('IPSP', { issuer: 'KLARNA' }));
      const refId = await placeOrder(srs, tokenA);

      for (const token of [tokenB, tokenKlarna]) {
        const subscription = ws(srs, token).subscribe<StatusChanged>(STATUS_CHANGED, { refId });
        await subscription.waitForEnd();
        expect(subscription.items).toEqual([]);
        expect(subscription.errors.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
      }
      const unknown = ws(srs, tokenA).subscribe<StatusChanged>(STATUS_CHANGED, { refId: 'SRS-NOSUCHOR-DER00000' });
      await unknown.waitForEnd();
      expect(unknown.errors.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);

      // The issuer's partner may follow it.
      const ofTest = ws(srs, tokenTest).subscribe<StatusChanged>(STATUS_CHANGED, { refId });
      const [first] = await ofTest.waitFor(1);
      expect(first.orderStatusChanged).toMatchObject({ refId, status: 'INITIALIZED' });
    });
  });

  describe('authentication and scopes', () => {
    it('refuses a connection without a token or with a forged one', async () => {
      const token = await spToken(srs);
      const refId = await placeOrder(srs, token);
      for (const auth of [null, {}, 'forged-token', { Authorization: 'Basic Zm9vOmJhcg==' }]) {
        const connection = ws(srs, auth);
        const subscription = connection.subscribe<StatusChanged>(STATUS_CHANGED, { refId });
        await subscription.waitForEnd();
        expect({ auth, endedBy: subscription.endedBy, close: subscription.closeEvent?.code }).toEqual({ auth, endedBy: 'closed', close: 4403 });
        expect(connection.closes.map((close) => close.code)).toEqual([4403]);
        expect(connection.acknowledged()).toBe(false);
        expect(subscription.items).toEqual([]);
      }
    });

    it('answers FORBIDDEN to a token without orders:read, and sends nothing', async () => {
      const sp = await srs.createClient('SERVICE_PROVIDER');
      const token = await srs.token(sp);
      const verifyOnly = await srs.token(sp, 'verify');
      const refId = await placeOrder(srs, token);
      const connection = ws(srs, verifyOnly);
      const events = connection.subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: '0' } });
      const changes = connection.subscribe<StatusChanged>(STATUS_CHANGED, { refId });
      const overSse = sse<StatusChanged>(srs, verifyOnly, STATUS_CHANGED, { refId });
      await simulate(srs, token, refId);
      for (const subscription of [events, changes, overSse]) {
        await subscription.waitForEnd();
        expect(subscription.errors.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
        expect(subscription.items).toEqual([]);
      }
    });

    it('answers UNAUTHENTICATED over SSE without a token', async () => {
      const token = await spToken(srs);
      const refId = await placeOrder(srs, token);
      const subscription = sse<StatusChanged>(srs, null, STATUS_CHANGED, { refId });
      await subscription.waitForEnd();
      expect(subscription.errors.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      expect(subscription.items).toEqual([]);
    });
  });

  describe('over SSE', () => {
    it('sends the current status first, then the next ones', async () => {
      const token = await spToken(srs);
      const refId = await placeOrder(srs, token);
      const subscription = sse<{ orderStatusChanged: { status: string } }>(srs, token, 'subscription($r: ID!){ orderStatusChanged(refId: $r){ status } }', { r: refId });
      expect(await subscription.status).toBe(200);
      const [first] = await subscription.waitFor(1);
      expect(first).toEqual({ orderStatusChanged: { status: 'INITIALIZED' } });
      await simulate(srs, token, refId);
      const items = await settle(subscription, 5);
      expect(items.map((item) => item.orderStatusChanged.status)).toEqual(['INITIALIZED', 'IDENTIFICATION_DONE', 'DATA_READY', 'TERMINATED', 'TERMINATED']);
      expect(subscription.errors).toEqual([]);
      expect(subscription.ended).toBe(false);
      subscription.abort();
      await subscription.waitForEnd();
    });

    it('replays orderEvents after a sequence', async () => {
      const token = await spToken(srs);
      const refId = await placeOrder(srs, token);
      const stored = await storedEvents(srs, token, refId);
      const subscription = sse<OrderEventsData>(srs, token, ORDER_EVENTS, { filter: { afterSequence: String(BigInt(stored[0].sequence) - 1n) } });
      await simulate(srs, token, refId);
      const expected = await storedEvents(srs, token, refId);
      const received = (await settle(subscription, expected.length)).map((item) => item.orderEvents);
      expect(received).toEqual(expected);
    });
  });

  describe('one execution of an event shared by subscribers', () => {
    // The same text for every viewer: yoga parses it once, so all of them run the same document.
    const WITH_SUBJECT = `subscription SharedEvidence($filter: OrderEventFilter) {
      orderEvents(filter: $filter) { refId type order { evidence { issuer subject { surname } } } }
    }`;
    type EvidenceEvent = { orderEvents: { refId: string; type: string; order: { evidence: { issuer: string; subject: { surname: string } | null } | null } } };

    /** Places an order; answers its refId and the sequence a subscription going live after it starts from. */
    async function orderAndPoint(token: string): Promise<{ refId: string; point: string }> {
      const refId = await placeOrder(srs, token);
      return { refId, point: String(lastSequence(await storedEvents(srs, token, refId))) };
    }

    it('shows the personal data of an event only to the order’s service provider, not to the partner subscribed to the same operation', async () => {
      const provider = await srs.createClient('SERVICE_PROVIDER');
      const [providerToken, otherProviderToken] = [await srs.token(provider), await srs.token(provider)];
      const partnerToken = await srs.token(await srs.createClient('IPSP', { issuer: 'TEST' }));
      const { refId, point } = await orderAndPoint(providerToken);
      const filter = { types: ['EVIDENCE_IMPORTED'], afterSequence: point };
      // Interleaved, so that whichever viewer runs the shared execution first, the other one follows.
      const subscriptions = [providerToken, partnerToken, otherProviderToken, partnerToken].map((token) => ws(srs, token).subscribe<EvidenceEvent>(WITH_SUBJECT, { filter }));
      // A moment for the streams to be live: then the event reaches them from the feed, as one object.
      await sleep(300);
      await simulate(srs, providerToken, refId);

      const [ofProvider, ofPartner, ofProviderAgain, ofPartnerAgain] = await Promise.all(subscriptions.map(async (subscription) => (await settle(subscription, 1))[0].orderEvents));
      expect(ofProvider.refId).toBe(refId);
      expect(ofProvider.order.evidence!.subject!.surname.length).toBeGreaterThan(0);
      expect(ofProviderAgain).toEqual(ofProvider);
      expect(ofPartner).toEqual({ ...ofProvider, order: { evidence: { issuer: 'TEST', subject: null } } });
      expect(ofPartnerAgain).toEqual(ofPartner);
      for (const subscription of subscriptions) expect({ items: subscription.items.length, errors: subscription.errors }).toEqual({ items: 1, errors: [] });
    });

    it('gives subscribers of different selections, and of one selection with different variables, their own shapes of the same event', async () => {
      const token = await spToken(srs);
      const { refId, point } = await orderAndPoint(token);
      const filter = { refIds: [refId], afterSequence: point };
      const brief = 'subscription SharedBrief($filter: OrderEventFilter) { orderEvents(filter: $filter) { sequence status } }';
      const wide = 'subscription SharedWide($filter: OrderEventFilter) { orderEvents(filter: $filter) { refId type status previousStatus } }';
      const optional = 'subscription SharedOptional($filter: OrderEventFilter, $withActor: Boolean!) { orderEvents(filter: $filter) { status actor @include(if: $withActor) } }';
      const connection = ws(srs, token);
      type Shape = { orderEvents: Record<string, string | null> };
      const subscriptions = {
        brief: connection.subscribe<Shape>(brief, { filter }),
        wide: connection.subscribe<Shape>(wide, { filter }),
        withActor: connection.subscribe<Shape>(optional, { filter, withActor: true }),
        withoutActor: connection.subscribe<Shape>(optional, { filter, withActor: false }),
        briefAgain: ws(srs, token).subscribe<Shape>(brief, { filter }),
      };
      await sleep(300);
      await simulate(srs, token, refId);

      const stored = after(await storedEvents(srs, token, refId), BigInt(point));
      expect(stored.map((event) => event.status)).toEqual(['IDENTIFICATION_DONE', 'DATA_READY', 'TERMINATED', 'TERMINATED']);
      const received = Object.fromEntries(
        await Promise.all(Object.entries(subscriptions).map(async ([name, subscription]) => [name, (await settle(subscription, 4)).map((item) => item.orderEvents)] as const)),
      );
      expect(received.brief).toEqual(stored.map(({ sequence, status }) => ({ sequence, status })));
      expect(received.briefAgain).toEqual(received.brief);
      expect(received.wide).toEqual(stored.map(({ refId: ref, type, status, previousStatus }) => ({ refId: ref, type, status, previousStatus })));
      expect(received.withActor.map((event) => Object.keys(event))).toEqual(Array(4).fill(['status', 'actor']));
      expect(received.withoutActor).toEqual(stored.map(({ status }) => ({ status })));
      for (const subscription of Object.values(subscriptions)) expect(subscription.errors).toEqual([]);
    });
  });

  describe('identical live subscriptions of one token over graphql-ws', () => {
    it('get from one shared stream what each would get from its own; the metric counts each; one leaving ends none of the others', async () => {
      const token = await spToken(srs);
      await expect.poll(() => openSubscriptions(srs), { timeout: 5_000 }).toBe(0);
      const first = ws(srs, token).subscribe<OrderEventsData>(ORDER_EVENTS);
      const probes = await placeUntilLive(srs, token, first);
      const before = lastSequence(await storedEventsOf(srs, token, probes));
      // One on a connection of its own, one next to the first's on another connection.
      const second = ws(srs, token).subscribe<OrderEventsData>(ORDER_EVENTS);
      const shared = ws(srs, token);
      const third = shared.subscribe<OrderEventsData>(ORDER_EVENTS);
      const private_ = shared.subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: String(before) } });
      await expect.poll(() => openSubscriptions(srs), { timeout: 5_000 }).toBe(4);

      const refId = await placeOrder(srs, token);
      await simulate(srs, token, refId);
      const events = await storedEvents(srs, token, refId);
      const expectedLater = after(await storedEventsOf(srs, token, [...probes, refId]), before);
      for (const subscription of [second, third]) expect((await settle(subscription, events.length)).map((item) => item.orderEvents)).toEqual(events);
      expect((await settle(private_, expectedLater.length)).map((item) => item.orderEvents)).toEqual(expectedLater);
      expect((await settle(first, probes.length)).map((item) => item.orderEvents).filter((event) => event.refId === refId)).toEqual(events);

      // The subscription whose stream the others share leaves: theirs goes on.
      first.dispose();
      await expect.poll(() => openSubscriptions(srs), { timeout: 5_000 }).toBe(3);
      const next = await placeOrder(srs, token);
      const nextEvents = await storedEvents(srs, token, next);
      for (const subscription of [second, third]) {
        expect((await settle(subscription, events.length + nextEvents.length)).map((item) => item.orderEvents).slice(events.length)).toEqual(nextEvents);
        expect(subscription.errors).toEqual([]);
        expect(subscription.ended).toBe(false);
      }
      second.dispose();
      third.dispose();
      private_.dispose();
      await expect.poll(() => openSubscriptions(srs), { timeout: 5_000 }).toBe(0);
    });
  });

  describe('unsubscribing', () => {
    it('releases the server side: many subscribe/unsubscribe cycles leave no open subscription (per /metrics) and no hang', async () => {
      const token = await spToken(srs);
      const refId = await placeOrder(srs, token);
      await expect.poll(() => openSubscriptions(srs), { timeout: 5_000 }).toBe(0);

      // Disposing a subscription on a connection that stays open.
      const connection = ws(srs, token);
      for (let cycle = 0; cycle < 20; cycle++) {
        const subscription = connection.subscribe<StatusChanged>(STATUS_CHANGED, { refId });
        await subscription.waitFor(1);
        const stream = connection.subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: String(BigInt((await subscription.waitFor(1))[0].orderStatusChanged.sequence) - 1n) } });
        await stream.waitFor(1);
        expect(await openSubscriptions(srs)).toBe(2);
        subscription.dispose();
        stream.dispose();
        await expect.poll(() => openSubscriptions(srs), { timeout: 5_000 }).toBe(0);
      }
      // Closing whole connections.
      for (let cycle = 0; cycle < 20; cycle++) {
        const other = connectWs(srs, token);
        const subscription = other.subscribe<StatusChanged>(STATUS_CHANGED, { refId });
        await subscription.waitFor(1);
        await other.dispose();
      }
      await expect.poll(() => openSubscriptions(srs), { timeout: 5_000 }).toBe(0);
      // Aborting SSE requests.
      for (let cycle = 0; cycle < 10; cycle++) {
        const subscription = subscribeSse<StatusChanged>(srs, token, STATUS_CHANGED, { refId });
        await subscription.waitFor(1);
        subscription.abort();
      }
      await expect.poll(() => openSubscriptions(srs), { timeout: 5_000 }).toBe(0);

      // Still answering, and a new subscription works.
      const viewer = await Promise.race([srs.graphql(Viewer, { token }), sleep(5_000).then(() => 'timeout' as const)]);
      expect(viewer).not.toBe('timeout');
      const fresh = connection.subscribe<StatusChanged>(STATUS_CHANGED, { refId });
      await fresh.waitFor(1);
      await simulate(srs, token, refId);
      expect((await settle(fresh, 5)).map((item) => item.orderStatusChanged.status)).toEqual(['INITIALIZED', 'IDENTIFICATION_DONE', 'DATA_READY', 'TERMINATED', 'TERMINATED']);
    });
  });
});

describe('revocation ends subscriptions', () => {
  let srs: TestService;
  beforeAll(async () => {
    srs = await startTestService({ env: { SUBSCRIPTION_TOKEN_CHECK_SECONDS: '0.3' } });
  });
  afterAll(() => srs?.stop());

  it('ends graphql-ws and SSE subscriptions of a revoked token with UNAUTHENTICATED, and only those', async () => {
    const sp = await srs.createClient('SERVICE_PROVIDER');
    const [revoked, kept] = [await srs.token(sp), await srs.token(sp)];
    const refId = await placeOrder(srs, kept);

    const connection = ws(srs, revoked);
    const changes = connection.subscribe<StatusChanged>(STATUS_CHANGED, { refId });
    const events = connection.subscribe<OrderEventsData>(ORDER_EVENTS);
    const overSse = sse<StatusChanged>(srs, revoked, STATUS_CHANGED, { refId });
    const control = ws(srs, kept).subscribe<StatusChanged>(STATUS_CHANGED, { refId });
    const idle = ws(srs, revoked, { lazy: false });
    await Promise.all([changes.waitFor(1), overSse.waitFor(1), control.waitFor(1)]);
    expect(idle.acknowledged()).toBe(true);
    await sleep(700);
    expect([changes.ended, events.ended, overSse.ended]).toEqual([false, false, false]);

    expect(await revokeToken(srs, sp, revoked)).toBe(200);
    for (const subscription of [changes, events, overSse]) {
      await subscription.waitForEnd(3_000);
      expect(subscription.errors.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    }
    // Observed: graphql-ws sends an `error` message, SSE a `next` with the error, then `complete`.
    expect(changes.endedBy).toBe('error');
    expect(events.endedBy).toBe('error');

    await simulate(srs, kept, refId);
    await settle(control, 5);
    expect(control.ended).toBe(false);
    expect(changes.items).toHaveLength(1);
    expect(overSse.items).toHaveLength(1);
    expect(events.items).toEqual([]);

    // And the revoked token cannot subscribe again: not on a connection opened before the
    // revocation (an UNAUTHENTICATED error for that operation), not on a new one (4403).
    const onIdle = idle.subscribe<StatusChanged>(STATUS_CHANGED, { refId });
    await onIdle.waitForEnd();
    expect(onIdle.endedBy).toBe('error');
    expect(onIdle.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
    expect(onIdle.items).toEqual([]);
    const again = ws(srs, revoked).subscribe<StatusChanged>(STATUS_CHANGED, { refId });
    await again.waitForEnd();
    expect(again.closeEvent?.code).toBe(4403);
  });
});

describe('expiry ends subscriptions', () => {
  let srs: TestService;
  beforeAll(async () => {
    srs = await startTestService({ env: { ACCESS_TOKEN_TTL_SECONDS: '2' } });
  });
  afterAll(() => srs?.stop());

  it('ends graphql-ws and SSE subscriptions when the token expires', async () => {
    const token = await spToken(srs);
    const refId = await placeOrder(srs, token);
    const connection = ws(srs, token);
    const changes = connection.subscribe<StatusChanged>(STATUS_CHANGED, { refId });
    const events = connection.subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: '0' } });
    const overSse = sse<StatusChanged>(srs, token, STATUS_CHANGED, { refId });
    await Promise.all([changes.waitFor(1), events.waitFor(2), overSse.waitFor(1)]);
    for (const subscription of [changes, events, overSse]) {
      await subscription.waitForEnd(5_000);
      expect(subscription.errors.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    }
  });
});

describe('a process with no subscriber', () => {
  let srs: TestService;
  beforeAll(async () => {
    srs = await startTestService();
  });
  afterAll(() => srs?.stop());

  // Without a subscriber the process does not read the event table, so its idea of "now" falls
  // behind; a new subscription must still start from the real now, and a replay from its point.
  it('starts a new live stream after the events committed while nobody listened, and replays them on request', async () => {
    const token = await spToken(srs);
    const before = await placeOrder(srs, token);
    const connection = ws(srs, token);
    const live = connection.subscribe<OrderEventsData>(ORDER_EVENTS, {});
    const replay = connection.subscribe<OrderEventsData>(ORDER_EVENTS, { filter: { afterSequence: '0' } });
    // The replay has both events of the earlier order: the subscriptions are running.
    await replay.waitFor(2);
    const after = await placeOrder(srs, token);
    await live.waitFor(2);
    await replay.waitFor(4);
    expect(live.items.map((item) => [item.orderEvents.refId, item.orderEvents.status])).toEqual([
      [after, 'CREATED'],
      [after, 'INITIALIZED'],
    ]);
    expect(replay.items.map((item) => item.orderEvents.refId)).toEqual([before, before, after, after]);
  });
});

describe('WebSocket keep-alive', () => {
  let srs: TestService;
  beforeAll(async () => {
    srs = await startTestService({ env: { WS_KEEPALIVE_SECONDS: '0.3' } });
  });
  afterAll(() => srs?.stop());

  /** A graphql-ws connection that has been acknowledged; `answersPings: false` never sends a pong. */
  async function acknowledgedSocket(token: string, answersPings: boolean) {
    const socket = new WebSocket(srs.url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws', { autoPong: answersPings });
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    let pings = 0;
    socket.on('ping', () => pings++);
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } }));
    await new Promise<void>((resolve) => socket.once('message', () => resolve()));
    return { socket, closed, pings: () => pings };
  }

  it('pings every connection and closes the one that stops answering, keeping the others', async () => {
    const token = await spToken(srs);
    const answering = await acknowledgedSocket(token, true);
    const silent = await acknowledgedSocket(token, false);
    // Pinged, unanswered, then terminated at its next turn (about 0.6 s); allow for a slow machine.
    const silentClose = await Promise.race([silent.closed, sleep(10_000).then(() => 'still open')]);
    expect(silentClose).toBe(1006);
    expect(silent.pings()).toBeGreaterThanOrEqual(1);
    // The answering connection has been pinged at least as often and is still usable.
    await sleep(700);
    expect(answering.socket.readyState).toBe(WebSocket.OPEN);
    expect(answering.pings()).toBeGreaterThanOrEqual(2);
    const pong = new Promise((resolve) => answering.socket.once('message', (data) => resolve(JSON.parse(String(data)))));
    answering.socket.send(JSON.stringify({ type: 'ping' }));
    expect(await pong).toEqual({ type: 'pong' });
    answering.socket.close();
  });
});
