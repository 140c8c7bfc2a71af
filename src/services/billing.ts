import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { Viewer } from '../auth/viewer.js';
import { visibleOrders } from '../auth/visibility.js';
import { parseCalendarDate } from '../domain/initial-data.js';
import { failed, ok, userError, type Result } from '../domain/user-errors.js';

export interface BillingLine {
  month: string;
  /** The service provider whose orders these are. */
  clientId: string;
  methodName: string;
  issuer: string;
  externalId: string | null;
  successfulIdentifications: number;
}

/**
 * Successful identifications (orders that reached TERMINATED) per month of their evidence
 * import, service provider, method, issuer and external id, between two dates inclusive. The orders counted are the
 * viewer's visible ones (the billing scope is a service provider's or an operator's); created or failed orders are never counted.
 */
export async function billingReport(prisma: PrismaClient, viewer: Viewer, from: string, to: string): Promise<Result<BillingLine[]>> {
  const start = parseCalendarDate(from);
  const end = parseCalendarDate(to);
  if (!start) return failed(userError('INVALID_INPUT', 'from must be a date YYYY-MM-DD.', ['from']));
  if (!end) return failed(userError('INVALID_INPUT', 'to must be a date YYYY-MM-DD.', ['to']));
  if (end < start) return failed(userError('INVALID_INPUT', 'to must not be before from.', ['to']));
  const endExclusive = new Date(end.getTime() + 24 * 60 * 60 * 1000);
  const where: Prisma.EvidenceWhereInput = {
    // The day after 9999-12-31 is beyond what the database stores (years 1 to 9999 here): no bound is needed then.
    createdAt: endExclusive.getUTCFullYear() > 9999 ? { gte: start } : { gte: start, lt: endExclusive },
    order: { status: 'TERMINATED', ...visibleOrders(viewer) },
  };
  const rows = await prisma.evidence.findMany({ where, select: { createdAt: true, methodName: true, issuer: true, order: { select: { clientId: true, externalId: true } } } });
  const lines = new Map<string, BillingLine>();
  for (const row of rows) {
    const month = row.createdAt.toISOString().slice(0, 7);
    // External ids are each service provider's own: two providers' "4711" are different customers.
    const key = JSON.stringify([month, row.order.clientId, row.methodName, row.issuer, row.order.externalId]);
    const line = lines.get(key) ?? {
      month,
      clientId: row.order.clientId,
      methodName: row.methodName,
      issuer: row.issuer,
      externalId: row.order.externalId,
      successfulIdentifications: 0,
    };
    line.successfulIdentifications++;
    lines.set(key, line);
  }
  return ok(
    [...lines.values()].sort(
      (a, b) =>
        a.month.localeCompare(b.month) ||
        a.clientId.localeCompare(b.clientId) ||
        a.issuer.localeCompare(b.issuer) ||
        a.methodName.localeCompare(b.methodName) ||
        (a.externalId ?? '').localeCompare(b.externalId ?? ''),
    ),
  );
}
