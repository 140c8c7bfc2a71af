// lookup through POST /graphql (bearer token, yoga, Pothos, the audit record) and through the
// REST route POST /api/evidences/lookup (the same service function and audit, no GraphQL) against
// their floor (bench/floor-lookup-server.ts: node:http + pg, one indexed SELECT on a table of its
// own), which judges them, and against the same-statements baseline (bench/baseline-server.ts:
// node:http + pg running the service's four statements, its audit INSERT committed per request)
// for information. All under the same load, one after another, in one run.
import pg from 'pg';
import { createDatabase, describeLoad, freePort, LOOKUP, mobileNumber, profileFlags, runLoad, seedRegistrations, spawnTsNode, startService, waitForHttp, type Child } from '../harness.js';
import { cpuBoundRatio, cpuPerRequestFigures, info, lessIsBetter, moreIsBetter } from '../report.js';
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

const REST_LOOKUP_PATH = '/api/evidences/lookup';

function isRestLookupAnswer(status: number, body: string): boolean {
  if (status !== 200) return false;
  try {
    return typeof (JSON.parse(body) as { reason?: unknown }).reason === 'string';
  } catch {
    return false;
  }
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

  const startBaseline = async (name: string, script: string, env: Record<string, string>) => {
    const port = await freePort();
    const child = spawnTsNode(name, script, { env: { ...env, PORT: String(port) }, nodeFlags: profileFlags(options.cpuProfile), echo: options.verbose });
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/health`, child);
    return { child, url };
  };
  const floorDatabaseUrl = await createDatabase('lookup_floor');
  const floor = await startBaseline('floor-lookup', 'bench/floor-lookup-server.ts', {
    DATABASE_URL: floorDatabaseUrl,
    REGISTERED: JSON.stringify(registered.map((number, index) => ({ mobileNumber: number, termsAccepted: index % 2 === 0 }))),
  });
  const bare = await startBaseline('bare-lookup', 'bench/baseline-server.ts', { DATABASE_URL: service.env.DATABASE_URL, DATA_HASH_KEY: service.env.DATA_HASH_KEY });

  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const bodyOf = (number: string) => JSON.stringify({ query: LOOKUP, variables: { input: { mobileNumber: number } } });
  // The REST route takes the number without its + (the commercial SRS's msisdn).
  const restBodyOf = (number: string) => JSON.stringify({ msisdn: number.slice(1) });
  const ask = async (url: string, number: string) => (await (await fetch(`${url}/graphql`, { method: 'POST', headers, body: bodyOf(number) })).json()) as LookupAnswer;

  // The comparison means something only if all answer alike: the same-statements baseline reads
  // the service's rows and must answer exactly the same; the floor keeps rows of its own (other
  // evidence ids), so its verdicts are compared.
  const answers: Record<string, unknown> = {};
  for (const number of [registered[0], registered[1], unknown[0]]) {
    const [fromService, fromBare, fromFloor] = await Promise.all([service.url, bare.url, floor.url].map((url) => ask(url, number)));
    if (JSON.stringify(fromService) !== JSON.stringify(fromBare)) {
      throw new Error(`The same-statements baseline answers differently for ${number}: service ${JSON.stringify(fromService)}, bare ${JSON.stringify(fromBare)}`);
    }
    const verdict = (answer: LookupAnswer) => JSON.stringify([answer.data?.lookup?.valid, answer.data?.lookup?.reason, answer.data?.lookup?.evidenceId === null]);
    if (verdict(fromService) !== verdict(fromFloor)) throw new Error(`The floor answers differently for ${number}: service ${JSON.stringify(fromService)}, floor ${JSON.stringify(fromFloor)}`);
    answers[number] = fromService.data?.lookup?.reason;
    const fromRest = (await (await fetch(`${service.url}${REST_LOOKUP_PATH}`, { method: 'POST', headers, body: restBodyOf(number) })).json()) as { reason?: string };
    if (fromRest.reason !== fromService.data?.lookup?.reason) throw new Error(`REST answers differently for ${number}: ${JSON.stringify(fromRest)}, GraphQL ${JSON.stringify(fromService)}`);
  }

  let next = 0;
  const load = (url: string, child: Child, name: string, databaseUrl: string, rest = false) =>
    runLoad({
      url,
      path: rest ? REST_LOOKUP_PATH : '/graphql',
      headers,
      body: () => (rest ? restBodyOf : bodyOf)(numbers[next++ % numbers.length]),
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      accept: rest ? isRestLookupAnswer : isLookupAnswer,
      watch: { service: service.child.pid, floor: floor.child.pid, bare: bare.child.pid },
      databaseUrl,
      profile: options.cpuProfile ? { child, name } : undefined,
    });
  const serviceLoadStarted = new Date();
  const viaGraphql = await load(service.url, service.child, 'lookup-service', service.env.DATABASE_URL);
  console.log(describeLoad('graphql lookup', viaGraphql));
  const audit = await auditCommits(service.env.DATABASE_URL, serviceLoadStarted);
  console.log(`  audit rows per commit (graphql, warm-up included): ${(audit.rows / Math.max(1, audit.commits)).toFixed(1)} (${audit.rows} rows in ${audit.commits} commits)`);
  const viaRest = await load(service.url, service.child, 'lookup-service-rest', service.env.DATABASE_URL, true);
  console.log(describeLoad('REST lookup', viaRest));
  const viaFloor = await load(floor.url, floor.child, 'lookup-floor', floorDatabaseUrl);
  console.log(describeLoad('floor lookup (one SELECT)', viaFloor));
  const viaBare = await load(bare.url, bare.child, 'lookup-bare', service.env.DATABASE_URL);
  console.log(describeLoad('bare lookup (same statements)', viaBare));
  await Promise.all([floor.child.stop(), bare.child.stop(), service.stop()]);

  const note = `${REGISTERED} registered numbers (half OK, half TERMS_PENDING) and ${REGISTERED} unknown ones (NO_EVIDENCE), alternating`;
  return {
    figures: [
      moreIsBetter({
        scenario: 'lookup',
        figure: 'throughput vs the floor (node:http + pg, one indexed SELECT)',
        value: viaGraphql.rps,
        unit: 'req/s',
        reference: { kind: 'baseline', label: 'floor', value: viaFloor.rps },
        minRatio: TARGET_RATIO,
        note,
      }),
      lessIsBetter({
        scenario: 'lookup',
        figure: 'p99 latency vs the floor',
        value: viaGraphql.latencyMs.p99,
        unit: 'ms',
        reference: { kind: 'baseline', label: 'floor', value: viaFloor.latencyMs.p99 },
      }),
      moreIsBetter({
        scenario: 'lookup',
        figure: 'REST POST /api/evidences/lookup (same service function and audit, no GraphQL): throughput vs the floor',
        value: viaRest.rps,
        unit: 'req/s',
        reference: { kind: 'baseline', label: 'floor', value: viaFloor.rps },
        minRatio: TARGET_RATIO,
      }),
      lessIsBetter({
        scenario: 'lookup',
        figure: 'REST p99 latency vs the floor',
        value: viaRest.latencyMs.p99,
        unit: 'ms',
        reference: { kind: 'baseline', label: 'floor', value: viaFloor.latencyMs.p99 },
      }),
      moreIsBetter({
        scenario: 'lookup',
        figure: 'throughput vs node:http + pg running the same 4 statements (audit committed per request)',
        value: viaGraphql.rps,
        unit: 'req/s',
        reference: { kind: 'baseline', label: 'bare', value: viaBare.rps },
      }),
      lessIsBetter({
        scenario: 'lookup',
        figure: 'p99 latency vs the same statements',
        value: viaGraphql.latencyMs.p99,
        unit: 'ms',
        reference: { kind: 'baseline', label: 'bare', value: viaBare.latencyMs.p99 },
      }),
      info({ scenario: 'lookup', figure: 'failed responses (graphql)', value: viaGraphql.failed + viaGraphql.errors, unit: '' }),
      info({ scenario: 'lookup', figure: 'failed responses (REST)', value: viaRest.failed + viaRest.errors, unit: '' }),
      info({ scenario: 'lookup', figure: 'audit rows per commit (graphql; bare: 1)', value: audit.rows / Math.max(1, audit.commits), unit: '' }),
      cpuBoundRatio('lookup', 'lookup', [viaGraphql, 'service'], ['floor', viaFloor, 'floor']),
      cpuBoundRatio('lookup', 'REST lookup', [viaRest, 'service'], ['floor', viaFloor, 'floor']),
      ...cpuPerRequestFigures('lookup', 'lookup', [
        ['service', viaGraphql, 'service'],
        ['service over REST', viaRest, 'service'],
        ['floor', viaFloor, 'floor'],
        ['same statements', viaBare, 'bare'],
      ]),
    ],
    details: { seededAnswers: answers, note, graphql: viaGraphql, rest: viaRest, floor: viaFloor, bare: viaBare, audit },
  };
}
export const lookupScenario: Scenario = {
  name: 'lookup',
  description: 'GraphQL and REST lookup vs their floor (node:http + pg, one indexed SELECT), and vs a bare server running the same SQL',
  run,
};
