import { randomUUID } from 'node:crypto';
import { Prisma, type Order, type OrderEventType, type OrderStatus, type PrismaClient } from '../generated/prisma/client.js';
import { canTransition, statusesThatMayMoveTo } from '../domain/order-status.js';
import { failed, ok, userError, type Result } from '../domain/user-errors.js';
import type { EventBus, OrderEventNotice } from '../events/bus.js';
import type { DatabaseHandle, SqlRunner } from '../db/adapter.js';
import { changeOrderStatus, lockOrder, type OrderChanges } from './order-store.js';
import { logForOrder } from '../observability/log.js';

type Tx = Prisma.TransactionClient;

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
export async function writeOrderEvents(tx: Tx, order: Pick<Order, 'id' | 'refId' | 'clientId' | 'issuer'>, events: NewOrderEvent[]): Promise<OrderEventNotice[]> {
  if (!events.length) return [];
  // Not the column's default: CURRENT_TIMESTAMP is in the server's time zone, the column in UTC.
  const at = new Date();
  const rows = events.map(
    (event) => Prisma.sql`(${randomUUID()}, ${order.id}, ${event.type ?? 'STATUS_CHANGED'}::"OrderEventType", ${event.status}::"OrderStatus",
      ${event.previousStatus}::"OrderStatus", ${event.reason ?? null}, ${event.actor}, ${at})`,
  );
  await tx.$executeRaw`INSERT INTO "OrderEvent" (id, "orderId", type, status, "previousStatus", reason, actor, at) VALUES ${Prisma.join(rows)}`;
  return [{ orderId: order.id, refId: order.refId, clientId: order.clientId, issuer: order.issuer }];
}

export interface TransitionRequest {
  orderId: string;
  to: OrderStatus;
  reason?: string | null;
  actor: string;
  /** Further columns to set with the status. */
  data?: OrderChanges;
  /**
   * 'skip': give up at once when another transaction holds the order (background jobs, which
   * must act once even when several processes run them). Default: wait for it.
   */
  lock?: 'wait' | 'skip';
  /** Re-checked on the locked row; false: nothing happens and the result is null. */
  precondition?: (order: Order) => boolean;
  /** Runs inside the transaction after the status check, e.g. to store evidence. */
  alongside?: (tx: Tx, order: Order) => Promise<{ events?: NewOrderEvent[] } | void>;
}

export interface TransitionDeps {
  prisma: PrismaClient;
  /** Plain SQL for the common case, a change without `alongside` work (see order-store.ts). */
  database: Pick<DatabaseHandle, 'query' | 'transaction'>;
  bus: EventBus;
}

type Transitioned = Result<{ order: Order; from: OrderStatus }>;

/** Why an order in `status` (null: none) may not take this transition, or null when it may. */
function refusal(status: OrderStatus | null, request: TransitionRequest): Transitioned | null {
  if (!status) return failed(userError('ORDER_NOT_FOUND', 'No such order.', ['input', 'refId']));
  if (!canTransition(status, request.to)) {
    return failed(userError('ILLEGAL_TRANSITION', `An order in ${status} cannot move to ${request.to}.`, ['input', 'status']));
  }
  return null;
}

const changedMeanwhile: Transitioned = failed(userError('ILLEGAL_TRANSITION', 'The order changed meanwhile.', null));

/**
 * Moves an order to a new status with its event, in one transaction with the order row locked.
 * An illegal transition changes nothing and comes back as ILLEGAL_TRANSITION.
 */
export async function transitionOrder(deps: TransitionDeps, request: TransitionRequest): Promise<Result<Order>> {
  const outcome = request.alongside ? await transitionWithPrisma(deps.prisma, request) : await transitionInSql(deps.database, request);
  if (!outcome.ok) return outcome;
  const { order, from } = outcome.value;
  deps.bus.publish([{ orderId: order.id, refId: order.refId, clientId: order.clientId, issuer: order.issuer }]);
  logForOrder(order.refId).info({ from, to: request.to, actor: request.actor }, 'order status changed');
  return ok(order);
}

async function transitionInSql(database: TransitionDeps['database'], request: TransitionRequest): Promise<Transitioned> {
  const change = (sql: SqlRunner) =>
    changeOrderStatus(sql, {
      orderId: request.orderId,
      to: request.to,
      reason: request.reason ?? null,
      actor: request.actor,
      changes: request.data ?? {},
      allowedFrom: statusesThatMayMoveTo(request.to),
      lock: request.lock ?? 'wait',
    });
  if (!request.precondition) {
    // The common case: one statement locks, checks and changes.
    const { from, order } = await change(database);
    return from && order ? ok({ order, from }) : (refusal(from, request) ?? changedMeanwhile);
  }
  return database.transaction(async (sql) => {
    const locked = await lockOrder(sql, request.orderId, request.lock ?? 'wait');
    if (!locked) return refusal(null, request)!;
    if (!request.precondition!(locked)) return changedMeanwhile;
    const refused = refusal(locked.status, request);
    if (refused) return refused;
    const { order } = await change(sql);
    return order ? ok({ order, from: locked.status }) : changedMeanwhile;
  });
}

function transitionWithPrisma(prisma: PrismaClient, request: TransitionRequest): Promise<Transitioned> {
  return prisma.$transaction(async (tx) => {
    const [locked] = await tx.$queryRaw<Array<{ status: OrderStatus }>>`SELECT status FROM "Order" WHERE id = ${request.orderId} FOR UPDATE${request.lock === 'skip' ? Prisma.sql` SKIP LOCKED` : Prisma.empty}`;
    const refused = refusal(locked?.status ?? null, request);
    if (refused) return refused;
    const order = await tx.order.update({
      where: { id: request.orderId },
      data: { ...request.data, status: request.to, statusReason: request.reason ?? null },
    });
    const extra = (await request.alongside?.(tx, order)) ?? {};
    await writeOrderEvents(tx, order, [{ status: request.to, previousStatus: locked.status, reason: request.reason, actor: request.actor }, ...(extra.events ?? [])]);
    return ok({ order, from: locked.status });
  });
}
