import type { Order, PrismaClient } from '../generated/prisma/client.js';
import type { Viewer } from '../auth/viewer.js';
import { failed, ok, userError, type Result } from '../domain/user-errors.js';
import { isTerminal } from '../domain/order-status.js';
import { visibleOrders } from '../auth/visibility.js';
import type { OrderTokens } from '../auth/order-tokens.js';

export type SimulatedOutcome = 'SUCCESS' | 'NEGATIVELY_CONDUCTED' | 'ERROR' | 'TIMEOUT' | 'CANCELED' | 'ABORTED';

export interface Simulation {
  /** Test mode only: asks the TEST partner to conclude one of the caller's TEST orders. */
  simulateIdentification(viewer: Viewer, input: { refId: string; outcome: SimulatedOutcome; reason?: string | null }): Promise<Result<Order>>;
}

/**
 * simulateIdentification goes to the TEST partner over HTTP, as the end user's browser would,
 * and the partner reports back through the public API: the same path a real identification takes.
 */
export function createSimulation(options: { prisma: PrismaClient; internalUrl: string; testMode: boolean; orderTokens?: Pick<OrderTokens, 'openSecret'> }): Simulation {
  return {
    async simulateIdentification(viewer, input) {
      const field = ['input', 'refId'];
      if (!options.testMode) return failed(userError('FORBIDDEN', 'simulateIdentification exists only while the service runs in test mode.', null));
      const order = await options.prisma.order.findFirst({ where: { refId: input.refId, ...visibleOrders(viewer) } });
      if (!order) return failed(userError('ORDER_NOT_FOUND', `No order ${input.refId} of yours.`, field));
      if (order.issuer !== 'TEST') return failed(userError('FORBIDDEN', 'Only orders of the TEST issuer can be simulated.', field));
      if (isTerminal(order.status) || !order.ipspOrderId || !order.orderToken) {
        return failed(userError('ILLEGAL_TRANSITION', `Order ${order.refId} is ${order.status}: nothing to simulate.`, field));
      }
      const response = await fetch(`${options.internalUrl}/ipsp/test/api/orders/${encodeURIComponent(order.ipspOrderId)}/simulate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.orderTokens?.openSecret(order.orderToken) ?? order.orderToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ outcome: input.outcome, reason: input.reason ?? undefined }),
      });
      if (!response.ok) return failed(userError('ILLEGAL_TRANSITION', `The TEST partner refused: ${await refusalOf(response)}`, field));
      return ok(await options.prisma.order.findUniqueOrThrow({ where: { id: order.id } }));
    },
  };
}

/**
 * Why the partner refused, in one clean line: the `error` or `message` of a JSON answer, else
 * the HTTP status (an HTML page or anything else is not shown to API clients).
 */
async function refusalOf(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown };
    const reason = typeof body.message === 'string' ? body.message : typeof body.error === 'string' ? body.error : undefined;
    // eslint-disable-next-line no-control-regex
    if (reason) return reason.replace(/[\u0000-\u001f<>]/g, ' ').slice(0, 200);
  } catch {
    // not JSON
  }
  return `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
}
