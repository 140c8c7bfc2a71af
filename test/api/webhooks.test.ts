// Webhooks through the public surface: endpoints managed over GraphQL, events pushed to real
// local receivers (node:http), checked with the standardwebhooks reference package.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { backend, methodGlobalId, placeOrderBrief, startTestService, type TestService } from '../kit.js';
import { loadConfig } from '../../src/config.js';
import { openDatabaseAdapter } from '../../src/db/adapter.js';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { createDataProtection } from '../../src/crypto/data-protection.js';
import { drainWebhookOutbox } from '../../src/webhooks/worker.js';

const CREATE = `mutation WebhookCreate($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { endpoint { id url enabled eventTypes description } secret userErrors { code field message } }
}`;
const UPDATE = `mutation WebhookUpdate($input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(input: $input) { endpoint { id url enabled eventTypes } userErrors { code field message } }
}`;
const ROTATE = `mutation WebhookRotate($input: RotateWebhookSecretInput!) {
  rotateWebhookSecret(input: $input) { endpoint { id } secret userErrors { code field message } }
}`;
const DELETE = `mutation WebhookDelete($input: DeleteWebhookEndpointInput!) {
  deleteWebhookEndpoint(input: $input) { endpoint { id } userErrors { code field message } }
}`;
const REDELIVER = `mutation WebhookRedeliver($input: RedeliverWebhooksInput!) {
  redeliverWebhooks(input: $input) { queued userErrors { code field message } }
}`;
const ENDPOINTS = `query WebhookEndpoints($status: WebhookDeliveryStatus, $first: Int) {
  webhookEndpoints {
    id url enabled
    deliveries(status: $status, first: $first) {
      totalCount
      pageInfo { hasNextPage }
      edges { node { id messageId eventType refId status attempts lastResponseStatus lastError nextAttemptAt deliveredAt createdAt } }
    }
  }
}`;
const NODE = `query WebhookNode($id: ID!) { node(id: $id) { id } }`;
const SIMULATE = `mutation WebhookSimulate($input: SimulateIdentificationInput!) {
  simulateIdentification(input: $input) { order { status } userErrors { code } }
}`;
const ORDER_EVENTS = `query WebhookOrderEvents($refId: ID!) { order(refId: $refId) { events { id sequence type } } }`;

interface Delivery {
  id: string;
  messageId: string;
  eventType: string;
  refId: string;
  status: 'PENDING' | 'DELIVERED' | 'FAILED';
  attempts: number;
  lastResponseStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
}
interface EndpointView {
  id: string;
  url: string;
  enabled: boolean;
  deliveries: { totalCount: number; pageInfo: { hasNextPage: boolean }; edges: Array<{ node: Delivery }> };
}
interface UserErrors {
  userErrors: Array<{ code: string; field: string[] | null; message: string }>;
}

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  status: number;
}

/** A receiver: answers with `respond`'s status (and headers), remembers every request. */
async function startReceiver(respond: (request: { id: string; attempt: number; body: string }) => number | { status: number; headers?: Record<string, string> } = () => 200) {
  const received: Received[] = [];
  const attemptsById = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const id = String(request.headers['webhook-id']);
      const attempt = (attemptsById.get(id) ?? 0) + 1;
      attemptsById.set(id, attempt);
      const answer = respond({ id, attempt, body });
      const { status, headers } = typeof answer === 'number' ? { status: answer, headers: {} } : answer;
      received.push({ headers: request.headers, body, status });
      response.writeHead(status, headers);
      response.end(status >= 300 ? 'boom' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return {
    url,
    received,
    delivered: () => received.filter((item) => item.status >= 200 && item.status < 300),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(50);
  }
}

const bodyOf = (item: Received) => JSON.parse(item.body) as { type: string; timestamp: string; data: { refId: string; status: string; previousStatus: string | null; reason: string | null; sequence: string; externalId: string | null } };

describe('webhooks', () => {
  let srs: TestService;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    srs = await startTestService({
      env: { WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: '1', WEBHOOK_RETRY_SCHEDULE: '0,0.3,0.3', WEBHOOK_POLL_SECONDS: '0.5', WEBHOOK_SECRET_OVERLAP_SECONDS: '3' },
    });
  });
  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await srs?.stop();
  });

  async function receiver(respond?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
    const started = await startReceiver(respond);
    receivers.push(started);
    return started;
  }

  async function serviceProvider() {
    return srs.token(await srs.createClient('SERVICE_PROVIDER'));
  }

  async function createEndpoint(token: string, input: { url: string; eventTypes?: string[]; description?: string }) {
    const response = await srs.graphql<{ createWebhookEndpoint: UserErrors & { endpoint: { id: string; url: string }; secret: string } }, unknown>(CREATE, { variables: { input }, token });
    expect(response.errors).toBeUndefined();
    expect(response.data!.createWebhookEndpoint.userErrors).toEqual([]);
    return response.data!.createWebhookEndpoint;
  }

  async function endpoints(token: string, status?: string): Promise<EndpointView[]> {
    const response = await srs.graphql<{ webhookEndpoints: EndpointView[] }, unknown>(ENDPOINTS, { variables: { status, first: 100 }, token });
    expect(response.errors).toBeUndefined();
    return response.data!.webhookEndpoints;
  }

  /** The endpoint's log once it shows `count` deliveries DELIVERED (a receiver's 200 is recorded a moment later). */
  const deliveredLog = (token: string, count: number) =>
    until(`${count} deliveries logged as delivered`, async () => {
      const views = await endpoints(token, 'DELIVERED');
      return views[0].deliveries.totalCount >= count && views;
    });

  const placeOrder = (token: string, extra: Record<string, unknown> = {}) => placeOrderBrief(srs, token, { methodId: methodGlobalId('test-video'), disabledSmsAlerts: true, ...extra });

  it('signs every event as a Standard Webhook, with the order’s handles and no personal data', async () => {
    const token = await serviceProvider();
    const hooks = await receiver();
    const { secret, endpoint } = await createEndpoint(token, { url: hooks.url, description: 'backend' });
    expect(secret).toMatch(/^whsec_/);
    const order = await placeOrder(token, {
      externalId: 'invoice-7',
      initialData: { givenNames: 'Maxima', surname: 'Mustermann', mobileNumber: '+41791234567', dateOfBirth: '1980-01-02' },
    });
    const [first] = await until('the INITIALIZED event', () => hooks.delivered().some((item) => bodyOf(item).data.status === 'INITIALIZED') && hooks.delivered());
    for (const item of hooks.received) {
      // The reference library accepts it: headers, timestamp tolerance and signature.
      expect(new Webhook(secret).verify(item.body, item.headers as Record<string, string>)).toEqual(JSON.parse(item.body));
      expect(item.body).not.toMatch(/Maxima|Mustermann|41791234567|1980/);
      expect(item.headers['content-type']).toBe('application/json');
    }
    const bodies = hooks.delivered().map(bodyOf);
    expect(bodies.at(-1)).toEqual({
      type: 'order.status_changed',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: { refId: order.refId, status: 'INITIALIZED', previousStatus: 'CREATED', reason: null, sequence: expect.stringMatching(/^\d+$/), externalId: 'invoice-7' },
    });
    const events = await srs.graphql<{ order: { events: Array<{ id: string; sequence: string }> } }, unknown>(ORDER_EVENTS, { variables: { refId: order.refId }, token });
    expect(bodies.map((body) => body.data.sequence)).toEqual(events.data!.order.events.map((event) => event.sequence));

    const [view] = await endpoints(token);
    expect(view.id).toBe(endpoint.id);
    expect(view.deliveries.totalCount).toBe(bodies.length);
    const logged = view.deliveries.edges.map((edge) => edge.node);
    expect(logged.map((delivery) => delivery.messageId).sort()).toEqual(hooks.received.map((item) => String(item.headers['webhook-id'])).sort());
    expect(logged.find((delivery) => delivery.messageId === first.headers['webhook-id'])).toMatchObject({
      status: 'DELIVERED',
      attempts: 1,
      lastResponseStatus: 200,
      lastError: null,
      nextAttemptAt: null,
      eventType: 'STATUS_CHANGED',
      refId: order.refId,
      deliveredAt: expect.any(String),
    });

    const metrics = await (await fetch(`${srs.url}/metrics`)).text();
    expect(metrics).toMatch(/^srs_webhook_backlog \d+$/m);
    expect(metrics).toMatch(/^srs_webhook_attempts_total\{outcome="delivered"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^srs_webhook_attempt_duration_seconds_count\{outcome="delivered"\} [1-9]\d*$/m);
  });

  it('gives each endpoint its own webhook-id for the same event', async () => {
    const token = await serviceProvider();
    const [one, two] = [await receiver(), await receiver()];
    await createEndpoint(token, { url: one.url });
    await createEndpoint(token, { url: two.url });
    const order = await placeOrder(token);
    const initialized = (hooks: Receiver) => until('the INITIALIZED event', () => hooks.delivered().find((item) => bodyOf(item).data.status === 'INITIALIZED'));
    const [atOne, atTwo] = [await initialized(one), await initialized(two)];
    expect(bodyOf(atOne).data).toMatchObject({ refId: order.refId, sequence: bodyOf(atTwo).data.sequence });
    expect(String(atOne.headers['webhook-id'])).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(atOne.headers['webhook-id']).not.toBe(atTwo.headers['webhook-id']);
  });

  it('retries a failing receiver on the schedule: three attempts, one webhook-id, and the next event waits', async () => {
    const token = await serviceProvider();
    const hooks = await receiver(({ attempt }) => (attempt <= 2 ? 500 : 200));
    const { secret } = await createEndpoint(token, { url: hooks.url, eventTypes: ['STATUS_CHANGED'] });
    const order = await placeOrder(token);
    await until('both events delivered', () => hooks.delivered().length === 2);
    const ids = [...new Set(hooks.received.map((item) => String(item.headers['webhook-id'])))];
    expect(ids).toHaveLength(2);
    // Every attempt of the first event, then every attempt of the second: never interleaved.
    expect(hooks.received.map((item) => [item.headers['webhook-id'], item.status])).toEqual([
      [ids[0], 500],
      [ids[0], 500],
      [ids[0], 200],
      [ids[1], 500],
      [ids[1], 500],
      [ids[1], 200],
    ]);
    for (const item of hooks.received) expect(() => new Webhook(secret).verify(item.body, item.headers as Record<string, string>)).not.toThrow();
    const [view] = await deliveredLog(token, 2);
    expect(view.deliveries.edges.map((edge) => [edge.node.refId, edge.node.attempts, edge.node.lastError])).toEqual([
      [order.refId, 3, null],
      [order.refId, 3, null],
    ]);
  });

  it('fails a delivery for good once the schedule is spent, and delivers it again on request', async () => {
    const token = await serviceProvider();
    let answer = 500;
    const hooks = await receiver(() => answer);
    const { endpoint } = await createEndpoint(token, { url: hooks.url, eventTypes: ['STATUS_CHANGED'] });
    const since = new Date().toISOString();
    await placeOrder(token);
    const failedOnes = await until('both deliveries failed', async () => {
      const [view] = await endpoints(token, 'FAILED');
      return view.deliveries.totalCount === 2 && view.deliveries.edges.map((edge) => edge.node);
    });
    for (const delivery of failedOnes) {
      expect(delivery).toMatchObject({ attempts: 3, lastResponseStatus: 500, lastError: 'HTTP 500: boom', nextAttemptAt: null, deliveredAt: null });
    }
    expect(hooks.received).toHaveLength(6);

    answer = 200;
    const redelivered = await srs.graphql<{ redeliverWebhooks: UserErrors & { queued: number } }, unknown>(REDELIVER, { variables: { input: { endpointId: endpoint.id, failedSince: since } }, token });
    expect(redelivered.data!.redeliverWebhooks).toEqual({ queued: 2, userErrors: [] });
    await until('both delivered', () => hooks.delivered().length === 2);
    expect(hooks.delivered().map((item) => item.headers['webhook-id']).sort()).toEqual(failedOnes.map((delivery) => delivery.messageId).sort());
    const [view] = await deliveredLog(token, 2);
    expect(view.deliveries.edges.map((edge) => edge.node.attempts)).toEqual([1, 1]);

    // A delivered one can be sent again by its id; the same webhook-id, so a receiver can tell.
    const again = await srs.graphql<{ redeliverWebhooks: UserErrors & { queued: number } }, unknown>(REDELIVER, {
      variables: { input: { endpointId: endpoint.id, deliveryIds: [view.deliveries.edges[0].node.id] } },
      token,
    });
    expect(again.data!.redeliverWebhooks.queued).toBe(1);
    await until('the repeat', () => hooks.delivered().length === 3);
    expect(hooks.delivered()[2].headers['webhook-id']).toBe(view.deliveries.edges[0].node.messageId);
    const wrongId = await srs.graphql<{ redeliverWebhooks: UserErrors }, unknown>(REDELIVER, { variables: { input: { endpointId: endpoint.id, deliveryIds: [endpoint.id] } }, token });
    expect(wrongId.data!.redeliverWebhooks.userErrors).toEqual([{ code: 'NOT_FOUND', field: ['input', 'deliveryIds', '0'], message: expect.any(String) }]);
  });

  it('signs with both secrets during a rotation, then with the new one only', async () => {
    const token = await serviceProvider();
    const hooks = await receiver();
    const { endpoint, secret: oldSecret } = await createEndpoint(token, { url: hooks.url, eventTypes: ['STATUS_CHANGED'] });
    const rotated = await srs.graphql<{ rotateWebhookSecret: UserErrors & { secret: string; endpoint: { id: string } } }, unknown>(ROTATE, { variables: { input: { id: endpoint.id } }, token });
    expect(rotated.data!.rotateWebhookSecret.userErrors).toEqual([]);
    const newSecret = rotated.data!.rotateWebhookSecret.secret;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    const rotatedAt = Date.now();
    await placeOrder(token);
    await until('the events', () => hooks.delivered().length === 2);
    for (const item of hooks.received) {
      expect(String(item.headers['webhook-signature']).split(' ')).toHaveLength(2);
      expect(() => new Webhook(oldSecret).verify(item.body, item.headers as Record<string, string>)).not.toThrow();
      expect(() => new Webhook(newSecret).verify(item.body, item.headers as Record<string, string>)).not.toThrow();
    }
    // The service runs with a 3 s overlap (WEBHOOK_SECRET_OVERLAP_SECONDS) instead of 24 h.
    await sleep(Math.max(0, rotatedAt + 3200 - Date.now()));
    await placeOrder(token);
    await until('the later events', () => hooks.delivered().length === 4);
    for (const item of hooks.received.slice(2)) {
      expect(String(item.headers['webhook-signature']).split(' ')).toHaveLength(1);
      expect(() => new Webhook(newSecret).verify(item.body, item.headers as Record<string, string>)).not.toThrow();
      expect(() => new Webhook(oldSecret).verify(item.body, item.headers as Record<string, string>)).toThrow();
    }
    // The real window: 24 h by default.
    const stored = await srs.service.prisma.webhookEndpoint.findFirstOrThrow({ where: { url: hooks.url } });
    expect(stored.previousSecretExpiresAt!.getTime() - rotatedAt).toBeLessThan(4000);
  });

  it('disables an endpoint that answers 410 Gone, and queues nothing for it until enabled again', async () => {
    const token = await serviceProvider();
    let answer = 410;
    const hooks = await receiver(() => answer);
    const { endpoint } = await createEndpoint(token, { url: hooks.url, eventTypes: ['STATUS_CHANGED'] });
    await placeOrder(token);
    const [view] = await until('the endpoint disabled', async () => {
      const views = await endpoints(token);
      return !views[0].enabled && views;
    });
    expect(hooks.received).toHaveLength(1);
    const [gone, ...waiting] = [...view.deliveries.edges].reverse().map((edge) => edge.node);
    expect(gone).toMatchObject({ status: 'FAILED', lastResponseStatus: 410, attempts: 1, messageId: hooks.received[0].headers['webhook-id'] });
    // The order's later event, if it was written before the 410 came back, waits.
    expect(waiting.every((delivery) => delivery.status === 'PENDING')).toBe(true);
    await placeOrder(token);
    await sleep(700);
    expect((await endpoints(token))[0].deliveries.totalCount).toBe(view.deliveries.totalCount);
    expect(hooks.received).toHaveLength(1);

    answer = 200;
    const enabled = await srs.graphql<{ updateWebhookEndpoint: UserErrors & { endpoint: { enabled: boolean } } }, unknown>(UPDATE, { variables: { input: { id: endpoint.id, enabled: true } }, token });
    expect(enabled.data!.updateWebhookEndpoint).toMatchObject({ endpoint: { enabled: true }, userErrors: [] });
    await placeOrder(token);
    await until('the waiting and the new deliveries', () => hooks.delivered().length === waiting.length + 2);
  });

  it('honours Retry-After on 429', async () => {
    const token = await serviceProvider();
    const hooks = await receiver(({ attempt }) => (attempt === 1 ? { status: 429, headers: { 'retry-after': '1' } } : 200));
    await createEndpoint(token, { url: hooks.url, eventTypes: ['STATUS_CHANGED'] });
    await placeOrder(token);
    const [view] = await deliveredLog(token, 1);
    const delivery = view.deliveries.edges.at(-1)!.node;
    expect(delivery.attempts).toBe(2);
    // The schedule's next delay is 0.3 s; the receiver asked for 1 s.
    expect(new Date(delivery.deliveredAt!).getTime() - new Date((delivery as unknown as { createdAt: string }).createdAt).getTime()).toBeGreaterThanOrEqual(1000);
  });

  it('delivers the events of each order in sequence order while many orders change at once', async () => {
    const token = await serviceProvider();
    let requestNumber = 0;
    // Every third request fails once; answers take a little while, so attempts overlap.
    const hooks = await receiver(({ attempt }) => (attempt === 1 && ++requestNumber % 3 === 0 ? 503 : 200));
    await createEndpoint(token, { url: hooks.url });
    const orders = await Promise.all(Array.from({ length: 6 }, () => placeOrder(token)));
    await Promise.all(
      orders.map(async ({ refId }) => {
        const response = await srs.graphql<{ simulateIdentification: UserErrors }, unknown>(SIMULATE, { variables: { input: { refId, outcome: 'SUCCESS' } }, token });
        expect(response.errors).toBeUndefined();
      }),
    );
    const expected = new Map<string, string[]>();
    for (const { refId } of orders) {
      const events = await srs.graphql<{ order: { events: Array<{ sequence: string }> } }, unknown>(ORDER_EVENTS, { variables: { refId }, token });
      expected.set(refId, events.data!.order.events.map((event) => event.sequence));
    }
    const total = [...expected.values()].reduce((sum, list) => sum + list.length, 0);
    await until('every event delivered', () => hooks.delivered().length >= total, 40_000);
    expect(hooks.delivered()).toHaveLength(total);
    for (const [refId, sequences] of expected) {
      // Every attempt for the order, in arrival order: the sequence never goes back.
      const attempts = hooks.received.map(bodyOf).filter((body) => body.data.refId === refId).map((body) => BigInt(body.data.sequence));
      expect(attempts.every((sequence, index) => index === 0 || sequence >= attempts[index - 1]), `${refId}: ${attempts.join(',')}`).toBe(true);
      expect(hooks.delivered().map(bodyOf).filter((body) => body.data.refId === refId).map((body) => body.data.sequence)).toEqual(sequences);
    }
    expect(hooks.received.length).toBeGreaterThan(total);
  });

  it.runIf(backend === 'postgres')('sends each attempt once while several workers claim deliveries at once', async () => {
    const token = await serviceProvider();
    const hooks = await receiver(() => 200);
    await createEndpoint(token, { url: hooks.url });
    const config = loadConfig(srs.env);
    const dataProtection = createDataProtection(config.dataKeys!);
    // Three more claimers on their own connections, beside the service's own worker: as other processes would.
    const workers = await Promise.all(
      [1, 2, 3].map(async () => {
        const database = await openDatabaseAdapter({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
        return { database, prisma: new PrismaClient({ adapter: database.adapter }) };
      }),
    );
    let running = true;
    const loops = workers.map(async ({ prisma }) => {
      while (running) {
        await drainWebhookOutbox({ prisma, dataProtection, config: config.webhooks, metrics: { observeAttempt() {} } });
        await sleep(5);
      }
    });
    try {
      const orders = await Promise.all(Array.from({ length: 8 }, () => placeOrder(token)));
      await Promise.all(orders.map(({ refId }) => srs.graphql(SIMULATE, { variables: { input: { refId, outcome: 'SUCCESS' } }, token })));
      let total = 0;
      for (const { refId } of orders) {
        const events = await srs.graphql<{ order: { events: Array<{ sequence: string }> } }, unknown>(ORDER_EVENTS, { variables: { refId }, token });
        total += events.data!.order.events.length;
      }
      await until('every event delivered', () => hooks.received.length >= total, 40_000);
      await sleep(500);
    } finally {
      running = false;
      await Promise.all(loops);
      await Promise.all(workers.map(async ({ prisma, database }) => (await prisma.$disconnect(), await database.close())));
    }
    const ids = hooks.received.map((item) => String(item.headers['webhook-id']));
    expect(new Set(ids).size).toBe(ids.length);
    const byOrder = new Map<string, bigint[]>();
    for (const body of hooks.received.map(bodyOf)) byOrder.set(body.data.refId, [...(byOrder.get(body.data.refId) ?? []), BigInt(body.data.sequence)]);
    for (const sequences of byOrder.values()) expect(sequences).toEqual([...sequences].sort((a, b) => (a < b ? -1 : 1)));
  });

  it('keeps each service provider to its own endpoints and its own orders’ events', async () => {
    const [tokenA, tokenB] = [await serviceProvider(), await serviceProvider()];
    const [hooksA, hooksB] = [await receiver(), await receiver()];
    const { endpoint: endpointA } = await createEndpoint(tokenA, { url: hooksA.url });
    const { endpoint: endpointB } = await createEndpoint(tokenB, { url: hooksB.url });
    const order = await placeOrder(tokenA);
    await until('A’s events', () => hooksA.delivered().length >= 2);
    await sleep(500);
    expect(hooksB.received).toEqual([]);
    expect(hooksA.received.every((item) => bodyOf(item).data.refId === order.refId)).toBe(true);

    expect((await endpoints(tokenB)).map((view) => view.id)).toEqual([endpointB.id]);
    const notFound = [{ code: 'NOT_FOUND', field: ['input', 'id'], message: expect.any(String) }];
    const update = await srs.graphql<{ updateWebhookEndpoint: UserErrors }, unknown>(UPDATE, { variables: { input: { id: endpointA.id, url: hooksB.url } }, token: tokenB });
    expect(update.data!.updateWebhookEndpoint.userErrors).toEqual(notFound);
    const rotate = await srs.graphql<{ rotateWebhookSecret: UserErrors & { secret: string | null } }, unknown>(ROTATE, { variables: { input: { id: endpointA.id } }, token: tokenB });
    expect(rotate.data!.rotateWebhookSecret).toEqual({ endpoint: null, secret: null, userErrors: notFound });
    const remove = await srs.graphql<{ deleteWebhookEndpoint: UserErrors }, unknown>(DELETE, { variables: { input: { id: endpointA.id } }, token: tokenB });
    expect(remove.data!.deleteWebhookEndpoint.userErrors).toEqual(notFound);
    const redeliver = await srs.graphql<{ redeliverWebhooks: UserErrors }, unknown>(REDELIVER, { variables: { input: { endpointId: endpointA.id } }, token: tokenB });
    expect(redeliver.data!.redeliverWebhooks.userErrors).toEqual([{ code: 'NOT_FOUND', field: ['input', 'endpointId'], message: expect.any(String) }]);
    const node = await srs.graphql<{ node: unknown }, unknown>(NODE, { variables: { id: endpointA.id }, token: tokenB });
    expect(node.data!.node).toBeNull();
    expect((await srs.graphql<{ node: { id: string } }, unknown>(NODE, { variables: { id: endpointA.id }, token: tokenA })).data!.node).toEqual({ id: endpointA.id });
    const garbage = await srs.graphql<{ deleteWebhookEndpoint: UserErrors }, unknown>(DELETE, { variables: { input: { id: 'not-an-id' } }, token: tokenA });
    expect(garbage.data!.deleteWebhookEndpoint.userErrors).toEqual(notFound);

    const admin = await srs.token(await srs.createClient('ADMIN'));
    const all = (await endpoints(admin)).map((view) => view.id);
    expect(all).toEqual(expect.arrayContaining([endpointA.id, endpointB.id]));
    const ipsp = await srs.token(await srs.createClient('IPSP', { issuer: 'TEST' }));
    const forbidden = await srs.graphql(ENDPOINTS, { token: ipsp });
    expect(forbidden.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    // Deleting ends the deliveries: nothing more reaches A's receiver.
    const deleted = await srs.graphql<{ deleteWebhookEndpoint: UserErrors & { endpoint: { id: string } } }, unknown>(DELETE, { variables: { input: { id: endpointA.id } }, token: tokenA });
    expect(deleted.data!.deleteWebhookEndpoint).toEqual({ endpoint: { id: endpointA.id }, userErrors: [] });
    const before = hooksA.received.length;
    await placeOrder(tokenA);
    await sleep(700);
    expect(hooksA.received).toHaveLength(before);
    expect(await endpoints(tokenA)).toEqual([]);
  });

  it('refuses bad input with a code and the field', async () => {
    const token = await serviceProvider();
    const tooLong = await srs.graphql<{ createWebhookEndpoint: UserErrors }, unknown>(CREATE, { variables: { input: { url: 'ftp://127.0.0.1/x', description: 'x'.repeat(501) } }, token });
    expect(tooLong.data!.createWebhookEndpoint.userErrors.map((error) => [error.code, error.field])).toEqual([
      ['INVALID_URL', ['input', 'url']],
      ['INVALID_INPUT', ['input', 'description']],
    ]);
  });
});

describe('webhook destinations with the guard on', () => {
  let srs: TestService;
  beforeAll(async () => {
    srs = await startTestService();
  });
  afterAll(async () => {
    await srs?.stop();
  });

  it.each([
    'http://127.0.0.1:4000/hooks',
    'http://localhost:4000/hooks',
    'http://[::1]/hooks',
    'http://[::ffff:127.0.0.1]/hooks',
    'http://0.0.0.0/hooks',
    'http://2130706433/hooks',
    'http://10.0.0.8/hooks',
    'http://172.20.1.1/hooks',
    'http://192.168.0.10/hooks',
    'http://[fd12::1]/hooks',
    'http://169.254.169.254/latest/meta-data/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'file:///etc/passwd',
    'gopher://example.com/',
    'https://user:secret@example.com/hooks',
    'not a url',
  ])('refuses %s as INVALID_URL', async (url) => {
    const token = await srs.token(await srs.createClient('SERVICE_PROVIDER'));
    const response = await srs.graphql<{ createWebhookEndpoint: UserErrors & { endpoint: unknown; secret: unknown } }, unknown>(CREATE, { variables: { input: { url } }, token });
    expect(response.errors).toBeUndefined();
    expect(response.data!.createWebhookEndpoint).toEqual({ endpoint: null, secret: null, userErrors: [{ code: 'INVALID_URL', field: ['input', 'url'], message: expect.any(String) }] });
  });

  it('checks the destination again at every attempt, and sends nothing to a refused one', async () => {
    const hooks = await startReceiver();
    try {
      const client = await srs.createClient('SERVICE_PROVIDER');
      const token = await srs.token(client);
      // As if it had passed at creation (a name that resolved elsewhere then, or the guard off).
      await srs.service.prisma.webhookEndpoint.create({ data: { clientId: client.clientId, url: hooks.url, secretSealed: 'never opened', eventTypes: ['STATUS_CHANGED'] } });
      await placeOrderBrief(srs, token, { methodId: methodGlobalId('test-video'), disabledSmsAlerts: true });
      // An attempt's outcome, not only its claim (a claim counts the attempt before it is made).
      const delivery = await until('an attempt', () =>
        srs.service.prisma.webhookDelivery.findFirst({ where: { endpoint: { clientId: client.clientId }, attempts: { gt: 0 }, OR: [{ lastError: { not: null } }, { status: { not: 'PENDING' } }] } }),
      );
      expect(delivery!.lastError).toMatch(/^Refused: 127\.0\.0\.1 is a loopback/);
      expect(delivery!.lastResponseStatus).toBeNull();
      await sleep(300);
      expect(hooks.received).toEqual([]);
    } finally {
      await hooks.close();
    }
  });

  it('checks a changed URL too', async () => {
    const token = await srs.token(await srs.createClient('SERVICE_PROVIDER'));
    // A public literal address: created, never called (this client places no order).
    const created = await srs.graphql<{ createWebhookEndpoint: UserErrors & { endpoint: { id: string } } }, unknown>(CREATE, { variables: { input: { url: 'https://93.184.216.34/hooks' } }, token });
    expect(created.data!.createWebhookEndpoint.userErrors).toEqual([]);
    const id = created.data!.createWebhookEndpoint.endpoint.id;
    const changed = await srs.graphql<{ updateWebhookEndpoint: UserErrors }, unknown>(UPDATE, { variables: { input: { id, url: 'http://192.168.1.1/' } }, token });
    expect(changed.data!.updateWebhookEndpoint.userErrors).toEqual([{ code: 'INVALID_URL', field: ['input', 'url'], message: expect.any(String) }]);
    await srs.graphql(DELETE, { variables: { input: { id } }, token });
  });
});
