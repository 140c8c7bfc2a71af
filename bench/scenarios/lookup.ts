// lookup through POST /graphql (bearer token, yoga, Pothos, Prisma) against the bare baseline
// (bench/baseline-server.ts: node:http + pg running the same SQL statements), on one database.
import pg from 'pg';
import { describeLoad, freePort, LOOKUP, mobileNumber, profileFlags, runLoad, seedRegistrations, spawnTsNode, startService, waitForHttp, type Child } from '../harness.js';
import { info, lessIsBetter, moreIsBetter } from '../report.js';
import type { BenchOptions, Scenario, ScenarioResult } from '../options.js';

/** Registered numbers (half with accepted T&C, half pending); as many unknown ones are asked too. */
const REGISTERED = 20;
const TARGET_RATIO = 0.5;

/**
 * Audit rows written since `since`, and in how many transactions (rows of one commit share its
 * xmin): how many lookups each group commit carried (src/services/verification-audit.ts).
 */
async function auditCommits(databaseUrl: string, since: Date): Promise<{ rows: number; commits: number }> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ rows: string; commits: string }>(
      'SELECT count(*) AS rows, count(DISTINCT xmin::text) AS commits FROM "VerificationAudit" WHERE at >= $1::timestamp',
      [since.toISOString()],
    );
    return { rows: Number(rows[0].rows), commits: Number(rows[0].commits) };
  } finally {
    await db.end();
  }
}

interface LookupAnswer {
  data?: { lookup?: { valid: boolean; reason: string; evidenceId: string | null } };
  errors?: unknown[];
}

function isLookupAnswer(status: number, body: string): boolean {
  if (status !== 200) return false;
  try {
    const parsed = JSON.parse(body) as LookupAnswer;
    return !parsed.errors?.length && typeof parsed.data?.lookup?.reason === 'string';
  } catch {
    return false;
  }
}

async function run(options: BenchOptions): Promise<ScenarioResult> {
  const service = await startService({ label: 'lookup', nodeFlags: profileFlags(options.cpuProfile), echo: options.verbose });
  const provider = await service.createClient('SERVICE_PROVIDER', { name: 'bench lookup provider' });
  const token = await service.token(provider);
  const registered = await seedRegistrations(service, token, REGISTERED);
  const unknown = Array.from({ length: REGISTERED }, (_, index) => mobileNumber(5_000 + index));
  // Interleaved, so that every connection asks for both kinds.
  const numbers = registered.flatMap((number, index) => [number, unknown[index]]);

  const port = await freePort();
  const bare = spawnTsNode('bare-lookup', 'bench/baseline-server.ts', {
    env: { DATABASE_URL: service.env.DATABASE_URL, DATA_HASH_KEY: service.env.DATA_HASH_KEY, PORT: String(port) },
    nodeFlags: profileFlags(options.cpuProfile),
    echo: options.verbose,
  });
  const bareUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${bareUrl}/health`, bare);

  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const bodyOf = (number: string) => JSON.stringify({ query: LOOKUP, variables: { input: { mobileNumber: number } } });

  // The comparison means something only if both answer the same.
  const answers: Record<string, unknown> = {};
  for (const number of [registered[0], registered[1], unknown[0]]) {
    const [fromService, fromBare] = await Promise.all(
      [service.url, bareUrl].map(async (url) => (await (await fetch(`${url}/graphql`, { method: 'POST', headers, body: bodyOf(number) })).json()) as LookupAnswer),
    );
    if (JSON.stringify(fromService) !== JSON.stringify(fromBare)) {
      throw new Error(`The baseline answers differently for ${number}: service ${JSON.stringify(fromService)}, bare ${JSON.stringify(fromBare)}`);
    }
    answers[number] = fromService.data?.lookup?.reason;
  }

  let next = 0;
  const load = (url: string, child: Child, name: string) =>
    runLoad({
      url,
      path: '/graphql',
      headers,
      body: () => bodyOf(numbers[next++ % numbers.length]),
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      accept: isLookupAnswer,
      watch: { service: service.child.pid, bare: bare.pid },
      databaseUrl: service.env.DATABASE_URL,
      profile: options.cpuProfile ? { child, name } : undefined,
    });
  const serviceLoadStarted = new Date();
  const viaGraphql = await load(service.url, service.child, 'lookup-service');
  console.log(describeLoad('graphql lookup', viaGraphql));
  const audit = await auditCommits(service.env.DATABASE_URL, serviceLoadStarted);
  console.log(`  audit rows per commit (graphql, warm-up included): ${(audit.rows / Math.max(1, audit.commits)).toFixed(1)} (${audit.rows} rows in ${audit.commits} commits)`);
  const viaBare = await load(bareUrl, bare, 'lookup-bare');
  console.log(describeLoad('bare lookup', viaBare));
  await Promise.all([bare.stop(), service.stop()]);

  const note = `${REGISTERED} registered numbers (half OK, half TERMS_PENDING) and ${REGISTERED} unknown ones (NO_EVIDENCE), alternating`;
  return {
    figures: [
      moreIsBetter({
        scenario: 'lookup',
        figure: 'throughput vs bare node:http+pg',
        value: viaGraphql.rps,
        unit: 'req/s',
        reference: { kind: 'baseline', label: 'bare', value: viaBare.rps },
        minRatio: TARGET_RATIO,
        note,
      }),
      lessIsBetter({
        scenario: 'lookup',
        figure: 'p99 latency vs bare',
        value: viaGraphql.latencyMs.p99,
        unit: 'ms',
        reference: { kind: 'baseline', label: 'bare', value: viaBare.latencyMs.p99 },
      }),
      info({ scenario: 'lookup', figure: 'failed responses (graphql)', value: viaGraphql.failed + viaGraphql.errors, unit: '' }),
      info({ scenario: 'lookup', figure: 'audit rows per commit (graphql; bare: 1)', value: audit.rows / Math.max(1, audit.commits), unit: '' }),
    ],
    details: { seededAnswers: answers, note, graphql: viaGraphql, bare: viaBare, audit },
  };
}

export const lookupScenario: Scenario = {
  name: 'lookup',
  description: 'GraphQL lookup vs a bare node:http + pg server running the same SQL',
  run,
};
