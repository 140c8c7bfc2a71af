// The partner's side of an order through HTTP GraphQL: reportIdentificationStatus and
// importEvidence by an IPSP client of the order's issuer, what other issuers and service
// providers may do, and who sees the evidence's personal data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import type { ImportEvidenceInput, OrderStatus, ReportIdentificationStatusInput } from '../generated/graphql.js';
import { methodGlobalId, startTestService, type TestClient, type TestService } from '../kit.js';

graphql(`
  fragment IpspOrderFields on Order {
    id
    refId
    ipspOrderId
    status
    statusReason
    targetUrl
    events { type status previousStatus reason actor }
    evidence { ...EvidenceCoreFields }
  }
`);

const PlaceOrderMutation = graphql(`
  mutation IpspPlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      order { ...IpspOrderFields }
      userErrors { code field message }
    }
  }
`);

const ReportMutation = graphql(`
  mutation IpspReport($input: ReportIdentificationStatusInput!) {
    reportIdentificationStatus(input: $input) {
      order { ...IpspOrderFields }
      userErrors { code field message }
    }
  }
`);

const ImportMutation = graphql(`
  mutation IpspImport($input: ImportEvidenceInput!) {
    importEvidence(input: $input) {
      order { ...IpspOrderFields }
      evidence { id refId mobileNumber issuer validUntil identifiedAt subject { givenNames surname } terms { status channel } }
      userErrors { code field message }
    }
  }
`);

const OrderQuery = graphql(`
  query IpspOrder($refId: ID!) {
    order(refId: $refId) { ...IpspOrderFields }
  }
`);

const NodeQuery = graphql(`
  query IpspNode($id: ID!) {
    node(id: $id) {
      id
      ... on Order { refId }
      ... on Evidence { refId subject { surname } }
    }
  }
`);

const OrdersQuery = graphql(`
  query IpspOrders {
    orders(first: 100) {
      totalCount
      edges { node { refId method { issuer } } }
    }
  }
`);

let srs: TestService;
let spToken: string;
let ipsp: TestClient;
let ipspToken: string;
let klarnaIpspToken: string;

beforeAll(async () => {
  srs = await startTestService();
  spToken = await srs.token(await srs.createClient('SERVICE_PROVIDER'));
  ipsp = await srs.createClient('IPSP', { issuer: 'IDENTITY.TM' });
  ipspToken = await srs.token(ipsp);
  klarnaIpspToken = await srs.token(await srs.createClient('IPSP', { issuer: 'KLARNA' }));
});
afterAll(() => srs?.stop());

// ---- helpers -------------------------------------------------------------------------------

/** An IDENTITY.TM order placed by the service provider and opened by the built-in simulator. */
async function placeIdentityTm() {
  const response = await srs.graphql(PlaceOrderMutation, {
    variables: { input: { methodId: methodGlobalId('identity-tm-video'), initialData: { givenNames: 'Erika', surname: 'Muster', mobileNumber: '+41791234567' } } },
    token: spToken,
  });
  expect(response.errors).toBeUndefined();
  expect(response.data!.placeOrder.userErrors).toEqual([]);
  const order = response.data!.placeOrder.order!;
  expect(order.status).toBe('INITIALIZED');
  expect(order.ipspOrderId).toEqual(expect.any(String));
  return order;
}

async function report(token: string, input: ReportIdentificationStatusInput) {
  const response = await srs.graphql(ReportMutation, { variables: { input }, token });
  expect(response.errors).toBeUndefined();
  return response.data!.reportIdentificationStatus;
}

async function reportOk(refId: string, status: OrderStatus, reason?: string) {
  const payload = await report(ipspToken, { refId, status, reason });
  expect(payload.userErrors).toEqual([]);
  expect(payload.order!.status).toBe(status);
  return payload.order!;
}

async function importEvidence(token: string, input: ImportEvidenceInput) {
  const response = await srs.graphql(ImportMutation, { variables: { input }, token });
  expect(response.errors).toBeUndefined();
  return response.data!.importEvidence;
}

function evidenceInput(refId: string, overrides: Partial<ImportEvidenceInput> = {}): ImportEvidenceInput {
  return {
    refId,
    mobileNumber: '+41 79 123 45 67',
    subject: { givenNames: 'Erika Anna', surname: 'Muster', dateOfBirth: '1985-06-15', nationality: 'ch', placeOfBirth: 'Bern' },
    document: { type: 'ID_CARD', number: 'C1234567', issuingCountry: 'CH', validUntil: '2040-12-31' },
    identifiedAt: new Date(Date.now() - 60 * 60 * 1000).toISOString(),
    ...overrides,
  };
}

async function orderAs(token: string, refId: string) {
  const response = await srs.graphql(OrderQuery, { variables: { refId }, token });
  expect(response.errors).toBeUndefined();
  return response.data!.order;
}

const isoDay = (date: Date) => date.toISOString().slice(0, 10);

// ---- the happy path --------------------------------------------------------------------------

describe('an IPSP concludes its issuer’s order', () => {
  it('IDENTIFICATION_DONE, then importEvidence: TERMINATED, evidence valid 60 months', async () => {
    const placed = await placeIdentityTm();
    const done = await report(ipspToken, { refId: placed.refId, status: 'IDENTIFICATION_DONE', reason: 'Agent finished', ipspOrderId: placed.ipspOrderId });
    expect(done.userErrors).toEqual([]);
    expect(done.order!.status).toBe('IDENTIFICATION_DONE');
    expect(done.order!.statusReason).toBe('Agent finished');
    expect(done.order!.events.at(-1)).toEqual({ type: 'STATUS_CHANGED', status: 'IDENTIFICATION_DONE', previousStatus: 'INITIALIZED', reason: 'Agent finished', actor: ipsp.clientId });

    const input = evidenceInput(placed.refId);
    const imported = await importEvidence(ipspToken, input);
    expect(imported.userErrors).toEqual([]);
    expect(imported.order!.status).toBe('TERMINATED');
    const evidence = imported.evidence!;
    expect(evidence.refId).toBe(placed.refId);
    expect(evidence.mobileNumber).toBe('+41791234567');
    expect(evidence.issuer).toBe('IDENTITY.TM');
    expect(evidence.identifiedAt).toBe(input.identifiedAt);
    const expected = new Date(input.identifiedAt);
    expected.setUTCFullYear(expected.getUTCFullYear() + 5);
    expect(evidence.validUntil).toBe(expected.toISOString());
    // Personal data is the service provider's, not the partner's.
    expect(evidence.subject).toBeNull();
    expect(imported.order!.evidence!.subject).toBeNull();

    // T&C events (TERMS_SENT, ...) may follow the import; they are not this test's business.
    const orderEvents = imported.order!.events.filter((event) => !event.type.startsWith('TERMS_'));
    expect(orderEvents.map((event) => [event.type, event.status, event.actor])).toEqual([
      ['STATUS_CHANGED', 'CREATED', expect.any(String)],
      ['STATUS_CHANGED', 'INITIALIZED', 'system'],
      ['STATUS_CHANGED', 'IDENTIFICATION_DONE', ipsp.clientId],
      ['STATUS_CHANGED', 'TERMINATED', ipsp.clientId],
      ['EVIDENCE_IMPORTED', 'TERMINATED', ipsp.clientId],
    ]);

    // The service provider sees the order terminated, with the whole evidence.
    const seen = await orderAs(spToken, placed.refId);
    expect(seen!.status).toBe('TERMINATED');
    expect(seen!.evidence).toMatchObject({
      id: evidence.id,
      mobileNumber: '+41791234567',
      issuer: 'IDENTITY.TM',
      methodName: 'video',
      status: 'ACTIVE',
      validUntil: expected.toISOString(),
      capabilities: [
        { jurisdiction: 'EIDAS', loa: 'LOA4' },
        { jurisdiction: 'ZERTES', loa: 'LOA3' },
      ],
      subject: { givenNames: 'Erika Anna', surname: 'Muster', dateOfBirth: '1985-06-15', nationality: 'CH', placeOfBirth: 'Bern' },
    });
    // ... also through node(id); the IPSP gets the evidence without personal data.
    const spNode = await srs.graphql(NodeQuery, { variables: { id: evidence.id }, token: spToken });
    expect(spNode.data!.node).toEqual({ id: evidence.id, refId: placed.refId, subject: { surname: 'Muster' } });
    const ipspNode = await srs.graphql(NodeQuery, { variables: { id: evidence.id }, token: ipspToken });
    expect(ipspNode.data!.node).toEqual({ id: evidence.id, refId: placed.refId, subject: null });
    expect((await orderAs(ipspToken, placed.refId))!.evidence!.subject).toBeNull();

    // The order has ended: the target URL is refused.
    const page = await fetch(placed.targetUrl!);
    await page.arrayBuffer();
    expect([403, 410]).toContain(page.status);
  });

  it('DATA_READY before the import works too', async () => {
    const placed = await placeIdentityTm();
    await reportOk(placed.refId, 'IDENTIFICATION_DONE');
    await reportOk(placed.refId, 'DATA_READY');
    const imported = await importEvidence(ipspToken, evidenceInput(placed.refId));
    expect(imported.userErrors).toEqual([]);
    expect(imported.order!.status).toBe('TERMINATED');
  });

  it('an earlier document expiry caps the evidence validity', async () => {
    const placed = await placeIdentityTm();
    await reportOk(placed.refId, 'IDENTIFICATION_DONE');
    const documentEnd = new Date(Date.now() + 400 * 86_400_000);
    const input = evidenceInput(placed.refId, {
      document: { type: 'PASSPORT', number: 'X0001', issuingCountry: 'DE', validUntil: isoDay(documentEnd) },
    });
    const imported = await importEvidence(ipspToken, input);
    expect(imported.userErrors).toEqual([]);
    const validUntil = new Date(imported.evidence!.validUntil);
    // Within the document's last valid day, far before identifiedAt + 60 months.
    const dayStart = new Date(`${isoDay(documentEnd)}T00:00:00.000Z`);
    expect(validUntil.getTime()).toBeGreaterThanOrEqual(dayStart.getTime());
    expect(validUntil.getTime()).toBeLessThan(dayStart.getTime() + 86_400_000);
  });
});

// ---- refusals --------------------------------------------------------------------------------

describe('what an IPSP may not do', () => {
  it('importEvidence in INITIALIZED: ILLEGAL_TRANSITION, nothing changes', async () => {
    const placed = await placeIdentityTm();
    const payload = await importEvidence(ipspToken, evidenceInput(placed.refId));
    expect(payload.order).toBeNull();
    expect(payload.evidence).toBeNull();
    expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'ILLEGAL_TRANSITION', field: ['input', 'refId'] })]);
    const after = await orderAs(spToken, placed.refId);
    expect(after!.status).toBe('INITIALIZED');
    expect(after!.evidence).toBeNull();
    expect(after!.events).toHaveLength(placed.events.length);
  });

  it('reporting TERMINATED or CREATED: INVALID_INPUT on input.status', async () => {
    const placed = await placeIdentityTm();
    for (const status of ['TERMINATED', 'CREATED'] as const) {
      const payload = await report(ipspToken, { refId: placed.refId, status });
      expect(payload.order).toBeNull();
      expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'status'] })]);
    }
    const after = await orderAs(spToken, placed.refId);
    expect(after!.status).toBe('INITIALIZED');
    expect(after!.events).toHaveLength(placed.events.length);
  });

  it('an illegal transition: ILLEGAL_TRANSITION, nothing changes', async () => {
    const placed = await placeIdentityTm();
    await reportOk(placed.refId, 'NEGATIVELY_CONDUCTED', 'Document not valid');
    for (const status of ['INITIALIZED', 'IDENTIFICATION_DONE', 'ERROR', 'ABORTED'] as const) {
      const payload = await report(ipspToken, { refId: placed.refId, status, reason: 'late' });
      expect(payload.order).toBeNull();
      expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'ILLEGAL_TRANSITION' })]);
    }
    const imported = await importEvidence(ipspToken, evidenceInput(placed.refId));
    expect(imported.userErrors).toEqual([expect.objectContaining({ code: 'ILLEGAL_TRANSITION' })]);
    const after = await orderAs(spToken, placed.refId);
    expect(after!.status).toBe('NEGATIVELY_CONDUCTED');
    expect(after!.statusReason).toBe('Document not valid');
    expect(after!.evidence).toBeNull();

    // Out of TERMINATED as well.
    const terminated = await placeIdentityTm();
    await reportOk(terminated.refId, 'IDENTIFICATION_DONE');
    expect((await importEvidence(ipspToken, evidenceInput(terminated.refId))).userErrors).toEqual([]);
    expect((await report(ipspToken, { refId: terminated.refId, status: 'INITIALIZED' })).userErrors[0].code).toBe('ILLEGAL_TRANSITION');
    expect((await report(ipspToken, { refId: terminated.refId, status: 'ERROR' })).userErrors[0].code).toBe('ILLEGAL_TRANSITION');
    expect((await importEvidence(ipspToken, evidenceInput(terminated.refId))).userErrors[0].code).toBe('ILLEGAL_TRANSITION');
    expect((await orderAs(spToken, terminated.refId))!.status).toBe('TERMINATED');

    // And a skipped step: DATA_READY cannot go back to IDENTIFICATION_DONE.
    const ready = await placeIdentityTm();
    await reportOk(ready.refId, 'DATA_READY');
    expect((await report(ipspToken, { refId: ready.refId, status: 'IDENTIFICATION_DONE' })).userErrors[0].code).toBe('ILLEGAL_TRANSITION');
  });

  it('racing reports of different endings on one order: exactly one wins, with one event', async () => {
    const placed = await placeIdentityTm();
    const endings = ['NEGATIVELY_CONDUCTED', 'ERROR', 'NEGATIVELY_CONDUCTED', 'ERROR', 'NEGATIVELY_CONDUCTED', 'ERROR'] as const;
    const payloads = await Promise.all(endings.map((status) => report(ipspToken, { refId: placed.refId, status, reason: `race ${status}` })));
    const winners = payloads.filter((payload) => payload.userErrors.length === 0);
    expect(winners).toHaveLength(1);
    for (const payload of payloads.filter((candidate) => candidate !== winners[0])) {
      expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'ILLEGAL_TRANSITION' })]);
    }
    const after = await orderAs(spToken, placed.refId);
    expect(after!.status).toBe(winners[0].order!.status);
    expect(after!.statusReason).toBe(`race ${winners[0].order!.status}`);
    const events = await srs.service.prisma.orderEvent.findMany({ where: { order: { refId: placed.refId } }, orderBy: { sequence: 'asc' } });
    expect(events.map((event) => event.status)).toEqual(['CREATED', 'INITIALIZED', winners[0].order!.status]);
    expect(events[2].previousStatus).toBe('INITIALIZED');
  });

  it('another IPSP order id: INVALID_INPUT on input.ipspOrderId', async () => {
    const placed = await placeIdentityTm();
    const payload = await report(ipspToken, { refId: placed.refId, status: 'IDENTIFICATION_DONE', ipspOrderId: 'NOT-THE-ONE' });
    expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'ipspOrderId'] })]);
    expect((await orderAs(spToken, placed.refId))!.status).toBe('INITIALIZED');
  });

  it('bad evidence: INVALID_INPUT with the field path, the order stays where it was', async () => {
    const placed = await placeIdentityTm();
    await reportOk(placed.refId, 'IDENTIFICATION_DONE');
    const bad = async (overrides: Partial<ImportEvidenceInput>, field: string[]) => {
      const payload = await importEvidence(ipspToken, evidenceInput(placed.refId, overrides));
      expect(payload.order).toBeNull();
      expect(payload.evidence).toBeNull();
      expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field })]);
    };
    await bad({ mobileNumber: '12345' }, ['input', 'mobileNumber']);
    await bad({ mobileNumber: '+41 44 668 18 00' }, ['input', 'mobileNumber']);
    await bad({ identifiedAt: new Date(Date.now() + 86_400_000).toISOString() }, ['input', 'identifiedAt']);
    await bad({ document: { type: 'ID_CARD', validUntil: '2020-01-01' } }, ['input', 'document', 'validUntil']);
    await bad({ subject: { givenNames: 'Erika', surname: 'Muster', dateOfBirth: '1985-02-30' } }, ['input', 'subject', 'dateOfBirth']);
    // IDENTITY.TM sends its T&C by SMS: its partner cannot claim them accepted in its app.
    await bad({ termsAcceptedInApp: true }, ['input', 'termsAcceptedInApp']);
    const after = await orderAs(spToken, placed.refId);
    expect(after!.status).toBe('IDENTIFICATION_DONE');
    expect(after!.evidence).toBeNull();
    // A correct import still works afterwards, and the T&C go out by SMS.
    const imported = await importEvidence(ipspToken, evidenceInput(placed.refId, { termsAcceptedInApp: false }));
    expect(imported.userErrors).toEqual([]);
    expect(imported.evidence!.terms).toMatchObject({ status: 'PENDING', channel: 'SMS_LINK' });
  });

  it('an IPSP of another issuer: ORDER_NOT_FOUND, and sees none of these orders', async () => {
    const placed = await placeIdentityTm();
    const reported = await report(klarnaIpspToken, { refId: placed.refId, status: 'IDENTIFICATION_DONE' });
    expect(reported.userErrors).toEqual([expect.objectContaining({ code: 'ORDER_NOT_FOUND', field: ['input', 'refId'] })]);
    const imported = await importEvidence(klarnaIpspToken, evidenceInput(placed.refId));
    expect(imported.userErrors).toEqual([expect.objectContaining({ code: 'ORDER_NOT_FOUND' })]);
    expect(await orderAs(klarnaIpspToken, placed.refId)).toBeNull();
    const node = await srs.graphql(NodeQuery, { variables: { id: placed.id }, token: klarnaIpspToken });
    expect(node.data!.node).toBeNull();
    const klarnaList = await srs.graphql(OrdersQuery, { token: klarnaIpspToken });
    expect(klarnaList.errors).toBeUndefined();
    expect(klarnaList.data!.orders.totalCount).toBe(0);
    expect(klarnaList.data!.orders.edges).toEqual([]);
    // The right issuer lists it, and only its issuer's orders.
    const ownList = await srs.graphql(OrdersQuery, { token: ipspToken });
    expect(ownList.data!.orders.edges.map((edge) => edge.node.refId)).toContain(placed.refId);
    expect(new Set(ownList.data!.orders.edges.map((edge) => edge.node.method.issuer))).toEqual(new Set(['IDENTITY.TM']));
    expect((await orderAs(spToken, placed.refId))!.status).toBe('INITIALIZED');
  });

  it('a service provider calling the IPSP mutations: FORBIDDEN', async () => {
    const placed = await placeIdentityTm();
    const reported = await srs.graphql(ReportMutation, { variables: { input: { refId: placed.refId, status: 'IDENTIFICATION_DONE' } }, token: spToken });
    expect(reported.data ?? null).toBeNull();
    expect(reported.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const imported = await srs.graphql(ImportMutation, { variables: { input: evidenceInput(placed.refId) }, token: spToken });
    expect(imported.data ?? null).toBeNull();
    expect(imported.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await orderAs(spToken, placed.refId))!.status).toBe('INITIALIZED');
  });

  it('an IPSP cannot place orders', async () => {
    const response = await srs.graphql(PlaceOrderMutation, { variables: { input: { methodId: methodGlobalId('identity-tm-video') } }, token: ipspToken });
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
