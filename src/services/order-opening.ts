import type { Order } from '../generated/prisma/client.js';
import type { OrderTokens } from '../auth/order-tokens.js';
import { PartnerError, type ConnectorRegistry } from '../partners/connector.js';
import type { InitialIdentityData } from '../domain/initial-data.js';
import { ok, type Result } from '../domain/user-errors.js';
import { logForOrder } from '../observability/log.js';
import { isDatabaseUnavailable } from '../db/availability.js';
import { transitionOrder, type TransitionDeps } from './order-transitions.js';
import { findOrderById } from './order-store.js';

// Opening an order at its partner, shared by placing an order and by the recovery of an order
// whose opener died (order-recovery.ts): both go through here.

export interface PartnerOpeningDeps extends TransitionDeps {
  connectors: ConnectorRegistry;
  orderTokens: OrderTokens;
}

/** Opens a CREATED order at its partner: INITIALIZED with the target URL, or ERROR with the partner's reason. */
export async function openAtPartner(deps: PartnerOpeningDeps, order: Order, methodName: string, data: InitialIdentityData): Promise<Result<Order>> {
  const connector = deps.connectors(order.issuer);
  let orderToken: string | undefined;
  try {
    if (!connector) throw new PartnerError(`No partner connection is configured for ${order.issuer}.`);
    orderToken = await deps.orderTokens.issue(order, order.targetUrlExpiresAt);
    const opened = await connector
      .openOrder({
        refId: order.refId,
        issuer: order.issuer,
        methodName,
        orderToken,
        language: order.language,
        initialData: data,
        targetUrlExpiresAt: order.targetUrlExpiresAt,
      })
      .finally(() => deps.orderTokens.openingEnded(orderToken!));
    const initialized = await transitionOrder(deps, {
      orderId: order.id,
      to: 'INITIALIZED',
      actor: 'system',
      data: { ipspOrderId: opened.ipspOrderId, targetUrl: deps.orderTokens.sealSecret(opened.targetUrl), orderToken: deps.orderTokens.sealSecret(orderToken) },
    });
    if (initialized.ok) return initialized;
    // Opened meanwhile by the recovery of a request taken for dead (or cancelled): that order
    // stands, with its own token; this one's is withdrawn.
    await deps.orderTokens.revoke(orderToken).catch(() => undefined);
    const current = await findOrderById(deps.database, order.id);
    return current ? ok(current) : initialized;
  } catch (error) {
    if (orderToken) await deps.orderTokens.revoke(orderToken).catch(() => undefined);
    // Without its database the order cannot be failed either: it stays CREATED for the recovery
    // job, and the client gets SERVICE_UNAVAILABLE (a replay of its key finds the order).
    if (!(error instanceof PartnerError) && isDatabaseUnavailable(error)) throw error;
    const reason = error instanceof PartnerError ? error.message : 'The partner could not open the order.';
    if (!(error instanceof PartnerError)) logForOrder(order.refId).error({ err: error, issuer: order.issuer }, 'opening the order at the partner failed');
    return transitionOrder(deps, { orderId: order.id, to: 'ERROR', reason, actor: 'system' });
  }
}
