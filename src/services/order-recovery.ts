import type { Order } from '../generated/prisma/client.js';
import type { InitialIdentityData } from '../domain/initial-data.js';
import { logForOrder } from '../observability/log.js';
import { claimInterruptedOrders, findMethod } from './order-store.js';
import { transitionOrder } from './order-transitions.js';
import { openAtPartner, type PartnerOpeningDeps } from './order-opening.js';
import type { Config } from '../config.js';
import type { DataProtection } from '../crypto/data-protection.js';

export interface RecoveryDeps extends PartnerOpeningDeps {
  config: Pick<Config, 'orderRecoveryGraceSeconds'>;
  dataProtection: DataProtection;
}

const BATCH = 50;

/** Why an interrupted order is failed instead of opened again. */
export const RECOVERY_FAILED_REASON = 'The order was interrupted while being opened at the partner and could not be opened again';

/**
 * An order whose opener died (a crash, kill -9, a lost database connection) stays CREATED with no
 * target URL. Such an order is taken over once it has been so for `orderRecoveryGraceSeconds`
 * (longer than a partner call and its transaction may take) and opened at its partner again, with
 * the same refId: a partner that had opened it already answers with that order (openOrder is
 * idempotent per refId), under a fresh order token. When it cannot be opened (the method is gone,
 * the partner refuses) the order ends in ERROR with the reason. Safe with many processes: each
 * order is claimed by one (see claimInterruptedOrders).
 */
export async function recoverInterruptedOrders(deps: RecoveryDeps, options: { now?: Date; orderId?: string } = {}): Promise<number> {
  const now = options.now ?? new Date();
  const staleBefore = new Date(now.getTime() - deps.config.orderRecoveryGraceSeconds * 1000);
  const claimed = await claimInterruptedOrders(deps.database, { now, staleBefore, limit: BATCH, orderId: options.orderId });
  for (const order of claimed) await recoverOne(deps, order);
  return claimed.length;
}

/** Whether an order looks interrupted: CREATED, no target URL, untouched for longer than the grace. */
export function looksInterrupted(order: Order, graceSeconds: number, now = new Date()): boolean {
  return order.status === 'CREATED' && !order.targetUrl && now.getTime() - order.updatedAt.getTime() > graceSeconds * 1000;
}

async function recoverOne(deps: RecoveryDeps, order: Order): Promise<void> {
  const logger = logForOrder(order.refId);
  try {
    const method = await findMethod(deps.database, order.methodId);
    if (!method?.enabled) {
      await transitionOrder(deps, { orderId: order.id, to: 'ERROR', reason: `${RECOVERY_FAILED_REASON}: its method is no longer available.`, actor: 'system' });
      logger.warn('interrupted order failed: its method is no longer available');
      return;
    }
    const data = deps.dataProtection.open<InitialIdentityData>(order.initialDataSealed);
    const result = await openAtPartner(deps, order, method.name, data);
    logger.info({ status: result.ok ? result.value.status : undefined }, 'interrupted order recovered');
  } catch (error) {
    // The database went away again, or the initial data cannot be opened: the next run retries
    // once the claim's grace has passed; a broken order must not stop the others.
    logger.error({ err: error }, 'recovering an interrupted order failed');
  }
}
