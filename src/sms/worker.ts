import type { DatabaseHandle } from '../db/adapter.js';
import type { DataProtection } from '../crypto/data-protection.js';
import type { EventBus } from '../events/bus.js';
import type { SmsGateway } from './gateway.js';
import { drainSmsOutbox } from './outbox.js';
import type { ServiceMetrics } from '../observability/metrics.js';
import { log, withLogScope } from '../observability/log.js';

/**
 * Drains the outbox when woken (a message was queued) and every `intervalSeconds` (retries,
 * and messages queued by other processes). Never two drains at once in one process.
 */
export function startSmsWorker(deps: { database: Pick<DatabaseHandle, 'transaction'>; dataProtection: DataProtection; gateway: SmsGateway; bus: EventBus; metrics: ServiceMetrics }, intervalSeconds: number) {
  let running: Promise<unknown> = Promise.resolve();
  let queued = false;
  const wake = () => {
    if (queued) return;
    queued = true;
    running = running
      .then(() => {
        queued = false;
        return withLogScope({ job: 'sms-outbox' }, () =>
          drainSmsOutbox(deps).then(
            () => deps.metrics.observeJobRun('sms-outbox', 'ok'),
            (error: unknown) => {
              deps.metrics.observeJobRun('sms-outbox', 'error');
              log().error({ err: error }, 'the SMS outbox failed');
            },
          ),
        );
      });
  };
  const timer = setInterval(wake, intervalSeconds * 1000);
  timer.unref();
  return {
    wake,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
