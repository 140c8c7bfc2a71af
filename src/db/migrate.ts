import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DatabaseHandle } from './adapter.js';

const migrationsDir = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));
// Any constant works; every process of the service must use the same one.
const MIGRATION_LOCK_ID = 7_260_431;

/**
 * Applies the SQL migrations of prisma/migrations that the database has not seen, each in its
 * own transaction. It keeps Prisma's own `_prisma_migrations` bookkeeping, so `prisma migrate`
 * and this runner agree, and needs no Prisma CLI at run time. On PostgreSQL an advisory lock
 * makes concurrent starts wait for each other instead of racing.
 */
export async function applyMigrations(database: DatabaseHandle): Promise<string[]> {
  const migrations = fs
    .readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return database.withConnection(async (connection) => {
    if (database.kind === 'postgres') await connection.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      await connection.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
        "id" VARCHAR(36) PRIMARY KEY NOT NULL,
        "checksum" VARCHAR(64) NOT NULL,
        "finished_at" TIMESTAMPTZ,
        "migration_name" VARCHAR(255) NOT NULL,
        "logs" TEXT,
        "rolled_back_at" TIMESTAMPTZ,
        "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
        "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
      const appliedRows = await connection.query<{ migration_name: string }>(
        'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
      );
      const applied = new Set(appliedRows.map((row) => row.migration_name));
      const newlyApplied: string[] = [];
      for (const name of migrations) {
        if (applied.has(name)) continue;
        const sql = fs.readFileSync(`${migrationsDir}/${name}/migration.sql`, 'utf8');
        const checksum = createHash('sha256').update(sql).digest('hex');
        await connection.exec('BEGIN');
        try {
          await connection.exec(sql);
          await connection.query(
            `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
             VALUES ($1, $2, $3, now(), now(), 1)`,
            [randomUUID(), checksum, name],
          );
          await connection.exec('COMMIT');
        } catch (error) {
          await connection.exec('ROLLBACK');
          throw new Error(`Migration ${name} failed: ${(error as Error).message}`);
        }
        newlyApplied.push(name);
      }
      return newlyApplied;
    } finally {
      if (database.kind === 'postgres') await connection.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  });
}
