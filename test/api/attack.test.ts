// Attacks on the new doors (REST routes, token route, webhooks), each a finding that once answered
// a 500 or an ambiguous success: NUL bytes PostgreSQL cannot store, client credentials sent twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestClient, type TestService } from '../kit.js';

const PROVIDER = 'application/vnd.sc.miss.provider.v1+json';
let srs: TestService;
let sp: TestClient;
let token: string;

beforeAll(async () => {
  srs = await startTestService();
  sp = await srs.createClient('SERVICE_PROVIDER');
  token = await srs.token(sp);
});
afterAll(async () => {
  await srs?.stop();
});

async function call(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const response = await fetch(`${srs.url}${path}`, { method, headers: init.headers, body: init.body });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
}

const basic = (client: TestClient) => `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;

describe('REST routes under attack', () => {
  it('a NUL byte in an order\'s externalId is a 422 on externalId, not a 500', async () => {
    const placed = await call('POST', '/api/providers/Test/Video', {
      headers: { authorization: `Bearer ${token}`, 'content-type': PROVIDER },
      body: JSON.stringify({ externalId: 'customer\u00004711' }),
    });
    expect(placed.status).toBe(422);
    expect(placed.body).toMatchObject({ code: 'INVALID_INPUT', field: 'externalId' });
  });

  // A NUL byte is refused before any resolver (README: Limits and security); the services refuse it
  // too (INVALID_INPUT), for callers that reach them another way.
  it('a NUL byte in GraphQL placeOrder\'s externalId or idempotencyKey is BAD_USER_INPUT, not INTERNAL_SERVER_ERROR', async () => {
    const methodId = Buffer.from('IdentificationMethod:test-video').toString('base64');
    for (const field of ['externalId', 'idempotencyKey']) {
      const response = await srs.graphql<{ placeOrder: { userErrors: Array<{ code: string; field: string[] }> } }, unknown>(
        'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { userErrors { code field } } }',
        { token, variables: { input: { methodId, [field]: 'a\u0000b' } } },
      );
      expect(response.errors?.map((error) => error.extensions?.code), field).toEqual(['BAD_USER_INPUT']);
      expect(response.data?.placeOrder).toBeUndefined();
    }
  });

  it('a NUL byte in a path parameter is a 400 at the door, not a 500', async () => {
    const answer = await call('GET', '/api/identifications/SRS-%00', { headers: { authorization: `Bearer ${token}` } });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'bad_request' });
  });
});

describe('the token route under attack', () => {
  it('client credentials in the query string and an Authorization header too: 400 invalid_request, no token', async () => {
    const other = await srs.createClient('SERVICE_PROVIDER');
    const query = new URLSearchParams({ client_id: sp.clientId, client_secret: sp.clientSecret, grant_type: 'client_credentials' });
    for (const authorization of [basic(other), 'Basic eDp5']) {
      const answer = await call('POST', `/oauth/token?${query}`, { headers: { authorization } });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: 'invalid_request' });
      expect(answer.body.access_token).toBeUndefined();
    }
    // Either one alone still works.
    expect((await call('POST', `/oauth/token?${query}`)).status).toBe(200);
    expect((await call('POST', '/oauth/token?grant_type=client_credentials', { headers: { authorization: basic(sp) } })).status).toBe(200);
  });
});

describe('webhooks under attack', () => {
  it('a NUL byte in a webhook endpoint\'s description is BAD_USER_INPUT, not INTERNAL_SERVER_ERROR', async () => {
    const create = 'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } secret userErrors { code field } } }';
    const created = await srs.graphql<{ createWebhookEndpoint: { endpoint: { id: string } | null; secret: string | null; userErrors: unknown[] } }, unknown>(create, {
      token,
      variables: { input: { url: 'https://93.184.216.34/hooks', description: 'ours\u0000' } },
    });
    expect(created.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(created.data?.createWebhookEndpoint).toBeUndefined();

    const fine = await srs.graphql<{ createWebhookEndpoint: { endpoint: { id: string } } }, unknown>(create, { token, variables: { input: { url: 'https://93.184.216.34/hooks' } } });
    const update = await srs.graphql<{ updateWebhookEndpoint: { userErrors: unknown[] } }, unknown>(
      'mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { userErrors { code field } } }',
      { token, variables: { input: { id: fine.data!.createWebhookEndpoint.endpoint.id, description: '\u0000' } } },
    );
    expect(update.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(update.data?.updateWebhookEndpoint).toBeUndefined();
  });
});

describe('global ids under attack', () => {
  const nulId = (typename: string) => Buffer.from(`${typename}:\u0000`).toString('base64');

  it('node(id) of a webhook endpoint, delivery or order with a NUL byte is BAD_USER_INPUT, not INTERNAL_SERVER_ERROR', async () => {
    for (const typename of ['WebhookEndpoint', 'WebhookDelivery', 'Order']) {
      const response = await srs.graphql<{ node: unknown }, unknown>('query($id: ID!) { node(id: $id) { id } }', { token, variables: { id: nulId(typename) } });
      expect(response.errors?.map((error) => error.extensions?.code), typename).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('webhook mutations given ids with a NUL byte answer NOT_FOUND, not INTERNAL_SERVER_ERROR', async () => {
    const update = await srs.graphql<{ updateWebhookEndpoint: { userErrors: unknown[] } }, unknown>(
      'mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { userErrors { code field } } }',
      { token, variables: { input: { id: nulId('WebhookEndpoint'), enabled: false } } },
    );
    expect(update.errors).toBeUndefined();
    expect(update.data!.updateWebhookEndpoint.userErrors).toEqual([{ code: 'NOT_FOUND', field: ['input', 'id'] }]);

    const created = await srs.graphql<{ createWebhookEndpoint: { endpoint: { id: string } } }, unknown>(
      'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }',
      { token, variables: { input: { url: 'https://93.184.216.34/nul' } } },
    );
    const redeliver = await srs.graphql<{ redeliverWebhooks: { queued: number; userErrors: unknown[] } }, unknown>(
      'mutation($input: RedeliverWebhooksInput!) { redeliverWebhooks(input: $input) { queued userErrors { code field } } }',
      { token, variables: { input: { endpointId: created.data!.createWebhookEndpoint.endpoint.id, deliveryIds: [nulId('WebhookDelivery')] } } },
    );
    expect(redeliver.errors).toBeUndefined();
    expect(redeliver.data!.redeliverWebhooks).toEqual({ queued: 0, userErrors: [{ code: 'NOT_FOUND', field: ['input', 'deliveryIds', '0'] }] });
  });
});

describe('the agent desk under attack', () => {
  it('a registration code with a NUL byte is refused at the door (400), not "the partner failed" (502)', async () => {
    const agent = await srs.createClient('IPSP', { issuer: 'SWISSCOM-RA' });
    const response = await fetch(`${srs.url}/ipsp/swisscom-ra/agent?code=AB%00CD`, { headers: { authorization: basic(agent) } });
    expect(response.status).toBe(400);
  });
});

describe('the T&C page under attack', () => {
  it('a form body above 64 KiB is refused with 413, and the service keeps running', async () => {
    const response = await fetch(`${srs.url}/terms/${'A'.repeat(32)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `decision=accept&padding=${'x'.repeat(70 * 1024)}`,
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect((await fetch(`${srs.url}/health`)).status).toBe(200);
  });
});

describe('the partner simulators\' pages under attack', () => {
  it('a form above 64 KiB at the agent desk is 413, not "the partner failed" (502)', async () => {
    const agent = await srs.createClient('IPSP', { issuer: 'SWISSCOM-RA' });
    const response = await fetch(`${srs.url}/ipsp/swisscom-ra/agent`, {
      method: 'POST',
      headers: { authorization: basic(agent), 'content-type': 'application/x-www-form-urlencoded' },
      body: `code=AB&padding=${'x'.repeat(70 * 1024)}`,
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  });
});
