// How long orderStatistics takes over many orders, on PostgreSQL, through the API. Run once by
// hand, not in the suite: for each size it starts the service on a throwaway database (as
// `npm run bench` does), fills it with generated orders and events by SQL of its own (one
// INSERT … SELECT generate_series each), and times POST /graphql `orderStatistics` of an operator
// (all orders) and of one of 20 service providers, for TODAY, LAST_7_DAYS and LAST_30_DAYS
// (orders spread over 60 days), from the request to the whole answer. Clients and tokens come
// from the operator CLI and POST /oidc/token.
//   BENCH_DATABASE_URL=postgres://root@127.0.0.1:5432/test npx tsx bench/statistics-scale.ts 100000 1000000
import pg from 'pg';
import { cleanUp, cleanUpOnSignals, startService } from './harness.js';

const sizes = process.argv.slice(2).map(Number);
if (!sizes.length || sizes.some((size) => !Number.isInteger(size) || size <= 0)) throw new Error('Usage: npx tsx bench/statistics-scale.ts ORDERS [ORDERS ...]');
const PROVIDERS = 20;
const RUNS = 5;

// Every figure the dashboard shows, so that the time is that of a whole refresh.
const DURATION = '{ count medianSeconds p90Seconds }';
const ORDER_STATISTICS = `query BenchStatistics($period: StatisticsPeriod!) { orderStatistics(period: $period) {
  total asOfSequence byStatus { status count } byProvider { clientId name total byStatus { status count } }
  methods { methodId methodName issuer placed initialized identificationDone terminated termsAccepted dropOffs { status reason count }
    placedToTerminated ${DURATION} terminatedToTermsAccepted ${DURATION} }
  partnerHealth { issuer ended errors timeouts errorRate timeoutRate } } }`;

cleanUpOnSignals();
try {
  for (const size of sizes) {
    const service = await startService({ label: `statistics_${size}` });
    const operator = await service.token(await service.createClient('ADMIN', { name: 'bench statistics operator' }));
    const provider = await service.createClient('SERVICE_PROVIDER', { name: 'bench statistics provider' });
    const providerToken = await service.token(provider);
    const client = new pg.Client({ connectionString: service.env.DATABASE_URL });
    await client.connect();
    const methods = (await client.query<{ count: number }>(`SELECT count(*)::int AS count FROM "IdentificationMethod" WHERE NOT "testOnly"`)).rows[0].count;
    const loadStarted = performance.now();
    await client.query(
      `INSERT INTO "Order" (id, "refId", "clientId", "methodId", issuer, status, "statusReason", "initialDataSealed", "targetUrl", "createdAt", "updatedAt")
       SELECT 'o' || g, 'SRS-BENCH-' || g, CASE WHEN g % ${PROVIDERS} = 0 THEN $2 ELSE 'client-' || (g % ${PROVIDERS}) END, m.id, m.issuer,
              (CASE WHEN g % 20 < 12 THEN 'TERMINATED' WHEN g % 20 < 14 THEN 'ERROR' WHEN g % 20 < 16 THEN 'TIMEOUT'
                    WHEN g % 20 < 17 THEN 'NEGATIVELY_CONDUCTED' WHEN g % 20 < 18 THEN 'ABORTED' ELSE 'INITIALIZED' END)::"OrderStatus",
              CASE WHEN g % 20 IN (12, 13) THEN 'Camera error ' || (g % 3) END,
              'sealed', 'https://partner.invalid/t',
              (now() AT TIME ZONE 'utc') - ((g::bigint * 7919) % 5184000) * interval '1 second', now() AT TIME ZONE 'utc'
       FROM generate_series(1, $1::int) g
       JOIN (SELECT id, issuer, (row_number() OVER (ORDER BY id) - 1)::int AS i FROM "IdentificationMethod" WHERE NOT "testOnly") m ON m.i = (g / 7) % ${methods}`,
      [size, provider.clientId],
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
    await client.query(`ALTER TABLE "OrderEvent" ENABLE TRIGGER "OrderEvent_sequence_at_commit"`);
    await client.query('ANALYZE');
    const events = (await client.query<{ count: number }>(`SELECT count(*)::int AS count FROM "OrderEvent"`)).rows[0].count;
    await client.end();
    console.log(`${size} orders, ${events} events loaded in ${((performance.now() - loadStarted) / 1000).toFixed(0)} s`);

    for (const [label, token] of [
      ['ADMIN (all orders)', operator],
      [`one of ${PROVIDERS} providers`, providerToken],
    ] as const) {
      for (const period of ['TODAY', 'LAST_7_DAYS', 'LAST_30_DAYS'] as const) {
        const times: number[] = [];
        let total = 0;
        for (let run = 0; run <= RUNS; run++) {
          const started = performance.now();
          total = (await service.graphql<{ orderStatistics: { total: number } }>(ORDER_STATISTICS, { period }, token)).orderStatistics.total;
          if (run > 0) times.push(performance.now() - started);
        }
        times.sort((a, b) => a - b);
        console.log(`  ${label}, ${period}: ${total} orders counted, median ${times[Math.floor(times.length / 2)].toFixed(0)} ms, worst ${times.at(-1)!.toFixed(0)} ms`);
      }
    }
    await service.stop();
  }
} finally {
  // The service stops and its database is dropped, also after an error.
  await cleanUp();
}
