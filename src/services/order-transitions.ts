import type { Order, OrderStatus } from '../generated/prisma/client.js';
import { canTransition, statusesThatMayMoveTo } from '../domain/order-status.js';
import { failed, ok, userError, type Result } from '../domain/user-errors.js';
import type { EventBus } from '../events/bus.js';
import type { DatabaseHandle, SqlRunner } from '../db/adapter.js';
import { changeOrderStatus, lockOrder, writeOrderEvents, type NewOrderEvent, type OrderChanges } from './order-store.js';
import { logForOrder } from '../observability/log.js';

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
  /** Runs inside the transaction after the status change, e.g. to store evidence; its events follow the change's. */
  alongside?: (sql: SqlRunner, order: Order) => Promise<{ events?: NewOrderEvent[] } | void>;
}

export interface TransitionDeps {
  /** The order store's statements run on it, several of them in its transactions (see order-store.ts). */
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
  const outcome = await transition(deps.database, request);
  if (!outcome.ok) return outcome;
  const { order, from } = outcome.value;
  deps.bus.publish([{ orderId: order.id, refId: order.refId, clientId: order.clientId, issuer: order.issuer }]);
  logForOrder(order.refId).info({ from, to: request.to, actor: request.actor }, 'order status changed');
  return ok(order);
}

async function transition(database: TransitionDeps['database'], request: TransitionRequest): Promise<Transitioned> {
  const change = async (sql: SqlRunner): Promise<Transitioned> => {
    const { from, order } = await changeOrderStatus(sql, {
      orderId: request.orderId,
      to: request.to,
      reason: request.reason ?? null,
      actor: request.actor,
      changes: request.data ?? {},
      allowedFrom: statusesThatMayMoveTo(request.to),
      lock: request.lock ?? 'wait',
    });
    return from && order ? ok({ order, from }) : (refusal(from, request) ?? changedMeanwhile);
  };
  // The common case: one statement locks, checks and changes.
  if (!request.precondition && !request.alongside) return change(database);
  return database.transaction(async (sql) => {
    if (request.precondition) {
      const locked = await lockOrder(sql, request.orderId, request.lock ?? 'wait');
      if (!locked) return refusal(null, request)!;
      if (!request.precondition(locked)) return changedMeanwhile;
    }
    const changed = await change(sql);
    if (!changed.ok || !request.alongside) return changed;
    const extra = (await request.alongside(sql, changed.value.order)) ?? {};
    await writeOrderEvents(sql, changed.value.order, extra.events ?? []);
    return changed;
  });
}
