// The figures of the operations dashboard, computed in SQL: orders by status (and per service
// provider for an operator), the funnel and timings per method, partner health over the last
// hour. Every statement sees only the viewer's orders, by the one rule of auth/visibility.ts, and all
// of them read one snapshot, together with the latest event sequence, so a live client can
// resume the event stream after it and never count an event twice or miss one.
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Viewer } from '../auth/viewer.js';
import { visibleOrdersSql } from '../auth/visibility.js';
import { clientNames } from '../auth/client-store.js';
import type { DatabaseHandle, SqlRunner } from '../db/adapter.js';
import { ORDER_STATUSES, TERMINAL_STATUSES, type OrderStatus } from '../domain/order-status.js';
import { rate } from '../domain/statistics-period.js';

/** Endings where the person did not get through, shown with their reasons. */
export const DROP_OFF_STATUSES: readonly OrderStatus[] = ['ABORTED', 'TIMEOUT', 'NEGATIVELY_CONDUCTED', 'ERROR', 'CANCELED'];
/** Reasons are the partner's free text: the most frequent few per method and status, the rest together. */
const REASONS_PER_STATUS = 5;
const REASON_LENGTH = 200;
const HEALTH_WINDOW_MS = 60 * 60 * 1000;

export interface StatusCount {
  status: OrderStatus;
  count: number;
}

export interface Duration {
  /** How many orders went through both steps. */
  count: number;
  medianSeconds: number | null;
  p90Seconds: number | null;
}

export interface MethodStatistics {
  methodId: string;
  methodName: string;
  issuer: string;
  placed: number;
  initialized: number;
  identificationDone: number;
  terminated: number;
  termsAccepted: number;
  dropOffs: Array<{ status: OrderStatus; reason: string | null; count: number }>;
  placedToTerminated: Duration;
  terminatedToTermsAccepted: Duration;
}

export interface PartnerHealth {
  issuer: string;
  ended: number;
  errors: number;
  timeouts: number;
  errorRate: number;
  timeoutRate: number;
}

export interface OrderStatistics {
  from: Date;
  to: Date;
  asOfSequence: string;
  total: number;
  byStatus: StatusCount[];
  byProvider: Array<{ clientId: string; name: string; total: number; byStatus: StatusCount[] }>;
  methods: MethodStatistics[];
  partnerHealthSince: Date;
  partnerHealth: PartnerHealth[];
}

const sqlList = (statuses: readonly OrderStatus[]) => statuses.map((status) => `'${status}'`).join(', ');
// An order reached a step when one of its events left it in one of these statuses.
const INITIALIZED_OR_LATER = sqlList(['INITIALIZED', 'ABORTED', 'IDENTIFICATION_DONE', 'DATA_READY', 'TERMINATED']);
const IDENTIFIED_OR_LATER = sqlList(['IDENTIFICATION_DONE', 'DATA_READY', 'TERMINATED']);

const number = (value: unknown) => (value == null ? 0 : Number(value));
const seconds = (value: unknown) => (value == null ? null : Math.round(Number(value) * 1000) / 1000);

function statusCounts(rows: Array<{ status: string; count: number }>): StatusCount[] {
  const counts = new Map(rows.map((row) => [row.status, row.count]));
  return ORDER_STATUSES.map((status) => ({ status, count: counts.get(status) ?? 0 }));
}

export async function orderStatistics(
  deps: { prisma: PrismaClient; database: Pick<DatabaseHandle, 'transaction'> },
  viewer: Viewer,
  period: { from: Date; to: Date },
  now = new Date(),
): Promise<OrderStatistics> {
  const healthSince = new Date(now.getTime() - HEALTH_WINDOW_MS);
  const snapshot = await deps.database.transaction(async (sql: SqlRunner) => {
    await sql.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const periodParams: unknown[] = [period.from.toISOString(), period.to.toISOString()];
    const inPeriod = `o."createdAt" >= $1::timestamp AND o."createdAt" < $2::timestamp AND ${visibleOrdersSql(viewer, periodParams)}`;

    const byStatus = await sql.query<{ clientId: string; status: string; count: number }>(
      `SELECT o."clientId", o.status::text AS status, count(*)::int AS count FROM "Order" o WHERE ${inPeriod} GROUP BY 1, 2`,
      periodParams,
    );
    // The steps each order of the period reached, and when: its events are read through the
    // (orderId, sequence) index order by order (LATERAL), so the cost follows the orders of the
    // period, not the size of the whole event table (a hash join would read all of it).
    const methods = await sql.query<Record<string, unknown>>(
      `WITH steps AS (
         SELECT o."methodId", o."createdAt", s.*
         FROM "Order" o CROSS JOIN LATERAL (
           SELECT bool_or(e.status IN (${INITIALIZED_OR_LATER})) AS initialized,
                  bool_or(e.status IN (${IDENTIFIED_OR_LATER})) AS identified,
                  min(e.at) FILTER (WHERE e.status = 'TERMINATED' AND e.type = 'STATUS_CHANGED') AS "terminatedAt",
                  min(e.at) FILTER (WHERE e.type = 'TERMS_ACCEPTED') AS "acceptedAt"
           FROM "OrderEvent" e WHERE e."orderId" = o.id) s
         WHERE ${inPeriod})
       SELECT "methodId",
              count(*)::int AS placed,
              count(*) FILTER (WHERE initialized)::int AS initialized,
              count(*) FILTER (WHERE identified)::int AS identified,
              count("terminatedAt")::int AS terminated,
              count("acceptedAt")::int AS accepted,
              count("acceptedAt") FILTER (WHERE "terminatedAt" IS NOT NULL)::int AS "acceptedAfterTermination",
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM "terminatedAt" - "createdAt")) AS "placedToTerminatedMedian",
              percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM "terminatedAt" - "createdAt")) AS "placedToTerminatedP90",
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM "acceptedAt" - "terminatedAt")) AS "terminatedToAcceptedMedian",
              percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM "acceptedAt" - "terminatedAt")) AS "terminatedToAcceptedP90"
       FROM steps GROUP BY "methodId"`,
      periodParams,
    );
    const dropOffs = await sql.query<{ methodId: string; status: string; reason: string | null; count: number }>(
      `SELECT "methodId", status, reason, count::int FROM (
         SELECT "methodId", status, reason, count,
                row_number() OVER (PARTITION BY "methodId", status ORDER BY count DESC, reason) AS rank
         FROM (SELECT o."methodId", o.status::text AS status, left(o."statusReason", ${REASON_LENGTH}) AS reason, count(*) AS count
               FROM "Order" o
               WHERE ${inPeriod} AND o.status IN (${sqlList(DROP_OFF_STATUSES)})
               GROUP BY 1, 2, 3) reasons) ranked
       WHERE rank <= ${REASONS_PER_STATUS}`,
      periodParams,
    );
    const healthParams: unknown[] = [healthSince.toISOString()];
    const health = await sql.query<{ issuer: string; ended: number; errors: number; timeouts: number }>(
      `SELECT o.issuer, count(*)::int AS ended,
              count(*) FILTER (WHERE e.status = 'ERROR')::int AS errors,
              count(*) FILTER (WHERE e.status = 'TIMEOUT')::int AS timeouts
       FROM "OrderEvent" e JOIN "Order" o ON o.id = e."orderId"
       WHERE e.at >= $1::timestamp AND e.type = 'STATUS_CHANGED' AND e.status IN (${sqlList(TERMINAL_STATUSES)}) AND ${visibleOrdersSql(viewer, healthParams)}
       GROUP BY o.issuer ORDER BY o.issuer`,
      healthParams,
    );
    const [latest] = await sql.query<{ sequence: string }>(`SELECT coalesce(max(sequence), 0)::text AS sequence FROM "OrderEvent"`);
    return { byStatus, methods, dropOffs, health, asOfSequence: latest.sequence };
  });

  const methodIds = snapshot.methods.map((row) => String(row.methodId));
  const catalogue = await deps.prisma.identificationMethod.findMany({ where: { id: { in: methodIds } }, select: { id: true, name: true, issuer: true, position: true } });
  const methods: MethodStatistics[] = snapshot.methods
    .map((row) => {
      const method = catalogue.find((candidate) => candidate.id === row.methodId);
      const methodId = String(row.methodId);
      return {
        position: method?.position ?? Number.MAX_SAFE_INTEGER,
        methodId,
        methodName: method?.name ?? methodId,
        issuer: method?.issuer ?? '',
        placed: number(row.placed),
        initialized: number(row.initialized),
        identificationDone: number(row.identified),
        terminated: number(row.terminated),
        termsAccepted: number(row.accepted),
        dropOffs: snapshot.dropOffs
          .filter((dropOff) => dropOff.methodId === methodId)
          .map((dropOff) => ({ status: dropOff.status as OrderStatus, reason: dropOff.reason, count: number(dropOff.count) }))
          .sort((a, b) => b.count - a.count || a.status.localeCompare(b.status)),
        placedToTerminated: { count: number(row.terminated), medianSeconds: seconds(row.placedToTerminatedMedian), p90Seconds: seconds(row.placedToTerminatedP90) },
        terminatedToTermsAccepted: {
          count: number(row.acceptedAfterTermination),
          medianSeconds: seconds(row.terminatedToAcceptedMedian),
          p90Seconds: seconds(row.terminatedToAcceptedP90),
        },
      };
    })
    .sort((a, b) => a.position - b.position)
    .map(({ position: _position, ...method }) => method);

  const perProvider = new Map<string, Array<{ status: string; count: number }>>();
  for (const row of snapshot.byStatus) perProvider.set(row.clientId, [...(perProvider.get(row.clientId) ?? []), row]);
  let byProvider: OrderStatistics['byProvider'] = [];
  if (viewer.role === 'ADMIN' && perProvider.size) {
    const clients = await clientNames(deps.prisma, [...perProvider.keys()]);
    byProvider = [...perProvider]
      .map(([clientId, rows]) => ({
        clientId,
        name: clients.find((client) => client.id === clientId)?.name ?? clientId,
        total: rows.reduce((sum, row) => sum + row.count, 0),
        byStatus: statusCounts(rows),
      }))
      .sort((a, b) => b.total - a.total || a.name.localeCompare(b.name));
  }
  const allRows = new Map<string, number>();
  for (const row of snapshot.byStatus) allRows.set(row.status, (allRows.get(row.status) ?? 0) + row.count);
  const byStatus = statusCounts([...allRows].map(([status, count]) => ({ status, count })));

  return {
    from: period.from,
    to: period.to,
    asOfSequence: snapshot.asOfSequence,
    total: byStatus.reduce((sum, entry) => sum + entry.count, 0),
    byStatus,
    byProvider,
    methods,
    partnerHealthSince: healthSince,
    partnerHealth: snapshot.health.map((row) => ({
      issuer: row.issuer,
      ended: number(row.ended),
      errors: number(row.errors),
      timeouts: number(row.timeouts),
      errorRate: rate(number(row.errors), number(row.ended)),
      timeoutRate: rate(number(row.timeouts), number(row.ended)),
    })),
  };
}
