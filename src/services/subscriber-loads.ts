import type { OrderEvent, Prisma, PrismaClient } from '../generated/prisma/client.js';

const KEEP_MS = 2000;
const MAX_ENTRIES = 2000;
const loads = new Map<string, { at: number; row: Promise<OrderEvent> }>();

/**
 * An event as a subscriber's selection needs it. The stream already holds the event's own
 * columns, so a selection of those costs no query; one that reaches into relations (the order,
 * its evidence) is loaded once and shared by every subscriber with the same selection, so one
 * event sent to thousands of subscribers does not become thousands of identical queries.
 * Shared loads are kept for two seconds: the rows they return are the ones at the event's time.
 */
export async function eventForSubscriber(prisma: PrismaClient, query: Pick<Prisma.OrderEventFindUniqueArgs, 'include' | 'select'>, event: OrderEvent): Promise<OrderEvent> {
  if (!query.include && !query.select) return { ...event };
  const key = `${event.id}\u0000${JSON.stringify(query)}`;
  const now = Date.now();
  let entry = loads.get(key);
  if (!entry || now - entry.at > KEEP_MS) {
    if (loads.size >= MAX_ENTRIES) {
      for (const [oldKey, old] of loads) if (now - old.at > KEEP_MS || loads.size >= MAX_ENTRIES) loads.delete(oldKey);
    }
    entry = { at: now, row: prisma.orderEvent.findUniqueOrThrow({ ...query, where: { id: event.id } }) };
    // A failed load is not shared: the next subscriber tries again.
    entry.row.catch(() => loads.delete(key));
    loads.set(key, entry);
  }
  return { ...(await entry.row) };
}
