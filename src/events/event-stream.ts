import { setTimeout as sleep } from 'node:timers/promises';
import { GraphQLError } from 'graphql';
import type { OrderEvent, Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { Viewer } from '../auth/viewer.js';
import type { EventFeed, FeedBatch, FeedEvent } from './feed.js';
import { isDatabaseUnavailable } from '../db/availability.js';
import { TokenWatcher } from './token-watcher.js';

const PAGE = 200;
/** How long a stream waits before reading the table again when the database was unreachable. */
const TABLE_RETRY_MS = 1000;

export interface EventStreamOptions {
  prisma: PrismaClient;
  feed: EventFeed;
  viewer: Viewer;
  /** Which stored events the stream delivers (with what the viewer may read), for catch-up reads. */
  where: Prisma.OrderEventWhereInput;
  /** The same rule as `where`, on an event the feed has read: must agree with it exactly. */
  matches: (event: FeedEvent) => boolean;
  /** Deliver the events after this sequence; null: only events committed from now on. */
  afterSequence: bigint | null;
  tokenStillValid: (accessToken: string) => Promise<boolean>;
  tokenCheckIntervalMs: number;
}

/**
 * A live stream of stored order events, in sequence order, with no gap and no duplicate.
 * While the stream is level with the process's feed, it takes its events from the feed's
 * batches in memory. When it is behind (a replay after a sequence, or a batch it could not take
 * while reading), it reads from the table itself until it is level again. Events are written in
 * commit order (see order-transitions.ts), so a read after sequence N sees every later event.
 * The stream ends with UNAUTHENTICATED once the token expires, is revoked or its client is
 * disabled.
 */
export async function orderEventStream(options: EventStreamOptions): Promise<AsyncIterableIterator<OrderEvent>> {
  // The stream starts from the feed's tail ("from now on", or whether a replay is behind it).
  await options.feed.liveTail();
  return new OrderEventStream(options);
}

/**
 * What lets a caller serve several identical subscriptions from one stream (the WebSocket
 * bridge does, see src/graphql/subscription-channels.ts): two streams of the same selection for
 * the same audience deliver the same events once both are past the later one's start.
 */
export interface MergeableStream {
  /**
   * The stream delivers every matching event after this sequence, live; null when it delivers
   * events from before it started (a replay), which no other stream does for its subscriber.
   */
  readonly liveAfter: bigint | null;
  /** Streams merge only on the same token: its expiry or revocation ends them together. */
  readonly accessToken: string;
  /** The sequence of an event this stream delivered. */
  sequenceOf(event: unknown): bigint;
  /** Counts subscriptions served by this stream besides its own (see EventFeed.countServed). */
  countServed(subscriptions: number): void;
}

export function isMergeableStream(value: unknown): value is MergeableStream {
  return value instanceof OrderEventStream;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

interface Waiter {
  resolve(step: IteratorResult<OrderEvent, undefined>): void;
  reject(error: unknown): void;
}

/**
 * Thousands of these stay open and each event wakes all of them, so a stream is one object with
 * a queue instead of a Repeater (whose push/pull handshake allocates several promises per event),
 * and it has no timer of its own: one watcher per token (below) ends it.
 */
class OrderEventStream implements AsyncIterableIterator<OrderEvent>, MergeableStream {
  readonly liveAfter: bigint | null;
  // Every event up to `last` that the stream delivers has been queued or delivered.
  private last: bigint;
  private behind: boolean;
  private readingTable = false;
  private ended = false;
  private failure: unknown = undefined;
  private readonly queue: OrderEvent[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly stopListening: () => void;
  private readonly stopWatching: () => void;

  constructor(private readonly options: EventStreamOptions) {
    const { feed } = options;
    this.last = options.afterSequence ?? feed.tail;
    this.liveAfter = options.afterSequence === null ? this.last : null;
    this.behind = this.last < feed.tail;
    this.stopListening = feed.listen(
      (batch) => this.take(batch),
      // The service is shutting down: the stream completes, and a client resumes elsewhere.
      () => this.end(),
    );
    this.stopWatching = tokenWatcherOf(feed, options).watch(options.viewer, this);
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  get accessToken(): string {
    return this.options.viewer.accessToken;
  }

  sequenceOf(event: unknown): bigint {
    return (event as OrderEvent).sequence;
  }

  countServed(subscriptions: number): void {
    this.options.feed.countServed(subscriptions);
  }

  next(): Promise<IteratorResult<OrderEvent, undefined>> {
    // The common case, an event already waiting for a caller that waits for nothing else.
    if (!this.waiters.length && this.queue.length && !this.ended && this.failure === undefined) {
      return Promise.resolve({ done: false, value: this.queue.shift()! });
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.serve();
    });
  }

  return(): Promise<IteratorResult<OrderEvent, undefined>> {
    this.end();
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<OrderEvent, undefined>> {
    this.end();
    return Promise.reject(error);
  }

  /** Called by the token watcher: the token expired, was revoked or its client was disabled. */
  tokenInvalid(): void {
    if (this.ended || this.failure !== undefined) return;
    this.fail(new GraphQLError('The access token expired or was revoked; subscribe again with a new one.', { extensions: { code: 'UNAUTHENTICATED' } }));
  }

  private take(batch: FeedBatch): void {
    if (this.ended) return;
    if (this.readingTable || this.behind || batch.after > this.last) {
      this.behind = true;
    } else {
      const { matches } = this.options;
      for (const item of batch.events) if (item.event.sequence > this.last && matches(item)) this.queue.push(item.event);
      // A read of the table may have gone further than the feed had when it read this batch.
      if (batch.through > this.last) this.last = batch.through;
    }
    if (this.waiters.length) this.serve();
  }

  /** Answers waiting callers from the queue, reading the table first when the stream is behind. */
  private serve(): void {
    while (this.waiters.length) {
      if (this.failure !== undefined) {
        // The failure ends the stream: the first caller learns why, any other one that it ended.
        const failure = this.failure;
        const waiter = this.waiters.shift()!;
        this.failure = undefined;
        this.finish();
        waiter.reject(failure);
        continue;
      }
      if (this.ended) {
        for (const waiter of this.waiters.splice(0)) waiter.resolve(DONE);
        return;
      }
      if (this.queue.length) {
        this.waiters.shift()!.resolve({ done: false, value: this.queue.shift()! });
        continue;
      }
      if (this.behind && !this.readingTable) void this.readTable();
      return;
    }
  }

  private async readTable(): Promise<void> {
    const { prisma, feed, where } = this.options;
    this.behind = false;
    this.readingTable = true;
    // Everything up to the feed's tail is committed, so this read covers it all.
    const levelWith = feed.tail;
    try {
      const rows = await prisma.orderEvent.findMany({ where: { AND: [where, { sequence: { gt: this.last } }] }, orderBy: { sequence: 'asc' }, take: PAGE });
      if (this.ended) return;
      this.queue.push(...rows);
      const lastRead = rows.length ? rows[rows.length - 1].sequence : this.last;
      if (rows.length === PAGE) {
        this.last = lastRead;
        this.behind = true;
      } else {
        this.last = lastRead > levelWith ? lastRead : levelWith;
        if (feed.tail > this.last) this.behind = true;
      }
    } catch (error) {
      if (!isDatabaseUnavailable(error)) this.fail(error);
      else {
        // The database is away (restarting, say): the stream stays open and reads again later,
        // then delivers what it missed, in order.
        this.behind = true;
        await sleep(TABLE_RETRY_MS);
      }
    } finally {
      this.readingTable = false;
      this.serve();
    }
  }

  /** Stops taking events at once; the next caller gets the error. */
  private fail(error: unknown): void {
    if (this.ended) return;
    this.failure = error;
    this.release();
    this.serve();
  }

  private end(): void {
    this.finish();
    this.serve();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.length = 0;
    this.release();
  }

  private release(): void {
    this.stopListening();
    this.stopWatching();
  }
}

// The feed stands for the running service: its streams share one watcher, whose settings
// (the same config for every stream of a service) come from the first stream.
const watchers = new WeakMap<EventFeed, TokenWatcher>();

function tokenWatcherOf(feed: EventFeed, options: Pick<EventStreamOptions, 'tokenStillValid' | 'tokenCheckIntervalMs'>): TokenWatcher {
  let watcher = watchers.get(feed);
  if (!watcher) watchers.set(feed, (watcher = new TokenWatcher(options.tokenStillValid, options.tokenCheckIntervalMs)));
  return watcher;
}
