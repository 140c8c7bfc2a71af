import { Repeater } from 'graphql-yoga';
import { GraphQLError } from 'graphql';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { Viewer } from '../context.js';
import type { EventBus, OrderEventNotice } from '../events/bus.js';

const PAGE = 200;

export interface EventStreamOptions {
  prisma: PrismaClient;
  bus: EventBus;
  viewer: Viewer;
  /** Which events, beyond what the viewer may read anyway. */
  where: Prisma.OrderEventWhereInput;
  /** A cheap pre-check on notices, so unrelated traffic costs no query. */
  mayConcern: (notice: OrderEventNotice) => boolean;
  /** Deliver the events after this sequence; null: only events committed from now on. */
  afterSequence: bigint | null;
  tokenStillValid: (accessToken: string) => Promise<boolean>;
  tokenCheckIntervalMs: number;
}

/**
 * A live stream of stored order events, in sequence order, with no gap and no duplicate.
 * Notices only wake the stream; it then reads what follows the last delivered sequence from
 * the database. Events are written in commit order (see order-transitions.ts), so that read
 * sees every earlier event. The stream ends with UNAUTHENTICATED once the token expires, is
 * revoked or its client is disabled.
 */
export function orderEventStream(options: EventStreamOptions): AsyncIterable<{ id: string; sequence: bigint }> {
  const { prisma, bus, viewer } = options;
  return new Repeater<{ id: string; sequence: bigint }>(async (push, stop) => {
    let pending = true;
    let checkToken = false;
    let stopped = false;
    let wake = () => {};
    const unsubscribe = bus.subscribe((notice) => {
      if (!options.mayConcern(notice)) return;
      pending = true;
      wake();
    });
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
      let last =
        options.afterSequence ??
        (await prisma.orderEvent.aggregate({ _max: { sequence: true } }))._max.sequence ??
        0n;
      while (!stopped) {
        if (!pending && !checkToken) await new Promise<void>((resolve) => (wake = resolve));
        if (stopped) break;
        if (checkToken) {
          checkToken = false;
          if (viewer.tokenExpiresAt.getTime() <= Date.now() || !(await options.tokenStillValid(viewer.accessToken))) {
            throw new GraphQLError('The access token expired or was revoked; subscribe again with a new one.', {
              extensions: { code: 'UNAUTHENTICATED' },
            });
          }
        }
        if (!pending) continue;
        pending = false;
        const rows = await prisma.orderEvent.findMany({
          where: { AND: [options.where, { sequence: { gt: last } }] },
          orderBy: { sequence: 'asc' },
          take: PAGE,
          select: { id: true, sequence: true },
        });
        for (const row of rows) {
          if (stopped) break;
          await push(row);
          last = row.sequence;
        }
        if (rows.length === PAGE) pending = true;
      }
      stop();
    } catch (error) {
      stop(error);
    } finally {
      unsubscribe();
      clearInterval(timer);
      clearTimeout(expiry);
    }
  });
}
