// npx tsx bench/event-sequence-lock.ts [seconds-per-run]
//
// What the event sequence lock costs as concurrency grows: transactions that each insert one
// event and commit, at 1, 4, 16 and 64 concurrent connections, on a throwaway table built three
// ways in a throwaway database (BENCH_DATABASE_URL's server):
//   lock      as prisma/migrations/20261124000000_event_sequence_at_commit: a provisional
//             sequence at insert, the real one given by a deferred trigger under one advisory
//             lock, held until the commit (its WAL flush included) is done
//   xid       the sequence taken at insert with no lock, and the writing transaction's id kept
//             beside it (pg_current_xact_id()), for readers that hold back behind the oldest
//             running transaction instead
//   none      the sequence taken at insert, nothing else (no commit-order guarantee: a bound)
// Prints commits/s, mean and p99 commit latency, and the connections seen waiting on the lock.
import pg from 'pg';

const seconds = Number(process.argv[2] ?? 5);
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const database = `srs_cpu_seq_${Date.now()}`;
const urlOf = (name: string) => adminUrl.replace(/\/[^/]*$/, `/${name}`);

const VARIANTS: Record<string, string> = {
  lock: `
    CREATE SEQUENCE ev_provisional_seq;
    CREATE SEQUENCE ev_sequence_seq;
    CREATE TABLE ev (id text PRIMARY KEY, sequence bigint NOT NULL DEFAULT (- nextval('ev_provisional_seq')) UNIQUE, order_id text NOT NULL, at timestamptz NOT NULL DEFAULT now());
    CREATE FUNCTION ev_assign() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_advisory_xact_lock(7260432);
      UPDATE ev SET sequence = nextval('ev_sequence_seq') WHERE id = NEW.id;
      RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER ev_at_commit AFTER INSERT ON ev DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ev_assign();`,
  xid: `CREATE TABLE ev (id text PRIMARY KEY, sequence bigserial UNIQUE, writer xid8 NOT NULL DEFAULT pg_current_xact_id(), order_id text NOT NULL, at timestamptz NOT NULL DEFAULT now());`,
  none: `CREATE TABLE ev (id text PRIMARY KEY, sequence bigserial UNIQUE, order_id text NOT NULL, at timestamptz NOT NULL DEFAULT now());`,
};

async function run(variant: string, concurrency: number) {
  const admin = new pg.Client({ connectionString: urlOf(database) });
  await admin.connect();
  await admin.query('DROP TABLE IF EXISTS ev CASCADE; DROP SEQUENCE IF EXISTS ev_provisional_seq, ev_sequence_seq; DROP FUNCTION IF EXISTS ev_assign');
  await admin.query(VARIANTS[variant]);
  const clients = await Promise.all(Array.from({ length: concurrency }, async () => {
    const client = new pg.Client({ connectionString: urlOf(database) });
    await client.connect();
    return client;
  }));
  const latencies: number[] = [];
  let waitingSamples = 0;
  let samples = 0;
  const stopAt = performance.now() + seconds * 1000;
  const sampler = setInterval(async () => {
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'advisory'`, [database]);
    waitingSamples += rows[0].n;
    samples++;
  }, 50);
  let serial = 0;
  await Promise.all(clients.map(async (client, index) => {
    while (performance.now() < stopAt) {
      const started = performance.now();
      await client.query('BEGIN');
      await client.query({ name: 'ins', text: 'INSERT INTO ev (id, order_id) VALUES ($1, $2)', values: [`${index}-${serial++}`, `o${index}`] });
      await client.query('COMMIT');
      latencies.push(performance.now() - started);
    }
  }));
  clearInterval(sampler);
  await Promise.all(clients.map((client) => client.end()));
  await admin.end();
  latencies.sort((a, b) => a - b);
  const mean = latencies.reduce((sum, value) => sum + value, 0) / latencies.length;
  return { variant, concurrency, commitsPerSecond: Math.round(latencies.length / seconds), meanMs: +mean.toFixed(2), p99Ms: +latencies[Math.floor(latencies.length * 0.99)].toFixed(2), waitingOnLock: +(waitingSamples / Math.max(samples, 1)).toFixed(1) };
}

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
try {
  for (const concurrency of [1, 4, 16, 64]) {
    for (const variant of ['lock', 'xid', 'none']) console.log(JSON.stringify(await run(variant, concurrency)));
  }
} finally {
  await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
  await admin.end();
}
