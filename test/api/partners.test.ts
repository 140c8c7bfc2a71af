// Partners from PARTNERS_FILE: orders of a configured issuer go to a partner server that is not
// the built-in simulator (test/partner-kit.ts), over the protocol of docs/partner-api.openapi.yaml;
// its simulator is no longer served; timeouts and failures end the order in ERROR with a reason.
// With SIMULATORS=0, issuers without a partner are not offered.
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methodGlobalId, spToken, startTestService, type TestService } from '../kit.js';
import { startTestPartner, type TestPartner } from '../partner-kit.js';

const ORDER = `mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { refId status statusReason ipspOrderId targetUrl } userErrors { code field message } }
}`;
const ORDER_STATUS = `query Order($refId: ID!) { order(refId: $refId) { status statusReason evidence { id issuer } } }`;
const CANCEL = `mutation Cancel($input: CancelOrderInput!) { cancelOrder(input: $input) { order { status } userErrors { code message } } }`;
const METHODS = `{ identificationMethods { id issuer } }`;

interface PlacedOrder {
  refId: string;
  status: string;
  statusReason: string | null;
  ipspOrderId: string | null;
  targetUrl: string | null;
}

const KLARNA_DATA = { givenNames: 'Erika', surname: 'Muster', dateOfBirth: '1990-04-01', mobileNumber: '+41791234567', country: 'CH' };
const SLOW_MS = 2000;
const TIMEOUT_MS = 400;

const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'srs-partners-'));
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

function writePartnersFile(name: string, partners: Record<string, unknown>): string {
  const file = path.join(folder, name);
  fs.writeFileSync(file, JSON.stringify({ partners }));
  return file;
}

async function place(srs: TestService, token: string, input: Record<string, unknown>) {
  const response = await srs.graphql<{ placeOrder: { order: PlacedOrder | null; userErrors: Array<{ code: string; field: string[]; message: string }> } }, unknown>(ORDER, {
    variables: { input },
    token,
  });
  expect(response.errors).toBeUndefined();
  return response.data!.placeOrder;
}

describe('a configured partner', () => {
  let partner: TestPartner;
  let srs: TestService;
  let token: string;

  beforeAll(async () => {
    partner = await startTestPartner({ slowMs: SLOW_MS });
    const file = writePartnersFile('partners.json', {
      KLARNA: { apiUrl: `${partner.url}/klarna/srs/`, headers: { 'X-Partner-Key': 'key-of-klarna' }, timeoutMs: 5000 },
      NECT: { apiUrl: `${partner.url}/slow/nect`, timeoutMs: TIMEOUT_MS },
      'intrum-video': { apiUrl: `${partner.url}/broken/intrum` },
    });
    srs = await startTestService({ env: { PARTNERS_FILE: file } });
    // The partner's IPSP client, as an operator creates it (`clients create --role IPSP --issuer KLARNA`).
    partner.connect({ url: srs.url, ...(await srs.createClient('IPSP', { issuer: 'KLARNA', name: 'Klarna (real partner)' })) });
    token = await spToken(srs);
  });
  afterAll(async () => {
    await srs?.stop();
    await partner?.close();
  });

  it('opens the order at the partner, which checks the token, and the partner completes it through GraphQL', async () => {
    const { order, userErrors } = await place(srs, token, { methodId: methodGlobalId('klarna-bank'), initialData: KLARNA_DATA, language: 'de' });
    expect(userErrors).toEqual([]);
    expect(order).toMatchObject({ status: 'INITIALIZED', ipspOrderId: 'KP-1' });
    expect(order!.targetUrl).toMatch(new RegExp(`^${partner.url}/ident/KP-1\\?token=`));

    const opened = partner.calls.find((call) => call.path === '/klarna/srs/orders')!;
    expect(opened.method).toBe('POST');
    expect(opened.headers['x-partner-key']).toBe('key-of-klarna');
    expect(opened.headers['content-type']).toBe('application/json');
    expect(opened.body).toEqual({
      refId: order!.refId,
      methodName: 'bank',
      language: 'de',
      initialData: expect.objectContaining(KLARNA_DATA),
      targetUrlExpiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    // The bearer is the order's own token: active, of this order and issuer, seen by the partner's client.
    expect(opened.introspection).toMatchObject({ active: true, srs_ref_id: order!.refId, srs_issuer: 'KLARNA' });

    // The end user opens the target URL; the partner identifies them and imports the evidence.
    const visit = await fetch(order!.targetUrl!);
    expect(visit.status).toBe(200);
    expect(await visit.json()).toEqual({ identified: true, status: 'TERMINATED' });
    const after = await srs.graphql<{ order: { status: string; evidence: { issuer: string } | null } }, unknown>(ORDER_STATUS, { variables: { refId: order!.refId }, token });
    expect(after.data!.order).toMatchObject({ status: 'TERMINATED', evidence: { issuer: 'KLARNA' } });
  });

  it('cancels at the partner with the order token', async () => {
    const { order } = await place(srs, token, { methodId: methodGlobalId('klarna-bank'), initialData: KLARNA_DATA });
    const response = await srs.graphql<{ cancelOrder: { order: { status: string }; userErrors: unknown[] } }, unknown>(CANCEL, { variables: { input: { refId: order!.refId } }, token });
    expect(response.data!.cancelOrder).toEqual({ order: { status: 'CANCELED' }, userErrors: [] });
    const cancel = partner.calls.find((call) => call.path === `/klarna/srs/orders/${order!.ipspOrderId}/cancel`)!;
    expect(cancel.method).toBe('POST');
    expect(cancel.headers['x-partner-key']).toBe('key-of-klarna');
    expect(cancel.body).toEqual({ refId: order!.refId });
    expect(cancel.introspection).toMatchObject({ active: true, srs_ref_id: order!.refId });
  });

  it('a partner slower than its timeoutMs ends the order in ERROR, with the reason', async () => {
    const started = performance.now();
    const { order } = await place(srs, token, { methodId: methodGlobalId('nect-robo-ident') });
    expect(performance.now() - started).toBeLessThan(SLOW_MS);
    expect(order).toMatchObject({ status: 'ERROR', statusReason: `The partner did not answer within ${TIMEOUT_MS} ms.`, targetUrl: null });
    expect(partner.calls.some((call) => call.path === '/slow/nect/orders')).toBe(true);
  });

  it('a partner answering 5xx ends the order in ERROR, with its answer as the reason', async () => {
    const { order } = await place(srs, token, {
      methodId: methodGlobalId('intrum-video'),
      initialData: { givenNames: 'Erika', surname: 'Muster', mobileNumber: '+41791234567' },
    });
    expect(order).toMatchObject({ status: 'ERROR', statusReason: 'The partner answered 503: {"error":"maintenance"}' });
  });

  it('no longer serves the simulator of a configured issuer; the others still run', async () => {
    for (const pathname of ['/ipsp/klarna/api/orders', '/ipsp/nect/api/orders', '/ipsp/intrum-video/api/orders']) {
      const response = await fetch(`${srs.url}${pathname}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(response.status, pathname).toBe(404);
    }
    const simulated = await fetch(`${srs.url}/ipsp/identity-tm/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(simulated.status).toBe(401);
  });

  it("leaves the configured issuer's simulator client without a usable secret", async () => {
    // The simulators' secrets derive from a master secret in the database: whoever reads it must
    // not be able to report for the real partner's orders.
    const master = (await srs.service.prisma.serviceKey.findUniqueOrThrow({ where: { id: 'simulator-master' } })).privateJwk as { k: string };
    const simulatorClient = (issuer: string, slug: string) => ({ clientId: `sim-${slug}`, clientSecret: createHmac('sha256', master.k).update(issuer).digest('base64url') });
    expect((await srs.requestToken(simulatorClient('KLARNA', 'klarna'))).status).toBe(401);
    expect((await srs.requestToken(simulatorClient('NECT', 'nect'))).status).toBe(401);
    expect((await srs.requestToken(simulatorClient('IDENTITY.TM', 'identity-tm'))).status).toBe(200);
  });
});

describe('SIMULATORS=0', () => {
  let partner: TestPartner;
  let srs: TestService;
  let token: string;

  beforeAll(async () => {
    partner = await startTestPartner();
    const file = writePartnersFile('only-klarna.json', { KLARNA: { apiUrl: `${partner.url}/klarna` } });
    srs = await startTestService({ env: { PARTNERS_FILE: file, SIMULATORS: '0' } });
    partner.connect({ url: srs.url, ...(await srs.createClient('IPSP', { issuer: 'KLARNA' })) });
    token = await spToken(srs);
  });
  afterAll(async () => {
    await srs?.stop();
    await partner?.close();
  });

  it('offers only the methods of issuers with a partner (and TEST in test mode)', async () => {
    const response = await srs.graphql<{ identificationMethods: Array<{ issuer: string }> }, unknown>(METHODS, { token });
    expect(response.data!.identificationMethods.map((method) => method.issuer)).toEqual(['KLARNA', 'TEST']);
    const { order } = await place(srs, token, { methodId: methodGlobalId('klarna-bank'), initialData: KLARNA_DATA });
    expect(order!.status).toBe('INITIALIZED');
  });

  it('refuses an order for an unserved method with METHOD_UNAVAILABLE, storing nothing', async () => {
    const { order, userErrors } = await place(srs, token, { methodId: methodGlobalId('nect-robo-ident') });
    expect(order).toBeNull();
    expect(userErrors).toEqual([
      { code: 'METHOD_UNAVAILABLE', field: ['input', 'methodId'], message: 'No partner of NECT is connected to this service: its methods cannot be ordered here.' },
    ]);
    expect(await srs.service.prisma.order.count({ where: { issuer: 'NECT' } })).toBe(0);
    const simulator = await fetch(`${srs.url}/ipsp/nect/api/orders`, { method: 'POST', body: '{}' });
    expect(simulator.status).toBe(404);
  });
});
