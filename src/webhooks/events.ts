// What a webhook says about an order event: plain data, no personal data.
import type { OrderEventType, OrderStatus } from '../generated/prisma/enums.js';

export const WEBHOOK_EVENT_TYPES = {
  STATUS_CHANGED: 'order.status_changed',
  EVIDENCE_IMPORTED: 'order.evidence_imported',
  TERMS_SENT: 'order.terms_sent',
  TERMS_ACCEPTED: 'order.terms_accepted',
  TERMS_DECLINED: 'order.terms_declined',
} as const satisfies Record<OrderEventType, string>;

export interface WebhookEventSource {
  type: OrderEventType;
  status: OrderStatus;
  previousStatus: OrderStatus | null;
  reason: string | null;
  sequence: bigint;
  at: Date;
  refId: string;
  externalId: string | null;
}

/** The JSON body of a webhook: the support handles and the change, never the identity data. */
export function webhookBody(event: WebhookEventSource): string {
  return JSON.stringify({
    type: WEBHOOK_EVENT_TYPES[event.type],
    timestamp: event.at.toISOString(),
    data: {
      refId: event.refId,
      status: event.status,
      previousStatus: event.previousStatus,
      reason: event.reason,
      sequence: event.sequence.toString(),
      externalId: event.externalId,
    },
  });
}
