// The one watcher that ends subscriptions whose token expired, was revoked or whose client was
// disabled: one check per distinct token and interval however many streams share it, and only the
// streams of a token that failed end.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenWatcher } from '../../src/events/token-watcher.js';

const HOUR = 3_600_000;

/** A stream as the watcher sees it, counting how often it was told its token is invalid. */
function stream() {
  const watched = { ended: 0, tokenInvalid: () => void watched.ended++ };
  return watched;
}

describe('TokenWatcher', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-11-23T10:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const viewer = (accessToken: string, validForMs = HOUR) => ({ accessToken, tokenExpiresAt: new Date(Date.now() + validForMs) });

  it('checks each distinct token once per interval, however many streams share it', async () => {
    const checked: string[] = [];
    const watcher = new TokenWatcher(async (token) => (checked.push(token), true), 10_000);
    const streams = Array.from({ length: 1000 }, stream);
    for (const [index, each] of streams.entries()) watcher.watch(viewer(index % 2 ? 'token-a' : 'token-b'), each);
    expect(watcher.size).toBe(2);

    await vi.advanceTimersByTimeAsync(10_000);
    expect(checked.sort()).toEqual(['token-a', 'token-b']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(checked).toHaveLength(4);
    expect(streams.every((each) => each.ended === 0)).toBe(true);
  });

  it('ends every stream of a token that is no longer valid, and no other', async () => {
    const revoked = new Set<string>();
    const watcher = new TokenWatcher(async (token) => !revoked.has(token), 10_000);
    const ofA = [stream(), stream(), stream()];
    const ofB = [stream()];
    for (const each of ofA) watcher.watch(viewer('token-a'), each);
    for (const each of ofB) watcher.watch(viewer('token-b'), each);

    revoked.add('token-a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ofA.map((each) => each.ended)).toEqual([1, 1, 1]);
    expect(ofB[0].ended).toBe(0);
    expect(watcher.size).toBe(1);
    // Ended streams are not told again.
    await vi.advanceTimersByTimeAsync(30_000);
    expect(ofA.map((each) => each.ended)).toEqual([1, 1, 1]);
  });

  it('ends the streams of a token when it expires, without waiting for the next check', async () => {
    const stillValid = vi.fn(async () => true);
    const watcher = new TokenWatcher(stillValid, 60_000);
    const short = stream();
    const long = stream();
    watcher.watch(viewer('short', 2_000), short);
    watcher.watch(viewer('long'), long);

    await vi.advanceTimersByTimeAsync(1_900);
    expect(short.ended).toBe(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(short.ended).toBe(1);
    expect(long.ended).toBe(0);
    expect(stillValid).not.toHaveBeenCalled();
  });

  it('treats a failed check as an invalid token', async () => {
    const watcher = new TokenWatcher(async () => Promise.reject(new Error('database down')), 10_000);
    const watched = stream();
    watcher.watch(viewer('token'), watched);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(watched.ended).toBe(1);
  });

  it('forgets a token once its last stream stops, and keeps no timer running', async () => {
    const stillValid = vi.fn(async () => true);
    const watcher = new TokenWatcher(stillValid, 10_000);
    const stops = [watcher.watch(viewer('token'), stream()), watcher.watch(viewer('token'), stream())];
    stops[0]();
    expect(watcher.size).toBe(1);
    stops[1]();
    expect(watcher.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(stillValid).not.toHaveBeenCalled();
  });
});
