import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder.js';

builder.scalarType('DateTime', {
  description: 'An instant, as an ISO 8601 string with time zone, e.g. 2026-11-23T15:04:05.000Z.',
  serialize: (value) => (value as Date).toISOString(),
  parseValue: (value) => parseDateTime(value),
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});

// Only the shape is checked here; whether the day exists is a domain rule answered as a
// userError with the field's path (INVALID_INPUT).
builder.scalarType('Date', {
  description: 'A calendar date, YYYY-MM-DD.',
  serialize: (value) => value as string,
  parseValue: (value) => parseDate(value),
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

// Year 0000 exists for JavaScript's Date but not for PostgreSQL (there is no year 0): such an
// instant would fail in the database. Years are therefore 0001 to 9999.
const YEAR_IN_RANGE = /^(?!0000)\d{4}-/;

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

function parseDateTime(value: unknown): Date {
  const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw badInput('DateTime must be an ISO 8601 string such as 2026-11-23T15:04:05Z.');
  // A time zone offset can move an instant of year 0001 into year 0000.
  if (!YEAR_IN_RANGE.test(value as string) || !YEAR_IN_RANGE.test(date.toISOString())) throw badInput('DateTime must be in the years 0001 to 9999.');
  return date;
}

function parseDate(value: unknown): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw badInput('Date must be a string YYYY-MM-DD.');
  if (!YEAR_IN_RANGE.test(value)) throw badInput('Date must be in the years 0001 to 9999.');
  return value;
}
