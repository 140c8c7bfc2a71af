// N WebSocket subscribers of orderEvents on one service provider's token: the service's memory
// per subscriber and how long one event takes to reach all of them, next to two baselines with
// as many connections: the GraphQL stack alone (graphql-ws + yoga, a subscription fed from
// memory) and a bare `ws` server broadcasting one message. The clients live in a child process
// (bench/subscriber-fleet.ts), which also sends each round's trigger and times the arrivals.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectCommand, ConnectedReply, FleetCommand, FleetMode, FleetReply, RoundReply, Trigger } from '../fleet-protocol.js';
import { describeDatabaseActivity, freePort, median, PLACE_ORDER, placeOrderInput, PROFILE_DIR, residentKb, RUN_STAMP, spawnTsNode, startService, waitForHttp, sampleDatabaseActivity, type Child, type DatabaseActivity } from '../harness.js';
import { heapGrowth, INSPECT_FLAG, openInspector, type Inspector, type MemoryUsage } from '../inspector.js';
import { info, lessIsBetter, moreIsBetter } from '../report.js';
import type { BenchOptions, Scenario, ScenarioResult } from '../options.js';

// Issue 17: a third below graphql-ws + yoga alone (about 17 KB here).
const TARGET_KB_PER_SUBSCRIBER = 12;
const TARGET_FANOUT_P99_MS = 500;
/** Subscribers that connect, receive one event and leave before the memory baseline is read. */
const WARMUP_SUBSCRIBERS = 200;
const ROUND_TIMEOUT_MS = 30_000;
/** Subscribers between the two heap snapshots of --heap-profile (a snapshot of 10,000 is too big to parse). */
const HEAP_PROFILE_SUBSCRIBERS = 1000;

const SUBSCRIPTION = 'subscription BenchOrderEvents { orderEvents { sequence refId type status } }';

// ---- the fleet -------------------------------------------------------------------------------

interface Fleet {
  connect(command: Omit<ConnectCommand, 'kind' | 'batchSize'>): Promise<ConnectedReply>;
  round(trigger: Trigger): Promise<RoundReply>;
  disconnect(): Promise<void>;
  exit(): Promise<void>;
}

function startFleet(options: BenchOptions): Fleet {
  const child = spawnTsNode('subscriber-fleet', 'bench/subscriber-fleet.ts', { ipc: true, echo: options.verbose });
  let exited = false;
  void child.exited.then(() => (exited = true));
  // One command at a time: each answer belongs to the command before it.
  const ask = async <Reply extends FleetReply>(command: FleetCommand, kind: Reply['kind']): Promise<Reply> => {
    if (exited) throw new Error(`The subscriber fleet has exited:\n${child.output()}`);
    const answer = new Promise<FleetReply>((resolve, reject) => {
      child.process.once('message', (message) => resolve(message as FleetReply));
      void child.exited.then(() => reject(new Error(`The subscriber fleet exited during ${command.kind}:\n${child.output()}`)));
    });
    child.process.send(command);
    const reply = await answer;
    if (reply.kind === 'error') throw new Error(`The subscriber fleet failed: ${reply.message}`);
    if (reply.kind !== kind) throw new Error(`The subscriber fleet answered ${reply.kind} to ${command.kind}`);
    return reply as Reply;
  };
  return {
    connect: (command) => ask<ConnectedReply>({ kind: 'connect', batchSize: options.subscriberBatch, ...command }, 'connected'),
    round: (trigger) => ask<RoundReply>({ kind: 'round', trigger, timeoutMs: ROUND_TIMEOUT_MS }, 'round'),
    disconnect: async () => void (await ask({ kind: 'disconnect' }, 'disconnected')),
    exit: async () => {
      if (!exited) child.process.send({ kind: 'exit' } satisfies FleetCommand);
      await Promise.race([child.exited, sleep(10_000)]);
      await child.stop();
    },
  };
}

// ---- one measurement: the service or the bare server -----------------------------------------

interface Target {
  name: string;
  /** The service's database, whose connections are watched during the rounds. */
  databaseUrl?: string;
  /** The server process whose memory is read. */
  child: Child;
  mode: FleetMode;
  wsUrl: string;
  token?: string;
  query?: string;
  /** A new trigger for every round (placeOrder needs a unique key). */
  trigger(): Trigger;
}

interface MemoryReading {
  rssKb: number;
  usage: MemoryUsage;
}

export interface FleetMeasurement {
  subscribers: number;
  connect: ConnectedReply;
  before: MemoryReading;
  after: MemoryReading;
  /** (RSS after − RSS before) / subscribers. */
  rssKbPerSubscriber: number;
  /** (heapUsed after − heapUsed before) / subscribers, after a full GC. */
  heapKbPerSubscriber: number;
  warmupRounds: RoundReply[];
  rounds: RoundReply[];
  /** What the service's database connections did during the measured rounds. */
  databaseActivity?: DatabaseActivity;
  /** --heap-profile: what one subscriber adds to the heap, by kind of object. */
  heapPerSubscriber?: ReturnType<typeof heapGrowth>;
}

/** Latencies travel over IPC as JSON: a round nobody received has null (NaN) percentiles. */
const ms = (value: number | null) => (value === null || Number.isNaN(value) ? 'n/a' : `${value.toFixed(0)} ms`);

function describeRound(round: RoundReply): string {
  const missing = round.missing ? `, ${round.missing} missing (trigger answered ${round.triggerStatus} after ${ms(round.triggerMs)}: ${round.triggerAnswer.slice(0, 120)})` : '';
  return `${round.received} received, p50 ${ms(round.latencyMs.p50)}, p99 ${ms(round.latencyMs.p99)}, max ${ms(round.latencyMs.max)}${missing}`;
}

/** Memory once the work in flight is done: two full collections, then VmRSS and the heap. */
async function settledMemory(child: Child, inspector: Inspector): Promise<MemoryReading> {
  await sleep(2000);
  await inspector.collectGarbage();
  await inspector.collectGarbage();
  await sleep(1000);
  return { rssKb: residentKb(child.pid), usage: await inspector.memoryUsage() };
}

async function measure(target: Target, fleet: Fleet, options: BenchOptions, log: (line: string) => void): Promise<FleetMeasurement> {
  const inspector = await openInspector(target.child);
  const connectCommand = { mode: target.mode, url: target.wsUrl, token: target.token, query: target.query };
  try {
    // Load the code of every step once, so that the baseline reading holds it already.
    await fleet.connect({ ...connectCommand, count: WARMUP_SUBSCRIBERS });
    await sleep(1000);
    await fleet.round(target.trigger());
    await fleet.disconnect();
    const before = await settledMemory(target.child, inspector);

    const connect = await fleet.connect({ ...connectCommand, count: options.subscribers });
    log(`${target.name}: ${connect.connected} of ${connect.requested} connected in ${connect.seconds.toFixed(1)} s${connect.firstError ? ` (first error: ${connect.firstError})` : ''}`);
    if (!connect.connected) throw new Error(`${target.name}: no subscriber could connect: ${connect.firstError}`);
    // Memory of idle subscribers, read before any event, so that a slow or failing fan-out does
    // not count as what subscribers hold. Subscriptions are set up just after the
    // acknowledgement; one event that reaches everyone shows that they all were. If some were
    // not yet, the reading is taken again once an event reached all.
    await sleep(3000);
    let after = await settledMemory(target.child, inspector);
    const warmupRounds: RoundReply[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const warmup = await fleet.round(target.trigger());
      warmupRounds.push(warmup);
      log(`${target.name}: warm-up event: ${describeRound(warmup)}`);
      if (warmup.missing === 0) break;
      await sleep(3000);
      if (warmup.received > 0) after = await settledMemory(target.child, inspector);
    }

    const rounds: RoundReply[] = [];
    const activity = target.databaseUrl ? await sampleDatabaseActivity(target.databaseUrl) : undefined;
    if (options.cpuProfile) await inspector.startProfiling();
    for (let index = 0; index < options.fanoutRounds; index++) {
      await sleep(1000);
      const round = await fleet.round(target.trigger());
      rounds.push(round);
      log(`${target.name}: round ${index + 1}: ${describeRound(round)}`);
      // Two events in a row that reached nobody: the service stopped delivering; more rounds
      // would only add minutes of timeouts.
      if (rounds.length >= 2 && rounds.slice(-2).every((missed) => missed.received === 0)) {
        log(`${target.name}: no subscriber received the last two events; skipping the remaining rounds`);
        break;
      }
    }
    const databaseActivity = await activity?.();
    if (databaseActivity) log(`${target.name}: during the rounds, ${describeDatabaseActivity(databaseActivity)}; busy with ${JSON.stringify(databaseActivity.busyWith)}`);
    if (options.cpuProfile) {
      fs.mkdirSync(PROFILE_DIR, { recursive: true });
      fs.writeFileSync(path.join(PROFILE_DIR, `fanout-${target.name.replace(/\W+/g, '-')}.cpuprofile`), await inspector.stopProfiling());
    }
    await fleet.disconnect();
    const heapPerSubscriber = options.heapProfile ? await heapProfile(target, fleet, inspector, log) : undefined;
    return {
      databaseActivity,
      heapPerSubscriber,
      subscribers: connect.connected,
      connect,
      before,
      after,
      rssKbPerSubscriber: (after.rssKb - before.rssKb) / connect.connected,
      heapKbPerSubscriber: (after.usage.heapUsed - before.usage.heapUsed) / 1024 / connect.connected,
      warmupRounds,
      rounds,
    };
  } finally {
    inspector.close();
  }
}

/** Two heap snapshots around HEAP_PROFILE_SUBSCRIBERS subscribers: what each one holds. */
async function heapProfile(target: Target, fleet: Fleet, inspector: Inspector, log: (line: string) => void) {
  await settledMemory(target.child, inspector);
  const before = await inspector.heapByKind();
  await fleet.connect({ mode: target.mode, url: target.wsUrl, token: target.token, query: target.query, count: HEAP_PROFILE_SUBSCRIBERS });
  await sleep(3000);
  await fleet.round(target.trigger());
  await settledMemory(target.child, inspector);
  const growth = heapGrowth(before, await inspector.heapByKind(), HEAP_PROFILE_SUBSCRIBERS);
  await fleet.disconnect();
  log(`${target.name}: heap per subscriber by kind (bytes, count):`);
  for (const kind of growth.slice(0, 15)) log(`  ${kind.bytesPerUnit.toFixed(0).padStart(7)}  ${kind.countPerUnit.toFixed(1).padStart(6)}  ${kind.kind}`);
  return growth;
}

// ---- the scenario ----------------------------------------------------------------------------

async function measureService(options: BenchOptions, fleet: Fleet, log: (line: string) => void): Promise<FleetMeasurement> {
  const service = await startService({
    label: 'subscribers',
    nodeFlags: [INSPECT_FLAG],
    echo: options.verbose,
  });
  const provider = await service.createClient('SERVICE_PROVIDER', { name: 'bench subscribers provider' });
  const token = await service.token(provider);
  let orders = 0;
  const measured = await measure(
    {
      name: 'service',
      databaseUrl: service.env.DATABASE_URL,
      child: service.child,
      mode: 'graphql-ws',
      wsUrl: `${service.url.replace('http', 'ws')}/graphql`,
      token,
      query: SUBSCRIPTION,
      trigger: () => ({
        url: `${service.url}/graphql`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: PLACE_ORDER, variables: { input: placeOrderInput(`fanout-${RUN_STAMP}-${orders}`, orders++) } }),
      }),
    },
    fleet,
    options,
    log,
  );
  await service.stop();
  return measured;
}

/** The same event as the service sends, as the baselines send it. */
const SAMPLE_EVENT = { sequence: '1234', refId: 'SRS-ZP3CA0ZD-PXB222M5', type: 'STATUS_CHANGED', status: 'CREATED' };

async function measureGraphqlStack(options: BenchOptions, fleet: Fleet, log: (line: string) => void): Promise<FleetMeasurement> {
  const port = await freePort();
  const child = spawnTsNode('yoga-ws', 'bench/baseline-yoga-ws-server.ts', { env: { PORT: String(port) }, nodeFlags: [INSPECT_FLAG], echo: options.verbose });
  await waitForHttp(`http://127.0.0.1:${port}/health`, child);
  const measured = await measure(
    {
      name: 'graphql-ws + yoga',
      child,
      mode: 'graphql-ws',
      wsUrl: `ws://127.0.0.1:${port}/graphql`,
      token: 'unused',
      query: SUBSCRIPTION,
      trigger: () => ({ url: `http://127.0.0.1:${port}/broadcast`, headers: { 'content-type': 'application/json' }, body: JSON.stringify(SAMPLE_EVENT) }),
    },
    fleet,
    options,
    log,
  );
  await child.stop();
  return measured;
}

async function measureBare(options: BenchOptions, fleet: Fleet, log: (line: string) => void): Promise<FleetMeasurement> {
  const port = await freePort();
  const child = spawnTsNode('bare-ws', 'bench/baseline-ws-server.ts', { env: { PORT: String(port) }, nodeFlags: [INSPECT_FLAG], echo: options.verbose });
  await waitForHttp(`http://127.0.0.1:${port}/health`, child);
  // The same shape and size as the service's message for one event.
  const message = JSON.stringify({ id: '6f1c3e52-8a1b-4a53-9d0e-2b4f1c9e7a10', type: 'next', payload: { data: { orderEvents: SAMPLE_EVENT } } });
  const measured = await measure(
    {
      name: 'bare ws',
      child,
      mode: 'bare-ws',
      wsUrl: `ws://127.0.0.1:${port}/ws`,
      trigger: () => ({ url: `http://127.0.0.1:${port}/broadcast`, headers: { 'content-type': 'application/json' }, body: message }),
    },
    fleet,
    options,
    log,
  );
  await child.stop();
  return measured;
}

async function run(options: BenchOptions): Promise<ScenarioResult> {
  const log = (line: string) => console.log(`  ${line}`);
  const fleet = startFleet(options);
  let service: FleetMeasurement;
  let stack: FleetMeasurement;
  let bare: FleetMeasurement;
  try {
    service = await measureService(options, fleet, log);
    stack = await measureGraphqlStack(options, fleet, log);
    bare = await measureBare(options, fleet, log);
  } finally {
    await fleet.exit();
  }

  const p99s = (measurement: FleetMeasurement) => measurement.rounds.map((round) => round.latencyMs.p99);
  const worstP99 = Math.max(...p99s(service));
  const medianP99 = median(p99s(service));
  const bareWorstP99 = Math.max(...p99s(bare));
  const stackWorstP99 = Math.max(...p99s(stack));
  const missed = service.rounds.reduce((sum, round) => sum + round.missing + round.wrongEvent, 0);
  const count = `${service.subscribers} subscribers`;
  return {
    figures: [
      lessIsBetter({
        scenario: 'subscribers',
        figure: `memory per subscriber (RSS, ${count})`,
        value: service.rssKbPerSubscriber,
        unit: 'KB',
        reference: { kind: 'target', label: 'target', value: TARGET_KB_PER_SUBSCRIBER },
        minRatio: 1,
      }),
      lessIsBetter({
        scenario: 'subscribers',
        figure: 'memory per subscriber vs bare ws connection',
        value: service.rssKbPerSubscriber,
        unit: 'KB',
        reference: { kind: 'baseline', label: 'bare ws', value: bare.rssKbPerSubscriber },
      }),
      lessIsBetter({
        scenario: 'subscribers',
        figure: 'memory per subscriber vs graphql-ws+yoga alone',
        value: service.rssKbPerSubscriber,
        unit: 'KB',
        reference: { kind: 'baseline', label: 'stack', value: stack.rssKbPerSubscriber },
      }),
      lessIsBetter({
        scenario: 'subscribers',
        figure: 'JS heap per subscriber vs graphql-ws+yoga alone',
        value: service.heapKbPerSubscriber,
        unit: 'KB',
        reference: { kind: 'baseline', label: 'stack', value: stack.heapKbPerSubscriber },
      }),
      lessIsBetter({
        scenario: 'subscribers',
        figure: 'JS heap per subscriber vs bare ws (after GC)',
        value: service.heapKbPerSubscriber,
        unit: 'KB',
        reference: { kind: 'baseline', label: 'bare ws', value: bare.heapKbPerSubscriber },
      }),
      lessIsBetter({
        scenario: 'subscribers',
        figure: `fan-out p99, worst of ${service.rounds.length} events`,
        value: worstP99,
        unit: 'ms',
        reference: { kind: 'target', label: 'target', value: TARGET_FANOUT_P99_MS },
        minRatio: 1,
      }),
      lessIsBetter({
        scenario: 'subscribers',
        figure: `fan-out p99, median of ${service.rounds.length} events`,
        value: medianP99,
        unit: 'ms',
        reference: { kind: 'target', label: 'target', value: TARGET_FANOUT_P99_MS },
        minRatio: 1,
      }),
      lessIsBetter({
        scenario: 'subscribers',
        figure: 'fan-out p99 (worst) vs bare ws broadcast',
        value: worstP99,
        unit: 'ms',
        reference: { kind: 'baseline', label: 'bare ws', value: bareWorstP99 },
      }),
      lessIsBetter({
        scenario: 'subscribers',
        figure: 'fan-out p99 (worst) vs graphql-ws+yoga alone',
        value: worstP99,
        unit: 'ms',
        reference: { kind: 'baseline', label: 'stack', value: stackWorstP99 },
      }),
      info({ scenario: 'subscribers', figure: 'fan-out p50 (median of events)', value: median(service.rounds.map((round) => round.latencyMs.p50)), unit: 'ms' }),
      info({ scenario: 'subscribers', figure: 'fan-out max (worst event)', value: Math.max(...service.rounds.map((round) => round.latencyMs.max)), unit: 'ms' }),
      moreIsBetter({
        scenario: 'subscribers',
        figure: 'subscribers connected per second vs bare ws',
        value: service.subscribers / service.connect.seconds,
        unit: '/s',
        reference: { kind: 'baseline', label: 'bare ws', value: bare.subscribers / bare.connect.seconds },
      }),
      info({
        scenario: 'subscribers',
        figure: 'missed or wrong events (all rounds)',
        value: missed,
        unit: '',
        note: `a missed event counts as the ${ROUND_TIMEOUT_MS / 1000} s timeout in the latencies`,
      }),
    ],
    details: { service, graphqlStack: stack, bare },
  };
}

export const subscribersScenario: Scenario = {
  name: 'subscribers',
  description: 'N graphql-ws subscribers: memory per subscriber and event fan-out, vs graphql-ws+yoga alone and bare ws',
  run,
};
