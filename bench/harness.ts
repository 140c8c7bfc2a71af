// What every scenario of the benchmark needs: fresh PostgreSQL databases, the service and the
// baselines as child processes, OAuth2 clients and tokens, an autocannon load runner, and the
// clean-up that drops every database and stops every child, also on an error or Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import pg from 'pg';
import { INSPECT_FLAG, openInspector } from './inspector.js';

export const ROOT = path.resolve(import.meta.dirname, '..');

/**
 * The checkout whose service is measured: this one, or BENCH_SERVICE_ROOT (e.g. a copy with a
 * change to try, with the same node_modules), to compare a change before committing it.
 */
export const SERVICE_ROOT = path.resolve(process.env.BENCH_SERVICE_ROOT ?? ROOT);

// ---- clean-up --------------------------------------------------------------------------------

const cleanups: Array<() => Promise<void>> = [];
let cleaningUp: Promise<void> | undefined;

/** Registers work that must happen before the process ends, whatever happens; run last-in first-out. */
export function onCleanup(work: () => Promise<void>): void {
  cleanups.push(work);
}

/** Runs (and forgets) every clean-up registered so far; a call during a clean-up waits for it. */
export function cleanUp(): Promise<void> {
  cleaningUp ??= (async () => {
    while (cleanups.length) {
      const work = cleanups.pop()!;
      await work().catch((error: unknown) => console.error('Clean-up step failed:', error instanceof Error ? error.message : error));
    }
  })().finally(() => (cleaningUp = undefined));
  return cleaningUp;
}

/** Ctrl-C, SIGTERM or a crash: stop the children and drop the databases before exiting. */
export function cleanUpOnSignals(): void {
  const stop = (why: string, code: number) => {
    console.error(`\n${why}: stopping children and dropping databases ...`);
    void cleanUp().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => stop('SIGINT', 130));
  process.once('SIGTERM', () => stop('SIGTERM', 143));
  process.once('uncaughtException', (error) => {
    console.error(error);
    stop('Uncaught exception', 1);
  });
}

// ---- databases -------------------------------------------------------------------------------

/** The database the benchmark connects to in order to create its own. */
export const ADMIN_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';

/** A run's databases are named srs_bench_<timestamp>_<label>, so leftovers are easy to find. */
export const RUN_STAMP = new Date().toISOString().replace(/\D/g, '').slice(0, 14);

export async function adminQuery<Row extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<Row>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Creates an empty database for this run, dropped at clean-up; returns its URL. */
export async function createDatabase(label: string): Promise<string> {
  const name = `srs_bench_${RUN_STAMP}_${label.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`.slice(0, 63);
  await adminQuery(`CREATE DATABASE ${name}`);
  onCleanup(() => dropDatabase(name));
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(name: string): Promise<void> {
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

// ---- child processes -------------------------------------------------------------------------

export interface Child {
  name: string;
  process: ChildProcess;
  /** The pid of the node process itself (no npx or shell in between), for /proc readings. */
  pid: number;
  /** The last lines it wrote, for error messages. */
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /** Extra flags for node itself, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** Opens an IPC channel (process.send in the child). */
  ipc?: boolean;
  /** Echo the child's output, prefixed with its name. */
  echo?: boolean;
  /** Working directory (the script is relative to it); default: this checkout. */
  cwd?: string;
}

const OUTPUT_LINES_KEPT = 80;

/**
 * Starts `node --import tsx <script>` from the project root. Node is started directly (not
 * through npx or tsx's CLI) so that the pid is the process whose memory we read.
 */
export function spawnTsNode(name: string, script: string, options: SpawnOptions = {}): Child {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', script], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc ? (['ipc'] as const) : [])],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      lines.push(line);
      if (lines.length > OUTPUT_LINES_KEPT) lines.shift();
      if (options.echo) console.error(`  [${name}] ${line}`);
    }
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopping: Promise<void> | undefined;
  const handle: Child = {
    name,
    process: child,
    pid: child.pid!,
    output: () => lines.join('\n'),
    exited,
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        // SIGTERM lets the service close orderly (and write a --cpu-prof profile); a child that
        // hangs is killed.
        child.kill('SIGTERM');
        const done = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
        if (!done) {
          child.kill('SIGKILL');
          await exited;
        }
      })()),
  };
  onCleanup(handle.stop);
  return handle;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls GET url until it answers 200; fails early when the child exits. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 90_000): Promise<void> {
  let exitCode: number | null | undefined;
  void child.exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`${child.name} exited (code ${exitCode}) before answering ${url}:\n${child.output()}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs / 1000} s:\n${child.output()}`);
}

/** The resident set size of a process in KiB, from /proc/<pid>/status (VmRSS). */
export function residentKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`No VmRSS for process ${pid}`);
  return Number(match[1]);
}

// ---- the service -----------------------------------------------------------------------------

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

export type ClientRole = 'SERVICE_PROVIDER' | 'IPSP' | 'ADMIN';

export interface ServiceChild {
  /** e.g. http://127.0.0.1:43210 (also PUBLIC_URL). */
  url: string;
  /** The environment it runs with: the CLI and the baselines use the same. */
  env: Record<string, string>;
  child: Child;
  /** Creates an OAuth2 client with the operator CLI, as an operator would. */
  createClient(role: ClientRole, options?: { issuer?: string; name?: string }): Promise<ClientCredentials>;
  /** A client-credentials access token from POST /oidc/token. */
  token(client: ClientCredentials): Promise<string>;
  /** POST /graphql; throws on HTTP or GraphQL errors. */
  graphql<Data = Record<string, unknown>>(query: string, variables: Record<string, unknown>, token: string): Promise<Data>;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** Names the database and the child in messages. */
  label: string;
  /** Extra environment, e.g. WORKERS=2. */
  env?: Record<string, string>;
  /** The script that starts the service, relative to the measured checkout (default: src/main.ts). */
  entry?: string;
  /** Use this database instead of creating one (e.g. through a statement-counting proxy). */
  databaseUrl?: string;
  nodeFlags?: string[];
  echo?: boolean;
}

export function basicAuthorization(client: ClientCredentials): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`;
}

/** Starts the service on a fresh database (`node --import tsx src/main.ts`, or `entry`) and waits for /health. */
export async function startService(options: ServiceOptions): Promise<ServiceChild> {
  const databaseUrl = options.databaseUrl ?? (await createDatabase(options.label));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    DATA_ENCRYPTION_KEYS: `b1:${randomBytes(32).toString('base64')}`,
    DATA_HASH_KEY: randomBytes(32).toString('base64'),
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: url,
    // The TEST partner (placeOrder without a real IPSP, simulateIdentification) exists only in test mode.
    SRS_TEST_MODE: '1',
    LOG_LEVEL: 'warn',
    // One client sends thousands of requests a second here; the limit still counts each one.
    RATE_LIMIT_PER_CLIENT: '1000000',
    ...options.env,
  };
  const child = spawnTsNode(`service:${options.label}`, options.entry ?? 'src/main.ts', { env, nodeFlags: options.nodeFlags, echo: options.echo, cwd: SERVICE_ROOT });
  await waitForHttp(`${url}/health`, child);

  const service: ServiceChild = {
    url,
    env,
    child,
    async createClient(role, clientOptions = {}) {
      const args = ['clients', 'create', '--name', clientOptions.name ?? `bench ${role.toLowerCase()}`, '--role', role, '--json'];
      if (clientOptions.issuer) args.push('--issuer', clientOptions.issuer);
      const stdout = await runCli(args, env);
      const created = JSON.parse(stdout.trim().split('\n').pop()!) as ClientCredentials;
      return { clientId: created.clientId, clientSecret: created.clientSecret };
    },
    async token(client) {
      const response = await fetch(`${url}/oidc/token`, {
        method: 'POST',
        headers: { authorization: basicAuthorization(client), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      const body = (await response.json()) as { access_token?: string };
      if (!response.ok || !body.access_token) throw new Error(`No token (${response.status}): ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async graphql<Data>(query: string, variables: Record<string, unknown>, token: string) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: Data; errors?: unknown[] };
      if (!response.ok || body.errors?.length || !body.data) throw new Error(`GraphQL failed (${response.status}): ${JSON.stringify(body)}`);
      return body.data;
    },
    stop: child.stop,
  };
  return service;
}

/** Runs the operator CLI (`node --import tsx src/cli.ts ...`) of the measured checkout with the service's environment. */
function runCli(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const cli = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: SERVICE_ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    cli.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    cli.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    cli.once('error', reject);
    cli.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`CLI ${args.join(' ')} failed (${code}):\n${stderr}${stdout}`))));
  });
}

// ---- GraphQL documents the scenarios share ---------------------------------------------------

/** The global id of a catalogue method (Relay global id). */
export function methodGlobalId(catalogueId: string): string {
  return Buffer.from(`IdentificationMethod:${catalogueId}`).toString('base64');
}

/** The simulated TEST method: placeOrder opens it at the built-in TEST partner over HTTP. */
export const TEST_METHOD_ID = methodGlobalId('test-video');

export const PLACE_ORDER = `mutation BenchPlaceOrder($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { refId status } userErrors { code message } }
}`;

export const SIMULATE_IDENTIFICATION = `mutation BenchSimulate($input: SimulateIdentificationInput!) {
  simulateIdentification(input: $input) { order { status } userErrors { code message } }
}`;

export const LOOKUP = `query BenchLookup($input: LookupInput!) {
  lookup(input: $input) { valid reason evidenceId validUntil expiresWithin90Days }
}`;

/** A valid Swiss mobile number, distinct per index (up to 10,000). */
export function mobileNumber(index: number): string {
  return `+417912${String(index % 10_000).padStart(5, '0')}`;
}

/** placeOrder input for the TEST method, unique per `key` (externalId and idempotency key). */
export function placeOrderInput(key: string, index = 0): Record<string, unknown> {
  return {
    methodId: TEST_METHOD_ID,
    externalId: key,
    idempotencyKey: key,
    initialData: { givenNames: 'Anna', surname: 'Muster', dateOfBirth: '1990-04-01', mobileNumber: mobileNumber(index) },
  };
}

export interface PlaceOrderResponse {
  data?: { placeOrder?: { order?: { refId: string; status: string } | null; userErrors?: Array<{ code: string }> } };
  errors?: unknown[];
}

/** Whether a placeOrder answer is an order opened at the partner (no error, no user error). */
export function isPlacedOrder(status: number, body: string): boolean {
  if (status !== 200) return false;
  try {
    const parsed = JSON.parse(body) as PlaceOrderResponse;
    const payload = parsed.data?.placeOrder;
    return !parsed.errors?.length && !payload?.userErrors?.length && payload?.order?.status === 'INITIALIZED';
  } catch {
    return false;
  }
}

// ---- CPU use -------------------------------------------------------------------------------

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on every common Linux). */
const TICKS_PER_SECOND = 100;

export interface CpuUsage {
  /** Cores busy on the whole machine, on average (idle and I/O wait excluded). */
  machineCores: number;
  /** Cores the hypervisor gave to other guests while this one wanted them (a VM's noise). */
  stolenCores: number;
  /** Cores used per watched process (with its child processes), PostgreSQL's processes together, this process (the load generator), and the rest. */
  byProcess: Record<string, number>;
  /**
   * Cores used by the PostgreSQL backends of the measured database alone (part of
   * byProcess.postgres, which counts every PostgreSQL process, other jobs' included). The server's
   * own processes (WAL writer, checkpointer) are in neither this nor any one database.
   */
  databaseBackends?: number;
}

function machineTicks(): { busy: number; stolen: number } {
  const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const values = fields.map(Number);
  // user nice system idle iowait irq softirq steal: busy is everything but idle and iowait.
  const idle = values[3] + (values[4] ?? 0);
  return { busy: values.slice(0, 8).reduce((sum, value) => sum + value, 0) - idle, stolen: values[7] ?? 0 };
}

function processTicks(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are the 14th and 15th fields; the slice starts at the 3rd.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** CPU ticks of a process and every process below it (the workers of a WORKERS > 1 service). */
function processTreeTicks(root: number): number {
  const parents = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(parent, [...(parents.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  let ticks = 0;
  for (const pending = [root]; pending.length; ) {
    const pid = pending.pop()!;
    ticks += processTicks(pid);
    pending.push(...(parents.get(pid) ?? []));
  }
  return ticks;
}

/** CPU ticks of every PostgreSQL process (server and backends), by pid. */
function postgresTicks(): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/stat`, 'utf8').includes('(postgres)')) ticks.set(Number(entry), processTicks(Number(entry)));
    } catch {
      // gone meanwhile
    }
  }
  return ticks;
}

/**
 * Starts measuring where the CPU goes; the returned function ends the measurement. Shows what a
 * throughput is bound by, and whether something outside the benchmark competed for the machine.
 */
export function measureCpu(watched: Record<string, number>): () => CpuUsage {
  const started = performance.now();
  const machine = machineTicks();
  const processes = Object.fromEntries(Object.entries(watched).map(([name, pid]) => [name, processTreeTicks(pid)]));
  const postgres = postgresTicks();
  const self = processTicks(process.pid);
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const cores = (ticks: number) => ticks / TICKS_PER_SECOND / seconds;
    const byProcess: Record<string, number> = {};
    for (const [name, pid] of Object.entries(watched)) byProcess[name] = cores(processTreeTicks(pid) - processes[name]);
    // Backends come and go with the pools' connections: a new one counts from zero, one that
    // ended meanwhile is missing (what it used after the start is lost).
    let postgresDelta = 0;
    for (const [pid, ticks] of postgresTicks()) postgresDelta += ticks - (postgres.get(pid) ?? 0);
    byProcess.postgres = cores(postgresDelta);
    byProcess['load generator'] = cores(processTicks(process.pid) - self);
    const now = machineTicks();
    const machineCores = cores(now.busy - machine.busy);
    byProcess.other = Math.max(0, machineCores - Object.values(byProcess).reduce((sum, value) => sum + value, 0));
    for (const name of Object.keys(byProcess)) byProcess[name] = round(byProcess[name]);
    return { machineCores: round(machineCores), stolenCores: round(cores(now.stolen - machine.stolen)), byProcess };
  };
}

// ---- what the database connections do ---------------------------------------------------------

/**
 * Average number of the service's connections in each state during a run ("active", "idle in
 * transaction", "waiting: Lock/advisory", ...), and the statements the busy ones ran, by how
 * often they were seen.
 */
export interface DatabaseActivity {
  connections: Record<string, number>;
  /** Statement (its first 100 characters) → share of samples in which a busy connection ran it. */
  busyWith: Record<string, number>;
}

const ACTIVITY_SAMPLE_MS = 50;

/**
 * Samples pg_stat_activity for one database while a run lasts: whether the connections are busy
 * in PostgreSQL, waiting for a lock, idle inside a transaction (waiting for the application to
 * send the next statement) or idle. The returned function stops and averages.
 */
export async function sampleDatabaseActivity(databaseUrl: string): Promise<() => Promise<DatabaseActivity>> {
  const database = new URL(databaseUrl).pathname.slice(1);
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  const states = new Map<string, number>();
  const statements = new Map<string, number>();
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query<{ state: string | null; wait_event_type: string | null; wait_event: string | null; query: string }>(
        'SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity WHERE datname = $1 AND backend_type = $2',
        [database, 'client backend'],
      );
      samples++;
      for (const row of rows) {
        // A waiting "active" backend is counted by what it waits for; ClientRead is the idle wait.
        const waiting = row.state === 'active' && row.wait_event_type && row.wait_event_type !== 'Client' ? `waiting: ${row.wait_event_type}/${row.wait_event}` : undefined;
        count(states, waiting ?? row.state ?? 'unknown');
        if (row.state !== 'idle') count(statements, row.query.replace(/\s+/g, ' ').replace(/"public"\./g, '').slice(0, 100));
      }
      await sleep(ACTIVITY_SAMPLE_MS);
    }
  })();
  const averages = (map: Map<string, number>, top: number) =>
    Object.fromEntries([...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([key, total]) => [key, round(total / Math.max(1, samples))]));
  return async () => {
    running = false;
    await loop;
    await client.end();
    return { connections: averages(states, 20), busyWith: averages(statements, 8) };
  };
}

// ---- load ------------------------------------------------------------------------------------

export interface LoadOptions {
  /** Base URL, e.g. http://127.0.0.1:4000. */
  url: string;
  path: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A fixed body, or a function for a different body on every request. */
  body?: string | (() => string);
  connections: number;
  durationSeconds: number;
  /** A run before the measured one, thrown away: JIT, pools and caches warm up. */
  warmupSeconds: number;
  /** Whether an answer counts as a success; default: a 2xx status. Reading bodies costs a little. */
  accept?: (status: number, body: string) => boolean;
  /** Processes whose CPU use is recorded during the measured run, by name. */
  watch?: Record<string, number>;
  /** A child started with profileFlags(true): its CPU profile of the measured run is saved under this name. */
  profile?: { child: Child; name: string };
  /** The database whose connections (their states and their backends' CPU) are watched during the measured run. */
  databaseUrl?: string;
}

export interface LoadResult {
  connections: number;
  durationSeconds: number;
  /** Every response received. */
  responses: number;
  succeeded: number;
  /** Responses that were not a success: non-2xx, GraphQL errors, user errors. */
  failed: number;
  /** Socket errors and timeouts (no response at all). */
  errors: number;
  /** The first few failed answers (status and the start of the body), to tell why. */
  failureSamples: string[];
  /** Successful responses per second. */
  rps: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** Where the CPU went during the measured run. */
  cpu: CpuUsage;
  /** The CPU profile of the measured run, when asked for. */
  profileFile?: string;
  /** What the database connections did during the measured run, on average. */
  databaseActivity?: DatabaseActivity;
}

/** One autocannon run (warm-up first) at a fixed number of connections. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.warmupSeconds > 0) await runAutocannon({ ...options, durationSeconds: options.warmupSeconds });
  if (!options.profile) return runAutocannon(options);
  const inspector = await openInspector(options.profile.child);
  try {
    await inspector.startProfiling();
    const result = await runAutocannon(options);
    fs.mkdirSync(PROFILE_DIR, { recursive: true });
    const profileFile = path.join(PROFILE_DIR, `${options.profile.name}.cpuprofile`);
    fs.writeFileSync(profileFile, await inspector.stopProfiling());
    return { ...result, profileFile };
  } finally {
    inspector.close();
  }
}

/** The pids of the PostgreSQL backends connected to one database now. */
async function backendPids(databaseUrl: string): Promise<number[]> {
  const rows = await adminQuery<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = $2', [new URL(databaseUrl).pathname.slice(1), 'client backend']);
  return rows.map((row) => row.pid);
}

/**
 * Starts measuring the CPU of one database's backends; the returned function ends it. A backend
 * that connects meanwhile counts from zero; one that ends meanwhile is lost (the pools keep theirs).
 */
async function measureBackendCpu(databaseUrl: string): Promise<() => Promise<number>> {
  const started = performance.now();
  const before = new Map((await backendPids(databaseUrl)).map((pid) => [pid, processTicks(pid)]));
  return async () => {
    const seconds = (performance.now() - started) / 1000;
    let ticks = 0;
    for (const pid of new Set([...before.keys(), ...(await backendPids(databaseUrl))])) ticks += Math.max(0, processTicks(pid) - (before.get(pid) ?? 0));
    return round(ticks / TICKS_PER_SECOND / seconds);
  };
}

async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  const activity = options.databaseUrl ? await sampleDatabaseActivity(options.databaseUrl) : undefined;
  const backendCpu = options.databaseUrl ? await measureBackendCpu(options.databaseUrl) : undefined;
  const cpu = measureCpu(options.watch ?? {});
  let succeeded = 0;
  let failed = 0;
  const failureSamples: string[] = [];
  const { body, accept } = options;
  const request: autocannon.Request = {
    method: options.method ?? 'POST',
    path: options.path,
    headers: options.headers,
    ...(typeof body === 'string' && { body }),
    ...(typeof body === 'function' && { setupRequest: (req: autocannon.Request) => ({ ...req, body: body() }) }),
    ...(accept && {
      onResponse: (status: number, responseBody: string) => {
        if (accept(status, responseBody)) succeeded++;
        else if (++failed <= 5) failureSamples.push(`${status} ${responseBody.slice(0, 500)}`);
      },
    }),
  };
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    requests: [request],
    timeout: 30,
  });
  const durationSeconds = result.duration;
  if (!accept) {
    succeeded = result['2xx'];
    failed = result.non2xx;
  }
  return {
    connections: options.connections,
    durationSeconds,
    responses: result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'],
    succeeded,
    failed,
    errors: result.errors + result.timeouts,
    failureSamples,
    rps: succeeded / durationSeconds,
    latencyMs: { mean: result.latency.average, p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    cpu: { ...cpu(), databaseBackends: await backendCpu?.() },
    databaseActivity: await activity?.(),
  };
}

// ---- small helpers ---------------------------------------------------------------------------

/** Nearest-rank percentile of sorted numbers (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

// ---- seed data -------------------------------------------------------------------------------

const RECORD_TERMS_DECISION = `mutation BenchRecordTerms($input: RecordTermsDecisionInput!) {
  recordTermsDecision(input: $input) { terms { status } userErrors { code message } }
}`;

/**
 * Completed registrations through the API: placeOrder on the TEST method, then a simulated
 * successful identification. Every even one is a silent-SMS order whose T&C the provider then
 * accepts (lookup: OK); the odd ones wait for the T&C SMS link (lookup: TERMS_PENDING).
 * Returns the registered mobile numbers, numbered from `firstIndex`.
 */
export async function seedRegistrations(service: ServiceChild, token: string, count: number, firstIndex = 0): Promise<string[]> {
  const numbers: string[] = [];
  for (let index = firstIndex; index < firstIndex + count; index++) {
    const accepted = index % 2 === 0;
    const input = { ...placeOrderInput(`seed-${index}`, index), disabledSmsAlerts: accepted };
    const placed = await service.graphql<{ placeOrder: { order: { refId: string } | null; userErrors: unknown[] } }>(PLACE_ORDER, { input }, token);
    const refId = placed.placeOrder.order?.refId;
    if (!refId) throw new Error(`Seeding: placeOrder refused: ${JSON.stringify(placed.placeOrder.userErrors)}`);
    const simulated = await service.graphql<{ simulateIdentification: { order: { status: string } | null } }>(
      SIMULATE_IDENTIFICATION,
      { input: { refId, outcome: 'SUCCESS' } },
      token,
    );
    if (simulated.simulateIdentification.order?.status !== 'TERMINATED') throw new Error(`Seeding: simulation did not terminate ${refId}: ${JSON.stringify(simulated)}`);
    if (accepted) {
      const decided = await service.graphql<{ recordTermsDecision: { terms: { status: string } | null; userErrors: unknown[] } }>(
        RECORD_TERMS_DECISION,
        { input: { refId, accepted: true, termsVersion: '2026-11' } },
        token,
      );
      if (decided.recordTermsDecision.terms?.status !== 'ACCEPTED') throw new Error(`Seeding: T&C not accepted for ${refId}: ${JSON.stringify(decided)}`);
    }
    numbers.push(mobileNumber(index));
  }
  return numbers;
}

// ---- CPU profiles ----------------------------------------------------------------------------

/** Where `--cpu-prof` saves the profiles of this run's measured load windows. */
export const PROFILE_DIR = path.join(ROOT, 'bench', 'results', 'profiles', RUN_STAMP);

/** Node flags for a service child: with profiling on, its inspector, to profile the measured windows. */
export function profileFlags(profile: boolean): string[] {
  return profile ? [INSPECT_FLAG] : [];
}

/** One line about a load run for the console: throughput, latency and where the CPU went. */
export function describeLoad(label: string, result: LoadResult): string {
  const cpu = Object.entries(result.cpu.byProcess)
    .map(([name, cores]) => `${name} ${cores.toFixed(2)}`)
    .join(', ');
  const failures = result.failed + result.errors;
  const activity = result.databaseActivity ? `\n    ${describeDatabaseActivity(result.databaseActivity)}` : '';
  const samples = result.failureSamples.map((sample) => `\n    failed: ${sample}`).join('');
  return `  ${label}: ${result.rps.toFixed(0)}/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms${failures ? `, ${failures} failed` : ''}; CPU cores: ${cpu} (machine ${result.cpu.machineCores.toFixed(2)}, stolen ${result.cpu.stolenCores.toFixed(2)})${activity}${samples}`;
}

export function describeDatabaseActivity(activity: DatabaseActivity): string {
  return `database connections on average: ${Object.entries(activity.connections)
    .map(([state, count]) => `${state} ${count.toFixed(1)}`)
    .join(', ')}`;
}

/**
 * CPU milliseconds one successful request cost a watched process (`byProcess` name), or the
 * measured database's backends ('database'): the figure that carries over to other machines.
 */
export function cpuMsPerRequest(result: LoadResult, who: string): number {
  const cores = who === 'database' ? result.cpu.databaseBackends : result.cpu.byProcess[who];
  return cores === undefined || !result.rps ? Number.NaN : round((cores * 1000) / result.rps, 3);
}
