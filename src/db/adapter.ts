import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { Prisma } from '../generated/prisma/client.js';

/** The driver adapter Prisma is built with (the PGlite adapter pins an older copy of the same interface). */
export type DriverAdapterFactory = NonNullable<Prisma.PrismaClientOptions['adapter']>;

/** A database connection the rest of the service can hand to Prisma and to the migration runner. */
export interface DatabaseHandle {
  kind: 'embedded' | 'postgres';
  /** Where the data lives, for messages: the folder or the server without credentials. */
  location: string;
  adapter: DriverAdapterFactory;
  /** Runs a callback on one dedicated connection (migrations need that for their lock). */
  withConnection<T>(work: (connection: RawConnection) => Promise<T>): Promise<T>;
  /**
   * Runs one statement on any pooled connection, outside Prisma: for the hottest statements,
   * where Prisma 6's per-query planning costs more CPU than the query itself. Column types come
   * back as the driver gives them (pg: int8 as a string; PGlite: as a bigint).
   */
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs statements in one transaction outside Prisma (see `query`); rolls back on an error. */
  transaction<T>(work: (sql: SqlRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** What plain-SQL code needs: one statement at a time, with parameters. */
export interface SqlRunner {
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
}

export interface RawConnection {
  /** Runs one or more SQL statements without parameters. */
  exec(sql: string): Promise<void>;
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
}

/** Thrown when the embedded data folder is already open in another process. */
export class DataFolderInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `The embedded data folder ${dataDir} is in use by process ${pid}. ` +
        'Stop that process first, or point DATABASE_URL at a PostgreSQL server to share data between processes.',
    );
  }
}

// One PGlite instance per folder, ever: two instances on one folder corrupt it, and the
// Prisma CLI calls its adapter factory more than once.
const embeddedByFolder = new Map<string, Promise<DatabaseHandle>>();

export function openDatabaseAdapter(options: { databaseUrl?: string; dataDir: string }): Promise<DatabaseHandle> {
  if (options.databaseUrl) return Promise.resolve(openPostgres(options.databaseUrl));
  const dataDir = path.resolve(options.dataDir);
  let handle = embeddedByFolder.get(dataDir);
  if (!handle) {
    handle = openEmbedded(dataDir);
    embeddedByFolder.set(dataDir, handle);
    handle.catch(() => embeddedByFolder.delete(dataDir));
  }
  return handle;
}

// Plain statements run as named prepared statements: each connection parses and plans one
// once and then reuses the plan, which halves PostgreSQL's CPU for the short statements of the
// hot paths. Their texts are constants (values go in parameters); a text seen too often to be
// one is run unprepared rather than filling every connection with statements.
const MAX_PREPARED_STATEMENTS = 200;

function preparedStatementNamer(): (sql: string) => string | undefined {
  const names = new Map<string, string>();
  return (sql) => {
    let name = names.get(sql);
    if (!name && names.size < MAX_PREPARED_STATEMENTS) names.set(sql, (name = `srs_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`));
    return name;
  };
}

function openPostgres(databaseUrl: string): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const nameOf = preparedStatementNamer();
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const url = new URL(databaseUrl);
  return {
    kind: 'postgres',
    location: `${url.hostname}:${url.port || 5432}${url.pathname}`,
    adapter: new PrismaPg(pool) as DriverAdapterFactory,
    async withConnection(work) {
      const client = await pool.connect();
      try {
        return await work({
          exec: async (sql) => void (await client.query(sql)),
          query: async (sql, params) => (await client.query(sql, params)).rows,
        });
      } finally {
        client.release();
      }
    },
    query: async (sql, params) => (await pool.query({ name: nameOf(sql), text: sql, values: params })).rows,
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work({ query: async (sql, params) => (await client.query({ name: nameOf(sql), text: sql, values: params })).rows });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

async function openEmbedded(dataDir: string): Promise<DatabaseHandle> {
  fs.mkdirSync(dataDir, { recursive: true });
  const releaseLock = lockDataFolder(dataDir);
  let db: PGlite;
  try {
    db = await PGlite.create(path.join(dataDir, 'pgdata'));
  } catch (error) {
    releaseLock();
    throw error;
  }
  let closed = false;
  return {
    kind: 'embedded',
    location: dataDir,
    adapter: new PrismaPGlite(db) as unknown as DriverAdapterFactory,
    withConnection: (work) =>
      work({
        exec: async (sql) => void (await db.exec(sql)),
        query: async (sql, params) => (await db.query(sql, params)).rows as never,
      }),
    query: async (sql, params) => (await db.query(sql, params)).rows as never,
    transaction: (work) => db.transaction((tx) => work({ query: async (sql, params) => (await tx.query(sql, params)).rows as never })),
    async close() {
      if (closed) return;
      closed = true;
      embeddedByFolder.delete(dataDir);
      await db.close();
      releaseLock();
    },
  };
}

/**
 * Takes the folder's lock file, or throws DataFolderInUseError naming the holder. A lock left
 * by a process that no longer runs is taken over.
 */
function lockDataFolder(dataDir: string): () => void {
  const lockFile = path.join(dataDir, 'srs.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      const release = () => {
        process.off('exit', release);
        try {
          if (fs.readFileSync(lockFile, 'utf8') === String(process.pid)) fs.unlinkSync(lockFile);
        } catch {
          // already gone
        }
      };
      process.on('exit', release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(fs.readFileSync(lockFile, 'utf8'));
      if (holder && holder !== process.pid && isRunning(holder)) throw new DataFolderInUseError(dataDir, holder);
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`Could not lock the data folder ${dataDir}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
