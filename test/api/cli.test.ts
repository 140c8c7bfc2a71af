// The operator CLI (src/cli.ts), run as its own process against a fresh database, as an operator
// would run it with `npm run cli -- ...`.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backend, freshDatabaseEnv, runCli, startTestService, type TestClient, type TestService } from '../kit.js';

const TEST_TIMEOUT_MS = 180_000;

/** Runs `clients create ... --json` and returns the client it printed, failing on anything else. */
async function createWithCli(env: Record<string, string>, name: string): Promise<TestClient & Record<string, unknown>> {
  const result = await runCli(['clients', 'create', '--name', name, '--role', 'SERVICE_PROVIDER', '--json'], env);
  expect(result.stderr).not.toMatch(/error|failed/i);
  expect(result.code).toBe(0);
  const lines = result.stdout.split('\n').filter((line) => line.trim() !== '');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]) as TestClient & Record<string, unknown>;
}

async function listWithCli(env: Record<string, string>): Promise<Array<Record<string, unknown>>> {
  const result = await runCli(['clients', 'list', '--json'], env);
  expect(result.code).toBe(0);
  const lines = result.stdout.split('\n').filter((line) => line.trim() !== '');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]) as Array<Record<string, unknown>>;
}

const ViewerQuery = '{ viewer { clientId name role scopes issuer } }';

// Every database and service a test opened, closed after it whatever happened.
let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  const pending = cleanups.reverse();
  cleanups = [];
  for (const cleanup of pending) await cleanup();
});

async function freshDatabase() {
  const db = await freshDatabaseEnv();
  cleanups.push(() => db.drop());
  return db;
}

async function serviceOn(env: Record<string, string>): Promise<TestService> {
  const srs = await startTestService({ env });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await srs.stop();
  };
  cleanups.push(stop);
  return { ...srs, stop };
}

describe('cli: clients create', () => {
  it(
    'prints exactly one JSON line whose credentials get a token',
    async () => {
      const db = await freshDatabase();
      const created = await createWithCli(db.env, 'Acme');
      expect(created).toStrictEqual({
        clientId: expect.stringMatching(/^srs_[A-Za-z0-9_-]{16}$/),
        clientSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        name: 'Acme',
        role: 'SERVICE_PROVIDER',
        issuer: null,
        scopes: ['methods:read', 'orders:read', 'orders:write', 'verify', 'billing'],
      });

      // On the embedded backend the CLI has released the folder by now.
      const srs = await serviceOn(db.env);
      const token = await srs.token({ clientId: created.clientId, clientSecret: created.clientSecret });
      const viewer = await srs.graphql<{ viewer: Record<string, unknown> }, never>(ViewerQuery, { token });
      expect(viewer.errors).toBeUndefined();
      expect(viewer.data!.viewer).toStrictEqual({
        clientId: created.clientId,
        name: 'Acme',
        role: 'SERVICE_PROVIDER',
        scopes: ['methods:read', 'orders:read', 'orders:write', 'verify', 'billing'],
        issuer: null,
      });
      // A wrong secret for the same id gets nothing.
      const wrong = await srs.requestToken({ clientId: created.clientId, clientSecret: `${created.clientSecret}x` });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('invalid_client');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'refuses bad input with a non-zero exit and a message naming the problem',
    async () => {
      const db = await freshDatabase();

      const noIssuer = await runCli(['clients', 'create', '--name', 'X', '--role', 'IPSP'], db.env);
      expect(noIssuer.code).not.toBe(0);
      expect(noIssuer.stderr).toContain('issuer');
      expect(noIssuer.stdout).not.toContain('client secret');

      const badRole = await runCli(['clients', 'create', '--name', 'X', '--role', 'NOPE'], db.env);
      expect(badRole.code).not.toBe(0);
      expect(badRole.stderr).toContain('role');
      expect(badRole.stderr).toContain('NOPE');

      const noName = await runCli(['clients', 'create', '--role', 'ADMIN'], db.env);
      expect(noName.code).not.toBe(0);
      expect(noName.stderr).toContain('--name');
      expect(noName.stderr).toContain('Usage:');

      const unknownCommand = await runCli(['frobnicate'], db.env);
      expect(unknownCommand.code).not.toBe(0);
      expect(unknownCommand.stderr).toContain('Unknown command: frobnicate');
      expect(unknownCommand.stderr).toContain('Usage:');

      const unknownOption = await runCli(['clients', 'list', '--bogus'], db.env);
      expect(unknownOption.code).not.toBe(0);
      expect(unknownOption.stderr).toContain('bogus');
      expect(unknownOption.stderr).toContain('Usage:');

      // None of the refused commands created a client.
      expect(await listWithCli(db.env)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'creates an IPSP client for a known issuer',
    async () => {
      const db = await freshDatabase();
      const result = await runCli(['clients', 'create', '--name', 'Nect GmbH', '--role', 'ipsp', '--issuer', 'nect', '--json'], db.env);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ name: 'Nect GmbH', role: 'IPSP', issuer: 'NECT', scopes: ['methods:read', 'ipsp'] });

      const unknownIssuer = await runCli(['clients', 'create', '--name', 'Y', '--role', 'IPSP', '--issuer', 'NOBODY'], db.env);
      expect(unknownIssuer.code).not.toBe(0);
      expect(unknownIssuer.stderr).toContain('unknown issuer "NOBODY"');
    },
    TEST_TIMEOUT_MS,
  );
});

describe('cli: clients list and disable', () => {
  it(
    'lists clients without secrets, disables one and its credentials stop working',
    async () => {
      const db = await freshDatabase();
      const created = await createWithCli(db.env, 'Acme');
      const credentials = { clientId: created.clientId, clientSecret: created.clientSecret };

      const listed = await listWithCli(db.env);
      expect(listed).toHaveLength(1);
      expect(Object.keys(listed[0]).sort()).toEqual(['createdAt', 'enabled', 'id', 'issuer', 'name', 'rateLimitPerSecond', 'role', 'scopes', 'updatedAt']);
      expect(listed[0]).toMatchObject({ id: created.clientId, name: 'Acme', role: 'SERVICE_PROVIDER', issuer: null, enabled: true });
      const listText = JSON.stringify(listed);
      expect(listText).not.toContain(created.clientSecret);
      expect(listText).not.toMatch(/secret|hash|sha256/i);

      // A token from before the client was disabled.
      let srs = await serviceOn(db.env);
      const earlierToken = await srs.token(credentials);
      if (backend === 'pglite') await srs.stop();

      const disabled = await runCli(['clients', 'disable', created.clientId], db.env);
      expect(disabled.stderr).toMatch(/^Database: (embedded PostgreSQL in \/|PostgreSQL at )/);
      expect(disabled.stderr).not.toMatch(/error|fail/i);
      expect(disabled.code).toBe(0);
      expect(disabled.stdout).toContain(`Disabled client ${created.clientId}`);

      // The service has added its simulators' IPSP clients (sim-*) meanwhile.
      const listedAfter = await listWithCli(db.env);
      expect(listedAfter.filter((client) => !String(client.id).startsWith('sim-'))).toMatchObject([{ id: created.clientId, name: 'Acme', enabled: false }]);
      expect(JSON.stringify(listedAfter)).not.toMatch(/secret|hash|sha256/i);

      if (backend === 'pglite') srs = await serviceOn(db.env);
      const refused = await srs.requestToken(credentials);
      expect(refused.status).toBe(401);
      expect(refused.body.error).toBe('invalid_client');
      // Disabling also revoked the token the client already held.
      const viewer = await srs.graphql(ViewerQuery, { token: earlierToken });
      expect(viewer.data ?? null).toBeNull();
      expect(viewer.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'refuses to disable an unknown client',
    async () => {
      const db = await freshDatabase();
      const result = await runCli(['clients', 'disable', 'srs_does_not_exist'], db.env);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('No client with id srs_does_not_exist');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'migrates a never-used database first and says there are no clients',
    async () => {
      let env: Record<string, string>;
      let dataDir: string | undefined;
      if (backend === 'pglite') {
        const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'srs-cli-'));
        cleanups.push(async () => fs.rmSync(parent, { recursive: true, force: true }));
        dataDir = path.join(parent, 'never-used');
        env = { DATA_DIR: dataDir };
      } else {
        env = (await freshDatabase()).env;
      }
      const result = await runCli(['clients', 'list'], env);
      expect(result.stderr).toEqual(backend === 'pglite' ? `Database: embedded PostgreSQL in ${dataDir}\n` : expect.stringMatching(/^Database: PostgreSQL at 127\.0\.0\.1:5432\/\w+\n$/));
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('No clients yet');
      if (dataDir) {
        expect(fs.existsSync(path.join(dataDir, 'pgdata'))).toBe(true);
        expect(fs.existsSync(path.join(dataDir, 'srs.lock'))).toBe(false);
      }
      // The migrated database is usable as is.
      expect(await listWithCli(env)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('cli: the command line', () => {
  it('prints one command\'s usage, checks arguments before opening anything, refuses --json where there is none', async () => {
    // A folder that cannot be a data folder: any attempt to open it would fail with another message.
    const env = { DATA_DIR: '/proc/srs-never-opened' };
    // Through package.json's bin (what `npx srs` runs), as well as through tsx.
    const viaBin = await new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(process.execPath, ['bin/srs.js', 'clients', 'list', '--help'], { cwd: path.resolve(import.meta.dirname, '../..'), env: { ...process.env, ...env } }, (error, stdout) =>
        resolve({ code: typeof error?.code === 'number' ? error.code : error ? -1 : 0, stdout }),
      ),
    );
    expect(viaBin).toEqual({ code: 0, stdout: expect.stringMatching(/^Usage: srs clients list \[--json\]/) });
    const help = await runCli(['clients', 'create', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: srs clients create --name NAME --role ROLE/);
    expect(help.stdout).not.toContain('evidence revoke');
    expect(help.stdout).toContain('Exit codes:');

    const usage = await runCli(['clients', 'disable'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('clients disable needs exactly one CLIENT_ID');
    expect(usage.stderr).toContain('Usage: srs clients disable CLIENT_ID');
    expect(usage.stderr).not.toContain('Database:');

    const json = await runCli(['keys', 'rotate-evidence', '--json'], env);
    expect(json.code).toBe(2);
    expect(json.stderr).toContain('keys rotate-evidence has no JSON output');
    expect(json.stdout).toBe('');

    const secretInArgs = await runCli(['token', 'srs_x', '--secret', 'visible-in-ps'], env);
    expect(secretInArgs.code).toBe(2);
    expect(secretInArgs.stderr).toContain('SRS_CLIENT_SECRET');
    const noSecret = await runCli(['token', 'srs_x'], { ...env, SRS_CLIENT_SECRET: '' });
    expect(noSecret.code).toBe(2);

    const badConfig = await runCli(['clients', 'list'], { ...env, PORT: 'abc' });
    expect(badConfig.code).toBe(4);
    expect(badConfig.stderr).toContain('PORT');
  }, TEST_TIMEOUT_MS);
});

describe('cli: while the service runs', () => {
  it.skipIf(backend === 'postgres')(
    'goes through the running server on an embedded data folder in use; a client made so gets a token at once',
    async () => {
      const db = await freshDatabase();
      const srs = await serviceOn(db.env);
      const created = await runCli(['clients', 'create', '--name', 'Live Ltd', '--role', 'SERVICE_PROVIDER', '--json'], db.env);
      expect(created.code).toBe(0);
      expect(created.stderr).toContain(`Database: embedded PostgreSQL in ${db.env.DATA_DIR}, through the running server (process ${process.pid})`);
      const client = JSON.parse(created.stdout) as TestClient;
      // The server that made it issues its token at once.
      expect(typeof (await srs.token(client))).toBe('string');

      // The token command, as a script uses it: the secret in the environment, the token alone on stdout.
      const env = { ...db.env, INTERNAL_URL: srs.url };
      const token = await runCli(['token', client.clientId], { ...env, SRS_CLIENT_SECRET: client.clientSecret });
      expect(token.code).toBe(0);
      expect(token.stdout).toMatch(/^\S+\n$/);
      const viewer = await srs.graphql<{ viewer: { clientId: string } }, never>(ViewerQuery, { token: token.stdout.trim() });
      expect(viewer.data?.viewer.clientId).toBe(client.clientId);
      const asJson = await runCli(['token', client.clientId, '--json', '--scope', 'verify'], { ...env, SRS_CLIENT_SECRET: client.clientSecret });
      expect(JSON.parse(asJson.stdout)).toMatchObject({ access_token: expect.any(String), token_type: 'Bearer', scope: 'verify' });
      const wrongSecret = await runCli(['token', client.clientId], { ...env, SRS_CLIENT_SECRET: `${client.clientSecret}x` });
      expect(wrongSecret.code).toBe(3);
      expect(wrongSecret.stdout).toBe('');
      expect(wrongSecret.stderr).toContain('invalid_client');

      // Listing and disabling go through the server too; the server forgets the client at once.
      const listed = await listWithCli(db.env);
      expect(listed.filter((entry) => entry.id === client.clientId)).toHaveLength(1);
      const disabled = await runCli(['clients', 'disable', client.clientId], db.env);
      expect(disabled.code).toBe(0);
      const refused = await srs.requestToken(client);
      expect(refused.status).toBe(401);
      const unknown = await runCli(['clients', 'disable', 'srs_nobody'], db.env);
      expect(unknown.code).toBe(3);
      expect(unknown.stderr).toContain('No client with id srs_nobody');
      // The socket sits in a folder only the service's user may enter, and checks what it gets.
      expect(fs.statSync(path.join(db.env.DATA_DIR, 'admin')).mode & 0o777).toBe(0o700);
      const raw = (body: string) =>
        new Promise<number | undefined>((resolve, reject) => {
          const request = http.request({ socketPath: path.join(db.env.DATA_DIR, 'admin', 'srs.sock'), method: 'POST', path: '/run' }, (response) => {
            response.resume();
            resolve(response.statusCode);
          });
          request.on('error', reject);
          request.end(body);
        });
      expect(await raw('{"command":"drop everything"}')).toBe(400);
      expect(await raw('{"command":"clients create","name":42,"role":"ADMIN"}')).toBe(400);
      expect(await raw('not json')).toBe(400);
      // The service still holds its lock.
      expect(fs.readFileSync(path.join(db.env.DATA_DIR, 'srs.lock'), 'utf8')).toBe(String(process.pid));
    },
    TEST_TIMEOUT_MS,
  );

  it.skipIf(backend !== 'postgres')(
    'works on PostgreSQL while the service runs',
    async () => {
      const db = await freshDatabase();
      const srs = await serviceOn(db.env);
      const created = await createWithCli(db.env, 'Live Ltd');
      const credentials = { clientId: created.clientId, clientSecret: created.clientSecret };
      expect(typeof (await srs.token(credentials))).toBe('string');
      const listed = (await listWithCli(db.env)).filter((client) => !String(client.id).startsWith('sim-'));
      expect(listed.map((client) => [client.id, client.enabled])).toEqual([[created.clientId, true]]);

      const disabled = await runCli(['clients', 'disable', created.clientId], db.env);
      expect(disabled.code).toBe(0);
      const refused = await srs.requestToken(credentials);
      expect(refused.status).toBe(401);
      expect(refused.body.error).toBe('invalid_client');
    },
    TEST_TIMEOUT_MS,
  );
});
