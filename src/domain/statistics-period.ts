// Which orders the statistics count: those placed in a period. Plain rules, no GraphQL or Prisma.

export const STATISTICS_PERIODS = ['TODAY', 'LAST_7_DAYS', 'LAST_30_DAYS'] as const;
export type StatisticsPeriod = (typeof STATISTICS_PERIODS)[number];

/** The longest explicit range: a year and a bit, so one request cannot scan the whole history. */
export const MAX_RANGE_DAYS = 400;
const DAY_MS = 24 * 60 * 60 * 1000;

export type ResolvedPeriod = { from: Date; to: Date } | { problem: string; field: string };

/**
 * A named period (TODAY counts from midnight UTC) or an explicit [from, to) range; neither means
 * TODAY. `to` may lie in the future (a range of whole days), `from` must come before it.
 */
export function resolvePeriod(input: { period?: StatisticsPeriod | null; from?: Date | null; to?: Date | null }, now: Date): ResolvedPeriod {
  const explicit = input.from != null || input.to != null;
  if (explicit && input.period != null) return { problem: 'Give either period or from and to, not both.', field: 'period' };
  if (explicit) {
    if (input.from == null) return { problem: 'from is missing: an explicit range needs from and to.', field: 'from' };
    if (input.to == null) return { problem: 'to is missing: an explicit range needs from and to.', field: 'to' };
    if (input.from.getTime() >= input.to.getTime()) return { problem: 'from must be before to.', field: 'from' };
    if (input.to.getTime() - input.from.getTime() > MAX_RANGE_DAYS * DAY_MS) return { problem: `A range may span at most ${MAX_RANGE_DAYS} days.`, field: 'to' };
    return { from: input.from, to: input.to };
  }
  switch (input.period ?? 'TODAY') {
    case 'TODAY':
      return { from: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())), to: now };
    case 'LAST_7_DAYS':
      return { from: new Date(now.getTime() - 7 * DAY_MS), to: now };
    case 'LAST_30_DAYS':
      return { from: new Date(now.getTime() - 30 * DAY_MS), to: now };
  }
}

/** A share as a number from 0 to 1; 0 when there is nothing to share. */
export function rate(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}
