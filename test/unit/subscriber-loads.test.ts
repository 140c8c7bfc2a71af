import { describe, expect, it } from 'vitest';
import type { OrderEvent, PrismaClient } from '../../src/generated/prisma/client.js';
import { eventForSubscriber, MAX_CACHED_BYTES, subscriberLoadsHeld } from '../../src/events/subscriber-loads.js';

const event = (id: string) => ({ id, sequence: 1n, orderId: 'o', type: 'STATUS_CHANGED', status: 'CREATED', previousStatus: null, reason: null, actor: 'a', at: new Date() }) as OrderEvent;

/** A Prisma stand-in whose rows carry `padding` bytes, counting its queries. */
function fakePrisma(padding: number) {
  let queries = 0;
  const prisma = {
    orderEvent: {
      findUniqueOrThrow: async (args: { where: { id: string } }) => {
        queries++;
        return { ...event(args.where.id), order: { padding: 'x'.repeat(padding) } };
      },
    },
  } as unknown as PrismaClient;
  return { prisma, queries: () => queries };
}

describe('the shared loads of subscribers', () => {
  it('share one load per event and selection', async () => {
    const { prisma, queries } = fakePrisma(10);
    const query = { include: { order: true } };
    await Promise.all(Array.from({ length: 50 }, () => eventForSubscriber(prisma, query, event('shared-1'))));
    expect(queries()).toBe(1);
  });

  it('stay within their byte budget however large the rows, and are emptied once nobody asks', async () => {
    const { prisma } = fakePrisma(1024 * 1024);
    const query = { include: { order: true } };
    for (let i = 0; i < 60; i++) {
      const row = await eventForSubscriber(prisma, query, event(`big-${i}`));
      expect((row as unknown as { order: { padding: string } }).order.padding.length).toBe(1024 * 1024);
      expect(subscriberLoadsHeld().bytes).toBeLessThanOrEqual(MAX_CACHED_BYTES);
    }
    expect(subscriberLoadsHeld().bytes).toBeGreaterThan(MAX_CACHED_BYTES / 2);
    // The subscribers leave: within the keep time and one sweep, nothing is held.
    await new Promise((resolve) => setTimeout(resolve, 2300));
    expect(subscriberLoadsHeld()).toEqual({ entries: 0, bytes: 0 });
  });
});
