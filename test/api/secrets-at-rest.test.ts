// No token in clear in the database: access and order tokens are stored as hashes, order tokens
// and target URLs sealed, the service's private signing keys sealed with the data keys.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methodGlobalId, placeOrderBrief, startTestService, type TestService } from '../kit.js';
import { storedIdOf } from '../../src/auth/oidc-adapter.js';

describe('secrets at rest', () => {
  let srs: TestService;
  let token: string;
  const sql = <Row>(text: string, params?: unknown[]) => srs.service.database.query<Row>(text, params);

  beforeAll(async () => {
    srs = await startTestService();
    token = await srs.token(await srs.createClient('SERVICE_PROVIDER'));
  });
  afterAll(() => srs?.stop());

  it('stores access and order tokens only as hashes, and they keep working', async () => {
    const order = await placeOrderBrief(srs, token, { methodId: methodGlobalId('test-video') });
    const orderToken = new URL(order.targetUrl!).searchParams.get('token')!;
    expect(orderToken).toBeTruthy();
    const payloads = await sql<{ id: string; payload: unknown }>(`SELECT id, payload FROM "OidcPayload"`);
    const dump = JSON.stringify(payloads);
    for (const secret of [token, orderToken]) {
      expect(dump).not.toContain(secret);
      expect(payloads.map((row) => row.id)).toContain(storedIdOf(secret));
    }
    // The API token still authenticates and the order token still opens the target URL (introspection).
    const viewer = await srs.graphql(`{ __typename }`, { token });
    expect(viewer.status).toBe(200);
    const page = await fetch(order.targetUrl!);
    expect(page.status).toBe(200);
    await page.body?.cancel();
    // The migration hashes earlier rows in SQL exactly as the service does.
    const [hashed] = await sql<{ h: string }>(`SELECT rtrim(translate(encode(sha256(convert_to($1, 'UTF8')), 'base64'), '+/', '-_'), '=') AS h`, [token]);
    expect(hashed.h).toBe(storedIdOf(token));
  });

  it('seals order tokens and target URLs, at SRS and at the partner simulators', async () => {
    const order = await placeOrderBrief(srs, token, { methodId: methodGlobalId('test-video') });
    const orderToken = new URL(order.targetUrl!).searchParams.get('token')!;
    const [stored] = await sql<{ orderToken: string; targetUrl: string }>(`SELECT "orderToken", "targetUrl" FROM "Order" WHERE "refId" = $1`, [order.refId]);
    expect(stored.orderToken).toMatch(/^v1\./);
    expect(stored.targetUrl).toMatch(/^v1\./);
    const [simulated] = await sql<{ orderToken: string }>(`SELECT "orderToken" FROM "SimulatedIdentification" WHERE "refId" = $1`, [order.refId]);
    expect(simulated.orderToken).toMatch(/^v1\./);
    expect(JSON.stringify([stored, simulated])).not.toContain(orderToken);
    // Cancelling still reaches the partner with the token, and revokes it.
    const cancelled = await srs.graphql(`mutation { cancelOrder(input: { refId: "${order.refId}" }) { order { status } userErrors { code } } }`, { token });
    expect(cancelled.data).toMatchObject({ cancelOrder: { order: { status: 'CANCELED' }, userErrors: [] } });
    const page = await fetch(order.targetUrl!);
    expect(page.status).not.toBe(200);
    await page.body?.cancel();
  });

  it('keeps the private signing keys sealed, also ones stored in clear before', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const legacy = { ...privateKey.export({ format: 'jwk' }), kid: 'legacy-clear-key', alg: 'ES256', use: 'sig' };
    await sql(`INSERT INTO "ServiceKey" (id, purpose, "privateJwk", "retiredAt") VALUES ('legacy-clear-key', 'evidence', $1::jsonb, now())`, [JSON.stringify(legacy)]);
    const response = await fetch(`${srs.url}/.well-known/jwks.json`);
    const { keys } = (await response.json()) as { keys: Array<Record<string, unknown>> };
    expect(keys.map((key) => key.kid)).toContain('legacy-clear-key');
    for (const key of keys) expect(key).not.toHaveProperty('d');
    const rows = await sql<{ id: string; purpose: string; privateJwk: Record<string, unknown> }>(`SELECT id, purpose, "privateJwk" FROM "ServiceKey" WHERE purpose IN ('evidence', 'oidc')`);
    expect(rows.map((row) => row.purpose)).toEqual(expect.arrayContaining(['evidence', 'oidc']));
    for (const row of rows) {
      expect(row.privateJwk, row.id).not.toHaveProperty('d');
      expect(String(row.privateJwk.sealed), row.id).toMatch(/^v1\./);
    }
  });
});
