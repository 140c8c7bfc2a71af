import { randomUUID } from 'node:crypto';
import type { DataProtection } from '../crypto/data-protection.js';
import type { EventBus } from '../events/bus.js';
import type { SmsGateway } from './gateway.js';
import type { PrismaClient, SmsMessage } from '../generated/prisma/client.js';
import type { DatabaseHandle, SqlRunner } from '../db/adapter.js';
import { timestampParam } from '../db/sql-values.js';
import { markTermsSmsSent, writeOrderEvents } from '../services/order-store.js';

const BATCH = 50;

/** Queues an SMS (in the caller's transaction); the worker sends it. */
export async function queueSms(sql: SqlRunner, message: { recipientSealed: string; textSealed: string; termsId: string | null }): Promise<void> {
  // Times not by the columns' defaults: CURRENT_TIMESTAMP is in the server's time zone, the columns in UTC.
  const now = timestampParam(new Date());
  await sql.query(
    `INSERT INTO "SmsMessage" (id, "recipientSealed", "textSealed", "termsId", "nextAttemptAt", "createdAt") VALUES ($1, $2, $3, $4, $5::timestamp, $5::timestamp)`,
    [randomUUID(), message.recipientSealed, message.textSealed, message.termsId, now],
  );
}
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
export async function drainSmsOutbox(deps: { database: Pick<DatabaseHandle, 'transaction'>; dataProtection: DataProtection; gateway: SmsGateway; bus: EventBus }): Promise<number> {
  let sent = 0;
  for (let i = 0; i < BATCH; i++) {
    const outcome = await deps.database.transaction(async (sql) => {
      const [message] = await sql.query<{ id: string; recipientSealed: string; textSealed: string; attempts: number; termsId: string | null }>(
        `SELECT id, "recipientSealed", "textSealed", attempts, "termsId" FROM "SmsMessage" WHERE status = 'PENDING' AND "nextAttemptAt" <= now()
         ORDER BY "createdAt" LIMIT 1 FOR UPDATE SKIP LOCKED`,
      );
      if (!message) return 'empty' as const;
      const attempts = message.attempts + 1;
      try {
        await deps.gateway.send({ to: deps.dataProtection.open<string>(message.recipientSealed), text: deps.dataProtection.open<string>(message.textSealed) });
      } catch (error) {
        await sql.query(`UPDATE "SmsMessage" SET attempts = $2, "lastError" = $3, status = $4::"SmsStatus", "nextAttemptAt" = $5::timestamp WHERE id = $1`, [
          message.id,
          attempts,
          String((error as Error).message).slice(0, 500),
          attempts >= MAX_ATTEMPTS ? 'FAILED' : 'PENDING',
          timestampParam(new Date(Date.now() + nextAttemptDelayMs(attempts))),
        ]);
        return 'failed' as const;
      }
      const now = new Date();
      await sql.query(`UPDATE "SmsMessage" SET status = 'SENT', "sentAt" = $2::timestamp, attempts = $3 WHERE id = $1`, [message.id, timestampParam(now), attempts]);
      const order = message.termsId ? await markTermsSmsSent(sql, message.termsId, now) : null;
      if (!order) return { notices: [] };
      return { notices: await writeOrderEvents(sql, order, [{ type: 'TERMS_SENT', status: order.status, previousStatus: order.status, actor: 'system' }]) };
    });
    if (outcome === 'empty') break;
    if (outcome === 'failed') continue;
    deps.bus.publish(outcome.notices);
    sent++;
  }
  return sent;
}

/** Messages waiting to be sent, due now or waiting for a retry, in the whole database. */
export function countPendingSms(prisma: PrismaClient): Promise<number> {
  return prisma.smsMessage.count({ where: { status: 'PENDING' } });
}

/** When the longest-waiting due message became due; null when none is due. */
export async function oldestDueSmsAt(prisma: PrismaClient): Promise<Date | null> {
  const oldest = await prisma.smsMessage.aggregate({ where: { status: 'PENDING', nextAttemptAt: { lte: new Date() } }, _min: { nextAttemptAt: true } });
  return oldest._min.nextAttemptAt;
}

/** The latest 200 messages sent, newest first. */
export function listSentSms(prisma: PrismaClient): Promise<SmsMessage[]> {
  return prisma.smsMessage.findMany({ where: { status: 'SENT' }, orderBy: { sentAt: 'desc' }, take: 200 });
}
