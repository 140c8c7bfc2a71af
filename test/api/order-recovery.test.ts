// Orders a crash left CREATED without a target URL are opened again (or failed) by the recovery
// job, at the partner with the same refId, and a replayed idempotency key answers them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methodGlobalId, placeOrderBrief, startTestService, type TestService } from '../kit.js';

const ORDER = `query RecoveredOrder($refId: ID!) { order(refId: $refId) { refId status statusReason ipspOrderId targetUrl } }`;

interface OrderView {
  refId: string;
  status: string;
  statusReason: string | null;
  ipspOrderId: string | null;
  targetUrl: string | null;
}

describe('recovery of orders interrupted while being opened', () => {
  let srs: TestService;
  let token: string;

  beforeAll(async () => {
    srs = await startTestService({ env: { ORDER_RECOVERY_GRACE_SECONDS: '1' } });
    token = await srs.token(await srs.createClient('SERVICE_PROVIDER'));
  });
  afterAll(() => srs?.stop());

  /** Puts an order back where a crash between the partner call and its commit leaves it. */
  async function interrupt(refId: string, options: { partnerForgets?: boolean } = {}): Promise<void> {
    await srs.service.database.query(
      `UPDATE "Order" SET status = 'CREATED', "targetUrl" = NULL, "orderToken" = NULL, "ipspOrderId" = NULL,
         "updatedAt" = "updatedAt" - interval '1 hour' WHERE "refId" = $1`,
      [refId],
    );
    if (options.partnerForgets) await srs.service.database.query(`DELETE FROM "SimulatedIdentification" WHERE "refId" = $1`, [refId]);
  }

  async function orderOf(refId: string): Promise<OrderView> {
    const response = await srs.graphql<{ order: OrderView }, { refId: string }>(ORDER, { variables: { refId }, token });
    expect(response.errors).toBeUndefined();
    return response.data!.order;
  }

  async function eventually(refId: string, done: (order: OrderView) => boolean): Promise<OrderView> {
    for (const deadline = Date.now() + 20_000; ; ) {
      const order = await orderOf(refId);
      if (done(order) || Date.now() > deadline) return order;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('a replayed idempotency key re-opens the order at once, at the partner that already had it, with a working target URL', async () => {
    const input = { methodId: methodGlobalId('test-video'), idempotencyKey: 'recover-replay', externalId: 'rec-1' };
    const first = await placeOrderBrief(srs, token, input);
    await interrupt(first.refId);
    const started = Date.now();
    const replayed = await placeOrderBrief(srs, token, input);
    expect(replayed.refId).toBe(first.refId);
    expect(replayed.status).toBe('INITIALIZED');
    // The partner answered with the identification it had opened for this refId.
    expect(replayed.ipspOrderId).toBe(first.ipspOrderId);
    expect(replayed.targetUrl).not.toBe(first.targetUrl);
    // Not the replay's wait for an opener that is gone (15 s).
    expect(Date.now() - started).toBeLessThan(10_000);
    const page = await fetch(replayed.targetUrl!);
    expect(page.status).toBe(200);
    await page.body?.cancel();
    // The first token was never stored: it does not open the page.
    const stale = await fetch(first.targetUrl!);
    expect(stale.status).toBe(403);
    await stale.body?.cancel();
  });

  it('the job re-opens an interrupted order after a restart, also one the partner never received', async () => {
    const order = await placeOrderBrief(srs, token, { methodId: methodGlobalId('test-video'), idempotencyKey: 'recover-restart' });
    await srs.stop({ keepData: true });
    // While the process is down, the order is left as a crash before the partner answered leaves it.
    srs = await startTestService({ env: { ...srs.env } });
    await interrupt(order.refId, { partnerForgets: true });
    const recovered = await eventually(order.refId, (current) => current.status !== 'CREATED');
    expect(recovered.status).toBe('INITIALIZED');
    expect(recovered.ipspOrderId).toBeTruthy();
    expect(recovered.targetUrl).toBeTruthy();
    const page = await fetch(recovered.targetUrl!);
    expect(page.status).toBe(200);
    await page.body?.cancel();
    // The replay answers the recovered order, not CREATED.
    const replayed = await placeOrderBrief(srs, token, { methodId: methodGlobalId('test-video'), idempotencyKey: 'recover-restart' });
    expect(replayed).toMatchObject({ refId: order.refId, status: 'INITIALIZED', ipspOrderId: recovered.ipspOrderId });
  });

  it('an interrupted order that cannot be opened again ends in ERROR with the reason', async () => {
    const order = await placeOrderBrief(srs, token, { methodId: methodGlobalId('nect-robo-ident'), idempotencyKey: 'recover-fail' });
    await srs.service.database.query(`UPDATE "IdentificationMethod" SET enabled = false WHERE id = 'nect-robo-ident'`);
    try {
      await interrupt(order.refId);
      const failed = await eventually(order.refId, (current) => current.status !== 'CREATED');
      expect(failed.status).toBe('ERROR');
      expect(failed.statusReason).toMatch(/interrupted.*no longer available/);
    } finally {
      await srs.service.database.query(`UPDATE "IdentificationMethod" SET enabled = true WHERE id = 'nect-robo-ident'`);
    }
  });

  it('an order being opened right now is left alone', async () => {
    const order = await placeOrderBrief(srs, token, { methodId: methodGlobalId('test-video') });
    // CREATED but fresh: within the grace its opener may still be at work.
    await srs.service.database.query(`UPDATE "Order" SET status = 'CREATED', "targetUrl" = NULL, "updatedAt" = now() AT TIME ZONE 'UTC' + interval '1 minute' WHERE "refId" = $1`, [
      order.refId,
    ]);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await orderOf(order.refId)).status).toBe('CREATED');
  });
});
