// Orders through HTTP GraphQL only: placeOrder validation and idempotency, the TEST partner's
// simulated outcomes, cancelOrder, the order queries with pagination and filters, tenant
// isolation between service providers, and the timeout job. The database is touched directly
// only to set up the timeout fixture.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import type { InitialIdentityDataInput, OrderFilter, PlaceOrderInput, SimulatedOutcome } from '../generated/graphql.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, methodGlobalId, startTestService, type TestService } from '../kit.js';

graphql(`
  fragment OrderFields on Order {
    id
    refId
    ipspOrderId
    status
    statusReason
    targetUrl
    targetUrlExpiresAt
    externalId
    language
    disabledSmsAlerts
    createdAt
    updatedAt
    method { id issuer name }
    events { id sequence type refId status previousStatus reason actor at }
    evidence { ...EvidenceCoreFields }
  }
`);

const PlaceOrderMutation = graphql(`
  mutation OrdersPlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      order { ...OrderFields }
      userErrors { code field message }
    }
  }
`);

const CancelOrderMutation = graphql(`
  mutation OrdersCancelOrder($input: CancelOrderInput!) {
    cancelOrder(input: $input) {
      order { ...OrderFields }
      userErrors { code field message }
    }
  }
`);

const SimulateMutation = graphql(`
  mutation OrdersSimulate($input: SimulateIdentificationInput!) {
    simulateIdentification(input: $input) {
      order { ...OrderFields }
      userErrors { code field message }
    }
  }
`);

const OrderQuery = graphql(`
  query OrdersOrder($refId: ID!) {
    order(refId: $refId) { ...OrderFields }
  }
`);

const NodeQuery = graphql(`
  query OrdersNode($id: ID!) {
    node(id: $id) {
      id
      __typename
      ... on Order { refId status }
      ... on OrderEvent { refId status }
    }
  }
`);

const OrdersQuery = graphql(`
  query OrdersList($filter: OrderFilter, $first: Int, $after: String) {
    orders(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { refId status externalId createdAt method { issuer } } }
    }
  }
`);

type Order = NonNullable<Awaited<ReturnType<typeof orderOf>>>;

let srs: TestService;

const KLARNA_DATA: InitialIdentityDataInput = {
  givenNames: 'Erika',
  surname: 'Muster',
  dateOfBirth: '1990-01-01',
  mobileNumber: '+41 79 123 45 67',
  country: 'CH',
};

// ---- helpers -------------------------------------------------------------------------------

async function spToken(): Promise<string> {
  return srs.token(await srs.createClient('SERVICE_PROVIDER'));
}

async function place(token: string, input: PlaceOrderInput) {
  const response = await srs.graphql(PlaceOrderMutation, { variables: { input }, token });
  expect(response.errors).toBeUndefined();
  expect(response.status).toBe(200);
  return response.data!.placeOrder;
}

async function placeOk(token: string, input: PlaceOrderInput) {
  const payload = await place(token, input);
  expect(payload.userErrors).toEqual([]);
  expect(payload.order).not.toBeNull();
  return payload.order!;
}

const placeTest = (token: string, extra: Partial<PlaceOrderInput> = {}) => placeOk(token, { methodId: methodGlobalId('test-video'), ...extra });

async function orderOf(token: string, refId: string) {
  const response = await srs.graphql(OrderQuery, { variables: { refId }, token });
  expect(response.errors).toBeUndefined();
  return response.data!.order;
}

async function list(token: string, variables: { filter?: OrderFilter | null; first?: number | null; after?: string | null } = {}) {
  const response = await srs.graphql(OrdersQuery, { variables, token });
  expect(response.errors).toBeUndefined();
  return response.data!.orders;
}

const totalCount = async (token: string) => (await list(token)).totalCount;

/** The order is refused with exactly this one error, and nothing is stored. */
async function expectRefused(token: string, input: PlaceOrderInput, code: string, field: string[]) {
  const before = await totalCount(token);
  const payload = await place(token, input);
  expect(payload.order).toBeNull();
  expect(payload.userErrors).toHaveLength(1);
  expect(payload.userErrors[0]).toMatchObject({ code, field });
  expect(payload.userErrors[0].message.length).toBeGreaterThan(0);
  expect(await totalCount(token)).toBe(before);
  return payload.userErrors[0];
}

async function simulate(token: string, refId: string, outcome: SimulatedOutcome, reason?: string) {
  const response = await srs.graphql(SimulateMutation, { variables: { input: { refId, outcome, reason } }, token });
  expect(response.errors).toBeUndefined();
  return response.data!.simulateIdentification;
}

async function simulateOk(token: string, refId: string, outcome: SimulatedOutcome, reason?: string) {
  const payload = await simulate(token, refId, outcome, reason);
  expect(payload.userErrors).toEqual([]);
  return payload.order!;
}

async function cancel(token: string, refId: string, reason?: string) {
  const response = await srs.graphql(CancelOrderMutation, { variables: { input: { refId, reason } }, token });
  expect(response.errors).toBeUndefined();
  return response.data!.cancelOrder;
}

const statusesOf = (order: Pick<Order, 'events'>) => order.events.map((event) => [event.type, event.status]);

/** The order's events without the T&C ones (TERMS_SENT, ...) that follow a successful import. */
const orderEvents = (order: Pick<Order, 'events'>) => order.events.filter((event) => !event.type.startsWith('TERMS_'));

function expectIncreasingSequences(order: Pick<Order, 'events'>) {
  const sequences = order.events.map((event) => BigInt(event.sequence));
  for (let i = 1; i < sequences.length; i++) expect(sequences[i] > sequences[i - 1]).toBe(true);
}

/** GET the target URL as the end user's browser would; the status code only. */
async function openTargetUrl(targetUrl: string): Promise<number> {
  const response = await fetch(targetUrl, { redirect: 'manual' });
  await response.arrayBuffer();
  return response.status;
}

const seconds = (from: string, to: string) => (new Date(to).getTime() - new Date(from).getTime()) / 1000;

beforeAll(async () => {
  srs = await startTestService();
});
afterAll(() => srs?.stop());

// ---- 1. validation -------------------------------------------------------------------------

describe('placeOrder validation', () => {
  let token: string;
  beforeAll(async () => {
    token = await spToken();
  });

  it('accepts a complete KLARNA order (the baseline the refusals below differ from)', async () => {
    const order = await placeOk(token, { methodId: methodGlobalId('klarna-bank'), initialData: KLARNA_DATA, language: 'de' });
    expect(order.status).toBe('INITIALIZED');
    expect(order.method.issuer).toBe('KLARNA');
    expect(order.language).toBe('de');
  });

  it('KLARNA without surname: MISSING_MANDATORY_ATTRIBUTE', async () => {
    await expectRefused(
      token,
      { methodId: methodGlobalId('klarna-bank'), initialData: { ...KLARNA_DATA, surname: null } },
      'MISSING_MANDATORY_ATTRIBUTE',
      ['input', 'initialData', 'surname'],
    );
    // Blank counts as missing.
    await expectRefused(
      token,
      { methodId: methodGlobalId('klarna-bank'), initialData: { ...KLARNA_DATA, surname: '   ' } },
      'MISSING_MANDATORY_ATTRIBUTE',
      ['input', 'initialData', 'surname'],
    );
  });

  it('IDENTITY.TM with an email: ATTRIBUTE_NOT_ACCEPTED', async () => {
    await expectRefused(
      token,
      { methodId: methodGlobalId('identity-tm-video'), initialData: { givenNames: 'Erika', surname: 'Muster', email: 'erika@example.com' } },
      'ATTRIBUTE_NOT_ACCEPTED',
      ['input', 'initialData', 'email'],
    );
  });

  it('a date of birth that does not exist: INVALID_INPUT', async () => {
    await expectRefused(
      token,
      { methodId: methodGlobalId('klarna-bank'), initialData: { ...KLARNA_DATA, dateOfBirth: '1990-02-30' } },
      'INVALID_INPUT',
      ['input', 'initialData', 'dateOfBirth'],
    );
  });

  it('a malformed or non-mobile number: INVALID_INPUT', async () => {
    for (const mobileNumber of ['12345', 'call me', '+41 44 668 18 00' /* a Zurich landline */]) {
      await expectRefused(
        token,
        { methodId: methodGlobalId('klarna-bank'), initialData: { ...KLARNA_DATA, mobileNumber } },
        'INVALID_INPUT',
        ['input', 'initialData', 'mobileNumber'],
      );
    }
  });

  it('a language the method does not offer: INVALID_INPUT on input.language', async () => {
    await expectRefused(
      token,
      { methodId: methodGlobalId('klarna-bank'), initialData: KLARNA_DATA, language: 'fr' },
      'INVALID_INPUT',
      ['input', 'language'],
    );
  });

  it('IDENTITY.TM surname with a title or punctuation: INVALID_INPUT', async () => {
    for (const surname of ['Dr. Muster', 'Dr Muster', 'Muster-Meier']) {
      await expectRefused(
        token,
        { methodId: methodGlobalId('identity-tm-video'), initialData: { givenNames: 'Erika', surname } },
        'INVALID_INPUT',
        ['input', 'initialData', 'surname'],
      );
    }
    // Umlauts and several words are a plain surname.
    const order = await placeOk(token, { methodId: methodGlobalId('identity-tm-video'), initialData: { givenNames: 'Erika', surname: 'von Müller' } });
    expect(order.status).toBe('INITIALIZED');
  });

  it('an unknown method id: METHOD_NOT_FOUND', async () => {
    for (const methodId of [methodGlobalId('no-such-method'), 'not-a-global-id', Buffer.from('Order:test-video').toString('base64')]) {
      await expectRefused(token, { methodId }, 'METHOD_NOT_FOUND', ['input', 'methodId']);
    }
  });

  it('a Swiss mobile number without country code is accepted with country CH, refused without', async () => {
    const order = await placeTest(token, { initialData: { mobileNumber: '079 123 45 67', country: 'CH' } });
    expect(order.status).toBe('INITIALIZED');
    await expectRefused(token, { methodId: methodGlobalId('test-video'), initialData: { mobileNumber: '079 123 45 67' } }, 'INVALID_INPUT', [
      'input',
      'initialData',
      'mobileNumber',
    ]);
  });

  it('a partner that cannot be reached or answers with an error: the order ends in ERROR with the reason and keeps no token', async () => {
    // The partners' API lives under INTERNAL_URL: a closed port, then a server answering 503.
    const failing = http.createServer((request, response) => {
      request.resume();
      response.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    const partners = [
      { internalUrl: `http://127.0.0.1:${await freePort()}`, reason: /^The partner could not be reached: .*ECONNREFUSED/ },
      { internalUrl: `http://127.0.0.1:${(failing.address() as AddressInfo).port}`, reason: /^The partner answered 503: down for maintenance$/ },
    ];
    try {
      for (const partner of partners) {
        const isolated = await startTestService({ env: { INTERNAL_URL: partner.internalUrl } });
        try {
          const isolatedToken = await isolated.token(await isolated.createClient('SERVICE_PROVIDER'));
          const response = await isolated.graphql(PlaceOrderMutation, { variables: { input: { methodId: methodGlobalId('test-video') } }, token: isolatedToken });
          expect(response.errors).toBeUndefined();
          const order = response.data!.placeOrder.order!;
          expect(order.status).toBe('ERROR');
          expect(order.statusReason).toMatch(partner.reason);
          expect(order.targetUrl).toBeNull();
          expect(order.events.map((event) => event.status)).toEqual(['CREATED', 'ERROR']);
          const stored = await isolated.service.prisma.order.findUniqueOrThrow({ where: { refId: order.refId } });
          expect(stored.orderToken).toBeNull();
        } finally {
          await isolated.stop();
        }
      }
    } finally {
      failing.close();
    }
  });

  it('the TEST method outside test mode: METHOD_UNAVAILABLE', async () => {
    const production = await startTestService({ testMode: false });
    try {
      const productionToken = await production.token(await production.createClient('SERVICE_PROVIDER'));
      const response = await production.graphql(PlaceOrderMutation, { variables: { input: { methodId: methodGlobalId('test-video') } }, token: productionToken });
      expect(response.errors).toBeUndefined();
      expect(response.data!.placeOrder.order).toBeNull();
      expect(response.data!.placeOrder.userErrors).toEqual([expect.objectContaining({ code: 'METHOD_UNAVAILABLE', field: ['input', 'methodId'] })]);
      const count = await production.graphql(OrdersQuery, { variables: {}, token: productionToken });
      expect(count.data!.orders.totalCount).toBe(0);
      // simulateIdentification does not exist for it either.
      const simulated = await production.graphql(SimulateMutation, { variables: { input: { refId: 'SRS-00000000-00000000', outcome: 'SUCCESS' } }, token: productionToken });
      expect(simulated.data!.simulateIdentification.userErrors[0].code).toBe('FORBIDDEN');
    } finally {
      await production.stop();
    }
  });
});

// ---- 2. a placed order -----------------------------------------------------------------------

describe('a placed order', () => {
  let token: string;
  beforeAll(async () => {
    token = await spToken();
  });

  it('counts the session from when the user opens the target URL, not from the partner checking the token while SRS opens the order', async () => {
    const order = await placeTest(token, { disabledSmsAlerts: true });
    const stored = () => srs.service.prisma.order.findUniqueOrThrow({ where: { refId: order.refId } });
    expect((await stored()).startedAt).toBeNull();
    const before = Date.now();
    expect(await openTargetUrl(order.targetUrl!)).toBe(200);
    const opened = await stored();
    expect(opened.startedAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(opened.startedAt!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    expect(opened.lastActivityAt!.getTime()).toBeGreaterThanOrEqual(opened.startedAt!.getTime());
  });

  it('TEST: INITIALIZED with reference id, IPSP order id, target URL valid one day, CREATED and INITIALIZED events', async () => {
    const before = Date.now();
    const order = await placeTest(token, { externalId: 'cust-42', language: 'DE', disabledSmsAlerts: true });
    expect(order.status).toBe('INITIALIZED');
    expect(order.statusReason).toBeNull();
    expect(order.refId).toMatch(/^SRS-[0-9A-Z]{8}-[0-9A-Z]{8}$/);
    expect(order.ipspOrderId).toEqual(expect.any(String));
    expect(order.ipspOrderId!.length).toBeGreaterThan(0);
    expect(order.targetUrl!.startsWith(`${srs.url}/ipsp/test/ident/`)).toBe(true);
    expect(order.externalId).toBe('cust-42');
    expect(order.language).toBe('de');
    expect(order.disabledSmsAlerts).toBe(true);
    expect(order.method).toEqual({ id: methodGlobalId('test-video'), issuer: 'TEST', name: 'video' });
    expect(order.evidence).toBeNull();

    const expiresIn = (new Date(order.targetUrlExpiresAt!).getTime() - before) / 1000;
    expect(expiresIn).toBeGreaterThan(86_400 - 60);
    expect(expiresIn).toBeLessThan(86_400 + 60);
    expect(seconds(order.createdAt, order.targetUrlExpiresAt!)).toBeCloseTo(86_400, 0);

    expect(order.events.map((event) => [event.type, event.status, event.previousStatus])).toEqual([
      ['STATUS_CHANGED', 'CREATED', null],
      ['STATUS_CHANGED', 'INITIALIZED', 'CREATED'],
    ]);
    expect(order.events.every((event) => event.refId === order.refId)).toBe(true);
    expectIncreasingSequences(order);

    // The target URL works for the end user.
    expect(await openTargetUrl(order.targetUrl!)).toBe(200);
  });

  it('defaults: no external id, no language, SMS alerts on', async () => {
    const order = await placeTest(token);
    expect(order.externalId).toBeNull();
    expect(order.language).toBeNull();
    expect(order.disabledSmsAlerts).toBe(false);
  });

  it('KLARNA: the long target URL comes back unchanged', async () => {
    const order = await placeOk(token, { methodId: methodGlobalId('klarna-bank'), initialData: KLARNA_DATA });
    expect(order.status).toBe('INITIALIZED');
    expect(order.targetUrl!.length).toBeGreaterThan(600);
    expect(order.targetUrl!.startsWith(`${srs.url}/ipsp/klarna/ident/`)).toBe(true);
    expect(seconds(order.createdAt, order.targetUrlExpiresAt!)).toBeCloseTo(3600, 0);
    const again = await orderOf(token, order.refId);
    expect(again!.targetUrl).toBe(order.targetUrl);
    expect(again!.ipspOrderId).toBe(order.ipspOrderId);
  });

  it('IDENTITY.TM: the target URL has no expiry', async () => {
    const order = await placeOk(token, { methodId: methodGlobalId('identity-tm-video') });
    expect(order.status).toBe('INITIALIZED');
    expect(order.targetUrlExpiresAt).toBeNull();
  });
});

// ---- 3. idempotency --------------------------------------------------------------------------

describe('placeOrder idempotency', () => {
  let token: string;
  beforeAll(async () => {
    token = await spToken();
  });

  it('the same key with the same input returns the first order', async () => {
    const before = await totalCount(token);
    const input = { methodId: methodGlobalId('test-video'), externalId: 'idem-1', idempotencyKey: 'key-same', initialData: { surname: 'Muster' } };
    const first = await placeOk(token, input);
    const second = await placeOk(token, input);
    expect(second.refId).toBe(first.refId);
    expect(second.id).toBe(first.id);
    expect(await totalCount(token)).toBe(before + 1);
    // A replay after the order moved on returns it as it is now.
    await cancel(token, first.refId, 'done with it');
    const third = await placeOk(token, input);
    expect(third.refId).toBe(first.refId);
    expect(third.status).toBe('CANCELED');
    expect(await totalCount(token)).toBe(before + 1);
  });

  it('the same key with different input: IDEMPOTENCY_CONFLICT, nothing stored', async () => {
    const first = await placeOk(token, { methodId: methodGlobalId('test-video'), externalId: 'idem-2', idempotencyKey: 'key-conflict' });
    const error = await expectRefused(
      token,
      { methodId: methodGlobalId('test-video'), externalId: 'idem-2-other', idempotencyKey: 'key-conflict' },
      'IDEMPOTENCY_CONFLICT',
      ['input', 'idempotencyKey'],
    );
    expect(error.message).toContain(first.refId);
    await expectRefused(
      token,
      { methodId: methodGlobalId('test-video'), externalId: 'idem-2', idempotencyKey: 'key-conflict', initialData: { surname: 'Other' } },
      'IDEMPOTENCY_CONFLICT',
      ['input', 'idempotencyKey'],
    );
  });

  it('ten concurrent requests with one key create exactly one order, and all get it opened', async () => {
    const before = await totalCount(token);
    const input = { methodId: methodGlobalId('test-video'), externalId: 'idem-race', idempotencyKey: 'key-race' };
    const answers = await Promise.all(Array.from({ length: 10 }, () => place(token, input)));
    for (const answer of answers) expect(answer.userErrors).toEqual([]);
    const refIds = new Set(answers.map((answer) => answer.order!.refId));
    expect(refIds.size).toBe(1);
    // A repeat that arrives while the first request is still opening the order at the partner
    // waits for it: it gets the opened order with its target URL, never the bare CREATED one.
    expect(answers.map((answer) => answer.order!.status)).toEqual(Array(10).fill('INITIALIZED'));
    expect(new Set(answers.map((answer) => answer.order!.targetUrl)).size).toBe(1);
    expect(answers[0].order!.targetUrl).toBeTruthy();
    expect(await totalCount(token)).toBe(before + 1);
    const [refId] = refIds;
    const stored = await orderOf(token, refId);
    expect(stored!.status).toBe('INITIALIZED');
    // One order, opened once at the partner.
    expect(stored!.events.filter((event) => event.status === 'INITIALIZED')).toHaveLength(1);
  });

  it('keys are per client: another service provider with the same key gets its own order', async () => {
    const input = { methodId: methodGlobalId('test-video'), idempotencyKey: 'key-shared' };
    const mine = await placeOk(token, input);
    const otherToken = await spToken();
    const theirs = await placeOk(otherToken, input);
    expect(theirs.refId).not.toBe(mine.refId);
    expect(await totalCount(otherToken)).toBe(1);
    expect((await placeOk(otherToken, input)).refId).toBe(theirs.refId);
  });
});

// ---- 4. simulated identifications ------------------------------------------------------------

describe('simulateIdentification', () => {
  let token: string;
  beforeAll(async () => {
    token = await spToken();
  });

  it('SUCCESS: TERMINATED with evidence from the initial data, valid one month', async () => {
    const placed = await placeTest(token, {
      initialData: { givenNames: 'Erika', surname: 'Muster', dateOfBirth: '1985-06-15', mobileNumber: '079 123 45 67', country: 'CH' },
    });
    const before = Date.now();
    const order = await simulateOk(token, placed.refId, 'SUCCESS');
    expect(order.status).toBe('TERMINATED');
    expect(order.refId).toBe(placed.refId);
    const evidence = order.evidence!;
    expect(evidence).not.toBeNull();
    expect(evidence.refId).toBe(placed.refId);
    // The Swiss number of the order, normalised to E.164.
    expect(evidence.mobileNumber).toBe('+41791234567');
    expect(evidence.issuer).toBe('TEST');
    expect(evidence.methodName).toBe('video');
    expect(evidence.status).toBe('ACTIVE');
    expect(evidence.capabilities).toEqual([
      { jurisdiction: 'EIDAS', loa: 'LOA4' },
      { jurisdiction: 'ZERTES', loa: 'LOA4' },
    ]);
    expect(evidence.subject).toEqual({ givenNames: 'Erika', surname: 'Muster', dateOfBirth: '1985-06-15', nationality: 'CH', placeOfBirth: null });
    expect(Math.abs(new Date(evidence.identifiedAt).getTime() - before)).toBeLessThan(60_000);
    const oneMonthLater = new Date(evidence.identifiedAt);
    oneMonthLater.setUTCMonth(oneMonthLater.getUTCMonth() + 1);
    const validDays = seconds(evidence.identifiedAt, evidence.validUntil) / 86_400;
    expect(validDays).toBeGreaterThanOrEqual(28);
    expect(validDays).toBeLessThanOrEqual(31);
    expect(Math.abs(new Date(evidence.validUntil).getTime() - oneMonthLater.getTime())).toBeLessThan(4 * 86_400_000);

    expect(statusesOf({ events: orderEvents(order) })).toEqual([
      ['STATUS_CHANGED', 'CREATED'],
      ['STATUS_CHANGED', 'INITIALIZED'],
      ['STATUS_CHANGED', 'IDENTIFICATION_DONE'],
      ['STATUS_CHANGED', 'DATA_READY'],
      ['STATUS_CHANGED', 'TERMINATED'],
      ['EVIDENCE_IMPORTED', 'TERMINATED'],
    ]);
    expectIncreasingSequences(order);

    // The same through order(refId); the target URL is closed.
    const fetched = await orderOf(token, placed.refId);
    expect(fetched!.status).toBe('TERMINATED');
    expect(fetched!.evidence!.id).toBe(evidence.id);
    expect([403, 410]).toContain(await openTargetUrl(placed.targetUrl!));

    // Nothing more to simulate.
    const again = await simulate(token, placed.refId, 'SUCCESS');
    expect(again.order).toBeNull();
    expect(again.userErrors).toEqual([expect.objectContaining({ code: 'ILLEGAL_TRANSITION' })]);
    const after = await orderOf(token, placed.refId);
    expect(orderEvents(after!)).toHaveLength(orderEvents(fetched!).length);
  });

  it('NEGATIVELY_CONDUCTED keeps the reason verbatim', async () => {
    const placed = await placeTest(token);
    const reason = 'Dokument ungültig:  Ablaufdatum 2019-01-01 <überschritten> & "nicht lesbar" – Fall #4711';
    const order = await simulateOk(token, placed.refId, 'NEGATIVELY_CONDUCTED', reason);
    expect(order.status).toBe('NEGATIVELY_CONDUCTED');
    expect(order.statusReason).toBe(reason);
    expect(order.evidence).toBeNull();
    expect(order.events.at(-1)).toMatchObject({ type: 'STATUS_CHANGED', status: 'NEGATIVELY_CONDUCTED', previousStatus: 'INITIALIZED', reason });
    expect((await orderOf(token, placed.refId))!.statusReason).toBe(reason);
  });

  it.each([
    ['ERROR', 'Camera not usable'],
    ['TIMEOUT', 'Nobody came'],
    ['CANCELED', 'The user gave up'],
  ] as const)('%s ends the order with its reason', async (outcome, reason) => {
    const placed = await placeTest(token);
    const order = await simulateOk(token, placed.refId, outcome, reason);
    expect(order.status).toBe(outcome);
    expect(order.statusReason).toBe(reason);
    expect(order.evidence).toBeNull();
    expect(statusesOf(order).at(-1)).toEqual(['STATUS_CHANGED', outcome]);
    const again = await simulate(token, placed.refId, 'SUCCESS');
    expect(again.userErrors[0].code).toBe('ILLEGAL_TRANSITION');
    expect((await orderOf(token, placed.refId))!.status).toBe(outcome);
  });

  it('ABORTED is not final: a later SUCCESS still terminates the order', async () => {
    const placed = await placeTest(token, { initialData: { mobileNumber: '+41 78 765 43 21' } });
    const aborted = await simulateOk(token, placed.refId, 'ABORTED', 'User left');
    expect(aborted.status).toBe('ABORTED');
    expect(aborted.statusReason).toBe('User left');
    // The user may come back with the same target URL.
    expect(await openTargetUrl(placed.targetUrl!)).toBe(200);
    const done = await simulateOk(token, placed.refId, 'SUCCESS');
    expect(done.status).toBe('TERMINATED');
    expect(done.statusReason).toBeNull();
    expect(done.evidence!.mobileNumber).toBe('+41787654321');
    expect(statusesOf({ events: orderEvents(done) })).toEqual([
      ['STATUS_CHANGED', 'CREATED'],
      ['STATUS_CHANGED', 'INITIALIZED'],
      ['STATUS_CHANGED', 'ABORTED'],
      ['STATUS_CHANGED', 'IDENTIFICATION_DONE'],
      ['STATUS_CHANGED', 'DATA_READY'],
      ['STATUS_CHANGED', 'TERMINATED'],
      ['EVIDENCE_IMPORTED', 'TERMINATED'],
    ]);
  });

  it('a non-TEST order: FORBIDDEN, and the order is untouched', async () => {
    const placed = await placeOk(token, { methodId: methodGlobalId('identity-tm-video') });
    const payload = await simulate(token, placed.refId, 'SUCCESS');
    expect(payload.order).toBeNull();
    expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
    const after = await orderOf(token, placed.refId);
    expect(after!.status).toBe('INITIALIZED');
    expect(after!.events).toHaveLength(2);
  });

  it('an unknown order: ORDER_NOT_FOUND', async () => {
    const payload = await simulate(token, 'SRS-00000000-00000000', 'SUCCESS');
    expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'ORDER_NOT_FOUND', field: ['input', 'refId'] })]);
  });
});

// ---- 5. cancelOrder --------------------------------------------------------------------------

describe('cancelOrder', () => {
  let token: string;
  beforeAll(async () => {
    token = await spToken();
  });

  it('cancels an open order with the reason; the target URL stops working', async () => {
    const placed = await placeTest(token);
    expect(await openTargetUrl(placed.targetUrl!)).toBe(200);
    const payload = await cancel(token, placed.refId, 'The customer chose another method');
    expect(payload.userErrors).toEqual([]);
    expect(payload.order!.status).toBe('CANCELED');
    expect(payload.order!.statusReason).toBe('The customer chose another method');
    expect(payload.order!.events.at(-1)).toMatchObject({ status: 'CANCELED', previousStatus: 'INITIALIZED', reason: 'The customer chose another method' });
    expect((await orderOf(token, placed.refId))!.status).toBe('CANCELED');
    expect([403, 410]).toContain(await openTargetUrl(placed.targetUrl!));
  });

  it('cancels without a reason, with a default one', async () => {
    const placed = await placeOk(token, { methodId: methodGlobalId('identity-tm-video') });
    const payload = await cancel(token, placed.refId);
    expect(payload.order!.status).toBe('CANCELED');
    expect(payload.order!.statusReason).toEqual(expect.any(String));
    expect([403, 410]).toContain(await openTargetUrl(placed.targetUrl!));
  });

  it('cancelling twice: ILLEGAL_TRANSITION, nothing changes', async () => {
    const placed = await placeTest(token);
    await cancel(token, placed.refId, 'first');
    const second = await cancel(token, placed.refId, 'second');
    expect(second.order).toBeNull();
    expect(second.userErrors).toEqual([expect.objectContaining({ code: 'ILLEGAL_TRANSITION', field: ['input', 'refId'] })]);
    const after = await orderOf(token, placed.refId);
    expect(after!.statusReason).toBe('first');
    expect(after!.events.filter((event) => event.status === 'CANCELED')).toHaveLength(1);
  });

  it('a finished order cannot be cancelled', async () => {
    const placed = await placeTest(token);
    await simulateOk(token, placed.refId, 'SUCCESS');
    const payload = await cancel(token, placed.refId);
    expect(payload.userErrors[0].code).toBe('ILLEGAL_TRANSITION');
    expect((await orderOf(token, placed.refId))!.status).toBe('TERMINATED');
  });

  it("another service provider's order: ORDER_NOT_FOUND, and it stays open", async () => {
    const placed = await placeTest(token);
    const payload = await cancel(await spToken(), placed.refId, 'not mine');
    expect(payload.order).toBeNull();
    expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'ORDER_NOT_FOUND', field: ['input', 'refId'] })]);
    const after = await orderOf(token, placed.refId);
    expect(after!.status).toBe('INITIALIZED');
    expect(await openTargetUrl(placed.targetUrl!)).toBe(200);
  });

  it('an unknown order: ORDER_NOT_FOUND', async () => {
    const payload = await cancel(token, 'SRS-ZZZZZZZZ-ZZZZZZZZ');
    expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'ORDER_NOT_FOUND' })]);
  });
});

// ---- 6. queries ------------------------------------------------------------------------------

describe('order, node and orders', () => {
  let token: string;
  const placed: Order[] = [];

  beforeAll(async () => {
    token = await spToken();
    for (let i = 0; i < 5; i++) {
      placed.push(await placeTest(token, { externalId: `page-${i}` }));
      await sleep(5); // distinct creation instants
    }
  });

  it('order(refId) and node(id) find the order; unknown ones are null', async () => {
    const [first] = placed;
    const byRef = await orderOf(token, first.refId);
    expect(byRef).toEqual(first);
    const node = await srs.graphql(NodeQuery, { variables: { id: first.id }, token });
    expect(node.errors).toBeUndefined();
    expect(node.data!.node).toEqual({ id: first.id, __typename: 'Order', refId: first.refId, status: 'INITIALIZED' });
    const event = await srs.graphql(NodeQuery, { variables: { id: first.events[0].id }, token });
    expect(event.data!.node).toEqual({ id: first.events[0].id, __typename: 'OrderEvent', refId: first.refId, status: 'CREATED' });
    expect(await orderOf(token, 'SRS-00000000-00000000')).toBeNull();
    const missing = await srs.graphql(NodeQuery, { variables: { id: Buffer.from('Order:00000000-0000-0000-0000-000000000000').toString('base64') }, token });
    expect(missing.errors).toBeUndefined();
    expect(missing.data!.node).toBeNull();
  });

  it('pages through the orders, newest first', async () => {
    const expected = placed.map((order) => order.refId).reverse();
    const page1 = await list(token, { first: 2 });
    expect(page1.totalCount).toBe(5);
    expect(page1.edges.map((edge) => edge.node.refId)).toEqual(expected.slice(0, 2));
    expect(page1.pageInfo.hasNextPage).toBe(true);
    expect(page1.pageInfo.endCursor).toBe(page1.edges[1].cursor);

    const page2 = await list(token, { first: 2, after: page1.pageInfo.endCursor });
    expect(page2.totalCount).toBe(5);
    expect(page2.edges.map((edge) => edge.node.refId)).toEqual(expected.slice(2, 4));
    expect(page2.pageInfo.hasNextPage).toBe(true);

    const page3 = await list(token, { first: 2, after: page2.pageInfo.endCursor });
    expect(page3.edges.map((edge) => edge.node.refId)).toEqual(expected.slice(4));
    expect(page3.pageInfo.hasNextPage).toBe(false);

    const all = await list(token);
    expect(all.edges.map((edge) => edge.node.refId)).toEqual(expected);
    expect(all.pageInfo.hasNextPage).toBe(false);
  });

  it('filters by status, external id, method and creation time', async () => {
    const canceled = placed[1];
    await cancel(token, canceled.refId, 'filter test');
    const refIds = async (filter: OrderFilter) => {
      const page = await list(token, { filter });
      expect(page.edges).toHaveLength(page.totalCount);
      return page.edges.map((edge) => edge.node.refId);
    };
    const newestFirst = (...indexes: number[]) => indexes.map((i) => placed[i].refId);

    expect(await refIds({ statuses: ['CANCELED'] })).toEqual([canceled.refId]);
    expect(await refIds({ statuses: ['INITIALIZED'] })).toEqual(newestFirst(4, 3, 2, 0));
    expect(await refIds({ statuses: ['INITIALIZED', 'CANCELED'] })).toEqual(newestFirst(4, 3, 2, 1, 0));
    expect(await refIds({ statuses: ['TERMINATED'] })).toEqual([]);

    expect(await refIds({ externalId: 'page-3' })).toEqual(newestFirst(3));
    expect(await refIds({ externalId: 'page-' })).toEqual([]);

    expect(await refIds({ methodIds: [methodGlobalId('klarna-bank')] })).toEqual([]);
    const klarna = await placeOk(token, { methodId: methodGlobalId('klarna-bank'), initialData: KLARNA_DATA, externalId: 'page-k' });
    expect(await refIds({ methodIds: [methodGlobalId('klarna-bank')] })).toEqual([klarna.refId]);
    expect(await refIds({ methodIds: [methodGlobalId('test-video')] })).toEqual(newestFirst(4, 3, 2, 1, 0));
    expect(await refIds({ methodIds: [methodGlobalId('test-video'), methodGlobalId('klarna-bank')] })).toHaveLength(6);
    expect(await refIds({ methodIds: [methodGlobalId('no-such-method')] })).toEqual([]);

    expect(await refIds({ createdAfter: placed[3].createdAt })).toEqual([klarna.refId, ...newestFirst(4, 3)]);
    expect(await refIds({ createdAfter: placed[3].createdAt, methodIds: [methodGlobalId('test-video')] })).toEqual(newestFirst(4, 3));
    expect(await refIds({ createdBefore: placed[2].createdAt })).toEqual(newestFirst(1, 0));
    expect(await refIds({ createdAfter: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
    expect(await refIds({ statuses: ['INITIALIZED'], externalId: 'page-1' })).toEqual([]);

    // A filtered page counts the filtered orders only.
    const page = await list(token, { filter: { statuses: ['INITIALIZED'] }, first: 1 });
    expect(page.totalCount).toBe(5);
    expect(page.edges.map((edge) => edge.node.refId)).toEqual([klarna.refId]);
    expect(page.pageInfo.hasNextPage).toBe(true);
  });
});

// ---- 8. tenant isolation ---------------------------------------------------------------------

describe('tenant isolation between service providers', () => {
  it("service provider B never sees or touches A's order", async () => {
    const tokenA = await spToken();
    const tokenB = await spToken();
    const order = await placeTest(tokenA, { externalId: 'secret-of-a' });
    const done = await simulateOk(tokenA, order.refId, 'SUCCESS');

    expect(await orderOf(tokenB, order.refId)).toBeNull();
    for (const id of [order.id, order.events[0].id, done.evidence!.id]) {
      const node = await srs.graphql(NodeQuery, { variables: { id }, token: tokenB });
      expect(node.errors).toBeUndefined();
      expect(node.data!.node).toBeNull();
      // A can.
      const own = await srs.graphql(NodeQuery, { variables: { id }, token: tokenA });
      expect(own.data!.node).not.toBeNull();
    }
    const listB = await list(tokenB, { filter: { externalId: 'secret-of-a' } });
    expect(listB.totalCount).toBe(0);
    expect((await list(tokenB)).edges.map((edge) => edge.node.refId)).not.toContain(order.refId);
    expect((await list(tokenA)).edges.map((edge) => edge.node.refId)).toContain(order.refId);

    const open = await placeTest(tokenA);
    expect((await cancel(tokenB, open.refId)).userErrors[0].code).toBe('ORDER_NOT_FOUND');
    expect((await simulate(tokenB, open.refId, 'ERROR')).userErrors[0].code).toBe('ORDER_NOT_FOUND');
    expect((await orderOf(tokenA, open.refId))!.status).toBe('INITIALIZED');
  });
});

// ---- 9. timeouts -----------------------------------------------------------------------------

describe('the timeout job', () => {
  let timed: TestService;
  beforeAll(async () => {
    timed = await startTestService({ env: { TIMEOUT_SWEEP_SECONDS: '0.2' } });
  });
  afterAll(() => timed?.stop());

  it('moves an order whose target URL expired to TIMEOUT, once', async () => {
    const token = await timed.token(await timed.createClient('SERVICE_PROVIDER'));
    const placeIt = async () => {
      const response = await timed.graphql(PlaceOrderMutation, { variables: { input: { methodId: methodGlobalId('test-video') } }, token });
      expect(response.data!.placeOrder.userErrors).toEqual([]);
      return response.data!.placeOrder.order!;
    };
    const getIt = async (refId: string) => (await timed.graphql(OrderQuery, { variables: { refId }, token })).data!.order!;
    const expiring = await placeIt();
    const control = await placeIt();
    expect(expiring.status).toBe('INITIALIZED');

    // Fixture: the target URL expired a minute ago.
    await timed.service.prisma.order.update({ where: { refId: expiring.refId }, data: { targetUrlExpiresAt: new Date(Date.now() - 60_000) } });

    let order = await getIt(expiring.refId);
    for (let waited = 0; order.status !== 'TIMEOUT' && waited < 10_000; waited += 100) {
      await sleep(100);
      order = await getIt(expiring.refId);
    }
    expect(order.status).toBe('TIMEOUT');
    expect(order.statusReason).toMatch(/target URL/i);
    // Several more sweeps change nothing.
    await sleep(1000);
    order = await getIt(expiring.refId);
    expect(order.status).toBe('TIMEOUT');
    expect(order.events.filter((event) => event.status === 'TIMEOUT')).toEqual([
      expect.objectContaining({ type: 'STATUS_CHANGED', previousStatus: 'INITIALIZED', actor: 'system', reason: order.statusReason }),
    ]);
    expect([403, 410]).toContain(await openTargetUrl(expiring.targetUrl!));

    // An order with time left is left alone.
    expect((await getIt(control.refId)).status).toBe('INITIALIZED');
  });

  it('is not held up by many older orders that have nothing left to time out', async () => {
    const token = await timed.token(await timed.createClient('SERVICE_PROVIDER'));
    const place = async () => {
      const response = await timed.graphql(PlaceOrderMutation, { variables: { input: { methodId: methodGlobalId('test-video') } }, token });
      return response.data!.placeOrder.order!;
    };
    // Fixture: more finished identifications with expired URLs than the sweep takes at once
    // (200). They are older than the due order and none of them is due: a sweep that takes the
    // oldest candidates whatever they are would never reach the due one.
    const finished = (await place()).refId;
    const longAgo = new Date(Date.now() - 86_400_000);
    const template = await timed.service.prisma.order.update({ where: { refId: finished }, data: { status: 'DATA_READY', targetUrlExpiresAt: longAgo, createdAt: longAgo } });
    const { id: _id, refId: _refId, idempotencyKey: _key, ...columns } = template;
    await timed.service.prisma.order.createMany({
      data: Array.from({ length: 200 }, (_, i) => ({ ...columns, refId: `STUCK${String(i).padStart(5, '0')}`, status: 'DATA_READY' as const, targetUrlExpiresAt: longAgo, createdAt: longAgo, orderToken: null })),
    });
    const due = await place();
    await timed.service.prisma.order.update({ where: { refId: due.refId }, data: { targetUrlExpiresAt: new Date(Date.now() - 1000) } });

    await expect.poll(async () => (await timed.graphql(OrderQuery, { variables: { refId: due.refId }, token })).data!.order!.status, { timeout: 10_000 }).toBe('TIMEOUT');
    expect((await timed.graphql(OrderQuery, { variables: { refId: finished }, token })).data!.order!.status).toBe('DATA_READY');
  });
});
