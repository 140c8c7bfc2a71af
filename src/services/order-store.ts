import { randomUUID } from 'node:crypto';
import type { IdentificationMethod, Order, OrderStatus } from '../generated/prisma/client.js';
import type { SqlRunner } from '../db/adapter.js';
import { dateOf, epochMs, timestampParam, type Row } from '../db/sql-values.js';

// The statements of placing and opening an order, in plain SQL on the database handle. Prisma 6
// plans every query anew in WebAssembly, raw ones included, at about a millisecond of CPU each;
// these run several times per order, so they bypass it. Every other read and write of orders
// stays with Prisma. Timestamps travel as epoch milliseconds (see db/sql-values.ts).

/** Every column of an order as orderOf() reads it; `table`: an alias to qualify them with. */
function orderColumns(table?: string): string {
  const t = table ? `${table}.` : '';
  const plain = ['id', 'refId', 'clientId', 'methodId', 'issuer', 'statusReason', 'ipspOrderId', 'targetUrl', 'orderToken', 'externalId', 'language'];
  const more = ['disabledSmsAlerts', 'initialDataSealed', 'idempotencyKey', 'requestHash'];
  const dates = ['targetUrlExpiresAt', 'startedAt', 'lastActivityAt', 'createdAt', 'updatedAt'];
  return [
    ...[...plain, ...more].map((column) => `${t}"${column}"`),
    `${t}status::text AS status`,
    ...dates.map((column) => epochMs(table ?? null, column)),
  ].join(', ');
}
const ORDER_COLUMNS = orderColumns();

type OrderRow = Row<Order, 'targetUrlExpiresAt' | 'startedAt' | 'lastActivityAt' | 'createdAt' | 'updatedAt'>;

function orderOf(row: OrderRow): Order {
  return {
    ...row,
    targetUrlExpiresAt: dateOf(row.targetUrlExpiresAt),
    startedAt: dateOf(row.startedAt),
    lastActivityAt: dateOf(row.lastActivityAt),
    createdAt: dateOf(row.createdAt)!,
    updatedAt: dateOf(row.updatedAt)!,
  };
}

export async function findMethod(sql: SqlRunner, id: string): Promise<IdentificationMethod | null> {
  const [row] = await sql.query<Row<IdentificationMethod, 'createdAt' | 'updatedAt'>>(
    `SELECT id, name, issuer, type::text AS type, capabilities, offline, "webFlow", realtime, languages, "evidenceValidityMonths",
       "targetUrlValiditySeconds", "termsInApp", "testOnly", "initialData", enabled, position, ${epochMs(null, 'createdAt')}, ${epochMs(null, 'updatedAt')}
     FROM "IdentificationMethod" WHERE id = $1`,
    [id],
  );
  return row ? { ...row, createdAt: dateOf(row.createdAt)!, updatedAt: dateOf(row.updatedAt)! } : null;
}

export async function findOrderByIdempotencyKey(sql: SqlRunner, clientId: string, idempotencyKey: string): Promise<Order | null> {
  const [row] = await sql.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM "Order" WHERE "clientId" = $1 AND "idempotencyKey" = $2`, [clientId, idempotencyKey]);
  return row ? orderOf(row) : null;
}

export async function findOrderById(sql: SqlRunner, id: string): Promise<Order | null> {
  const [row] = await sql.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM "Order" WHERE id = $1`, [id]);
  return row ? orderOf(row) : null;
}

export type NewOrder = Pick<
  Order,
  | 'refId'
  | 'clientId'
  | 'methodId'
  | 'issuer'
  | 'externalId'
  | 'language'
  | 'disabledSmsAlerts'
  | 'initialDataSealed'
  | 'idempotencyKey'
  | 'requestHash'
  | 'targetUrlExpiresAt'
  | 'createdAt'
>;

/**
 * Stores a new CREATED order with its first event, in one statement (so one implicit
 * transaction). Null: the client already has an order with this idempotency key.
 */
export async function insertCreatedOrder(sql: SqlRunner, order: NewOrder, actor: string): Promise<Order | null> {
  const [row] = await sql.query<OrderRow>(
    `WITH placed AS (
       INSERT INTO "Order" (id, "refId", "clientId", "methodId", issuer, status, "externalId", language, "disabledSmsAlerts",
         "initialDataSealed", "idempotencyKey", "requestHash", "targetUrlExpiresAt", "createdAt", "updatedAt")
       VALUES ($1, $2, $3, $4, $5, 'CREATED', $6, $7, $8, $9, $10, $11, $12::timestamp, $13::timestamp, $13::timestamp)
       ON CONFLICT ("clientId", "idempotencyKey") DO NOTHING
       RETURNING *
     ), first_event AS (
       INSERT INTO "OrderEvent" (id, "orderId", type, status, "previousStatus", actor, at)
       SELECT $14, id, 'STATUS_CHANGED', 'CREATED', NULL, $15, "createdAt" FROM placed
     )
     SELECT ${ORDER_COLUMNS} FROM placed`,
    [
      randomUUID(),
      order.refId,
      order.clientId,
      order.methodId,
      order.issuer,
      order.externalId,
      order.language,
      order.disabledSmsAlerts,
      order.initialDataSealed,
      order.idempotencyKey,
      order.requestHash,
      timestampParam(order.targetUrlExpiresAt),
      timestampParam(order.createdAt),
      randomUUID(),
      actor,
    ],
  );
  return row ? orderOf(row) : null;
}

/** The columns a status change may set besides the status (see TransitionRequest). */
export interface OrderChanges {
  ipspOrderId?: string | null;
  targetUrl?: string | null;
  orderToken?: string | null;
  lastActivityAt?: Date | null;
}

const CHANGEABLE: Record<keyof OrderChanges, string> = {
  ipspOrderId: '"ipspOrderId"',
  targetUrl: '"targetUrl"',
  orderToken: '"orderToken"',
  lastActivityAt: '"lastActivityAt"',
};

/** Locks the order's row for the rest of the transaction; null when there is none (or, with skip, when it is locked). */
export async function lockOrder(sql: SqlRunner, orderId: string, lock: 'wait' | 'skip'): Promise<Order | null> {
  const [row] = await sql.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM "Order" WHERE id = $1 FOR UPDATE${lock === 'skip' ? ' SKIP LOCKED' : ''}`, [orderId]);
  return row ? orderOf(row) : null;
}

export interface StatusChange {
  orderId: string;
  to: OrderStatus;
  reason: string | null;
  actor: string;
  changes: OrderChanges;
  /** The statuses the order may be in for this change (the state machine's rule, see domain/order-status.ts). */
  allowedFrom: readonly OrderStatus[];
  lock: 'wait' | 'skip';
}

/**
 * Locks the order, and if its status allows it, sets the new status (and changes) and writes its
 * event: one statement, one round trip. `from`: the status it was in (null: no such order, or
 * locked elsewhere with skip); `order`: the changed order, null when the status did not allow it.
 */
export async function changeOrderStatus(sql: SqlRunner, change: StatusChange): Promise<{ from: OrderStatus | null; order: Order | null }> {
  const params: unknown[] = [change.orderId, change.to, change.reason, new Date().toISOString(), randomUUID(), change.actor, change.allowedFrom];
  const sets = Object.entries(change.changes)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => {
      params.push(value instanceof Date ? timestampParam(value) : value);
      const column = CHANGEABLE[key as keyof OrderChanges];
      return `, ${column} = $${params.length}${value instanceof Date ? '::timestamp' : ''}`;
    });
  // The UPDATE sees the row as `locked` read it after waiting for the lock (READ COMMITTED
  // re-reads a row changed meanwhile), so the status check uses the latest committed status.
  const [row] = await sql.query<OrderRow & { lockedStatus: OrderStatus }>(
    `WITH locked AS (
       SELECT id, status FROM "Order" WHERE id = $1 FOR UPDATE${change.lock === 'skip' ? ' SKIP LOCKED' : ''}
     ), changed AS (
       UPDATE "Order" o SET status = $2::"OrderStatus", "statusReason" = $3, "updatedAt" = $4::timestamp${sets.join('')}
       FROM locked WHERE o.id = locked.id AND locked.status::text = ANY($7::text[])
       RETURNING o.*, locked.status AS "fromStatus"
     ), event AS (
       INSERT INTO "OrderEvent" (id, "orderId", type, status, "previousStatus", reason, actor, at)
       SELECT $5, id, 'STATUS_CHANGED', status, "fromStatus", $3, $6, "updatedAt" FROM changed
     )
     SELECT locked.status::text AS "lockedStatus", ${orderColumns('c')} FROM locked LEFT JOIN changed c ON true`,
    params,
  );
  if (!row) return { from: null, order: null };
  const { lockedStatus, ...order } = row;
  return { from: lockedStatus, order: order.id ? orderOf(order) : null };
}

/**
 * A partner checked an order's token: the end user opened the target URL. Not while the order is
 * CREATED: then the partner is checking the token of the order SRS is opening.
 */
export async function markOrderStarted(sql: SqlRunner, refId: string, now: Date): Promise<void> {
  await sql.query(
    `UPDATE "Order" SET "startedAt" = COALESCE("startedAt", $1::timestamp), "lastActivityAt" = $1::timestamp WHERE "refId" = $2 AND status <> 'CREATED'`,
    [timestampParam(now), refId],
  );
}

/**
 * Claims orders left CREATED without a target URL since before `staleBefore` (the request opening
 * them died): their `updatedAt` becomes `now`, so no other process claims them again before the
 * grace has passed once more, and rows another process holds are skipped. Orders whose target URL
 * has expired are left to the timeout job. `orderId`: only that order.
 */
export async function claimInterruptedOrders(sql: SqlRunner, claim: { now: Date; staleBefore: Date; limit: number; orderId?: string }): Promise<Order[]> {
  const rows = await sql.query<OrderRow>(
    `UPDATE "Order" SET "updatedAt" = $1::timestamp
     WHERE id IN (
       SELECT id FROM "Order"
       WHERE status = 'CREATED' AND "targetUrl" IS NULL AND "updatedAt" < $2::timestamp
         AND ("targetUrlExpiresAt" IS NULL OR "targetUrlExpiresAt" > $1::timestamp)
         AND ($3::text IS NULL OR id = $3::text)
       ORDER BY "createdAt" LIMIT $4 FOR UPDATE SKIP LOCKED
     )
     RETURNING ${ORDER_COLUMNS}`,
    [timestampParam(claim.now), timestampParam(claim.staleBefore), claim.orderId ?? null, claim.limit],
  );
  return rows.map(orderOf);
}
