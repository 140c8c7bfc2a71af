// PostgreSQL stops and starts again under light load: the process stays up, requests during the
// outage answer 503 SERVICE_UNAVAILABLE with Retry-After, subscriptions stay open and get the
// events made after the restart, and everything works again without restarting the service.
// Runs on a PostgreSQL cluster of its own (the machine's binaries), so only under the postgres
// project, where PostgreSQL is the backend under test.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, methodGlobalId, placeOrderBrief, startTestService, type TestService } from '../kit.js';
import { connectWs, type WsConnection } from '../ws-kit.js';
import { createDatabase, createOwnPostgres, postgresBinaries, type OwnPostgres } from '../own-postgres.js';
import { SimulateBriefMutation } from '../documents.js';

const runs = backend === 'postgres' && Boolean(postgresBinaries());

const ORDER = `query OutageOrder($refId: ID!) { order(refId: $refId) { refId status } }`;
const EVENTS = `subscription OutageEvents($refIds: [ID!]) { orderEvents(filter: { refIds: $refIds }) { sequence status order { refId } } }`;

describe.runIf(runs)('a PostgreSQL outage', () => {
  let own: OwnPostgres;
  let srs: TestService;
  let token: string;
  let connection: WsConnection | undefined;

  beforeAll(async () => {
    own = await createOwnPostgres();
    const databaseUrl = await createDatabase(own, 'srs');
    srs = await startTestService({
      env: {
        DATABASE_URL: databaseUrl,
        DATA_ENCRYPTION_KEYS: `t1:${randomBytes(32).toString('base64')}`,
        DATA_HASH_KEY: randomBytes(32).toString('base64'),
        // Notices through LISTEN/NOTIFY: its connection must come back too.
        EVENT_NOTICES: 'postgres',
        // Every request and every token re-check reaches the database.
        TOKEN_CACHE_SECONDS: '0',
        SUBSCRIPTION_TOKEN_CHECK_SECONDS: '1',
        EVENT_POLL_SECONDS: '0.5',
      },
    });
    token = await srs.token(await srs.createClient('SERVICE_PROVIDER'));
  }, 180_000);

  afterAll(async () => {
    await connection?.dispose();
    await srs?.stop({ keepData: true });
    await own?.destroy();
  });

  it('answers 503 with Retry-After meanwhile, keeps subscriptions open and recovers by itself', { timeout: 110_000 }, async () => {
    const refId = (await placeOrderBrief(srs, token, { methodId: methodGlobalId('test-video'), disabledSmsAlerts: true })).refId;
    connection = connectWs(srs, token, { lazy: false });
    const events = connection.subscribe<{ orderEvents: { status: string } }>(EVENTS, { refIds: [refId] });
    // Opened before the outage: an event now arrives.
    const first = await srs.graphql(SimulateBriefMutation, { variables: { input: { refId, outcome: 'ABORTED' } }, token });
    expect(first.data?.simulateIdentification.userErrors).toEqual([]);
    await events.waitFor(1, 15_000);

    // Light load all along: one query every 100 ms, noting every answer.
    const answers: Array<{ status: number; code?: string; retryAfter: string | null }> = [];
    let loading = true;
    const load = (async () => {
      while (loading) {
        const response = await fetch(`${srs.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: ORDER, variables: { refId } }),
        }).catch(() => undefined);
        if (response) {
          const body = (await response.json().catch(() => ({}))) as { errors?: Array<{ extensions?: { code?: string } }> };
          answers.push({ status: response.status, code: body.errors?.[0]?.extensions?.code, retryAfter: response.headers.get('retry-after') });
        } else answers.push({ status: 0, retryAfter: null });
        await sleep(100);
      }
    })();

    await sleep(500);
    await own.stop('fast');
    // Longer than several token re-checks and polls: none of them may end the subscription.
    await sleep(4000);
    const during = answers.filter((answer) => answer.status !== 200);
    expect(during.length).toBeGreaterThan(5);
    for (const answer of during) expect(answer).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE', retryAfter: '5' });
    expect(events.ended).toBe(false);

    await own.start();
    // Back without a restart: the pool reconnects.
    await expect.poll(() => answers.at(-1)?.status, { timeout: 30_000, interval: 200 }).toBe(200);
    loading = false;
    await load;
    expect(answers.filter((answer) => answer.status !== 200 && answer.status !== 503)).toEqual([]);

    // The LISTEN connection of the event notices is back, once.
    const listening = async () => {
      const client = new pg.Client({ connectionString: own.url('srs') });
      await client.connect();
      try {
        return (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN srs_%'`)).rows[0].n;
      } finally {
        await client.end();
      }
    };
    await expect.poll(listening, { timeout: 15_000, interval: 500 }).toBe(1);

    // Events made after the restart reach the subscription opened before the outage.
    const simulated = await srs.graphql(SimulateBriefMutation, { variables: { input: { refId, outcome: 'SUCCESS' } }, token });
    expect(simulated.data?.simulateIdentification.userErrors).toEqual([]);
    const received = await events.waitFor(4, 20_000);
    expect(received.map((item) => item.orderEvents.status)).toEqual(expect.arrayContaining(['ABORTED', 'IDENTIFICATION_DONE', 'DATA_READY', 'TERMINATED']));
    expect(events.ended).toBe(false);
    expect(events.errors).toEqual([]);
    // Orders are placed again.
    const again = await placeOrderBrief(srs, token, { methodId: methodGlobalId('test-video') });
    expect(again.status).toBe('INITIALIZED');
  });
});
