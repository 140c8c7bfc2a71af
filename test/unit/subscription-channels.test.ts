// A channel of identical live subscriptions: each member gets the results of the events after
// the point its own stream would have started from, errors and completion reach every member
// under its own id, and the stream ends once the last member leaves.
import { setTimeout as sleep } from 'node:timers/promises';
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { SubscriptionChannel, type Member } from '../../src/graphql/subscription-channels.js';
import type { MergeableStream } from '../../src/events/event-stream.js';

interface Event {
  sequence: bigint;
}

/** Results handed out one by one by the test, with the event each one is of. */
function results() {
  const waiting: Array<(step: IteratorResult<ExecutionResult>) => void> = [];
  const failing: Array<(error: unknown) => void> = [];
  const subscription = { key: 'k', source: {} as AsyncIterator<unknown>, lastEvent: undefined as Event | undefined };
  let returned = false;
  const iterator: AsyncIterator<ExecutionResult> = {
    next: () =>
      new Promise((resolve, reject) => {
        waiting.push(resolve);
        failing.push(reject);
      }),
    return: async () => {
      returned = true;
      waiting.shift()?.({ done: true, value: undefined });
      return { done: true, value: undefined };
    },
  };
  return {
    iterator,
    subscription,
    returned: () => returned,
    async push(sequence: bigint) {
      while (!waiting.length) await sleep(1);
      subscription.lastEvent = { sequence };
      failing.shift();
      waiting.shift()!({ done: false, value: { data: { orderEvents: { sequence: String(sequence) } } } });
      await sleep(5);
    },
    async fail(error: Error) {
      while (!failing.length) await sleep(1);
      waiting.shift();
      failing.shift()!(error);
      await sleep(5);
    },
  };
}

function stream(): MergeableStream & { served: number } {
  return {
    liveAfter: 0n,
    accessToken: 't',
    served: 0,
    sequenceOf: (event) => (event as Event).sequence,
    countServed(subscriptions) {
      this.served += subscriptions;
    },
  };
}

function member(id: string, after?: bigint) {
  const sent: unknown[] = [];
  const socket = { OPEN: 1, readyState: 1, send: (message: string) => sent.push(JSON.parse(message)) } as unknown as WebSocket;
  const ended: string[] = [];
  const value: Member = { socket, id, after, onEnd: (m) => ended.push(m.id) };
  return { value, sent, ended };
}

describe('a subscription channel', () => {
  it('sends each member the results of the events after its start, under its own id, serialised as graphql-ws does', async () => {
    const source = results();
    const counted = stream();
    const channel = new SubscriptionChannel(source.iterator, source.subscription, counted, () => {});
    const [first, later] = [member('a'), member('b', 5n)];
    channel.add(first.value);
    channel.add(later.value);
    expect(counted.served).toBe(1);
    void channel.pump();
    for (const sequence of [4n, 5n, 6n]) await source.push(sequence);
    const next = (id: string, sequence: bigint) => ({ id, type: 'next', payload: { data: { orderEvents: { sequence: String(sequence) } } } });
    expect(first.sent).toEqual([next('a', 4n), next('a', 5n), next('a', 6n)]);
    expect(later.sent).toEqual([next('b', 6n)]);
  });

  it('ends every member with the stream’s error, its extensions kept', async () => {
    const source = results();
    const counted = stream();
    let emptied = 0;
    const channel = new SubscriptionChannel(source.iterator, source.subscription, counted, () => emptied++);
    const members = [member('a'), member('b')];
    for (const one of members) channel.add(one.value);
    void channel.pump();
    await source.fail(new GraphQLError('The access token expired', { extensions: { code: 'UNAUTHENTICATED' } }));
    for (const one of members) {
      expect(one.sent).toEqual([{ id: one.value.id, type: 'error', payload: [{ message: 'The access token expired', extensions: { code: 'UNAUTHENTICATED' } }] }]);
      expect(one.ended).toEqual([one.value.id]);
    }
    expect(counted.served).toBe(0);
    expect(emptied).toBe(1);
  });

  it('stops the stream once its last member leaves, not before', async () => {
    const source = results();
    const counted = stream();
    const channel = new SubscriptionChannel(source.iterator, source.subscription, counted, () => {});
    const [first, second] = [member('a'), member('b')];
    channel.add(first.value);
    channel.add(second.value);
    void channel.pump();
    channel.remove(first.value);
    await source.push(1n);
    expect(source.returned()).toBe(false);
    expect(second.sent).toHaveLength(1);
    expect(first.sent).toEqual([]);
    channel.remove(second.value);
    expect(source.returned()).toBe(true);
    expect(counted.served).toBe(0);
    // Nobody is told anything: they left.
    await sleep(5);
    expect([...first.sent, ...second.sent]).toHaveLength(1);
  });
});
