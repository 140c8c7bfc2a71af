// placeOrder on the TEST method: each request a new order (unique externalId and idempotency
// key), opened at the built-in TEST partner over HTTP, as with a real partner. Only answers with
// an INITIALIZED order count; GraphQL errors, user errors and non-2xx answers are failures.
import { describeLoad, isPlacedOrder, PLACE_ORDER, placeOrderInput, profileFlags, runLoad, RUN_STAMP, startService } from '../harness.js';
import { info, lessIsBetter, moreIsBetter } from '../report.js';
import type { BenchOptions, Scenario, ScenarioResult } from '../options.js';

const TARGET_ORDERS_PER_SECOND = 500;
const TARGET_P99_MS = 50;

async function run(options: BenchOptions): Promise<ScenarioResult> {
  const service = await startService({ label: 'place_order', nodeFlags: profileFlags(options.cpuProfile), echo: options.verbose });
  const provider = await service.createClient('SERVICE_PROVIDER', { name: 'bench placeOrder provider' });
  const token = await service.token(provider);

  let placed = 0;
  const body = () => {
    const key = `bench-${RUN_STAMP}-${placed}`;
    return JSON.stringify({ query: PLACE_ORDER, variables: { input: placeOrderInput(key, placed++) } });
  };
  const result = await runLoad({
    url: service.url,
    path: '/graphql',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
    connections: options.connections,
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    accept: isPlacedOrder,
    watch: { service: service.child.pid },
    databaseUrl: service.env.DATABASE_URL,
    profile: options.cpuProfile ? { child: service.child, name: 'place-order-service' } : undefined,
  });
  console.log(describeLoad('placeOrder', result));
  await service.stop();

  return {
    figures: [
      moreIsBetter({
        scenario: 'placeOrder',
        figure: 'orders created per second',
        value: result.rps,
        unit: 'orders/s',
        reference: { kind: 'target', label: 'target', value: TARGET_ORDERS_PER_SECOND },
        minRatio: 1,
      }),
      lessIsBetter({
        scenario: 'placeOrder',
        figure: 'p99 latency',
        value: result.latencyMs.p99,
        unit: 'ms',
        reference: { kind: 'target', label: 'target', value: TARGET_P99_MS },
        minRatio: 1,
      }),
      info({ scenario: 'placeOrder', figure: 'p50 latency', value: result.latencyMs.p50, unit: 'ms' }),
      info({ scenario: 'placeOrder', figure: 'failed answers', value: result.failed + result.errors, unit: '' }),
      // Throughput on two shared cores says little elsewhere; the CPU one order costs carries over.
      info({ scenario: 'placeOrder', figure: 'service CPU per order (partner included)', value: (result.cpu.byProcess.service * 1000) / result.rps, unit: 'ms' }),
      info({ scenario: 'placeOrder', figure: 'PostgreSQL CPU per order', value: (result.cpu.byProcess.postgres * 1000) / result.rps, unit: 'ms' }),
    ],
    details: { result },
  };
}

export const placeOrderScenario: Scenario = {
  name: 'placeOrder',
  description: 'placeOrder on the TEST partner: orders/s and p99 against 500/s and 50 ms',
  run,
};
