// When an open order has run out of time. Plain functions: no GraphQL, no Prisma.
import { isTerminal, type OrderStatus } from './order-status.js';

/** Limits that count from the moment the end user first opened the target URL. */
export const SESSION_LIMITS: Record<string, { sessionSeconds?: number; inactivitySeconds?: number }> = {
  // Klarna: a 60-minute session after the start.
  KLARNA: { sessionSeconds: 60 * 60 },
  // Nect: 60 minutes of inactivity once started.
  NECT: { inactivitySeconds: 60 * 60 },
};

const WAITING_FOR_USER: readonly OrderStatus[] = ['CREATED', 'INITIALIZED', 'ABORTED'];

export interface TimedOrder {
  status: OrderStatus;
  issuer: string;
  targetUrlExpiresAt: Date | null;
  startedAt: Date | null;
  lastActivityAt: Date | null;
}

/** Why the order has timed out at `now`, or null while it has time left. */
export function timeoutReason(order: TimedOrder, now: Date): string | null {
  if (isTerminal(order.status)) return null;
  if (order.targetUrlExpiresAt && order.targetUrlExpiresAt <= now && WAITING_FOR_USER.includes(order.status)) {
    return 'The target URL expired before the identification was finished.';
  }
  const limits = SESSION_LIMITS[order.issuer];
  if (limits && order.startedAt) {
    if (limits.sessionSeconds && order.startedAt.getTime() + limits.sessionSeconds * 1000 <= now.getTime()) {
      return `The ${limits.sessionSeconds / 60}-minute session that started with the first use of the target URL has ended.`;
    }
    const lastSign = order.lastActivityAt ?? order.startedAt;
    if (limits.inactivitySeconds && lastSign.getTime() + limits.inactivitySeconds * 1000 <= now.getTime()) {
      return `No activity for ${limits.inactivitySeconds / 60} minutes after the identification started.`;
    }
  }
  return null;
}

/** The first moment at which the order times out as it stands (null: nothing limits it now). */
export function timeoutDueAt(order: TimedOrder): Date | null {
  if (isTerminal(order.status)) return null;
  const moments: number[] = [];
  if (order.targetUrlExpiresAt && WAITING_FOR_USER.includes(order.status)) moments.push(order.targetUrlExpiresAt.getTime());
  const limits = SESSION_LIMITS[order.issuer];
  if (limits && order.startedAt) {
    if (limits.sessionSeconds) moments.push(order.startedAt.getTime() + limits.sessionSeconds * 1000);
    if (limits.inactivitySeconds) moments.push((order.lastActivityAt ?? order.startedAt).getTime() + limits.inactivitySeconds * 1000);
  }
  return moments.length ? new Date(Math.min(...moments)) : null;
}
