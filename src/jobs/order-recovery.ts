import type { ServiceMetrics } from '../observability/metrics.js';
import { log, withLogScope } from '../observability/log.js';
import { recoverInterruptedOrders } from '../services/order-recovery.js';
import type { OrderServiceDeps } from '../services/orders.js';

/**
 * Runs the recovery of interrupted orders (see services/order-recovery.ts) once at start, so that
 * orders a crash left behind are opened again as soon as their grace has passed, and then every
 * few seconds (at most the grace) until stopped; a failed run is logged and retried.
 */
export function startOrderRecoveryJob(deps: OrderServiceDeps & { metrics: ServiceMetrics }): { stop(): Promise<void> } {
  const intervalMs = Math.min(10, deps.config.orderRecoveryGraceSeconds) * 1000;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const run = () => {
    running = running.then(() =>
      stopped
        ? undefined
        : withLogScope({ job: 'order-recovery' }, async () => {
            try {
              // A full batch is followed at once by the next one.
              while (!stopped && (await recoverInterruptedOrders(deps)) > 0);
              deps.metrics.observeJobRun('order-recovery', 'ok');
            } catch (error) {
              deps.metrics.observeJobRun('order-recovery', 'error');
              log().error({ err: error }, 'the recovery of interrupted orders failed');
            }
          }),
    );
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
