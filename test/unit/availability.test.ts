import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/db/availability.js';

const withCode = (message: string, code: string, extra: object = {}) => Object.assign(new Error(message), { code, ...extra });

describe('isDatabaseUnavailable', () => {
  it('recognises pg and node socket errors', () => {
    expect(isDatabaseUnavailable(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED', { syscall: 'connect', errno: -111 }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(withCode('terminating connection due to administrator command', '57P01', { severity: 'FATAL' }))).toBe(true);
    expect(isDatabaseUnavailable(withCode('the database system is starting up', '57P03'))).toBe(true);
    expect(isDatabaseUnavailable(withCode('connection failure', '08006'))).toBe(true);
    expect(isDatabaseUnavailable(new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], ''))).toBe(true);
  });

  it('recognises Prisma errors of its driver adapters, however wrapped', () => {
    expect(isDatabaseUnavailable(withCode("Can't reach database server at 127.0.0.1:5432", 'P1001'))).toBe(true);
    expect(isDatabaseUnavailable(withCode('Server has closed the connection.', 'P1017'))).toBe(true);
    const adapterError = { name: 'DriverAdapterError', cause: { kind: 'postgres', originalCode: '57P01', message: 'terminating' } };
    expect(isDatabaseUnavailable(withCode('Raw query failed.', 'P2010', { meta: { driverAdapterError: adapterError } }))).toBe(true);
    expect(isDatabaseUnavailable({ message: 'GraphQL error', originalError: withCode('x', 'ECONNRESET') })).toBe(true);
  });

  it('recognises PGlite closed', () => {
    expect(isDatabaseUnavailable(new Error('PGlite is closed'))).toBe(true);
  });

  it('leaves bugs and bad statements alone', () => {
    expect(isDatabaseUnavailable(new Error('Cannot read properties of undefined'))).toBe(false);
    expect(isDatabaseUnavailable(withCode('duplicate key value violates unique constraint', '23505'))).toBe(false);
    expect(isDatabaseUnavailable(withCode('Unique constraint failed', 'P2002'))).toBe(false);
    expect(isDatabaseUnavailable(withCode('syntax error', '42601'))).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
    const cyclic: { message: string; cause?: unknown } = { message: 'loop' };
    cyclic.cause = cyclic;
    expect(isDatabaseUnavailable(cyclic)).toBe(false);
  });
});
