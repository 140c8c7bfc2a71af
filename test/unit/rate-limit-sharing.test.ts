// The per-client rate limit counted in each process's memory and shared through a store every
// SHARE_INTERVAL_MS: exact within one process, and across processes off by no more than what the
// others admitted since their last exchange.
import { describe, expect, it } from 'vitest';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { SharedWindowCounter } from '../../src/graphql/client-rate-limit.js';

const admittedOf = (counter: SharedWindowCounter, requests: number, now = Date.now()) =>
  Array.from({ length: requests }, () => counter.spend('client', now)).filter((answer) => answer.refusedForMs === undefined).length;

describe('SharedWindowCounter', () => {
  it('admits exactly its points per window in one process, and says when the window ends', () => {
    const counter = new SharedWindowCounter(10, 1000, undefined);
    const now = Date.now();
    expect(admittedOf(counter, 25, now)).toBe(10);
    expect(counter.spend('client', now + 400).refusedForMs).toBe(600);
    expect(counter.spend('other', now).refusedForMs).toBeUndefined();
    expect(admittedOf(counter, 25, now + 1000)).toBe(10);
  });

  it('shares the counts of two processes through the store: after an exchange each sees the other', async () => {
    const store = new RateLimiterMemory({ points: 10, duration: 1 });
    const first = new SharedWindowCounter(10, 1000, store);
    const second = new SharedWindowCounter(10, 1000, store);
    expect(admittedOf(first, 6)).toBe(6);
    await first.share();
    await second.share();
    // The second process learns of the first's six at its next exchange (it spent nothing yet).
    expect(admittedOf(second, 1)).toBe(1);
    await second.share();
    expect(admittedOf(second, 10)).toBe(3);
    await second.share();
    // The first, with nothing new of its own, still reads the total at its next exchange.
    await first.share();
    expect(admittedOf(first, 10)).toBe(0);
  });

  it('lets through, between two exchanges, at most what the other process admitted since its last one', async () => {
    const store = new RateLimiterMemory({ points: 10, duration: 1 });
    const first = new SharedWindowCounter(10, 1000, store);
    const second = new SharedWindowCounter(10, 1000, store);
    // Both busy within one interval: each admits its whole budget (the stated tolerance)…
    const admitted = admittedOf(first, 10) + admittedOf(second, 10);
    expect(admitted).toBe(20);
    await Promise.all([first.share(), second.share()]);
    // …and nothing more in this window once they have exchanged.
    expect(admittedOf(first, 5) + admittedOf(second, 5)).toBe(0);
  });

  it('counts what is on its way to the store until the store has answered', async () => {
    const store = new RateLimiterMemory({ points: 10, duration: 1 });
    let answer = () => {};
    const slow = { penalty: (key: string, points: number) => new Promise<void>((resolve) => (answer = resolve)).then(() => store.penalty(key, points)), get: store.get.bind(store) };
    const counter = new SharedWindowCounter(10, 1000, slow as unknown as RateLimiterMemory);
    expect(admittedOf(counter, 6)).toBe(6);
    const exchange = counter.share();
    expect(admittedOf(counter, 10)).toBe(4);
    answer();
    await exchange;
    expect(admittedOf(counter, 10)).toBe(0);
  });

  it('goes on counting alone when the store fails', async () => {
    const failing = { penalty: () => Promise.reject(new Error('store down')) };
    const counter = new SharedWindowCounter(5, 1000, failing as unknown as RateLimiterMemory);
    expect(admittedOf(counter, 3)).toBe(3);
    await counter.share();
    expect(admittedOf(counter, 5)).toBe(2);
  });
});
