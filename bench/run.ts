// npm run bench [-- --only=lookup,placeOrder,subscribers,tokens,queries,abuse] [--duration=10]
//   [--warmup=3] [--connections=25] [--subscribers=10000] [--batch=500] [--rounds=5]
//   [--cpu-prof] [--heap-profile] [--verbose]
//
// BENCH_DATABASE_URL names the PostgreSQL server's database to create the run's databases from
// (default postgres://root@127.0.0.1:5432/test); BENCH_SERVICE_ROOT measures the service of
// another checkout (a copy with a change to try) with this benchmark.
//
// Runs the benchmark scenarios on PostgreSQL, each on fresh databases with the service (and its
// baselines) as child processes, prints one table and saves it with every raw figure as
// bench/results/latest.json and a timestamped copy. Databases and children are removed at the
// end, also after an error or Ctrl-C.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cleanUp, cleanUpOnSignals, PROFILE_DIR } from './harness.js';
import { formatTable, gitState, machineInfo, saveReport, type BenchReport, type Figure } from './report.js';
import { formatProfileSummary, summariseProfile } from './cpu-profile-summary.js';
import type { BenchOptions, Scenario } from './options.js';
import { lookupScenario } from './scenarios/lookup.js';
import { placeOrderScenario } from './scenarios/place-order.js';
import { subscribersScenario } from './scenarios/subscribers.js';
import { tokensScenario } from './scenarios/tokens.js';
import { queriesScenario } from './scenarios/queries.js';
import { abuseScenario } from './scenarios/abuse.js';

const SCENARIOS: Scenario[] = [lookupScenario, placeOrderScenario, subscribersScenario, tokensScenario, queriesScenario, abuseScenario];

function usage(): string {
  return [
    'Usage: npm run bench -- [options]',
    '  --only=a,b          scenarios to run (default: all):',
    ...SCENARIOS.map((scenario) => `                        ${scenario.name.padEnd(12)} ${scenario.description}`),
    '  --duration=10       seconds of each measured load run',
    '  --warmup=3          seconds of the unmeasured run before each (default: min(3, duration))',
    '  --connections=25    concurrent HTTP connections of the load runs',
    '  --subscribers=10000 WebSocket subscribers',
    '  --batch=500         subscribers connecting at once',
    '  --rounds=5          events fanned out to all subscribers',
    '  --cpu-prof          CPU profiles of the servers during the measured windows, summarised at the end',
    '  --heap-profile      subscribers: what a subscriber holds on the heap, from two heap snapshots',
    '  --verbose           echo the children\'s output',
  ].join('\n');
}

function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`--${name} must be a positive number (got ${value})`);
  return number;
}

function parseOptions(argv: string[]): { options: BenchOptions; scenarios: Scenario[] } | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      subscribers: { type: 'string' },
      batch: { type: 'string' },
      rounds: { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      'heap-profile': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const durationSeconds = positiveNumber('duration', values.duration, 10);
  const options: BenchOptions = {
    durationSeconds,
    warmupSeconds: values.warmup === '0' ? 0 : positiveNumber('warmup', values.warmup, Math.min(3, durationSeconds)),
    connections: Math.round(positiveNumber('connections', values.connections, 25)),
    subscribers: Math.round(positiveNumber('subscribers', values.subscribers, 10_000)),
    subscriberBatch: Math.round(positiveNumber('batch', values.batch, 500)),
    fanoutRounds: Math.round(positiveNumber('rounds', values.rounds, 5)),
    cpuProfile: values['cpu-prof'],
    heapProfile: values['heap-profile'],
    verbose: values.verbose,
  };
  const wanted = values.only?.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  const scenarios = wanted ? SCENARIOS.filter((scenario) => wanted.includes(scenario.name.toLowerCase())) : SCENARIOS;
  const unknown = wanted?.filter((name) => !SCENARIOS.some((scenario) => scenario.name.toLowerCase() === name));
  if (unknown?.length) throw new Error(`Unknown scenario(s): ${unknown.join(', ')} (known: ${SCENARIOS.map((scenario) => scenario.name).join(', ')})`);
  return { options, scenarios };
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (!parsed) {
    console.log(usage());
    return 0;
  }
  const { options, scenarios } = parsed;
  cleanUpOnSignals();
  const startedAt = new Date().toISOString();
  const machine = await machineInfo();
  console.log(`Benchmark on ${machine.cpuCount} x ${machine.cpuModel}, ${machine.totalMemoryMb} MB, Node ${machine.node}`);
  const checkout = machine.git ? `${machine.git.serviceRoot} at ${machine.git.commit}${machine.git.srcChanged ? ' with uncommitted changes in src/' : ''}` : '?';
  console.log(`${machine.postgres.split(' on ')[0]}; service from ${checkout}`);
  console.log(`${JSON.stringify(options)}\n`);

  const figures: Figure[] = [];
  const details: Record<string, unknown> = {};
  const failures: Record<string, string> = {};
  try {
    for (const scenario of scenarios) {
      const started = Date.now();
      // Load from outside the benchmark (other jobs on the machine) skews every figure, and the
      // service's code may change during a long run: keep both on record per scenario.
      const loadAverageBefore = os.loadavg().map((value) => Number(value.toFixed(2)));
      const git = gitState();
      const code = git ? `, ${git.commit}${git.srcChanged ? '+changes' : ''}` : '';
      console.log(`== ${scenario.name}: ${scenario.description} (load average ${loadAverageBefore.join(' ')}${code})`);
      try {
        const result = await scenario.run(options);
        figures.push(...result.figures);
        details[scenario.name] = { ...result.details, git, loadAverageBefore, loadAverageAfter: os.loadavg().map((value) => Number(value.toFixed(2))) };
        console.log(`   done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
      } catch (error) {
        // One broken scenario should not cost the figures of the others.
        failures[scenario.name] = error instanceof Error ? (error.stack ?? error.message) : String(error);
        console.error(`   ${scenario.name} failed: ${failures[scenario.name]}\n`);
      }
      // Every scenario stops its own children; whatever is left goes now, databases included.
      await cleanUp();
    }
  } finally {
    await cleanUp();
  }

  const report: BenchReport = { startedAt, finishedAt: new Date().toISOString(), machine, options: { ...options, scenarios: scenarios.map((scenario) => scenario.name) }, figures, details, failures };
  const saved = saveReport(report);
  console.log(formatTable(figures));
  console.log(`\nSaved ${path.relative(process.cwd(), saved.latest)} and ${path.relative(process.cwd(), saved.stamped)}`);
  if (options.cpuProfile && fs.existsSync(PROFILE_DIR)) {
    for (const file of fs.readdirSync(PROFILE_DIR).filter((name) => name.endsWith('.cpuprofile'))) {
      console.log(`\n${formatProfileSummary(summariseProfile(path.join(PROFILE_DIR, file), 15))}`);
    }
  }
  const failed = figures.filter((figure) => figure.pass === false).length;
  console.log(`\nTargets: ${figures.filter((figure) => figure.pass).length} met, ${failed} missed${Object.keys(failures).length ? `, scenarios that did not finish: ${Object.keys(failures).join(', ')}` : ''}`);
  // A missed target is a finding, not a crash: only a scenario that could not run fails the command.
  return Object.keys(failures).length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    await cleanUp();
    process.exit(1);
  },
);
