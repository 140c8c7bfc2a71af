import { describe, expect, it } from 'vitest';
import { rate, resolvePeriod } from '../../src/domain/statistics-period.js';

const now = new Date('2026-11-26T15:30:00.000Z');

describe('resolvePeriod', () => {
  it('counts TODAY from midnight UTC, and uses it when nothing is asked', () => {
    expect(resolvePeriod({ period: 'TODAY' }, now)).toEqual({ from: new Date('2026-11-26T00:00:00.000Z'), to: now });
    expect(resolvePeriod({}, now)).toEqual({ from: new Date('2026-11-26T00:00:00.000Z'), to: now });
  });

  it('counts 7 and 30 days back from now', () => {
    expect(resolvePeriod({ period: 'LAST_7_DAYS' }, now)).toEqual({ from: new Date('2026-11-19T15:30:00.000Z'), to: now });
    expect(resolvePeriod({ period: 'LAST_30_DAYS' }, now)).toEqual({ from: new Date('2026-10-27T15:30:00.000Z'), to: now });
  });

  it('takes an explicit range as given', () => {
    const from = new Date('2026-01-01T00:00:00Z');
    const to = new Date('2026-02-01T00:00:00Z');
    expect(resolvePeriod({ from, to }, now)).toEqual({ from, to });
  });

  it('names the field of every bad range', () => {
    const day = new Date('2026-01-01T00:00:00Z');
    expect(resolvePeriod({ period: 'TODAY', from: day, to: now }, now)).toMatchObject({ field: 'period' });
    expect(resolvePeriod({ to: now }, now)).toMatchObject({ field: 'from' });
    expect(resolvePeriod({ from: day }, now)).toMatchObject({ field: 'to' });
    expect(resolvePeriod({ from: now, to: day }, now)).toMatchObject({ field: 'from' });
    expect(resolvePeriod({ from: new Date('2020-01-01T00:00:00Z'), to: now }, now)).toMatchObject({ field: 'to', problem: expect.stringContaining('400 days') });
  });
});

describe('rate', () => {
  it('is 0 of nothing and a share otherwise', () => {
    expect(rate(0, 0)).toBe(0);
    expect(rate(1, 4)).toBe(0.25);
  });
});
