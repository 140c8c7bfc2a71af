import { randomUUID } from 'node:crypto';
import type { Evidence, IdentificationMethod, Order, OrderEventType, OrderStatus, TermsAcceptance, TermsChannel, TermsStatus } from '../generated/prisma/client.js';
import type { SqlRunner } from '../db/adapter.js';
import type { OrderEventNotice } from '../events/bus.js';
import { dateOf, epochMs, timestampParam, withDates, type Row } from '../db/sql-values.js';

// The Order aggregate's store: every write of an order, its events, its evidence and its T&C
// decision is a statement here, in plain SQL on the database handle, and a change of several
// rows runs in the handle's one transaction API (DatabaseHandle.transaction, a SqlRunner).
// Plain SQL because Prisma 6 plans every query anew in WebAssembly, raw ones included, at about
// a millisecond of CPU each, and these run several times per order. Reads for the API (lists,
// lookups with relations) stay with Prisma. Timestamps travel as epoch milliseconds (see
// db/sql-values.ts).

/** Every column of an order as orderOf() reads it; `table`: an alias to qualify them with. */
function orderColumns(table?: string): string {
  const t = table ? `${table}.` : '';
  const plain = ['id', 'refId', 'clientId', 'methodId', 'issuer', 'statusReason', 'ipspOrderId', 'targetUrl', 'orderToken', 'externalId', 'language'];
  const more = ['disabledSmsAlerts', 'initialDataSealed', 'idempotencyKey', 'requestHash'];
  return [
    ...[...plain, ...more].map((column) => `${t}"${column}"`),
    `${t}status::text AS status`,
    ...ORDER_DATES.map((column) => epochMs(table ?? null, column)),
  ].join(', ');
}
const ORDER_DATES = ['targetUrlExpiresAt', 'startedAt', 'lastActivityAt', 'createdAt', 'updatedAt'] as const;
const ORDER_COLUMNS = orderColumns();

type OrderRow = Row<Order, (typeof ORDER_DATES)[number]>;

const orderOf = (row: OrderRow) => withDates<Order, (typeof ORDER_DATES)[number]>(row, ORDER_DATES);

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

export interface NewOrderEvent {
  type?: OrderEventType;
  status: OrderStatus;
  previousStatus: OrderStatus | null;
  reason?: string | null;
  actor: string;
}

/**
 * Writes events in one statement; returns the notices to publish after commit. The events get
 * their sequence numbers while the transaction commits (a deferred trigger, see the migration
 * 20261124000000_event_sequence_at_commit), so no lock is held across round trips here.
 */
export async function writeOrderEvents(sql: SqlRunner, order: Pick<Order, 'id' | 'refId' | 'clientId' | 'issuer'>, events: NewOrderEvent[]): Promise<OrderEventNotice[]> {
  if (!events.length) return [];
  // Not the column's default: CURRENT_TIMESTAMP is in the server's time zone, the column in UTC.
  const params: unknown[] = [order.id, timestampParam(new Date())];
  const rows = events.map((event) => {
    params.push(randomUUID(), event.type ?? 'STATUS_CHANGED', event.status, event.previousStatus, event.reason ?? null, event.actor);
    const at = params.length - 5;
    return `($${at}, $1, $${at + 1}::"OrderEventType", $${at + 2}::"OrderStatus", $${at + 3}::"OrderStatus", $${at + 4}, $${at + 5}, $2::timestamp)`;
  });
  await sql.query(`INSERT INTO "OrderEvent" (id, "orderId", type, status, "previousStatus", reason, actor, at) VALUES ${rows.join(', ')}`, params);
  return [{ orderId: order.id, refId: order.refId, clientId: order.clientId, issuer: order.issuer }];
}

export type NewEvidence = Pick<
  Evidence,
  'id' | 'orderId' | 'mobileNumberHash' | 'mobileNumberSealed' | 'personalDataSealed' | 'issuer' | 'methodName' | 'identifiedAt' | 'validUntil' | 'jws'
> & { capabilities: unknown };

export async function insertEvidence(sql: SqlRunner, evidence: NewEvidence): Promise<void> {
  await sql.query(
    `INSERT INTO "Evidence" (id, "orderId", "mobileNumberHash", "mobileNumberSealed", "personalDataSealed", issuer, "methodName", capabilities,
       "identifiedAt", "validUntil", jws, "createdAt")
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::timestamp, $10::timestamp, $11, $12::timestamp)`,
    [
      evidence.id,
      evidence.orderId,
      evidence.mobileNumberHash,
      evidence.mobileNumberSealed,
      evidence.personalDataSealed,
      evidence.issuer,
      evidence.methodName,
      JSON.stringify(evidence.capabilities),
      timestampParam(evidence.identifiedAt),
      timestampParam(evidence.validUntil),
      evidence.jws,
      timestampParam(new Date()),
    ],
  );
}

export interface NewTermsAcceptance {
  evidenceId: string;
  status: TermsStatus;
  channel: TermsChannel;
  termsVersion: string;
  decidedAt?: Date | null;
  linkTokenHash?: string | null;
  linkExpiresAt?: Date | null;
}

/** Records how an evidence's T&C will be collected; returns the new row's id. */
export async function insertTermsAcceptance(sql: SqlRunner, terms: NewTermsAcceptance): Promise<string> {
  const id = randomUUID();
  await sql.query(
    `INSERT INTO "TermsAcceptance" (id, "evidenceId", status, channel, "termsVersion", "decidedAt", "linkTokenHash", "linkExpiresAt", "createdAt", "updatedAt")
     VALUES ($1, $2, $3::"TermsStatus", $4::"TermsChannel", $5, $6::timestamp, $7, $8::timestamp, $9::timestamp, $9::timestamp)`,
    [
      id,
      terms.evidenceId,
      terms.status,
      terms.channel,
      terms.termsVersion,
      timestampParam(terms.decidedAt),
      terms.linkTokenHash ?? null,
      timestampParam(terms.linkExpiresAt),
      timestampParam(new Date()),
    ],
  );
  return id;
}

const TERMS_DATES = ['smsSentAt', 'decidedAt', 'linkExpiresAt', 'createdAt', 'updatedAt'] as const;
type TermsRow = Row<TermsAcceptance, (typeof TERMS_DATES)[number]>;
const TERMS_COLUMNS = [
  ...['id', 'evidenceId', 'termsVersion', 'linkTokenHash', 'clientFingerprint'].map((column) => `t."${column}"`),
  't.status::text AS status',
  't.channel::text AS channel',
  ...TERMS_DATES.map((column) => epochMs('t', column)),
].join(', ');

const termsOf = (row: TermsRow) => withDates<TermsAcceptance, (typeof TERMS_DATES)[number]>(row, TERMS_DATES);

export interface TermsDecision {
  /** Which T&C: by id, or by the token hash of its single-use link. */
  where: { id: string } | { linkTokenHash: string };
  accepted: boolean;
  termsVersion: string;
  clientFingerprint: string | null;
  now: Date;
}

/**
 * Decides pending T&C whose link has not expired, in one statement; the link is used up by it.
 * The row lock and the PENDING condition let one of two concurrent decisions win, the other
 * finds nothing. Null: nothing pending matched. `order`: the decided T&C's order, for its event.
 */
export async function decideTerms(
  sql: SqlRunner,
  decision: TermsDecision,
): Promise<{ terms: TermsAcceptance; order: Pick<Order, 'id' | 'refId' | 'clientId' | 'issuer' | 'status'> } | null> {
  const [key, value] = 'id' in decision.where ? ['id', decision.where.id] : ['linkTokenHash', decision.where.linkTokenHash];
  const [row] = await sql.query<TermsRow & { orderId: string; refId: string; clientId: string; issuer: string; orderStatus: OrderStatus }>(
    `UPDATE "TermsAcceptance" t
     SET status = $1::"TermsStatus", "termsVersion" = $2, "decidedAt" = $3::timestamp, "updatedAt" = $3::timestamp, "linkTokenHash" = NULL, "clientFingerprint" = $4
     FROM "Evidence" e JOIN "Order" o ON o.id = e."orderId"
     WHERE e.id = t."evidenceId" AND t."${key}" = $5 AND t.status = 'PENDING' AND (t."linkExpiresAt" IS NULL OR t."linkExpiresAt" > $3::timestamp)
     RETURNING ${TERMS_COLUMNS}, o.id AS "orderId", o."refId", o."clientId", o.issuer, o.status::text AS "orderStatus"`,
    [decision.accepted ? 'ACCEPTED' : 'DECLINED', decision.termsVersion, timestampParam(decision.now), decision.clientFingerprint, value],
  );
  if (!row) return null;
  const { orderId, refId, clientId, issuer, orderStatus, ...terms } = row;
  return { terms: termsOf(terms), order: { id: orderId, refId, clientId, issuer, status: orderStatus } };
}

/** The T&C link went out by SMS; returns its order, for the event, or null when the T&C are gone. */
export async function markTermsSmsSent(sql: SqlRunner, termsId: string, at: Date): Promise<Pick<Order, 'id' | 'refId' | 'clientId' | 'issuer' | 'status'> | null> {
  const [order] = await sql.query<Pick<Order, 'id' | 'refId' | 'clientId' | 'issuer' | 'status'>>(
    `UPDATE "TermsAcceptance" t SET "smsSentAt" = $2::timestamp, "updatedAt" = $2::timestamp
     FROM "Evidence" e JOIN "Order" o ON o.id = e."orderId"
     WHERE t.id = $1 AND e.id = t."evidenceId"
     RETURNING o.id, o."refId", o."clientId", o.issuer, o.status::text AS status`,
    [termsId, timestampParam(at)],
  );
  return order ?? null;
}

/**
 * An operator revokes an evidence, in one statement. 'revoked': it was active (or expired) and
 * is revoked now; null: there is no such evidence.
 */
export async function revokeEvidenceRow(sql: SqlRunner, id: string, reason: string, at: Date): Promise<'revoked' | 'already-revoked' | null> {
  const [row] = await sql.query<{ revoked: boolean }>(
    `WITH found AS (SELECT id, status FROM "Evidence" WHERE id = $1 FOR UPDATE),
     revoked AS (
       UPDATE "Evidence" e SET status = 'REVOKED', "revokedAt" = $2::timestamp, "revocationReason" = $3
       FROM found WHERE e.id = found.id AND found.status <> 'REVOKED' RETURNING e.id
     )
     SELECT revoked.id IS NOT NULL AS revoked FROM found LEFT JOIN revoked ON true`,
    [id, timestampParam(at), reason],
  );
  if (!row) return null;
  return row.revoked ? 'revoked' : 'already-revoked';
}
