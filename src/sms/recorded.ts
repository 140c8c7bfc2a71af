import type { PrismaClient } from '../generated/prisma/client.js';
import type { DataProtection } from '../crypto/data-protection.js';
import { listSentSms } from './outbox.js';

/** Test mode only (GET /dev/sms): the SMS the recording gateway sent, newest first. */
export async function listRecordedSms(prisma: PrismaClient, dataProtection: DataProtection) {
  const messages = await listSentSms(prisma);
  return messages.map((message) => ({
    to: dataProtection.open<string>(message.recipientSealed),
    text: dataProtection.open<string>(message.textSealed),
    sentAt: message.sentAt?.toISOString() ?? null,
  }));
}
