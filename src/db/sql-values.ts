// Values crossing plain SQL (DatabaseHandle.query) both drivers read alike. Timestamps travel as
// epoch milliseconds: pg and PGlite parse a `timestamp` column in the process's local time zone,
// while the columns hold UTC.

/** A `timestamp` column as epoch milliseconds (a float8, which both drivers read as a number). */
export const epochMs = (table: string | null, column: string, as = column) => `(extract(epoch FROM ${table ? `${table}.` : ''}"${column}") * 1000)::float8 AS "${as}"`;

/** A row of model T as plain SQL returns it, its `DateKeys` read with epochMs(). */
export type Row<T, DateKeys extends keyof T> = Omit<T, DateKeys> & { [K in DateKeys]: T[K] extends Date ? number : number | null };

export const dateOf = (ms: number | null) => (ms == null ? null : new Date(Math.round(ms)));

/** The model a Row was read as: its `dates` (epoch milliseconds or null) become Dates again. */
export function withDates<T, DateKeys extends keyof T>(row: Row<T, DateKeys>, dates: readonly DateKeys[]): T {
  const model: Record<PropertyKey, unknown> = { ...row };
  for (const key of dates) model[key] = dateOf(row[key] as number | null);
  return model as T;
}

/** A parameter for a `timestamp` column: an ISO string in UTC, whose zone the column ignores. */
export const timestampParam = (date: Date | null | undefined) => (date ? date.toISOString() : null);
