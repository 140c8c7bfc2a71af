import type { PrismaClient } from '../generated/prisma/client.js';
import type { EventBus } from './bus.js';
import type { SqlRunner } from '../db/adapter.js';
import { readEventsAfter, type FeedEvent } from './event-store.js';

const PAGE = 500;
const DISPATCH_SLICE = 250;

export type { FeedEvent };

/** Every event stored after `after`, up to and including `through`, in sequence order. */
export interface FeedBatch {
  after: bigint;
  through: bigint;
  events: FeedEvent[];
}

/**
 * This process's one reader of the event table. A notice (from this process or, through the
 * broker, from another) or the periodic poll makes it read what follows the last sequence it
 * has seen, once, however many streams are open; it hands each batch to every stream, which
 * filters it in memory. So an event reaches ten thousand subscribers with one query, and a lost
 * notice delays events by at most one poll interval instead of losing them. While no stream
 * listens, it reads nothing (a busy process without subscribers would read every event it
 * writes for no one) and only notes that its tail is behind; `liveTail` catches up.
 */
export interface EventFeed {
  /** The last sequence this feed has read; every event up to it is committed. */
  readonly tail: bigint;
  /**
   * How many subscriptions listen: each stream, plus the subscriptions a stream serves besides
   * its own (the WebSocket bridge serves identical live subscriptions from one stream, see
   * src/graphql/subscription-channels.ts).
   */
  readonly listeners: number;
  /**
   * The tail once every event committed before the call has been read: a process with no
   * stream listening does not read the table, so a new stream asks for this before it starts.
   */
  liveTail(): Promise<bigint>;
  /** `onClose`: the feed is closing (the service shuts down); streams end then. */
  listen(listener: (batch: FeedBatch) => void, onClose?: () => void): () => void;
  /** Counts (or, negative, no longer counts) subscriptions served by a listening stream. */
  countServed(subscriptions: number): void;
  close(): Promise<void>;
}

export async function startEventFeed(deps: {
  prisma: PrismaClient;
  /** The table is read in plain SQL: this runs after every commit (see event-store.ts). */
  database: SqlRunner;
  bus: EventBus;
  pollIntervalMs: number;
  onError: (message: string) => void;
}): Promise<EventFeed> {
  const { prisma } = deps;
  const listeners = new Set<(batch: FeedBatch) => void>();
  const closeListeners = new Map<(batch: FeedBatch) => void, () => void>();
  let tail = (await prisma.orderEvent.aggregate({ _max: { sequence: true } }))._max.sequence ?? 0n;
  let reading: Promise<void> | undefined;
  // One more read after the current one, shared by every wake-up that came during it.
  let again: Promise<void> | undefined;
  let stale = false;
  let catchingUp: Promise<void> | undefined;
  let closed = false;
  let servedBesides = 0;

  const readOnce = async () => {
    stale = false;
    for (;;) {
      const events = await readEventsAfter(deps.database, tail, PAGE);
      if (events.length === 0 || closed) return;
      const batch: FeedBatch = { after: tail, through: events[events.length - 1].event.sequence, events };
      tail = batch.through;
      await dispatch(batch);
      if (events.length < PAGE) return;
    }
  };
  // Each listener a batch wakes runs its subscriber's whole delivery (execution, JSON, socket
  // write) as promise jobs, which the event loop finishes before it looks at any I/O again. With
  // thousands of subscribers that would hold up every request and transaction for the length of
  // the fan-out, and keep every delivery's garbage alive at once; so the feed wakes them a slice
  // at a time, letting I/O in between.
  const dispatch = async (batch: FeedBatch) => {
    const everyone = [...listeners];
    for (let start = 0; start < everyone.length; start += DISPATCH_SLICE) {
      if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      for (const listener of everyone.slice(start, start + DISPATCH_SLICE)) if (listeners.has(listener)) listener(batch);
    }
  };
  // One read at a time; wake-ups during a read make one more read after it. The promise settles
  // once a read that started after the call has ended.
  const read = (): Promise<void> => {
    if (closed) return Promise.resolve();
    if (reading) {
      again ??= reading.then(() => {
        again = undefined;
        return read();
      });
      return again;
    }
    reading = readOnce()
      .catch((error: unknown) => deps.onError(`Reading new order events failed: ${(error as Error).message}`))
      .finally(() => (reading = undefined));
    return reading;
  };
  // Many notices during one read cost one more read, not one each.
  const wake = () => {
    if (listeners.size === 0) stale = true;
    else void read();
  };

  const unsubscribe = deps.bus.subscribe(wake);
  const poll = setInterval(wake, deps.pollIntervalMs);
  poll.unref();

  return {
    get tail() {
      return tail;
    },
    get listeners() {
      return listeners.size + servedBesides;
    },
    async liveTail() {
      if (stale) catchingUp ??= read().finally(() => (catchingUp = undefined));
      await catchingUp;
      return tail;
    },
    listen(listener, onClose) {
      listeners.add(listener);
      if (onClose) closeListeners.set(listener, onClose);
      return () => {
        listeners.delete(listener);
        closeListeners.delete(listener);
      };
    },
    countServed(subscriptions) {
      servedBesides += subscriptions;
    },
    async close() {
      closed = true;
      clearInterval(poll);
      unsubscribe();
      for (const onClose of closeListeners.values()) onClose();
      listeners.clear();
      closeListeners.clear();
      await reading;
    },
  };
}
