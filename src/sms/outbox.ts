import type { PrismaClient } from '../generated/prisma/client.js';
import type { DataProtection } from '../crypto/data-protection.js';
import type { EventBus } from '../events/bus.js';
import type { SmsGateway } from './gateway.js';
import { writeOrderEvents } from '../services/order-transitions.js';

const BATCH = 50;
const MAX_ATTEMPTS = 8;

/** Retry after 10 s, 20 s, 40 s, ... at most an hour. */
export function nextAttemptDelayMs(attempts: number): number {
  return Math.min(10_000 * 2 ** Math.max(0, attempts - 1), 60 * 60 * 1000);
}

/**
 * Sends what the outbox holds, each message once: a message is taken under a row lock with
 * SKIP LOCKED and marked sent in the same transaction, so concurrent workers (other processes)
 * pass over it. A failed send is retried with back-off, then marked FAILED.
 */
export async function drainSmsOutbox(deps: { prisma: PrismaClient; dataProtection: DataProtection; gateway: SmsGateway; bus: EventBus }): Promise<number> {
  let sent = 0;
  for (let i = 0; i < BATCH; i++) {
    const outcome = await deps.prisma.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<Array<{ id: string }>>`
        SELECT id FROM "SmsMessage" WHERE status = 'PENDING' AND "nextAttemptAt" <= now()
        ORDER BY "createdAt" LIMIT 1 FOR UPDATE SKIP LOCKED`;
      if (!row) return 'empty' as const;
      const message = await tx.smsMessage.findUniqueOrThrow({ where: { id: row.id }, include: { terms: { include: { evidence: { include: { order: true } } } } } });
      try {
        await deps.gateway.send({ to: deps.dataProtection.open<string>(message.recipientSealed), text: deps.dataProtection.open<string>(message.textSealed) });
      } catch (error) {
        const attempts = message.attempts + 1;
        await tx.smsMessage.update({
          where: { id: message.id },
          data: {
            attempts,
            lastError: String((error as Error).message).slice(0, 500),
            status: attempts >= MAX_ATTEMPTS ? 'FAILED' : 'PENDING',
            nextAttemptAt: new Date(Date.now() + nextAttemptDelayMs(attempts)),
          },
        });
        return 'failed' as const;
      }
      const now = new Date();
      await tx.smsMessage.update({ where: { id: message.id }, data: { status: 'SENT', sentAt: now, attempts: message.attempts + 1 } });
      if (!message.terms) return { notices: [] };
      await tx.termsAcceptance.update({ where: { id: message.terms.id }, data: { smsSentAt: now } });
      const order = message.terms.evidence.order;
      return { notices: await writeOrderEvents(tx, order, [{ type: 'TERMS_SENT', status: order.status, previousStatus: order.status, actor: 'system' }]) };
    });
    if (outcome === 'empty') break;
    if (outcome === 'failed') continue;
    deps.bus.publish(outcome.notices);
    sent++;
  }
  return sent;
}
