import type { PrismaClient } from '../generated/prisma/client.js';
import type { DataProtection } from '../crypto/data-protection.js';
import type { EventBus } from '../events/bus.js';
import type { SmsGateway } from './gateway.js';
import { drainSmsOutbox } from './outbox.js';

/**
 * Drains the outbox when woken (a message was queued) and every `intervalSeconds` (retries,
 * and messages queued by other processes). Never two drains at once in one process.
 */
export function startSmsWorker(deps: { prisma: PrismaClient; dataProtection: DataProtection; gateway: SmsGateway; bus: EventBus }, intervalSeconds: number) {
  let running: Promise<unknown> = Promise.resolve();
  let queued = false;
  const wake = () => {
    if (queued) return;
    queued = true;
    running = running
      .then(() => {
        queued = false;
        return drainSmsOutbox(deps);
      })
      .catch((error: unknown) => console.error('The SMS outbox failed:', (error as Error).message));
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
