import type { Order, OrderEventType, OrderStatus, Prisma, PrismaClient } from '../generated/prisma/client.js';
import { canTransition } from '../domain/order-status.js';
import { failed, ok, userError, type Result } from '../domain/user-errors.js';
import type { EventBus, OrderEventNotice } from '../events/bus.js';
import { logForOrder } from '../observability/log.js';

type Tx = Prisma.TransactionClient;

// Every event insert happens under this transaction-level lock, held until commit, so sequence
// numbers are handed out in commit order and a reader never sees 7 before 6 is visible.
const EVENT_SEQUENCE_LOCK = 7_260_432;

export interface NewOrderEvent {
  type?: OrderEventType;
  status: OrderStatus;
  previousStatus: OrderStatus | null;
  reason?: string | null;
  actor: string;
}

/** Writes events as the last step of a transaction; returns the notices to publish after commit. */
export async function writeOrderEvents(tx: Tx, order: Pick<Order, 'id' | 'refId' | 'clientId' | 'issuer'>, events: NewOrderEvent[]): Promise<OrderEventNotice[]> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${EVENT_SEQUENCE_LOCK})`;
  const notices: OrderEventNotice[] = [];
  for (const event of events) {
    const row = await tx.orderEvent.create({
      data: {
        orderId: order.id,
        type: event.type ?? 'STATUS_CHANGED',
        status: event.status,
        previousStatus: event.previousStatus,
        reason: event.reason ?? null,
        actor: event.actor,
      },
      select: { sequence: true },
    });
    notices.push({ sequence: row.sequence, orderId: order.id, refId: order.refId, clientId: order.clientId, issuer: order.issuer });
  }
  return notices;
}

export interface TransitionRequest {
  orderId: string;
  to: OrderStatus;
  reason?: string | null;
  actor: string;
  /** Further columns to set with the status. */
  data?: Prisma.OrderUpdateInput;
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

/**
 * Moves an order to a new status with its event, in one transaction with the order row locked.
 * An illegal transition changes nothing and comes back as ILLEGAL_TRANSITION.
 */
export async function transitionOrder(prisma: PrismaClient, bus: EventBus, request: TransitionRequest): Promise<Result<Order>> {
  const outcome = await prisma.$transaction(async (tx) => {
    const [locked] =
      request.lock === 'skip'
        ? await tx.$queryRaw<Array<{ status: OrderStatus }>>`SELECT status FROM "Order" WHERE id = ${request.orderId} FOR UPDATE SKIP LOCKED`
        : await tx.$queryRaw<Array<{ status: OrderStatus }>>`SELECT status FROM "Order" WHERE id = ${request.orderId} FOR UPDATE`;
    if (!locked) return failed<{ order: Order; notices: OrderEventNotice[]; from: OrderStatus }>(userError('ORDER_NOT_FOUND', 'No such order.', ['input', 'refId']));
    if (request.precondition && !request.precondition(await tx.order.findUniqueOrThrow({ where: { id: request.orderId } }))) {
      return failed<{ order: Order; notices: OrderEventNotice[]; from: OrderStatus }>(userError('ILLEGAL_TRANSITION', 'The order changed meanwhile.', null));
    }
    const from = locked.status;
    if (!canTransition(from, request.to)) {
      return failed<{ order: Order; notices: OrderEventNotice[]; from: OrderStatus }>(
        userError('ILLEGAL_TRANSITION', `An order in ${from} cannot move to ${request.to}.`, ['input', 'status']),
      );
    }
    const order = await tx.order.update({
      where: { id: request.orderId },
      data: { ...request.data, status: request.to, statusReason: request.reason ?? null },
    });
    const extra = (await request.alongside?.(tx, order)) ?? {};
    const notices = await writeOrderEvents(tx, order, [
      { status: request.to, previousStatus: from, reason: request.reason, actor: request.actor },
      ...(extra.events ?? []),
    ]);
    return ok({ order, notices, from });
  });
  if (!outcome.ok) return outcome;
  bus.publish(outcome.value.notices);
  logForOrder(outcome.value.order.refId).info({ from: outcome.value.from, to: request.to, actor: request.actor }, 'order status changed');
  return ok(outcome.value.order);
}
