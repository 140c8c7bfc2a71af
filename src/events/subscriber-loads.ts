import type { OrderEvent, Prisma, PrismaClient } from '../generated/prisma/client.js';

const KEEP_MS = 2000;
const MAX_ENTRIES = 2000;
/** The most the shared loads may hold, counted as the JSON size of their rows. */
export const MAX_CACHED_BYTES = 16 * 1024 * 1024;
/** A row larger than this is handed to its subscribers but not kept. */
const MAX_ROW_BYTES = MAX_CACHED_BYTES / 8;

interface Load {
  at: number;
  row: Promise<OrderEvent>;
  /** The row's size once loaded (0 until then). */
  bytes: number;
}

const loads = new Map<string, Load>();
let cachedBytes = 0;
let sweep: NodeJS.Timeout | undefined;

/**
 * An event as a subscriber's selection needs it. The stream already holds the event's own
 * columns, so a selection of those costs no query; one that reaches into relations (the order,
 * its evidence) is loaded once and shared by every subscriber with the same selection, so one
 * event sent to thousands of subscribers does not become thousands of identical queries.
 * Shared loads are kept for two seconds: the rows they return are the ones at the event's time.
 * What is kept is bounded in entries and in bytes (a deep selection makes large rows: the oldest
 * go first), and a sweep empties it once no subscriber has asked for two seconds, so nothing stays
 * behind after the subscribers leave.
 */
export async function eventForSubscriber(prisma: PrismaClient, query: Pick<Prisma.OrderEventFindUniqueArgs, 'include' | 'select'>, event: OrderEvent): Promise<OrderEvent> {
  if (!query.include && !query.select) return { ...event };
  const key = `${event.id}\u0000${JSON.stringify(query)}`;
  const now = Date.now();
  let entry = loads.get(key);
  if (!entry || now - entry.at > KEEP_MS) {
    if (entry) forget(key, entry);
    if (loads.size >= MAX_ENTRIES) dropExpired(now, true);
    const load: Load = { at: now, row: prisma.orderEvent.findUniqueOrThrow({ ...query, where: { id: event.id } }), bytes: 0 };
    entry = load;
    loads.set(key, load);
    load.row.then(
      (row) => {
        if (loads.get(key) !== load) return;
        load.bytes = sizeOf(row);
        if (load.bytes > MAX_ROW_BYTES) return forget(key, load);
        cachedBytes += load.bytes;
        // Maps iterate in insertion order: the first entries are the oldest.
        for (const [oldKey, old] of loads) {
          if (cachedBytes <= MAX_CACHED_BYTES) break;
          forget(oldKey, old);
        }
      },
      // A failed load is not shared: the next subscriber tries again.
      () => forget(key, load),
    );
    scheduleSweep();
  }
  return { ...(await entry.row) };
}

/** What the shared loads hold now (for tests and diagnostics). */
export function subscriberLoadsHeld(): { entries: number; bytes: number } {
  return { entries: loads.size, bytes: cachedBytes };
}

function forget(key: string, load: Load): void {
  if (loads.get(key) !== load) return;
  loads.delete(key);
  cachedBytes -= load.bytes;
  load.bytes = 0;
}

function dropExpired(now: number, makeRoom = false): void {
  for (const [key, load] of loads) if (now - load.at > KEEP_MS || (makeRoom && loads.size >= MAX_ENTRIES)) forget(key, load);
}

/** Sweeps when the oldest load expires (loads are in the map in the order they were made). */
function scheduleSweep(): void {
  if (sweep) return;
  const oldest = loads.values().next().value;
  if (!oldest) return;
  sweep = setTimeout(
    () => {
      sweep = undefined;
      dropExpired(Date.now());
      scheduleSweep();
    },
    Math.max(0, oldest.at + KEEP_MS + 50 - Date.now()),
  );
  sweep.unref();
}

function sizeOf(row: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)));
  } catch {
    return MAX_ROW_BYTES + 1;
  }
}
