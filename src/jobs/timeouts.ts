import type { OrderStatus, Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { OrderTokens } from '../auth/order-tokens.js';
import { SESSION_LIMITS, timeoutDueAt, timeoutReason } from '../domain/timeouts.js';
import type { ServiceMetrics } from '../observability/metrics.js';
import { log, logForOrder, withLogScope } from '../observability/log.js';
import { transitionOrder, type TransitionDeps } from '../services/order-transitions.js';

const BATCH = 200;

/**
 * Moves open orders past their method's limits to TIMEOUT. Safe with many processes on one
 * PostgreSQL: each order is changed under a row lock taken with SKIP LOCKED and re-checked
 * under it, so exactly one process times an order out and the others pass over it.
 * (Chosen over a job engine such as pg-boss: one periodic query needs no queue tables, and it
 * runs the same on embedded PGlite.)
 */
export async function sweepTimeouts(
  deps: TransitionDeps & { prisma: PrismaClient; orderTokens: OrderTokens },
  now = new Date(),
): Promise<{ timedOut: number; lagSeconds: number }> {
  const candidates = await deps.prisma.order.findMany({ where: dueOrders(now), orderBy: { createdAt: 'asc' }, take: BATCH });
  let timedOut = 0;
  let lagSeconds = 0;
  for (const candidate of candidates) {
    const reason = timeoutReason(candidate, now);
    if (!reason) continue;
    const dueAt = timeoutDueAt(candidate);
    if (dueAt) lagSeconds = Math.max(lagSeconds, (now.getTime() - dueAt.getTime()) / 1000);
    const result = await transitionOrder(deps, {
      orderId: candidate.id,
      to: 'TIMEOUT',
      reason,
      actor: 'system',
      lock: 'skip',
      precondition: (order) => timeoutReason(order, now) !== null,
    });
    if (!result.ok) continue;
    timedOut++;
    logForOrder(candidate.refId).info({ reason }, 'order timed out');
    if (candidate.orderToken) await deps.orderTokens.revoke(candidate.orderToken).catch(() => undefined);
  }
  return { timedOut, lagSeconds };
}

const OPEN: OrderStatus[] = ['CREATED', 'INITIALIZED', 'ABORTED', 'IDENTIFICATION_DONE', 'DATA_READY'];
const WAITING_FOR_USER: OrderStatus[] = ['CREATED', 'INITIALIZED', 'ABORTED'];

/**
 * The orders timeoutReason() would time out at `now`, as a query: only due orders, so that
 * orders nothing limits (a finished identification with an expired URL) never fill a batch
 * and keep due ones waiting.
 */
function dueOrders(now: Date): Prisma.OrderWhereInput {
  const before = (seconds: number) => new Date(now.getTime() - seconds * 1000);
  const due: Prisma.OrderWhereInput[] = [{ status: { in: WAITING_FOR_USER }, targetUrlExpiresAt: { lte: now } }];
  for (const [issuer, limits] of Object.entries(SESSION_LIMITS)) {
    if (limits.sessionSeconds) due.push({ status: { in: OPEN }, issuer, startedAt: { lte: before(limits.sessionSeconds) } });
    if (limits.inactivitySeconds) {
      const cutoff = before(limits.inactivitySeconds);
      due.push({ status: { in: OPEN }, issuer, OR: [{ lastActivityAt: { lte: cutoff } }, { lastActivityAt: null, startedAt: { lte: cutoff } }] });
    }
  }
  return { OR: due };
}

/** Runs the sweep every `intervalSeconds` until stopped; a failed sweep is logged and retried. */
export function startTimeoutJob(
  deps: Parameters<typeof sweepTimeouts>[0] & { metrics: ServiceMetrics },
  intervalSeconds: number,
): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() =>
      withLogScope({ job: 'timeouts' }, () =>
        sweepTimeouts(deps).then(
          ({ lagSeconds }) => deps.metrics.observeJobRun('timeouts', 'ok', lagSeconds),
          (error: unknown) => {
            deps.metrics.observeJobRun('timeouts', 'error');
            log().error({ err: error }, 'the timeout sweep failed');
          },
        ),
      ),
    );
  }, intervalSeconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
