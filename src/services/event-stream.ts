import { Repeater } from 'graphql-yoga';
import { GraphQLError } from 'graphql';
import type { OrderEvent, Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { Viewer } from '../context.js';
import type { EventFeed, FeedEvent } from '../events/feed.js';

const PAGE = 200;

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
export function orderEventStream(options: EventStreamOptions): AsyncIterable<OrderEvent> {
  const { prisma, feed, viewer } = options;
  return new Repeater<OrderEvent>(async (push, stop) => {
    // Every event up to `last` that the stream delivers has been queued or delivered.
    let last = options.afterSequence ?? feed.tail;
    let behind = last < feed.tail;
    let readingTable = false;
    let checkToken = false;
    let stopped = false;
    const queue: OrderEvent[] = [];
    let wake = () => {};

    const stopListening = feed.listen(
      (batch) => {
        if (stopped) return;
        if (readingTable || behind || batch.after > last) {
          behind = true;
        } else {
          for (const item of batch.events) if (item.event.sequence > last && options.matches(item)) queue.push(item.event);
          // A read of the table may have gone further than the feed had when it read this batch.
          if (batch.through > last) last = batch.through;
        }
        wake();
      },
      // The service is shutting down: the stream completes, and a client resumes elsewhere.
      () => {
        stopped = true;
        wake();
      },
    );
    const timer = setInterval(() => {
      checkToken = true;
      wake();
    }, options.tokenCheckIntervalMs);
    const expiry = setTimeout(() => {
      checkToken = true;
      wake();
    }, Math.max(0, Math.min(viewer.tokenExpiresAt.getTime() - Date.now() + 50, 2 ** 31 - 1)));
    void stop.then(() => {
      stopped = true;
      wake();
    });
    try {
      while (!stopped) {
        if (!queue.length && !behind && !checkToken) await new Promise<void>((resolve) => (wake = resolve));
        if (stopped) break;
        if (checkToken) {
          checkToken = false;
          if (viewer.tokenExpiresAt.getTime() <= Date.now() || !(await options.tokenStillValid(viewer.accessToken))) {
            throw new GraphQLError('The access token expired or was revoked; subscribe again with a new one.', {
              extensions: { code: 'UNAUTHENTICATED' },
            });
          }
        }
        if (behind && !queue.length) {
          behind = false;
          readingTable = true;
          // Everything up to the feed's tail is committed, so this read covers it all.
          const levelWith = feed.tail;
          try {
            const rows = await prisma.orderEvent.findMany({
              where: { AND: [options.where, { sequence: { gt: last } }] },
              orderBy: { sequence: 'asc' },
              take: PAGE,
            });
            queue.push(...rows);
            if (rows.length === PAGE) {
              last = rows[rows.length - 1].sequence;
              behind = true;
            } else {
              last = rows.length && rows[rows.length - 1].sequence > levelWith ? rows[rows.length - 1].sequence : levelWith;
              if (feed.tail > last) behind = true;
            }
          } finally {
            readingTable = false;
          }
        }
        while (queue.length && !stopped) await push(queue.shift()!);
      }
      stop();
    } catch (error) {
      stop(error);
    } finally {
      stopListening();
      clearInterval(timer);
      clearTimeout(expiry);
    }
  });
}
