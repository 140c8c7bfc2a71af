import type { Evidence, Order, Prisma, PrismaClient } from '../generated/prisma/client.js';
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
export function orderListWhere(viewer: Viewer, filter: OrderListFilter | null | undefined, decodeMethodId: MethodIdDecoder): Prisma.OrderWhereInput {
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

/** What Pothos' prisma plugin asks of a row: the relations and fields the GraphQL selection needs. */
export interface Selection<Select, Include> {
  select?: Select;
  include?: Include;
}
type OrderSelection = Selection<Prisma.OrderSelect, Prisma.OrderInclude>;
type EvidenceSelection = Selection<Prisma.EvidenceSelect, Prisma.EvidenceInclude>;

/** One order the viewer may see, by reference id; null when there is none. */
export function findVisibleOrder(prisma: PrismaClient, viewer: Viewer, refId: string, selection: OrderSelection = {}) {
  return prisma.order.findFirst({ ...selection, where: { refId, ...visibleOrders(viewer) } }) as Promise<Order | null>;
}

type MethodIdDecoder = (globalId: string | number) => string | null;
type Page = OrderSelection & { take?: number; skip?: number; cursor?: Prisma.OrderWhereUniqueInput };

/** A page of the orders the viewer may list under the filter, newest first. */
export function listVisibleOrders(prisma: PrismaClient, viewer: Viewer, filter: OrderListFilter | null | undefined, decodeMethodId: MethodIdDecoder, page: Page) {
  return prisma.order.findMany({ ...page, where: orderListWhere(viewer, filter, decodeMethodId), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }) as Promise<Order[]>;
}

/** How many orders the viewer may list under the filter. */
export function countVisibleOrders(prisma: PrismaClient, viewer: Viewer, filter: OrderListFilter | null | undefined, decodeMethodId: MethodIdDecoder): Promise<number> {
  return prisma.order.count({ where: orderListWhere(viewer, filter, decodeMethodId) });
}

/** One evidence of an order the viewer may see; null when there is none. */
export function findVisibleEvidence(prisma: PrismaClient, viewer: Viewer, id: string, selection: EvidenceSelection = {}) {
  return prisma.evidence.findFirst({ ...selection, where: { id, order: visibleOrders(viewer) } }) as Promise<Evidence | null>;
}

/** An evidence by its id, for the partner that has just imported it (no visibility check). */
export function findImportedEvidence(prisma: PrismaClient, id: string, selection: EvidenceSelection = {}) {
  return prisma.evidence.findUnique({ ...selection, where: { id } }) as Promise<Evidence | null>;
}

/** An order the viewer may see and the sequence of its latest event (null: none yet); undefined when there is no such order. */
export async function latestEventOfVisibleOrder(prisma: PrismaClient, viewer: Viewer, refId: string): Promise<{ orderId: string; latestSequence: bigint | null } | undefined> {
  const order = await prisma.order.findFirst({ where: { refId, ...visibleOrders(viewer) }, select: { id: true } });
  if (!order) return undefined;
  const latest = await prisma.orderEvent.findFirst({ where: { orderId: order.id }, orderBy: { sequence: 'desc' }, select: { sequence: true } });
  return { orderId: order.id, latestSequence: latest?.sequence ?? null };
}

/** One of the viewer's orders with its method, events and evidence (REST's identification view). */
export function findOrderWithHistory(prisma: PrismaClient, viewer: Viewer, refId: string) {
  return prisma.order.findFirst({ where: { refId, ...visibleOrders(viewer) }, include: { method: true, events: { orderBy: { sequence: 'asc' } }, evidence: true } });
}
