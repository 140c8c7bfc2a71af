// A server process killed (SIGKILL) while webhook deliveries are pending and in flight: another
// process delivers every one of them, in order per order, and none that was answered 2xx again.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, freshDatabaseEnv, methodGlobalId, placeOrderBrief } from '../kit.js';
import { cliClient, killAll, startServiceProcess, uniqueChannel } from './cluster-kit.js';

const CREATE = `mutation ClusterWebhookCreate($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { endpoint { id } secret userErrors { code message } }
}`;
const ORDER_EVENTS = `query ClusterWebhookEvents($refId: ID!) { order(refId: $refId) { events { id sequence } } }`;

interface Receipt {
  id: string;
  refId: string;
  sequence: bigint;
  answered: number | 'none';
}

describe('webhooks across a crash', () => {
  let database: Awaited<ReturnType<typeof freshDatabaseEnv>> | undefined;
  let server: http.Server;
  let hold = false;
  const receipts: Receipt[] = [];

  beforeAll(async () => {
    if (backend !== 'postgres' || !process.env.TEST_DATABASE_URL || !process.env.TEST_REDIS_URL) {
      throw new Error('The cluster tests need SRS_TEST_BACKEND=postgres, TEST_DATABASE_URL and TEST_REDIS_URL.');
    }
    database = await freshDatabaseEnv();
    // While `hold` is set, requests are taken and never answered: attempts stay in flight.
    server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { refId: string; sequence: string } };
        const receipt: Receipt = { id: String(request.headers['webhook-id']), refId: body.data.refId, sequence: BigInt(body.data.sequence), answered: 'none' };
        receipts.push(receipt);
        if (hold) return;
        receipt.answered = 200;
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }, 120_000);

  afterAll(async () => {
    await killAll();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await database?.drop();
  }, 60_000);

  it('loses nothing and repeats nothing that was delivered', { timeout: 180_000 }, async () => {
    const env = {
      ...database!.env,
      REDIS_URL: process.env.TEST_REDIS_URL!,
      REDIS_CHANNEL: uniqueChannel(),
      SRS_TEST_MODE: '1',
      WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: '1',
      WEBHOOK_RETRY_SCHEDULE: '0,1,1,1,1,1',
      // A claim lapses 30 s after the timeout: the crashed process's attempts are retried after 32 s.
      WEBHOOK_TIMEOUT_SECONDS: '2',
      WEBHOOK_POLL_SECONDS: '0.5',
    };
    const A = await startServiceProcess('A', env);
    const client = await cliClient(database!.env, 'SERVICE_PROVIDER');
    const token = await A.token(client);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    const created = await A.graphql<{ createWebhookEndpoint: { userErrors: unknown[] } }, unknown>(CREATE, { variables: { input: { url } }, token });
    expect(created.data!.createWebhookEndpoint.userErrors).toEqual([]);
    const place = () => placeOrderBrief(A, token, { methodId: methodGlobalId('test-video'), disabledSmsAlerts: true });

    const delivered = [await place(), await place()];
    const until = async (what: string, probe: () => boolean, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!probe()) {
        if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}; receipts: ${receipts.length}`);
        await sleep(50);
      }
    };
    await until('the first orders’ events', () => receipts.filter((receipt) => receipt.answered === 200).length >= 4, 30_000);
    const answeredBeforeCrash = new Set(receipts.filter((receipt) => receipt.answered === 200).map((receipt) => receipt.id));

    hold = true;
    const pending = await Promise.all([place(), place(), place()]);
    await until('attempts in flight', () => receipts.filter((receipt) => receipt.answered === 'none').length >= 3, 30_000);
    expect((await A.stop('SIGKILL')).signal).toBe('SIGKILL');
    server.closeAllConnections();
    hold = false;

    const B = await startServiceProcess('B', env);
    const expected = new Map<string, bigint[]>();
    for (const { refId } of [...delivered, ...pending]) {
      const events = await B.graphql<{ order: { events: Array<{ sequence: string }> } }, unknown>(ORDER_EVENTS, { variables: { refId }, token });
      expected.set(refId, events.data!.order.events.map((event) => BigInt(event.sequence)));
    }
    const total = [...expected.values()].reduce((sum, list) => sum + list.length, 0);
    await until('every event delivered', () => new Set(receipts.filter((receipt) => receipt.answered === 200).map((receipt) => receipt.id)).size >= total, 90_000);
    await sleep(1000);

    const answered = receipts.filter((receipt) => receipt.answered === 200);
    // Nothing answered 2xx was sent again, before or after the crash.
    expect(answered.map((receipt) => receipt.id)).toEqual([...new Set(answered.map((receipt) => receipt.id))]);
    expect(receipts.filter((receipt) => answeredBeforeCrash.has(receipt.id))).toHaveLength(answeredBeforeCrash.size);
    // Nothing lost, and each order's events in sequence order.
    for (const [refId, sequences] of expected) {
      expect(answered.filter((receipt) => receipt.refId === refId).map((receipt) => receipt.sequence)).toEqual(sequences);
    }
  });
});
