// A PostgreSQL cluster of the test's own, made with the machine's binaries (initdb, pg_ctl) in a
// temporary folder on a free port, so a test can stop and start it without touching the shared
// server. As root the binaries run as the `postgres` user, which PostgreSQL insists on.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './kit.js';

const run = promisify(execFile);

/** The newest installed PostgreSQL's bin folder, or undefined when there is none. */
export function postgresBinaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  const versions = fs.readdirSync(root).filter((name) => fs.existsSync(path.join(root, name, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  if (!versions.length) return undefined;
  const bin = path.join(root, versions[0], 'bin');
  // As root, initdb and the server need a user of their own.
  if (process.getuid?.() === 0 && !fs.existsSync('/usr/sbin/runuser')) return undefined;
  return bin;
}

export interface OwnPostgres {
  /** postgres://postgres@127.0.0.1:port/<database> */
  url(database: string): string;
  start(): Promise<void>;
  /** Stops the server; `immediate` as a crash would (no checkpoint), otherwise fast (sessions ended). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops it if running and removes its folder. */
  destroy(): Promise<void>;
}

export async function createOwnPostgres(): Promise<OwnPostgres> {
  const bin = postgresBinaries();
  if (!bin) throw new Error('No PostgreSQL binaries under /usr/lib/postgresql');
  const asRoot = process.getuid?.() === 0;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'srs-own-pg-'));
  const dataDir = path.join(folder, 'data');
  if (asRoot) await run('chown', ['postgres:postgres', folder]);
  const as = (command: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, command), ...args]) : run(path.join(bin, command), args));
  await as('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const options = `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  let running = false;
  const own: OwnPostgres = {
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      await as('pg_ctl', ['-D', dataDir, '-o', options, '-l', path.join(folder, 'server.log'), '-w', '-t', '60', 'start']);
      running = true;
    },
    async stop(mode = 'fast') {
      await as('pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
      running = false;
    },
    async destroy() {
      if (running) await own.stop('immediate').catch(() => undefined);
      fs.rmSync(folder, { recursive: true, force: true });
    },
  };
  await own.start();
  return own;
}

/** Creates a database on the cluster. */
export async function createDatabase(own: OwnPostgres, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: own.url('postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return own.url(name);
}
