// Standard Webhooks signing (standardwebhooks.com), with the reference library.
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** A fresh signing secret: "whsec_" and the base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * The three Standard Webhooks headers of one attempt. Every secret given signs (the current one
 * first, then the one before a rotation while it is still valid), space-separated, so a receiver
 * that has either one accepts the message.
 */
/**
 * The webhook-id of one event for one endpoint: its delivery's id, the same on every attempt and
 * on a redelivery, different for two endpoints that receive the same event.
 */
export function webhookMessageId(deliveryId: string): string {
  return `msg_${deliveryId.replaceAll('-', '')}`;
}

export function signedHeaders(messageId: string, sentAt: Date, body: string, secrets: readonly string[]): Record<string, string> {
  const timestamp = new Date(Math.floor(sentAt.getTime() / 1000) * 1000);
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp.getTime() / 1000),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(messageId, timestamp, body)).join(' '),
  };
}
