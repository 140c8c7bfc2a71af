// The real entry point, as an operator starts it: `npx tsx src/main.ts` in a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { backend, endpointAt, freePort, freshDatabaseEnv, methodGlobalId, placeOrderBrief, runCli, type TestClient } from '../kit.js';

const projectDir = fileURLToPath(new URL('../..', import.meta.url));

interface Started {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Once npx and everything it started have exited (their output pipes are all closed). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Signals npx, tsx and the service at once, as a terminal or a process manager does. */
  signal(signal: NodeJS.Signals): void;
  running(): boolean;
  /** Resolves once stdout matches, rejects when the process exits first or time runs out. */
  waitForStdout(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
}

const started: Started[] = [];

function startMain(env: Record<string, string>): Started {
  // Only what the service reads, on top of what npx needs to run: no DATABASE_URL from outside.
  const { DATABASE_URL: _url, DATA_DIR: _dir, PORT: _port, HOST: _host, PUBLIC_URL: _public, SRS_TEST_MODE: _mode, ...inherited } = process.env;
  // A process group of its own: npx does not pass SIGTERM on to tsx, so signals go to the group.
  const child = spawn('npx', ['tsx', 'src/main.ts'], { cwd: projectDir, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let closed = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      closed = true;
      resolve({ code, signal });
    }),
  );
  const result: Started = {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    signal: (signal) => process.kill(-child.pid!, signal),
    running: () => !closed,
    waitForStdout: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stdout);
          if (!match) return false;
          cleanup();
          resolve(match);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`No ${pattern} on stdout within ${timeoutMs} ms.\nstdout: ${stdout}\nstderr: ${stderr}`));
        }, timeoutMs);
        const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
          if (check()) return;
          cleanup();
          reject(new Error(`Exited (${signal ?? code}) before ${pattern} appeared.\nstdout: ${stdout}\nstderr: ${stderr}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          child.off('close', onExit);
        };
        child.stdout!.on('data', check);
        child.once('close', onExit);
        check();
      }),
  };
  started.push(result);
  return result;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms))]);
}

/** A stack trace line, as Node prints them: "    at fn (/path/file.js:1:2)". */
const STACK_LINE = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

afterAll(async () => {
  // Whatever a failed test left running.
  for (const main of started) {
    if (!main.running()) continue;
    try {
      main.signal('SIGKILL');
    } catch {
      // the group is gone already
    }
    await main.exited;
  }
});

/** stderr without npx's own warnings about the machine's npm configuration. */
function withoutNpmWarnings(stderr: string): string {
  return stderr.replace(/^npm warn .*\n?/gim, '');
}

/** The service's stdout as JSON log lines; a line that is not JSON fails the test. */
function logLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe.skipIf(backend === 'postgres')('starting src/main.ts', () => {
  const dataDirs: string[] = [];
  const tempDataDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srs-startup-'));
    dataDirs.push(dir);
    return dir;
  };
  afterAll(() => dataDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  it('refuses a bad configuration, naming every bad variable, without a stack trace', async () => {
    const main = startMain({ PORT: 'abc', DATABASE_URL: 'mysql://x', DATA_DIR: tempDataDir() });
    const { code } = await withTimeout(main.exited, 60_000, 'exiting');
    expect(code).not.toBe(0);
    expect(code).toBe(1);
    const stderr = main.stderr();
    expect(stderr).toContain('Invalid configuration');
    expect(stderr).toMatch(/^\s+- PORT: /m);
    expect(stderr).toMatch(/^\s+- DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/m);
    expect(stderr).not.toMatch(STACK_LINE);
    expect(stderr).not.toMatch(/ZodError|node_modules/);
    expect(main.stdout()).not.toContain('listening');
  }, 90_000);

  it('refuses a port in use with one clear line, without a stack trace', async () => {
    const occupier = net.createServer();
    await new Promise<void>((resolve) => occupier.listen(0, '127.0.0.1', resolve));
    const { port } = occupier.address() as net.AddressInfo;
    try {
      const dataDir = tempDataDir();
      const main = startMain({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir });
      const { code } = await withTimeout(main.exited, 60_000, 'exiting');
      expect(code).toBe(1);
      expect(main.stderr()).toContain(`The service could not start: listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
      expect(main.stderr()).not.toMatch(STACK_LINE);
      // Told before the database was opened (let alone migrated).
      expect(fs.readdirSync(dataDir)).toEqual([]);
    } finally {
      occupier.close();
    }
  }, 90_000);

  it('serves on a fresh folder, refuses a second process on it, and stops on SIGTERM', async () => {
    const dataDir = tempDataDir();
    const port = await freePort();
    const first = startMain({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir });
    await first.waitForStdout(/listening.*\n/, 90_000);
    // Logs are JSON lines (pino), one object per line, nothing else on stdout.
    const started = logLines(first.stdout()).find((line) => String(line.msg).includes('listening'));
    expect(started).toMatchObject({
      level: 30,
      service: 'srs',
      graphql: `http://127.0.0.1:${port}/graphql`,
      oauth2: `http://127.0.0.1:${port}/oidc/.well-known/openid-configuration`,
      metrics: `http://127.0.0.1:${port}/metrics`,
      broker: 'none',
    });
    expect(started?.msg).toContain(`Smart Registration Service listening on 127.0.0.1:${port} (embedded PostgreSQL in ${dataDir})`);
    // The next step for a new user, and nothing but JSON lines anywhere (no library's plain-text warning).
    await expect.poll(() => logLines(first.stdout()).find((line) => String(line.msg).startsWith('No clients yet'))).toMatchObject({
      next: expect.arrayContaining(['npx srs clients create --name "My app" --role SERVICE_PROVIDER']),
    });
    expect(withoutNpmWarnings(first.stderr())).toBe('');

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', database: 'embedded' });

    // Every request gets an id (or keeps a proxy's), answered in a header and written in its log line.
    const unknown = await fetch(`http://127.0.0.1:${port}/nothing-here`, { headers: { 'x-request-id': 'proxy-req-42' } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-request-id')).toBe('proxy-req-42');
    const fresh = await fetch(`http://127.0.0.1:${port}/nothing-either`, { headers: { 'x-request-id': 'not a valid id!' } });
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await expect.poll(() => logLines(first.stdout()).find((line) => line.requestId === 'proxy-req-42')).toMatchObject({
      msg: 'request completed',
      method: 'GET',
      path: '/nothing-here',
      status: 404,
    });
    const discovery = await fetch(`http://127.0.0.1:${port}/oidc/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    expect(((await discovery.json()) as { issuer: string }).issuer).toBe(`http://127.0.0.1:${port}/oidc`);
    // The other spelling of the loopback address names itself as the issuer.
    const discoveryByName = await fetch(`http://localhost:${port}/oidc/.well-known/openid-configuration`);
    expect(((await discoveryByName.json()) as { issuer: string }).issuer).toBe(`http://localhost:${port}/oidc`);

    // A second process on the same folder, on another port, must not open it.
    const second = startMain({ PORT: String(await freePort()), HOST: '127.0.0.1', DATA_DIR: dataDir });
    const { code } = await withTimeout(second.exited, 60_000, 'the second process exiting');
    expect(code).toBe(1);
    expect(second.stderr()).toContain('in use');
    expect(second.stderr()).toContain(dataDir);
    expect(second.stderr()).not.toMatch(STACK_LINE);
    expect(second.stdout()).not.toContain('listening');
    // And the first one still serves.
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

    first.signal('SIGTERM');
    await withTimeout(first.exited, 30_000, 'stopping on SIGTERM');
    expect(logLines(first.stdout())).toEqual(
      expect.arrayContaining([expect.objectContaining({ msg: 'shutting down', signal: 'SIGTERM' }), expect.objectContaining({ msg: 'stopped' })]),
    );
    expect(first.stderr()).not.toMatch(STACK_LINE);
    // The service is gone: its lock is released and nothing answers on its port.
    expect(fs.existsSync(path.join(dataDir, 'srs.lock'))).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  }, 180_000);

  it('logs a stray rejection and a stray exception as JSON and keeps serving (nothing would restart it)', async () => {
    const port = await freePort();
    const fixture = fileURLToPath(new URL('../fixtures/stray-errors.mjs', import.meta.url));
    const main = startMain({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: tempDataDir(),
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${fixture}`.trim(),
    });
    await main.waitForStdout(/listening.*\n/, 90_000);
    // The fixture misbehaves once /health answers.
    await main.waitForStdout(/An uncaught exception[^\n]*\n/, 30_000);
    const lines = logLines(main.stdout());
    expect(lines.find((line) => String(line.msg).startsWith('A promise was rejected'))).toMatchObject({ level: 50, err: { message: 'a stray rejection' } });
    expect(lines.find((line) => String(line.msg).startsWith('An uncaught exception'))).toMatchObject({
      level: 60,
      msg: expect.stringContaining('keeps serving'),
      err: { message: 'a stray exception' },
    });
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    expect(main.running()).toBe(true);
    expect(withoutNpmWarnings(main.stderr())).toBe('');
    main.signal('SIGTERM');
    await withTimeout(main.exited, 30_000, 'stopping on SIGTERM');
  }, 180_000);

  it('in test mode, a first start creates a demo client, shows its secret once, and its lines work', async () => {
    const port = await freePort();
    const main = startMain({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: tempDataDir(), SRS_TEST_MODE: '1' });
    await main.waitForStdout(/created the demo client.*\n/, 90_000);
    const hint = logLines(main.stdout()).find((line) => String(line.msg).includes('created the demo client')) as { demoClient: TestClient; next: string[] };
    expect(hint.demoClient).toEqual({ clientId: expect.stringMatching(/^srs_/), clientSecret: expect.stringMatching(/^[\w-]{43}$/) });
    expect(hint.next[0]).toBe(`TOKEN=$(SRS_CLIENT_SECRET='${hint.demoClient.clientSecret}' npx srs token ${hint.demoClient.clientId})`);
    expect(hint.next[1]).toContain(`curl -s http://127.0.0.1:${port}/graphql -H "Authorization: Bearer $TOKEN"`);
    // What the lines do, through HTTP.
    const service = endpointAt(`http://127.0.0.1:${port}`);
    const token = await service.token(hint.demoClient);
    const viewer = await service.graphql<{ viewer: { name: string; role: string } }, never>('{ viewer { name role } }', { token });
    expect(viewer.data?.viewer).toEqual({ name: 'Demo service provider (test mode)', role: 'SERVICE_PROVIDER' });
    expect(withoutNpmWarnings(main.stderr())).toBe('');
    main.signal('SIGTERM');
    await withTimeout(main.exited, 30_000, 'stopping on SIGTERM');
    // Every line on stdout was JSON (logLines throws otherwise).
    expect(logLines(main.stdout()).length).toBeGreaterThan(2);
  }, 180_000);
});

describe.skipIf(backend !== 'postgres')('WORKERS: several server processes on one port', () => {
  it('spreads connections over the workers, replaces a worker that dies, and stops them all on SIGTERM', async () => {
    const database = await freshDatabaseEnv();
    try {
      const port = await freePort();
      const main = startMain({ ...database.env, PORT: String(port), HOST: '127.0.0.1', WORKERS: '2' });
      await main.waitForStdout(/worker listening[^\n]*\n[^]*worker listening[^\n]*\n/, 120_000);
      const workerPids = () => logLines(main.stdout()).filter((line) => line.msg === 'worker listening').map((line) => line.workerPid as number);
      expect(new Set(workerPids()).size).toBe(2);

      // Each request on a connection of its own: the workers take the connections in turn.
      // (/health is not logged; an unknown path is, with the worker's pid.)
      for (let index = 0; index < 6; index++) {
        const response = await fetch(`http://127.0.0.1:${port}/which-worker`, { headers: { connection: 'close', 'x-request-id': `spread-${index}` } });
        expect(response.status).toBe(404);
      }
      await expect
        .poll(() => new Set(logLines(main.stdout()).filter((line) => String(line.requestId).startsWith('spread-')).map((line) => line.pid)))
        .toEqual(new Set(workerPids()));

      // One order, placed through whichever worker takes it.
      const created = await runCli(['clients', 'create', '--name', 'Workers SP', '--role', 'SERVICE_PROVIDER', '--json'], database.env);
      expect(created.code).toBe(0);
      const service = endpointAt(`http://127.0.0.1:${port}`);
      const token = await service.token(JSON.parse(created.stdout.trim()) as TestClient);
      await placeOrderBrief(service, token, { methodId: methodGlobalId('identity-tm-video') });

      // /metrics answers for all workers, whichever takes the scrape: the six requests above
      // were split between the two, and every scrape counts all six. What each worker reads from
      // the shared database (the one order) is shown once, not added up.
      for (let scrape = 0; scrape < 4; scrape++) {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { connection: 'close' } })).text();
        expect(text).toMatch(/^srs_http_request_duration_seconds_count\{route="other",method="GET",status="404"\} 6$/m);
        const orders = [...text.matchAll(/^srs_orders\{status="\w+"\} (\d+)$/gm)].reduce((sum, line) => sum + Number(line[1]), 0);
        expect(orders).toBe(1);
      }

      // A worker killed outright: once the primary has noticed, the other one takes every
      // connection until a replacement listens. (A connection handed over in the instant
      // between the kill and the primary noticing is lost: Node's cluster module.)
      const [victim, survivor] = workerPids();
      process.kill(victim, 'SIGKILL');
      await main.waitForStdout(/A worker exited; starting another/, 30_000);
      expect(logLines(main.stdout())).toContainEqual(expect.objectContaining({ msg: 'A worker exited; starting another', workerPid: victim, signal: 'SIGKILL' }));
      expect((await fetch(`http://127.0.0.1:${port}/health`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(10_000) })).status).toBe(200);
      await expect.poll(() => workerPids().length, { timeout: 60_000 }).toBe(3);
      const replacement = workerPids()[2];
      expect([victim, survivor]).not.toContain(replacement);

      main.signal('SIGTERM');
      // npx, signalled with the group, dies of the signal: what counts is what the service logged.
      await withTimeout(main.exited, 60_000, 'stopping on SIGTERM');
      // Every worker shut down in order, then the primary.
      const lines = logLines(main.stdout());
      const primary = lines.find((line) => line.msg === 'stopping the workers')?.pid;
      expect(lines.filter((line) => line.msg === 'stopped').map((line) => line.pid)).toEqual(expect.arrayContaining([survivor, replacement, primary]));
      expect(lines.filter((line) => line.msg === 'stopped').at(-1)?.pid).toBe(primary);
      expect(main.stderr()).not.toMatch(STACK_LINE);
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    } finally {
      await database.drop();
    }
  }, 240_000);

  it('exits with an error, not a restart loop, when the workers cannot start', async () => {
    const database = await freshDatabaseEnv();
    await database.drop();
    // The database is gone: every worker fails before it listens.
    const main = startMain({ ...database.env, PORT: String(await freePort()), HOST: '127.0.0.1', WORKERS: '2' });
    const { code } = await withTimeout(main.exited, 90_000, 'exiting');
    expect(code).toBe(1);
    expect(logLines(main.stdout())).toContainEqual(expect.objectContaining({ msg: 'A worker exited before it could serve; the service cannot start' }));
    expect(main.stdout()).not.toContain('worker listening');
  }, 120_000);
});
