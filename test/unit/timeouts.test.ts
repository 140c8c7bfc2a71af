// When an open order runs out of time, and when it will: the two must always agree.
import { describe, expect, it } from 'vitest';
import { timeoutDueAt, timeoutReason, type TimedOrder } from '../../src/domain/timeouts.js';

const T0 = new Date('2026-11-23T10:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const order = (fields: Partial<TimedOrder>): TimedOrder => ({
  status: 'INITIALIZED',
  issuer: 'TEST',
  targetUrlExpiresAt: null,
  startedAt: null,
  lastActivityAt: null,
  ...fields,
});

describe('timeoutDueAt', () => {
  it('is the target URL expiry while the user has not finished', () => {
    expect(timeoutDueAt(order({ targetUrlExpiresAt: at(30) }))).toEqual(at(30));
    expect(timeoutDueAt(order({ status: 'DATA_READY', targetUrlExpiresAt: at(30) }))).toBeNull();
  });

  it('takes the earliest of the URL expiry and a partner session limit (KLARNA: 60 minutes after the start)', () => {
    expect(timeoutDueAt(order({ issuer: 'KLARNA', targetUrlExpiresAt: at(90), startedAt: at(0) }))).toEqual(at(60));
    expect(timeoutDueAt(order({ issuer: 'KLARNA', targetUrlExpiresAt: at(45), startedAt: at(0) }))).toEqual(at(45));
  });

  it('counts NECT inactivity from the last activity', () => {
    expect(timeoutDueAt(order({ issuer: 'NECT', status: 'IDENTIFICATION_DONE', startedAt: at(0), lastActivityAt: at(20) }))).toEqual(at(80));
  });

  it('is null for ended orders and for orders nothing limits', () => {
    expect(timeoutDueAt(order({ status: 'TIMEOUT', targetUrlExpiresAt: at(1) }))).toBeNull();
    expect(timeoutDueAt(order({}))).toBeNull();
  });

  it('agrees with timeoutReason: a reason exactly from the due moment on', () => {
    const cases = [
      order({ targetUrlExpiresAt: at(30) }),
      order({ issuer: 'KLARNA', targetUrlExpiresAt: at(90), startedAt: at(0) }),
      order({ issuer: 'NECT', status: 'IDENTIFICATION_DONE', startedAt: at(0), lastActivityAt: at(20) }),
      order({ issuer: 'NECT', status: 'ABORTED', targetUrlExpiresAt: at(50), startedAt: at(0) }),
    ];
    for (const timed of cases) {
      const due = timeoutDueAt(timed)!;
      expect(timeoutReason(timed, new Date(due.getTime() - 1))).toBeNull();
      expect(timeoutReason(timed, due)).not.toBeNull();
    }
  });
});
