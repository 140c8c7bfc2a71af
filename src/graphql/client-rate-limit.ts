// The per-client rate limit: every GraphQL request (and every WebSocket subscribe) of a client
// spends one point; counters shared by every process through Redis or PostgreSQL.
import { GraphQLError } from 'graphql';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  BurstyRateLimiter,
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { PrismaClient } from '../generated/prisma/client.js';
import { log } from '../observability/log.js';

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

export const RATE_LIMITED_CODE = 'RATE_LIMITED';

export interface ClientRateLimiter {
  /** Spends one request of the viewer's client; throws RATE_LIMITED (HTTP 429) when its budget is used up. */
  admitted<Viewer extends { clientId: string }>(viewer: Viewer): Promise<Viewer>;
  close(): Promise<void>;
}

/**
 * A client may send `perSecond` requests every second, and in a burst up to BURST_FACTOR times
 * that many more in any BURST_WINDOW_SECONDS (rate-limiter-flexible's BurstyRateLimiter). When
 * the shared store fails, the process counts in its own memory meanwhile (the library's
 * insurance limiter), so that an unreachable Redis does not stop the API.
 */
export function createClientRateLimiter(prisma: PrismaClient, settings: RateLimitSettings): ClientRateLimiter {
  const redis = settings.store === 'redis' ? new Redis(settings.redisUrl!, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false }) : undefined;
  redis?.on('error', (error) => log().debug({ err: error }, 'The rate limit store (Redis) failed'));
  const pool = settings.store === 'postgres' ? new pg.Pool({ connectionString: settings.databaseUrl, max: 4 }) : undefined;
  pool?.on('error', (error) => log().debug({ err: error }, 'The rate limit store (PostgreSQL) failed'));

  const storeLimiter = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
    const insuranceLimiter = new RateLimiterMemory({ keyPrefix, points, duration });
    if (redis) return new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration, insuranceLimiter });
    if (pool) return new RateLimiterPostgres({ storeClient: pool, tableName: 'RateLimit', tableCreated: true, keyPrefix, points, duration, insuranceLimiter });
    return insuranceLimiter;
  };
  // One limiter per distinct limit (the default and the few clients with their own).
  const limiters = new Map<number, BurstyRateLimiter>();
  const limiterFor = (perSecond: number) => {
    let limiter = limiters.get(perSecond);
    if (!limiter) {
      limiter = new BurstyRateLimiter(
        storeLimiter(`srs-rate-${perSecond}`, perSecond, 1),
        storeLimiter(`srs-burst-${perSecond}`, perSecond * BURST_FACTOR, BURST_WINDOW_SECONDS),
      );
      limiters.set(perSecond, limiter);
    }
    return limiter;
  };

  const clientLimits = new Map<string, { perSecond: number | null; until: number }>();
  const clientLimit = async (clientId: string): Promise<number> => {
    const cached = clientLimits.get(clientId);
    if (cached && cached.until > Date.now()) return cached.perSecond ?? settings.perSecond;
    const row = await prisma.client.findUnique({ where: { id: clientId }, select: { rateLimitPerSecond: true } });
    if (clientLimits.size >= MAX_CACHED_CLIENTS) clientLimits.clear();
    clientLimits.set(clientId, { perSecond: row?.rateLimitPerSecond ?? null, until: Date.now() + CLIENT_LIMIT_CACHE_MS });
    return row?.rateLimitPerSecond ?? settings.perSecond;
  };

  return {
    async admitted(viewer) {
      const perSecond = await clientLimit(viewer.clientId);
      if (perSecond <= 0) return viewer;
      try {
        await limiterFor(perSecond).consume(viewer.clientId);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) throw rateLimited(perSecond, rejection.msBeforeNext);
        // The store and its insurance both failed: count nothing rather than refuse everyone.
        log().warn({ err: rejection }, 'The rate limit could not be counted');
      }
      return viewer;
    },
    async close() {
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

/**
 * The operator's limit for one client (`npm run cli -- clients set-rate-limit`): requests per
 * second, 0 for none, null for RATE_LIMIT_PER_CLIENT. Running processes apply it within
 * CLIENT_LIMIT_CACHE_MS. False when there is no such client.
 */
export async function setClientRateLimit(prisma: PrismaClient, clientId: string, perSecond: number | null): Promise<boolean> {
  const { count } = await prisma.client.updateMany({ where: { id: clientId }, data: { rateLimitPerSecond: perSecond } });
  return count === 1;
}
