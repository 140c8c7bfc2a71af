// Several real server processes on one PostgreSQL database and one Redis: each one is
// `node --import tsx src/main.ts` in a child process of its own, on a free port, as an operator
// would run them behind a load balancer. The tests talk to them over HTTP and WebSocket only.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { endpointAt, freePort, runCli, type ServiceEndpoint, type TestClient } from '../kit.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Every variable the service reads (src/config.ts): none of them leaks in from the test runner. */
const SERVICE_VARIABLES = [
  'PORT', 'HOST', 'PUBLIC_URL', 'DATABASE_URL', 'DATA_DIR', 'SRS_TEST_MODE', 'ACCESS_TOKEN_TTL_SECONDS', 'INTERNAL_URL',
  'SUBSCRIPTION_TOKEN_CHECK_SECONDS', 'TIMEOUT_SWEEP_SECONDS', 'DATA_ENCRYPTION_KEYS', 'DATA_HASH_KEY', 'TERMS_VERSION',
  'TERMS_LINK_TTL_HOURS', 'SMS_OUTBOX_SWEEP_SECONDS', 'REDIS_URL', 'REDIS_CHANNEL', 'EVENT_POLL_SECONDS',
  'LOG_LEVEL', 'SHUTDOWN_GRACE_SECONDS', 'METRICS_TOKEN', 'TOKEN_CACHE_SECONDS', 'WS_KEEPALIVE_SECONDS', 'WORKERS', 'EVENT_NOTICES',
  'WEBHOOK_RETRY_SCHEDULE', 'WEBHOOK_ALLOW_PRIVATE_DESTINATIONS', 'WEBHOOK_TIMEOUT_SECONDS', 'WEBHOOK_SECRET_OVERLAP_SECONDS', 'WEBHOOK_POLL_SECONDS',
  'ORDER_RECOVERY_GRACE_SECONDS',
];

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcess extends ServiceEndpoint {
  /** A name for messages, e.g. 'A'. */
  name: string;
  child: ChildProcess;
  /** The service's own variables it was started with. */
  env: Record<string, string>;
  /** What the process printed (stdout and stderr interleaved), for failure messages. */
  output(): string;
  /** Resolves once the process has exited and its output pipes are closed. */
  exited: Promise<Exit>;
  running(): boolean;
  /** Sends the signal (once) and waits for the exit. */
  stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<Exit>;
}

const live = new Set<ServiceProcess>();
// Should the test runner itself end abruptly, no server is left behind.
process.once('exit', () => {
  for (const started of live) started.child.kill('SIGKILL');
});

/**
 * Starts `node --import tsx src/main.ts` with the given service variables (on top of PORT, HOST,
 * PUBLIC_URL and INTERNAL_URL of a free port) and waits until GET /health answers 200.
 */
export async function startServiceProcess(name: string, serviceEnv: Record<string, string>, options: { timeoutMs?: number } = {}): Promise<ServiceProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = { PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: url, INTERNAL_URL: url, ...serviceEnv };
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !SERVICE_VARIABLES.includes(key)));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: string) => {
    output += chunk;
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.setEncoding('utf8').on('data', append);
  child.stderr!.setEncoding('utf8').on('data', append);
  let exitedYet = false;
  const exited = new Promise<Exit>((resolve) =>
    child.once('close', (code, signal) => {
      exitedYet = true;
      live.delete(started);
      resolve({ code, signal });
    }),
  );
  const started: ServiceProcess = {
    ...endpointAt(url),
    name,
    child,
    env,
    output: () => output,
    exited,
    running: () => !exitedYet,
    async stop(signal) {
      if (!exitedYet) child.kill(signal);
      return exited;
    },
  };
  live.add(started);

  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  for (;;) {
    if (exitedYet) {
      const exit = await exited;
      throw new Error(`Process ${name} exited (${exit.signal ?? exit.code}) before it was healthy:\n${output}`);
    }
    const healthy = await fetch(`${url}/health`)
      .then(async (response) => {
        await response.body?.cancel();
        return response.status === 200;
      })
      .catch(() => false);
    if (healthy) return started;
    if (Date.now() > deadline) {
      await started.stop('SIGKILL');
      throw new Error(`Process ${name} was not healthy within ${options.timeoutMs ?? 90_000} ms:\n${output}`);
    }
    await sleep(100);
  }
}

/** Kills every process still running (SIGKILL): for afterAll, whatever happened. */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((started) => started.stop('SIGKILL')));
}

/** A Redis pub/sub channel no other test run uses. */
export function uniqueChannel(): string {
  return `srs-test:${process.pid}:${randomBytes(6).toString('hex')}`;
}

/** `clients create … --json` with the operator CLI, against the database of `dbEnv`. */
export async function cliClient(dbEnv: Record<string, string>, role: 'SERVICE_PROVIDER' | 'IPSP' | 'ADMIN', issuer?: string): Promise<TestClient> {
  const args = ['clients', 'create', '--name', `${role} ${randomBytes(3).toString('hex')}`, '--role', role, '--json', ...(issuer ? ['--issuer', issuer] : [])];
  const result = await runCli(args, dbEnv);
  if (result.code !== 0) throw new Error(`clients create failed (${result.code}): ${result.stderr}${result.stdout}`);
  const { clientId, clientSecret } = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as TestClient;
  return { clientId, clientSecret };
}

/** `clients disable CLIENT_ID` with the operator CLI. */
export async function cliDisable(dbEnv: Record<string, string>, clientId: string): Promise<void> {
  const result = await runCli(['clients', 'disable', clientId], dbEnv);
  if (result.code !== 0) throw new Error(`clients disable failed (${result.code}): ${result.stderr}${result.stdout}`);
}

