// Abuse: other clients' lookup latency while four clients send the bombs of issue 12 without
// pause (a thousand aliased pages, ten pairs of events/order nesting, two hundred aliased
// placeOrder, and pages sized by variables). The operation limits refuse them before they run,
// so the lookups should hardly notice: goal p99 at most twice the p99 without them.
import { describeLoad, LOOKUP, mobileNumber, runLoad, seedRegistrations, startService, type ServiceChild } from '../harness.js';
import { info, lessIsBetter } from '../report.js';
import type { BenchOptions, Scenario, ScenarioResult } from '../options.js';

const REGISTERED = 20;
/** The p99 under attack may be at most twice the p99 without (ratio alone / attacked >= 0.5). */
const TARGET_RATIO = 0.5;

function bombs(methodId: string): Array<{ name: string; query: string; variables?: Record<string, unknown> }> {
  let nested = 'refId';
  for (let pair = 0; pair < 10; pair++) nested = `events { order { ${nested} } }`;
  return [
    { name: '1,000 orders(first: 100) aliases', query: `{ ${Array.from({ length: 1000 }, (_, i) => `p${i}: orders(first: 100) { edges { node { refId status } } }`).join(' ')} }` },
    { name: '10 pairs of events/order', query: `{ order(refId: "R") { ${nested} } }` },
    { name: '200 placeOrder aliases', query: `mutation { ${Array.from({ length: 200 }, (_, i) => `o${i}: placeOrder(input: { methodId: "${methodId}" }) { order { refId } }`).join(' ')} }` },
    {
      name: '15 pages of 100 by variable',
      query: `query Pages($n: Int) { ${Array.from({ length: 15 }, (_, i) => `p${i}: orders(first: $n) { edges { node { refId events { status } } } }`).join(' ')} }`,
      variables: { n: 100 },
    },
  ];
}

/** Sends one bomb again and again until stopped; counts answers by status. */
function bombard(service: ServiceChild, token: string, bomb: { query: string; variables?: Record<string, unknown> }) {
  let running = true;
  const statuses: Record<string, number> = {};
  const done = (async () => {
    const body = JSON.stringify(bomb);
    while (running) {
      try {
        const response = await fetch(`${service.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
        await response.arrayBuffer();
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      } catch {
        statuses.failed = (statuses.failed ?? 0) + 1;
      }
    }
  })();
  return {
    statuses,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

async function run(options: BenchOptions): Promise<ScenarioResult> {
  // The rate limit is not what is measured here (it would refuse the bombers too): only the
  // operation limits stand between the bombs and the database.
  const service = await startService({ label: 'abuse', env: { RATE_LIMIT_PER_CLIENT: '1000000' }, echo: options.verbose });
  try {
    const provider = await service.createClient('SERVICE_PROVIDER', { name: 'bench abuse lookups' });
    const token = await service.token(provider);
    const registered = await seedRegistrations(service, token, REGISTERED);
    const numbers = registered.flatMap((number, index) => [number, mobileNumber(6_000 + index)]);
    const methodId = Buffer.from('IdentificationMethod:test-video').toString('base64');

    let next = 0;
    const load = () =>
      runLoad({
        url: service.url,
        path: '/graphql',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: () => JSON.stringify({ query: LOOKUP, variables: { input: { mobileNumber: numbers[next++ % numbers.length] } } }),
        connections: options.connections,
        durationSeconds: options.durationSeconds,
        warmupSeconds: options.warmupSeconds,
        watch: { service: service.child.pid },
      });
    const alone = await load();
    console.log(describeLoad('lookup alone', alone));

    const attackers = await Promise.all(bombs(methodId).map(async (bomb) => ({ bomb, token: await service.token(await service.createClient('SERVICE_PROVIDER', { name: `bench bomber ${bomb.name}` })) })));
    const running = attackers.map(({ bomb, token: bomberToken }) => ({ name: bomb.name, ...bombard(service, bomberToken, bomb) }));
    let attacked;
    try {
      attacked = await load();
    } finally {
      await Promise.all(running.map((bomber) => bomber.stop()));
    }
    console.log(describeLoad('lookup under bombs', attacked));
    const bombAnswers = Object.fromEntries(running.map((bomber) => [bomber.name, bomber.statuses]));
    console.log(`bombs answered: ${JSON.stringify(bombAnswers)}`);
    const accepted = running.reduce((sum, bomber) => sum + Object.entries(bomber.statuses).filter(([status]) => status !== '400').reduce((count, [, n]) => count + n, 0), 0);

    return {
      figures: [
        lessIsBetter({
          scenario: 'abuse',
          figure: 'lookup p99 under four bombs vs alone',
          value: attacked.latencyMs.p99,
          unit: 'ms',
          reference: { kind: 'baseline', label: 'alone', value: alone.latencyMs.p99 },
          minRatio: TARGET_RATIO,
          note: running.map((bomber) => bomber.name).join('; '),
        }),
        info({ scenario: 'abuse', figure: 'bomb answers other than 400', value: accepted, unit: '' }),
      ],
      details: { alone, attacked, bombAnswers },
    };
  } finally {
    await service.stop();
  }
}

export const abuseScenario: Scenario = {
  name: 'abuse',
  description: 'lookup p99 alone vs while four clients send the operation bombs of issue 12',
  run,
};
