// What each operation costs in SQL: the service runs on a database reached through a counting
// proxy (bench/pg-statement-counter.ts), and each operation is repeated a few times, one at a
// time, with the background jobs slowed down so that only request-driven statements count.
// Nothing here is timed; it explains the timed scenarios.
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import {
  basicAuthorization,
  createDatabase,
  freePort,
  LOOKUP,
  mobileNumber,
  onCleanup,
  PLACE_ORDER,
  placeOrderInput,
  RUN_STAMP,
  seedRegistrations,
  spawnTsNode,
  startService,
  waitForHttp,
} from '../harness.js';
import { startStatementCounter, type StatementCounter } from '../pg-statement-counter.js';
import { info, lessIsBetter } from '../report.js';
import type { BenchOptions, Scenario, ScenarioResult } from '../options.js';

const REPEAT = 20;
const WARMUP = 5;
/** The service's default SUBSCRIPTION_TOKEN_CHECK_SECONDS. */
const DEFAULT_CHECK_SECONDS = 10;
/** Only what requests cause: the periodic jobs (and the subscriptions' token re-checks) wait an hour. */
const QUIET = { EVENT_POLL_SECONDS: '3600', SMS_OUTBOX_SWEEP_SECONDS: '3600', TIMEOUT_SWEEP_SECONDS: '3600', SUBSCRIPTION_TOKEN_CHECK_SECONDS: '3600' };

interface OperationCost {
  operation: string;
  repeats: number;
  statementsPer: number;
  roundTripsPer: number;
  /** The statements, most frequent first, with how often each ran per operation. */
  statements: Array<{ perOperation: number; sql: string }>;
}

/** Runs `operation` a few times unmeasured, then `repeats` times counted; a pause lets stragglers land. */
async function costOf(counter: StatementCounter, name: string, operation: (index: number) => Promise<unknown>, repeats = REPEAT): Promise<OperationCost> {
  for (let index = 0; index < WARMUP; index++) await operation(-1 - index);
  await sleep(300);
  counter.reset();
  for (let index = 0; index < repeats; index++) await operation(index);
  await sleep(300);
  return summarise(counter, name, repeats);
}

function summarise(counter: StatementCounter, operation: string, repeats: number): OperationCost {
  const counts = counter.snapshot();
  return {
    operation,
    repeats,
    statementsPer: counts.statements / repeats,
    roundTripsPer: counts.roundTrips / repeats,
    statements: [...counts.bySql]
      .sort((a, b) => b[1] - a[1])
      .map(([sql, count]) => ({ perOperation: count / repeats, sql: sql.length > 160 ? `${sql.slice(0, 157)}...` : sql })),
  };
}

/** graphql-ws clients subscribed to orderEvents, added one at a time (each acknowledged). */
function subscriberFactory(url: string, token: string) {
  const clients: Client[] = [];
  return {
    clients,
    async one() {
      const client = createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${token}` }, retryAttempts: 0 });
      const acknowledged = new Promise<void>((resolve) => client.on('connected', () => resolve()));
      client.subscribe({ query: 'subscription { orderEvents { sequence refId type status } }' }, { next: () => {}, error: () => {}, complete: () => {} });
      await acknowledged;
      // The subscription itself is set up just after the acknowledgement.
      await sleep(50);
      clients.push(client);
    },
    async disposeAll() {
      await Promise.all(clients.map((client) => client.dispose()));
    },
  };
}

async function run(options: BenchOptions): Promise<ScenarioResult> {
  const database = await createDatabase('queries');
  const counter = await startStatementCounter(database);
  onCleanup(counter.close);
  const service = await startService({
    label: 'queries',
    databaseUrl: counter.databaseUrl,
    env: QUIET,
    echo: options.verbose,
  });
  const provider = await service.createClient('SERVICE_PROVIDER', { name: 'bench queries provider' });
  const admin = await service.createClient('ADMIN', { name: 'bench queries introspector' });
  const token = await service.token(provider);
  const registered = await seedRegistrations(service, token, 4);
  const lookupNumber = (index: number) => (index % 2 ? mobileNumber(7_000 + index) : registered[Math.abs(index) % registered.length]);
  const graphql = (url: string, query: string, variables: Record<string, unknown>) =>
    fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    }).then((response) => response.text());
  const placeOrder = (index: number) => graphql(service.url, PLACE_ORDER, { input: placeOrderInput(`queries-${RUN_STAMP}-${index}-${Math.random()}`, 100 + Math.abs(index)) });

  const costs: OperationCost[] = [];
  costs.push(await costOf(counter, 'lookup', (index) => graphql(service.url, LOOKUP, { input: { mobileNumber: lookupNumber(index) } })));

  // The bare baseline on the same counted database.
  const port = await freePort();
  const bare = spawnTsNode('bare-lookup', 'bench/baseline-server.ts', {
    env: { DATABASE_URL: counter.databaseUrl, DATA_HASH_KEY: service.env.DATA_HASH_KEY, PORT: String(port) },
    echo: options.verbose,
  });
  await waitForHttp(`http://127.0.0.1:${port}/health`, bare);
  costs.push(await costOf(counter, 'lookup (bare baseline)', (index) => graphql(`http://127.0.0.1:${port}`, LOOKUP, { input: { mobileNumber: lookupNumber(index) } })));
  await bare.stop();

  costs.push(await costOf(counter, 'placeOrder (incl. the TEST partner)', placeOrder));
  costs.push(await costOf(counter, 'POST /oidc/token', () => service.token(provider)));
  costs.push(
    await costOf(counter, 'POST /oidc/token/introspection', () =>
      fetch(`${service.url}/oidc/token/introspection`, {
        method: 'POST',
        headers: { authorization: basicAuthorization(admin), 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${encodeURIComponent(token)}`,
      }).then((response) => response.text()),
    ),
  );

  // Subscribers: setting one up, and what an event costs with them listening (with the
  // re-checks of their tokens an hour apart, so that those do not count here).
  const subscribe = subscriberFactory(service.url, token);
  costs.push(await costOf(counter, 'subscriber set-up (connect + subscribe)', subscribe.one));
  const subscribers = subscribe.clients.length;
  costs.push(await costOf(counter, `placeOrder with ${subscribers} subscribers`, placeOrder, 5));
  await subscribe.disposeAll();
  await service.stop();

  // The periodic token re-check of a subscription, on the same database with a 1 s interval:
  // idle subscribers cause nothing else. With the first service's data keys: the signing keys
  // it stored are sealed with them.
  const rechecking = await startService({
    label: 'queries-recheck',
    databaseUrl: counter.databaseUrl,
    env: { ...QUIET, SUBSCRIPTION_TOKEN_CHECK_SECONDS: '1', DATA_ENCRYPTION_KEYS: service.env.DATA_ENCRYPTION_KEYS, DATA_HASH_KEY: service.env.DATA_HASH_KEY },
    echo: options.verbose,
  });
  const idleSubscribers = subscriberFactory(rechecking.url, await rechecking.token(provider));
  for (let index = 0; index < 10; index++) await idleSubscribers.one();
  await sleep(500);
  counter.reset();
  const idleSeconds = 5;
  await sleep(idleSeconds * 1000);
  const recheck = summarise(counter, 'token re-check of one subscription', idleSubscribers.clients.length * idleSeconds);
  costs.push(recheck);
  await idleSubscribers.disposeAll();
  await rechecking.stop();
  await counter.close();

  const byName = (name: string) => costs.find((cost) => cost.operation === name)!;
  const lookup = byName('lookup');
  const bareLookup = byName('lookup (bare baseline)');
  const withSubscribers = byName(`placeOrder with ${subscribers} subscribers`);
  const placeOrderCost = byName('placeOrder (incl. the TEST partner)');
  const recheckStatementsPerSecond = (options.subscribers / DEFAULT_CHECK_SECONDS) * recheck.statementsPer;
  return {
    figures: [
      lessIsBetter({
        scenario: 'queries',
        figure: 'SQL statements per lookup vs bare',
        value: lookup.statementsPer,
        unit: '',
        reference: { kind: 'baseline', label: 'bare', value: bareLookup.statementsPer },
      }),
      info({ scenario: 'queries', figure: 'SQL statements per placeOrder (incl. partner)', value: placeOrderCost.statementsPer, unit: '' }),
      info({ scenario: 'queries', figure: `... with ${subscribers} subscribers listening`, value: withSubscribers.statementsPer, unit: '' }),
      info({ scenario: 'queries', figure: 'SQL statements per POST /oidc/token', value: byName('POST /oidc/token').statementsPer, unit: '' }),
      info({ scenario: 'queries', figure: 'SQL statements per introspection', value: byName('POST /oidc/token/introspection').statementsPer, unit: '' }),
      info({ scenario: 'queries', figure: 'SQL statements per subscriber set-up', value: byName('subscriber set-up (connect + subscribe)').statementsPer, unit: '' }),
      info({ scenario: 'queries', figure: 'SQL statements per subscription token re-check', value: recheck.statementsPer, unit: '' }),
      info({
        scenario: 'queries',
        figure: `re-check statements/s at ${options.subscribers} idle subscribers`,
        value: recheckStatementsPerSecond,
        unit: '/s',
        note: `every subscription re-checks its token every ${DEFAULT_CHECK_SECONDS} s (SUBSCRIPTION_TOKEN_CHECK_SECONDS); here all share one token, so most checks hit the service's token cache`,
      }),
    ],
    details: { costs },
  };
}

export const queriesScenario: Scenario = {
  name: 'queries',
  description: 'SQL statements per operation, counted on the wire (explains the timed figures)',
  run,
};
