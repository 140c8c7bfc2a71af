import { Redis } from 'ioredis';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import type { EventBus, Invalidation, OrderEventNotice } from './bus.js';
import { createInProcessEventBus } from './bus.js';

/** Thrown at start when REDIS_URL names a server that cannot be reached. */
export class BrokerUnavailableError extends Error {}

/**
 * Notices through Redis pub/sub, so every process of the service hears every commit. Delivery
 * is at most once (a process that is disconnected for a moment misses what was published then),
 * which is why notices only wake readers of the event table and each process also polls it (see
 * feed.ts). Local listeners are told at once, without the round trip through Redis; the copy
 * that comes back from Redis is then a harmless second wake-up.
 */
export async function createRedisEventBus(options: {
  url: string;
  channel: string;
  onError: (message: string) => void;
  connectTimeoutMs?: number;
}): Promise<EventBus> {
  const clientOptions = { lazyConnect: true, connectTimeout: options.connectTimeoutMs ?? 5000, maxRetriesPerRequest: null };
  const publishClient = new Redis(options.url, clientOptions);
  const subscribeClient = new Redis(options.url, clientOptions);
  // ioredis reconnects by itself; an unhandled 'error' event would end the process.
  let lastError = '';
  for (const client of [publishClient, subscribeClient]) {
    client.on('error', (error: Error) => {
      if (error.message === lastError) return;
      lastError = error.message;
      options.onError(`Redis: ${error.message}`);
    });
    client.on('ready', () => (lastError = ''));
  }
  try {
    await Promise.all([publishClient.connect(), subscribeClient.connect()]);
  } catch (error) {
    publishClient.disconnect();
    subscribeClient.disconnect();
    throw new BrokerUnavailableError(`Redis at ${redactedUrl(options.url)} cannot be reached: ${(error as Error).message}`);
  }

  const target = createRedisEventTarget<CustomEvent<OrderEventNotice | Invalidation>>({ publishClient, subscribeClient });
  const local = createInProcessEventBus();
  const invalidationChannel = `${options.channel}:invalidations`;
  const fromBroker = (event: CustomEvent<OrderEventNotice | Invalidation>) => {
    const notice = event.detail as OrderEventNotice | null;
    if (typeof notice?.orderId !== 'string' || typeof notice.refId !== 'string') return;
    local.publish([{ orderId: notice.orderId, refId: notice.refId, clientId: notice.clientId, issuer: notice.issuer }]);
  };
  const invalidationFromBroker = (event: CustomEvent<OrderEventNotice | Invalidation>) => {
    const invalidation = event.detail as Invalidation | null;
    if ((invalidation?.kind === 'token' || invalidation?.kind === 'client') && typeof invalidation.id === 'string') local.publishInvalidation(invalidation);
  };
  target.addEventListener(options.channel, fromBroker);
  target.addEventListener(invalidationChannel, invalidationFromBroker);

  return {
    publish(notices) {
      local.publish(notices);
      for (const notice of notices) target.dispatchEvent(new CustomEvent(options.channel, { detail: notice }));
    },
    subscribe: local.subscribe,
    publishInvalidation(invalidation) {
      local.publishInvalidation(invalidation);
      target.dispatchEvent(new CustomEvent(invalidationChannel, { detail: invalidation }));
    },
    onInvalidation: local.onInvalidation,
    async close() {
      target.removeEventListener(options.channel, fromBroker);
      target.removeEventListener(invalidationChannel, invalidationFromBroker);
      await local.close();
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}

function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
