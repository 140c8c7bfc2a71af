import type { Prisma } from '../generated/prisma/client.js';
import type { OrderStatus } from '../domain/order-status.js';
import type { Viewer } from '../auth/viewer.js';
import { visibleOrders } from '../auth/visibility.js';

export interface OrderListFilter {
  statuses?: readonly OrderStatus[] | null;
  methodIds?: readonly (string | number)[] | null;
  externalId?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

/** The orders a viewer may list, narrowed by the filter; absent criteria do not restrict. */
export function orderListWhere(
  viewer: Viewer,
  filter: OrderListFilter | null | undefined,
  decodeMethodId: (globalId: string | number) => string | null,
): Prisma.OrderWhereInput {
  const where: Prisma.OrderWhereInput = { ...visibleOrders(viewer) };
  if (!filter) return where;
  if (filter.statuses) where.status = { in: [...filter.statuses] };
  if (filter.methodIds) where.methodId = { in: filter.methodIds.map(decodeMethodId).filter((id): id is string => id !== null) };
  if (filter.externalId != null) where.externalId = filter.externalId;
  if (filter.createdAfter || filter.createdBefore) {
    where.createdAt = { ...(filter.createdAfter && { gte: filter.createdAfter }), ...(filter.createdBefore && { lt: filter.createdBefore }) };
  }
  return where;
}
