// The webhook tables: every query of the feature is here.
import type { Prisma, PrismaClient, WebhookDeliveryStatus, WebhookEndpoint } from '../generated/prisma/client.js';
import type { OrderEventType } from '../generated/prisma/enums.js';
import type { NextStep } from './retry-policy.js';

export function createEndpointRow(
  prisma: PrismaClient,
  data: { clientId: string; url: string; description: string | null; eventTypes: OrderEventType[]; secretSealed: string },
): Promise<WebhookEndpoint> {
  return prisma.webhookEndpoint.create({ data });
}

export function countEndpointsOf(prisma: PrismaClient, clientId: string): Promise<number> {
  return prisma.webhookEndpoint.count({ where: { clientId } });
}

export function findEndpoint(prisma: PrismaClient, id: string, owner: Prisma.WebhookEndpointWhereInput): Promise<WebhookEndpoint | null> {
  return prisma.webhookEndpoint.findFirst({ where: { id, ...owner } });
}

export function listEndpoints(prisma: PrismaClient, owner: Prisma.WebhookEndpointWhereInput, query: object = {}): Promise<WebhookEndpoint[]> {
  return prisma.webhookEndpoint.findMany({ ...query, where: owner, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

export function updateEndpointRow(
  prisma: PrismaClient,
  id: string,
  data: { url?: string; description?: string | null; eventTypes?: OrderEventType[]; enabled?: boolean },
): Promise<WebhookEndpoint> {
  // Enabling again clears why the service had disabled it.
  return prisma.webhookEndpoint.update({ where: { id }, data: { ...data, ...(data.enabled && { disabledReason: null }) } });
}

/** The new secret signs from now on; the current one keeps signing beside it until `overlapUntil`. */
export function rotateEndpointSecret(prisma: PrismaClient, endpoint: WebhookEndpoint, newSecretSealed: string, overlapUntil: Date): Promise<WebhookEndpoint> {
  return prisma.webhookEndpoint.update({
    where: { id: endpoint.id },
    data: { secretSealed: newSecretSealed, previousSecretSealed: endpoint.secretSealed, previousSecretExpiresAt: overlapUntil },
  });
}

/** The endpoint and its delivery log (the deliveries go with it: ON DELETE CASCADE). */
export function deleteEndpointRow(prisma: PrismaClient, id: string): Promise<WebhookEndpoint> {
  return prisma.webhookEndpoint.delete({ where: { id } });
}

/**
 * Queues finished deliveries of one endpoint again, with a fresh schedule: the given ones, or
 * the failed ones created at or after a time. Pending ones are queued already and left alone
 * (one may be in flight).
 */
export async function requeueDeliveries(prisma: PrismaClient, endpointId: string, selection: { deliveryIds?: string[]; failedSince?: Date }): Promise<number> {
  const where: Prisma.WebhookDeliveryWhereInput = selection.deliveryIds
    ? { endpointId, id: { in: selection.deliveryIds }, status: { not: 'PENDING' } }
    : { endpointId, status: 'FAILED', ...(selection.failedSince && { createdAt: { gte: selection.failedSince } }) };
  const { count } = await prisma.webhookDelivery.updateMany({
    where,
    data: { status: 'PENDING', attempts: 0, nextAttemptAt: new Date(), deliveredAt: null },
  });
  return count;
}

export function deliveryListWhere(endpointId: string, status: WebhookDeliveryStatus | null | undefined): Prisma.WebhookDeliveryWhereInput {
  return { endpointId, ...(status && { status }) };
}

export interface ClaimedDelivery {
  id: string;
  attempts: number;
}

/**
 * Claims up to `limit` due deliveries and starts an attempt of each: counted, and due again only
 * when `leaseSeconds` have passed, so a process that dies mid-attempt leaves it to another.
 * SKIP LOCKED lets concurrent processes claim different rows. A delivery waits while an earlier
 * event (by sequence) of the same order is still pending for the same endpoint: the events of
 * an order reach an endpoint in order. A disabled endpoint's deliveries wait until it is enabled.
 */
export function claimDueDeliveries(prisma: PrismaClient, limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]> {
  return prisma.$queryRaw<ClaimedDelivery[]>`
    WITH due AS (
      SELECT d."id"
      FROM "WebhookDelivery" d
      JOIN "WebhookEndpoint" e ON e."id" = d."endpointId" AND e."enabled"
      JOIN "OrderEvent" ev ON ev."id" = d."eventId"
      WHERE d."status" = 'PENDING' AND d."nextAttemptAt" <= now()
        AND NOT EXISTS (
          SELECT 1 FROM "WebhookDelivery" earlier
          JOIN "OrderEvent" earlierEvent ON earlierEvent."id" = earlier."eventId"
          WHERE earlier."endpointId" = d."endpointId" AND earlier."orderId" = d."orderId"
            AND earlier."status" = 'PENDING' AND earlierEvent."sequence" < ev."sequence")
      ORDER BY d."nextAttemptAt", ev."sequence"
      LIMIT ${limit}
      FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE "WebhookDelivery" d
    SET "attempts" = d."attempts" + 1, "nextAttemptAt" = now() + make_interval(secs => ${leaseSeconds}::float8)
    FROM due WHERE d."id" = due."id"
    RETURNING d."id", d."attempts"`;
}

/** What an attempt needs: the endpoint (URL, secrets), the event and its order's handles. */
export function deliveryForAttempt(prisma: PrismaClient, id: string) {
  return prisma.webhookDelivery.findUnique({
    where: { id },
    include: { endpoint: true, event: { include: { order: { select: { refId: true, externalId: true } } } } },
  });
}

/**
 * Records an attempt's outcome, unless the delivery moved on meanwhile (its claim lapsed and
 * another process took it, or it was queued again): only the attempt that holds the claim writes.
 */
export async function recordAttempt(prisma: PrismaClient, claim: ClaimedDelivery, endpointId: string, step: NextStep): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const { count } = await tx.webhookDelivery.updateMany({
      where: { id: claim.id, attempts: claim.attempts, status: 'PENDING' },
      data: {
        status: step.status,
        nextAttemptAt: step.nextAttemptAt,
        lastResponseStatus: step.lastResponseStatus,
        lastError: step.lastError,
        ...(step.status === 'DELIVERED' && { deliveredAt: new Date() }),
      },
    });
    if (count && step.disableEndpoint) {
      await tx.webhookEndpoint.update({ where: { id: endpointId }, data: { enabled: false, disabledReason: 'The receiver answered 410 Gone.' } });
    }
    return count > 0;
  });
}

/** When the next pending delivery falls due (null: none pending). */
export async function nextDueAt(prisma: PrismaClient): Promise<Date | null> {
  const [row] = await prisma.$queryRaw<Array<{ due: Date | null }>>`
    SELECT min(d."nextAttemptAt") AS due FROM "WebhookDelivery" d
    JOIN "WebhookEndpoint" e ON e."id" = d."endpointId" AND e."enabled"
    WHERE d."status" = 'PENDING'`;
  return row?.due ?? null;
}

export function pendingDeliveryCount(prisma: PrismaClient): Promise<number> {
  return prisma.webhookDelivery.count({ where: { status: 'PENDING' } });
}
