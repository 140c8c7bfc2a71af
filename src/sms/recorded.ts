import type { PrismaClient } from '../generated/prisma/client.js';
import type { DataProtection } from '../crypto/data-protection.js';

/** Test mode only (GET /dev/sms): the SMS the recording gateway sent, newest first. */
export async function listRecordedSms(prisma: PrismaClient, dataProtection: DataProtection) {
  const messages = await prisma.smsMessage.findMany({ where: { status: 'SENT' }, orderBy: { sentAt: 'desc' }, take: 200 });
  return messages.map((message) => ({
    to: dataProtection.open<string>(message.recipientSealed),
    text: dataProtection.open<string>(message.textSealed),
    sentAt: message.sentAt?.toISOString() ?? null,
  }));
}
