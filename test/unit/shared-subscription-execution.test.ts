// One execution of a subscription's selection per event for all subscribers who would get the
// same answer; never shared across audiences, documents, variables or event objects; error masking
// and the other plugins' hooks still apply to every subscriber.
import { describe, expect, it } from 'vitest';
import { parse, type ExecutionResult } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { useSharedSubscriptionExecution } from '../../src/graphql/shared-subscription-execution.js';

interface TestEvent {
  id: string;
  fail?: boolean;
}
interface TestContext {
  audience: string;
}

/** A schema whose subscription hands every subscriber the events pushed to `emit`, counting executions. */
function testService() {
  const subscribers = new Set<(event: TestEvent) => void>();
  const executions: string[] = [];
  const subscribeResults: Array<'ok' | 'error'> = [];
  const schema = createSchema<TestContext>({
    typeDefs: /* GraphQL */ `
      type Event {
        id: ID!
        seenBy: String!
        upper(prefix: String): String!
      }
      type Query {
        ok: Boolean!
      }
      type Subscription {
        events: Event!
      }
    `,
    resolvers: {
      Query: { ok: () => true },
      Event: {
        seenBy: (event: TestEvent, _args: unknown, context: TestContext) => {
          executions.push(`${event.id}:${context.audience}`);
          if (event.fail) throw new Error('database password is hunter2');
          return context.audience;
        },
        upper: (event: TestEvent, args: { prefix?: string }) => `${args.prefix ?? ''}${event.id.toUpperCase()}`,
      },
      Subscription: {
        events: {
          subscribe: () => {
            const queue: TestEvent[] = [];
            let wake = () => {};
            const push = (event: TestEvent) => {
              queue.push(event);
              wake();
            };
            subscribers.add(push);
            return {
              [Symbol.asyncIterator]() {
                return this;
              },
              async next() {
                while (!queue.length) await new Promise<void>((resolve) => (wake = resolve));
                return { done: false, value: queue.shift()! };
              },
              async return() {
                subscribers.delete(push);
                return { done: true, value: undefined };
              },
            } as AsyncIterableIterator<TestEvent>;
          },
          resolve: (event: TestEvent) => event,
        },
      },
    },
  });
  const countResults: Plugin = {
    onSubscribe: () => ({ onSubscribeResult: ({ result }) => void subscribeResults.push('errors' in result && result.errors ? 'error' : 'ok') }),
  };
  const yoga = createYoga<TestContext>({
    schema,
    maskedErrors: true,
    logging: false,
    plugins: [useSharedSubscriptionExecution<TestContext>((context) => context.audience || null), countResults],
  });

  async function subscribe(query: string, audience: string, variables?: Record<string, unknown>) {
    const { schema: envelopedSchema, subscribe: run, contextFactory } = yoga.getEnveloped({ audience });
    const stream = (await run({
      schema: envelopedSchema,
      document: documents.get(query) ?? documents.set(query, parse(query)).get(query)!,
      variableValues: variables,
      contextValue: await contextFactory(),
    })) as AsyncIterableIterator<ExecutionResult>;
    return stream;
  }
  // yoga's parse cache hands the same document to every subscriber of the same text.
  const documents = new Map<string, ReturnType<typeof parse>>();
  const emit = (event: TestEvent | (() => TestEvent)) => {
    for (const push of subscribers) push(typeof event === 'function' ? event() : event);
  };
  return { subscribe, emit, executions, subscribeResults };
}

const SEEN = 'subscription { events { id seenBy } }';

async function nextOfEach(streams: Array<AsyncIterableIterator<ExecutionResult>>): Promise<ExecutionResult[]> {
  return Promise.all(streams.map(async (stream) => (await stream.next()).value as ExecutionResult));
}

describe('shared subscription execution', () => {
  it('executes an event once for all subscribers of the same operation and audience', async () => {
    const service = testService();
    const streams = await Promise.all(Array.from({ length: 20 }, () => service.subscribe(SEEN, 'client-a')));
    const pending = nextOfEach(streams);
    service.emit({ id: 'e1' });
    const results = await pending;
    expect(service.executions).toEqual(['e1:client-a']);
    for (const result of results) {
      expect(result).toEqual({ data: { events: { id: 'e1', seenBy: 'client-a' } } });
      expect(result).toBe(results[0]);
    }
    expect(service.subscribeResults).toEqual(Array(20).fill('ok'));
    await Promise.all(streams.map((stream) => stream.return?.()));
  });

  it('never shares across audiences: each one gets what it may see', async () => {
    const service = testService();
    const streams = [await service.subscribe(SEEN, 'client-a'), await service.subscribe(SEEN, 'client-b'), await service.subscribe(SEEN, 'client-a')];
    const pending = nextOfEach(streams);
    service.emit({ id: 'e1' });
    const results = await pending;
    expect(results.map((result) => result.data)).toEqual([
      { events: { id: 'e1', seenBy: 'client-a' } },
      { events: { id: 'e1', seenBy: 'client-b' } },
      { events: { id: 'e1', seenBy: 'client-a' } },
    ]);
    expect([...service.executions].sort()).toEqual(['e1:client-a', 'e1:client-b']);
  });

  it('gives different selections and different variables their own shapes', async () => {
    const service = testService();
    const withPrefix = 'subscription($prefix: String) { events { upper(prefix: $prefix) } }';
    const streams = [
      await service.subscribe(SEEN, 'client-a'),
      await service.subscribe('subscription { events { id } }', 'client-a'),
      await service.subscribe(withPrefix, 'client-a', { prefix: 'x-' }),
      await service.subscribe(withPrefix, 'client-a', { prefix: 'y-' }),
    ];
    const pending = nextOfEach(streams);
    service.emit({ id: 'e1' });
    expect((await pending).map((result) => result.data)).toEqual([
      { events: { id: 'e1', seenBy: 'client-a' } },
      { events: { id: 'e1' } },
      { events: { upper: 'x-E1' } },
      { events: { upper: 'y-E1' } },
    ]);
  });

  it('shares nothing between event objects that are not the same, nor for an audience of null', async () => {
    const service = testService();
    const streams = [await service.subscribe(SEEN, 'client-a'), await service.subscribe(SEEN, 'client-a')];
    const pending = nextOfEach(streams);
    // Each subscriber gets its own copy, as a stream that reads the table itself does.
    service.emit(() => ({ id: 'e1' }));
    await pending;
    expect(service.executions).toEqual(['e1:client-a', 'e1:client-a']);

    const unshared = [await service.subscribe(SEEN, ''), await service.subscribe(SEEN, '')];
    const next = nextOfEach(unshared);
    service.executions.length = 0;
    service.emit({ id: 'e2' });
    await next;
    // Two from the unshared audience, one for both client-a subscribers (whose next is still pending).
    expect(service.executions).toEqual(['e2:', 'e2:']);
  });

  it('still masks unexpected errors in a shared result', async () => {
    const service = testService();
    const streams = [await service.subscribe(SEEN, 'client-a'), await service.subscribe(SEEN, 'client-a')];
    const pending = nextOfEach(streams);
    service.emit({ id: 'e1', fail: true });
    for (const result of await pending) {
      expect(result.data).toBeNull();
      expect(result.errors?.map((error) => error.message)).toEqual(['Unexpected error.']);
      expect(JSON.stringify(result)).not.toContain('hunter2');
    }
    expect(service.executions).toEqual(['e1:client-a']);
  });
});
