// kill -9 of a server process in the middle of a burst of placeOrder, then a restart: the
// recovery job leaves no order CREATED, and every idempotency key answers exactly one order.
// Real processes (as an operator runs them) on PostgreSQL, so only under the postgres project.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { backend, freshDatabaseEnv, methodGlobalId } from '../kit.js';
import { cliClient, killAll, startServiceProcess } from '../cluster/cluster-kit.js';

const PLACE = `mutation CrashPlace($input: PlaceOrderInput!) { placeOrder(input: $input) { order { refId status } userErrors { code message } } }`;
const BURST = 80;
const CONCURRENCY = 8;

describe.runIf(backend === 'postgres')('kill -9 in the middle of placing orders', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    await killAll();
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('after a restart no order stays CREATED and every key answers one order', { timeout: 115_000 }, async () => {
    const database = await freshDatabaseEnv();
    cleanups.push(database.drop);
    const env = { ...database.env, SRS_TEST_MODE: '1', ORDER_RECOVERY_GRACE_SECONDS: '2', LOG_LEVEL: 'warn' };
    const first = await startServiceProcess('A', env);
    const client = await cliClient(database.env, 'SERVICE_PROVIDER');
    const token = await first.token(client);
    const inputOf = (key: string) => ({ methodId: methodGlobalId('test-video'), idempotencyKey: key, externalId: key, disabledSmsAlerts: true });

    // The burst: CONCURRENCY requests in flight all along; the process dies once a few are answered.
    const sent: string[] = [];
    let answered = 0;
    let next = 0;
    const worker = async () => {
      while (next < BURST) {
        const key = `crash-${next++}`;
        sent.push(key);
        const response = await first.graphql(PLACE, { variables: { input: inputOf(key) }, token }).catch(() => undefined);
        if (!response) return;
        answered++;
      }
    };
    const burst = Promise.all(Array.from({ length: CONCURRENCY }, worker));
    while (answered < 10) await sleep(5);
    await first.stop('SIGKILL');
    await burst;
    expect(answered).toBeLessThan(BURST);

    const sql = new pg.Client({ connectionString: database.env.DATABASE_URL });
    await sql.connect();
    cleanups.push(() => sql.end());
    const created = async () => (await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Order" WHERE status = 'CREATED'`)).rows[0].n;
    const leftCreated = await created();

    const second = await startServiceProcess('B', env);
    // Within the grace and a run of the recovery job (every 2 s here), nothing is CREATED.
    await expect.poll(created, { timeout: 30_000, interval: 250 }).toBe(0);

    // Every key answers one order, the same on every replay, and none of them CREATED.
    const secondToken = await second.token(client);
    for (const key of sent) {
      const replays = [];
      for (let attempt = 0; attempt < 2; attempt++) {
        const response = await second.graphql<{ placeOrder: { order: { refId: string; status: string } | null; userErrors: unknown[] } }, unknown>(PLACE, {
          variables: { input: inputOf(key) },
          token: secondToken,
        });
        expect(response.errors, key).toBeUndefined();
        expect(response.data!.placeOrder.userErrors, key).toEqual([]);
        replays.push(response.data!.placeOrder.order!);
      }
      expect(replays[1].refId, key).toBe(replays[0].refId);
      expect(replays[0].status, key).not.toBe('CREATED');
    }
    const perKey = await sql.query<{ key: string; n: number }>(`SELECT "idempotencyKey" AS key, count(*)::int AS n FROM "Order" GROUP BY 1 HAVING count(*) <> 1`);
    expect(perKey.rows).toEqual([]);
    expect(await created()).toBe(0);
    // With eight requests in flight, the kill cuts some between storing and opening their order.
    expect(leftCreated, 'the kill left no CREATED order behind: nothing was recovered').toBeGreaterThan(0);
    await second.stop('SIGTERM');
  });
});
