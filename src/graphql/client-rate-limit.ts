// The per-client rate limit: every GraphQL request (and every WebSocket subscribe) of a client
// spends one point. Each process counts in its own memory and shares its counts with the other
// processes through Redis or PostgreSQL every SHARE_INTERVAL_MS (see createClientRateLimiter).
import { GraphQLError } from 'graphql';
import { Redis } from 'ioredis';
import pg from 'pg';
import { RateLimiterPostgres, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { PrismaClient } from '../generated/prisma/client.js';
import { log } from '../observability/log.js';
import { findClientRateLimit } from '../auth/client-store.js';

export interface RateLimitSettings {
  /** Requests per second per client; 0: no limit. A client row may set its own (CLI). */
  perSecond: number;
  /** Where the counters live: one process's memory, or shared by all processes. */
  store: 'memory' | 'postgres' | 'redis';
  redisUrl?: string;
  databaseUrl?: string;
}

/** A burst may go this many times over the rate, once per BURST_WINDOW_SECONDS. */
const BURST_FACTOR = 2;
const BURST_WINDOW_SECONDS = 10;
/** How long a client's own limit (set with the CLI) is kept before it is read again. */
const CLIENT_LIMIT_CACHE_MS = 30_000;
const MAX_CACHED_CLIENTS = 10_000;
/**
 * How often a process adds the requests it counted to the shared counters and learns the
 * others': the tolerance of the limit across processes (README, "Per-client rate limits").
 */
export const SHARE_INTERVAL_MS = 100;

export const RATE_LIMITED_CODE = 'RATE_LIMITED';

export interface ClientRateLimiter {
  /** Spends one request of the viewer's client; throws RATE_LIMITED (HTTP 429) when its budget is used up. */
  admitted<Viewer extends { clientId: string }>(viewer: Viewer): Promise<Viewer>;
  close(): Promise<void>;
}

/** One client's count in one fixed window, as this process knows it. */
interface WindowCount {
  /** The shared counter's value at the last exchange (this process's share included), in the window ending at windowEnds. */
  shared: number;
  windowEnds: number;
  /** Spent here since the last exchange, not yet added to the shared counter. */
  unshared: number;
  /** The part of unshared spent in the current window (what the window still has to count). */
  unsharedInWindow: number;
  /** Spent in this window and on its way to the shared counter: counted until its total is back. */
  sharing: number;
}

/**
 * Fixed windows of `points` per `durationSeconds`, counted here and exchanged with the shared
 * store (rate-limiter-flexible's layout: `penalty` adds the points and answers the total and the
 * window's end) for the keys that spent anything since the last exchange.
 */
export class SharedWindowCounter {
  private readonly counts = new Map<string, WindowCount>();

  constructor(
    readonly points: number,
    private readonly durationMs: number,
    private readonly store: Pick<RateLimiterAbstract, 'penalty' | 'get'> | undefined,
  ) {}

  /** Spends one point of the key; the milliseconds until its window ends when none is left. */
  spend(key: string, now: number): { refusedForMs?: number } {
    let count = this.counts.get(key);
    if (!count) {
      count = { shared: 0, windowEnds: now + this.durationMs, unshared: 0, unsharedInWindow: 0, sharing: 0 };
      this.counts.set(key, count);
    } else if (count.windowEnds <= now) {
      // A new window (the shared counter may have one running already: the next exchange says).
      count.shared = 0;
      count.unsharedInWindow = 0;
      count.sharing = 0;
      count.windowEnds = now + this.durationMs;
    }
    if (count.shared + count.sharing + count.unsharedInWindow >= this.points) return { refusedForMs: count.windowEnds - now };
    count.unshared++;
    count.unsharedInWindow++;
    return {};
  }

  /**
   * Adds what each key spent here to the shared counters and takes their totals back; a key
   * with nothing new but a window still running only reads its total (what the others spent).
   */
  async share(): Promise<void> {
    const now = Date.now();
    const exchanges: Promise<void>[] = [];
    for (const [key, count] of this.counts) {
      const spent = count.unshared;
      if (spent === 0 && count.windowEnds <= now) {
        this.counts.delete(key);
        continue;
      }
      count.unshared = 0;
      const spentInWindow = count.unsharedInWindow;
      count.unsharedInWindow = 0;
      if (!this.store) {
        count.shared += spentInWindow;
        continue;
      }
      count.sharing += spentInWindow;
      exchanges.push(
        (spent > 0 ? this.store.penalty(key, spent) : this.store.get(key)).then(
          (total) => {
            // What was spent here meanwhile stays unshared, for the next exchange.
            count.sharing = Math.max(0, count.sharing - spentInWindow);
            count.shared = total?.consumedPoints ?? 0;
            if (total && total.msBeforeNext >= 0) count.windowEnds = Date.now() + total.msBeforeNext;
          },
          (error: unknown) => {
            // The store failed: this process goes on counting in its own memory.
            count.sharing = Math.max(0, count.sharing - spentInWindow);
            count.shared += spentInWindow;
            log().debug({ err: error }, 'The rate limit store failed');
          },
        ),
      );
    }
    await Promise.all(exchanges);
  }
}

/**
 * A client may send `perSecond` requests every second, and in a burst up to BURST_FACTOR times
 * that many more in any BURST_WINDOW_SECONDS (as rate-limiter-flexible's BurstyRateLimiter did).
 *
 * Counting in each process's memory and sharing every SHARE_INTERVAL_MS, instead of one upsert
 * per request, takes a statement and a round trip off every request. The price: a process learns
 * what the others let through up to SHARE_INTERVAL_MS late, so a client can get through, above
 * its limit, what the other processes admitted in that time (at worst, should a flood reach every
 * process within one interval, its whole budget once per process). With one process the limit is
 * exact. When the shared store fails, each process goes on counting alone.
 */
export function createClientRateLimiter(prisma: PrismaClient, settings: RateLimitSettings): ClientRateLimiter {
  const redis = settings.store === 'redis' ? new Redis(settings.redisUrl!, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false }) : undefined;
  redis?.on('error', (error) => log().debug({ err: error }, 'The rate limit store (Redis) failed'));
  const pool = settings.store === 'postgres' ? new pg.Pool({ connectionString: settings.databaseUrl, max: 4 }) : undefined;
  pool?.on('error', (error) => log().debug({ err: error }, 'The rate limit store (PostgreSQL) failed'));

  const counter = (keyPrefix: string, points: number, duration: number): SharedWindowCounter => {
    const store = redis
      ? new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration })
      : pool
        ? new RateLimiterPostgres({ storeClient: pool, tableName: 'RateLimit', tableCreated: true, keyPrefix, points, duration })
        : undefined;
    return new SharedWindowCounter(points, duration * 1000, store);
  };
  // One pair of counters per distinct limit (the default and the few clients with their own).
  const limiters = new Map<number, { rate: SharedWindowCounter; burst: SharedWindowCounter }>();
  const limiterFor = (perSecond: number) => {
    let limiter = limiters.get(perSecond);
    if (!limiter) {
      limiter = { rate: counter(`srs-rate-${perSecond}`, perSecond, 1), burst: counter(`srs-burst-${perSecond}`, perSecond * BURST_FACTOR, BURST_WINDOW_SECONDS) };
      limiters.set(perSecond, limiter);
    }
    return limiter;
  };

  let sharing: Promise<unknown> | undefined;
  const shareTimer = setInterval(() => {
    sharing ??= Promise.all([...limiters.values()].flatMap(({ rate, burst }) => [rate.share(), burst.share()])).finally(() => (sharing = undefined));
  }, SHARE_INTERVAL_MS);
  shareTimer.unref();

  const clientLimits = new Map<string, { perSecond: number | null; until: number }>();
  const clientLimit = async (clientId: string): Promise<number> => {
    const cached = clientLimits.get(clientId);
    if (cached && cached.until > Date.now()) return cached.perSecond ?? settings.perSecond;
    const perSecond = await findClientRateLimit(prisma, clientId);
    if (clientLimits.size >= MAX_CACHED_CLIENTS) clientLimits.clear();
    clientLimits.set(clientId, { perSecond, until: Date.now() + CLIENT_LIMIT_CACHE_MS });
    return perSecond ?? settings.perSecond;
  };

  return {
    async admitted(viewer) {
      const perSecond = await clientLimit(viewer.clientId);
      if (perSecond <= 0) return viewer;
      const { rate, burst } = limiterFor(perSecond);
      const now = Date.now();
      const overRate = rate.spend(viewer.clientId, now).refusedForMs;
      if (overRate === undefined) return viewer;
      const overBurst = burst.spend(viewer.clientId, now).refusedForMs;
      if (overBurst !== undefined) throw rateLimited(perSecond, Math.min(overRate, overBurst));
      return viewer;
    },
    async close() {
      clearInterval(shareTimer);
      await sharing;
      redis?.disconnect();
      await pool?.end();
    },
  };
}

function rateLimited(perSecond: number, msBeforeNext: number): GraphQLError {
  const retryAfter = String(Math.max(1, Math.ceil(msBeforeNext / 1000)));
  return new GraphQLError(`Too many requests: this client may send ${perSecond} per second (with short bursts above); retry in ${retryAfter} s.`, {
    extensions: {
      code: RATE_LIMITED_CODE,
      http: {
        status: 429,
        headers: { 'Retry-After': retryAfter, 'RateLimit-Limit': String(perSecond), 'RateLimit-Remaining': '0', 'RateLimit-Reset': retryAfter },
      },
    },
  });
}
