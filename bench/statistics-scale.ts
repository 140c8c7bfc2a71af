// How long orderStatistics takes over many orders, on PostgreSQL. Run once by hand, not in the
// suite: it fills a throwaway database with generated orders and events (one INSERT … SELECT
// generate_series each) and times the statistics of an operator (all orders) and of one of 20
// service providers, for TODAY and LAST_30_DAYS (orders spread over 60 days).
//   BENCH_DATABASE_URL=postgres://root@127.0.0.1:5432/test npx tsx bench/statistics-scale.ts 100000 1000000
import pg from 'pg';
import { openDatabaseAdapter } from '../src/db/adapter.js';
import { applyMigrations } from '../src/db/migrate.js';
import { PrismaClient } from '../src/generated/prisma/client.js';
import { seedCatalogue } from '../src/services/methods.js';
import { orderStatistics } from '../src/services/statistics.js';
import { resolvePeriod } from '../src/domain/statistics-period.js';
import type { Viewer } from '../src/auth/viewer.js';

const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const sizes = process.argv.slice(2).map(Number);
const PROVIDERS = 20;
const RUNS = 5;

const viewer = (role: Viewer['role'], clientId: string): Viewer => ({ clientId, name: clientId, role, issuer: null, scopes: ['orders:read'], tokenExpiresAt: new Date(Date.now() + 3600_000), accessToken: '' });

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(sql);
  await client.end();
}

for (const size of sizes) {
  const name = `srs_stats_bench_${size}`;
  await admin(`DROP DATABASE IF EXISTS ${name}`);
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openDatabaseAdapter({ databaseUrl: url.toString(), dataDir: '' });
  await applyMigrations(database);
  const prisma = new PrismaClient({ adapter: database.adapter });
  await seedCatalogue(prisma, false);
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  const methods = (await client.query<{ count: number }>(`SELECT count(*)::int AS count FROM "IdentificationMethod" WHERE NOT "testOnly"`)).rows[0].count;
  const loadStarted = performance.now();
  await client.query(
    `INSERT INTO "Order" (id, "refId", "clientId", "methodId", issuer, status, "statusReason", "initialDataSealed", "targetUrl", "createdAt", "updatedAt")
     SELECT 'o' || g, 'SRS-BENCH-' || g, 'client-' || (g % ${PROVIDERS}), m.id, m.issuer,
            (CASE WHEN g % 20 < 12 THEN 'TERMINATED' WHEN g % 20 < 14 THEN 'ERROR' WHEN g % 20 < 16 THEN 'TIMEOUT'
                  WHEN g % 20 < 17 THEN 'NEGATIVELY_CONDUCTED' WHEN g % 20 < 18 THEN 'ABORTED' ELSE 'INITIALIZED' END)::"OrderStatus",
            CASE WHEN g % 20 IN (12, 13) THEN 'Camera error ' || (g % 3) END,
            'sealed', 'https://partner.invalid/t',
            (now() AT TIME ZONE 'utc') - ((g::bigint * 7919) % 5184000) * interval '1 second', now() AT TIME ZONE 'utc'
     FROM generate_series(1, $1::int) g
     JOIN (SELECT id, issuer, (row_number() OVER (ORDER BY id) - 1)::int AS i FROM "IdentificationMethod" WHERE NOT "testOnly") m ON m.i = (g / 7) % ${methods}`,
    [size],
  );
  // Sequences are given here directly: the commit-time trigger would number millions of rows one by one.
  await client.query(`ALTER TABLE "OrderEvent" DISABLE TRIGGER "OrderEvent_sequence_at_commit"`);
  await client.query(
    `INSERT INTO "OrderEvent" (id, sequence, "orderId", type, status, "previousStatus", actor, at)
     SELECT 'e' || o.g || '-' || s.step, o.g * 8 + s.step, o.id, s.type::"OrderEventType", s.status::"OrderStatus", s.prev::"OrderStatus", 'bench',
            o."createdAt" + s.seconds * interval '1 second'
     FROM (SELECT id, status::text AS st, "createdAt", substr(id, 2)::bigint AS g FROM "Order") o
     CROSS JOIN LATERAL (VALUES
       (0, 'STATUS_CHANGED', 'CREATED', NULL::text, 0, true),
       (1, 'STATUS_CHANGED', 'INITIALIZED', 'CREATED', 5, true),
       (2, 'STATUS_CHANGED', 'IDENTIFICATION_DONE', 'INITIALIZED', 300 + o.g % 600, o.st = 'TERMINATED'),
       (3, 'STATUS_CHANGED', 'TERMINATED', 'IDENTIFICATION_DONE', 900 + o.g % 900, o.st = 'TERMINATED'),
       (4, 'TERMS_ACCEPTED', 'TERMINATED', 'TERMINATED', 1800 + o.g % 3600, o.st = 'TERMINATED' AND o.g % 5 < 4),
       (5, 'STATUS_CHANGED', o.st, 'INITIALIZED', 200 + o.g % 1200, o.st NOT IN ('TERMINATED', 'INITIALIZED'))
     ) s(step, type, status, prev, seconds, keep)
     WHERE s.keep`,
  );
  await client.query('ANALYZE');
  const events = (await client.query<{ count: number }>(`SELECT count(*)::int AS count FROM "OrderEvent"`)).rows[0].count;
  console.log(`${size} orders, ${events} events loaded in ${((performance.now() - loadStarted) / 1000).toFixed(0)} s`);

  for (const [label, who] of [
    ['ADMIN (all orders)', viewer('ADMIN', 'operator')],
    [`one of ${PROVIDERS} providers`, viewer('SERVICE_PROVIDER', 'client-1')],
  ] as const) {
    for (const period of ['TODAY', 'LAST_7_DAYS', 'LAST_30_DAYS'] as const) {
      const range = resolvePeriod({ period }, new Date());
      if ('problem' in range) throw new Error(range.problem);
      const times: number[] = [];
      let total = 0;
      for (let run = 0; run <= RUNS; run++) {
        const started = performance.now();
        total = (await orderStatistics({ prisma, database }, who, range)).total;
        if (run > 0) times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      console.log(`  ${label}, ${period}: ${total} orders counted, median ${times[Math.floor(times.length / 2)].toFixed(0)} ms, worst ${times.at(-1)!.toFixed(0)} ms`);
    }
  }
  await client.end();
  await prisma.$disconnect();
  await database.close();
  if (process.env.KEEP_BENCH_DATABASE !== '1') await admin(`DROP DATABASE IF EXISTS ${name}`);
}
