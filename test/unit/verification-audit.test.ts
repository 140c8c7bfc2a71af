// Group commit of the verification audit: rows of concurrent requests share one INSERT, each
// request is released only once that INSERT has returned, and a failed batch fails its requests.
import { describe, expect, it } from 'vitest';
import type { SqlRunner } from '../../src/db/adapter.js';
import { createAuditBatcher, type VerificationAuditRow } from '../../src/services/verification-audit.js';

/** A database whose statements wait until the test lets them finish (or fail). */
function heldDatabase() {
  const statements: Array<{ sql: string; params: unknown[]; finish(): void; fail(error: Error): void }> = [];
  const database: SqlRunner = {
    query: (sql, params = []) =>
      new Promise((resolve, reject) => statements.push({ sql, params, finish: () => resolve([]), fail: reject })),
  };
  return { database, statements };
}

const row = (index: number): VerificationAuditRow => ({
  id: `id-${index}`,
  clientId: 'client',
  operation: index % 2 ? 'VERIFY' : 'LOOKUP',
  mobileNumberHash: `hash-${index}`,
  reason: 'OK',
  valid: true,
  evidenceId: index % 3 ? null : `evidence-${index}`,
  at: new Date(Date.UTC(2026, 10, 26, 12, 0, index)),
});

const settled = async (promises: Promise<void>[]) => {
  const states = promises.map(() => 'pending');
  promises.forEach((promise, index) => promise.then(() => (states[index] = 'ok'), () => (states[index] = 'failed')));
  await new Promise((resolve) => setImmediate(resolve));
  return states;
};

describe('createAuditBatcher', () => {
  it('writes the rows of concurrent requests in one statement and answers them only after it', async () => {
    const { database, statements } = heldDatabase();
    const batcher = createAuditBatcher(database, { delayMs: 5 });
    const records = Array.from({ length: 10 }, (_, index) => batcher.record(row(index)));
    await expect.poll(() => statements.length).toBe(1);
    const [statement] = statements;
    expect(statement.sql).toMatch(/^INSERT INTO "VerificationAudit"/);
    // One array per column, one element per row, in order.
    expect(statement.params).toHaveLength(8);
    expect(statement.params[0]).toEqual(Array.from({ length: 10 }, (_, index) => `id-${index}`));
    expect(statement.params[2]).toEqual(['LOOKUP', 'VERIFY', 'LOOKUP', 'VERIFY', 'LOOKUP', 'VERIFY', 'LOOKUP', 'VERIFY', 'LOOKUP', 'VERIFY']);
    expect(statement.params[6]).toEqual(['evidence-0', null, null, 'evidence-3', null, null, 'evidence-6', null, null, 'evidence-9']);
    expect((statement.params[7] as string[])[1]).toBe('2026-11-26T12:00:01.000Z');
    expect(await settled(records)).toEqual(Array(10).fill('pending'));
    statement.finish();
    await Promise.all(records);
  });

  it('by default, writes the rows of one event-loop turn together, and those of the next turn while the first batch commits', async () => {
    const { database, statements } = heldDatabase();
    const batcher = createAuditBatcher(database);
    const firstTurn = [batcher.record(row(0)), batcher.record(row(1)), batcher.record(row(2))];
    await expect.poll(() => statements.length).toBe(1);
    expect(statements[0].params[0]).toEqual(['id-0', 'id-1', 'id-2']);
    const nextTurn = [batcher.record(row(3)), batcher.record(row(4))];
    // The second batch does not wait for the first one's commit.
    await expect.poll(() => statements.length).toBe(2);
    expect(statements[1].params[0]).toEqual(['id-3', 'id-4']);
    expect(await settled([...firstTurn, ...nextTurn])).toEqual(Array(5).fill('pending'));
    statements[1].finish();
    await Promise.all(nextTurn);
    expect(await settled(firstTurn)).toEqual(Array(3).fill('pending'));
    statements[0].finish();
    await Promise.all(firstTurn);
  });

  it('writes a batch at once when it is full, and queues later rows for the next batch', async () => {
    const { database, statements } = heldDatabase();
    const batcher = createAuditBatcher(database, { delayMs: 60_000, maxRows: 3 });
    const first = [0, 1, 2].map((index) => batcher.record(row(index)));
    // Full: written without waiting for the (here very long) delay.
    expect(statements).toHaveLength(1);
    const later = [3, 4].map((index) => batcher.record(row(index)));
    expect(statements).toHaveLength(1);
    statements[0].finish();
    await Promise.all(first);
    expect(await settled(later)).toEqual(['pending', 'pending']);
    const flushed = batcher.flush();
    expect(statements).toHaveLength(2);
    expect(statements[1].params[0]).toEqual(['id-3', 'id-4']);
    statements[1].finish();
    await flushed;
    await Promise.all(later);
  });

  it('fails every request of a failed batch, and the next batch is written again', async () => {
    const { database, statements } = heldDatabase();
    const batcher = createAuditBatcher(database, { delayMs: 1 });
    const doomed = [0, 1, 2].map((index) => batcher.record(row(index)));
    await expect.poll(() => statements.length).toBe(1);
    statements[0].fail(new Error('disk full'));
    for (const record of doomed) await expect(record).rejects.toThrow('disk full');
    const next = batcher.record(row(3));
    await expect.poll(() => statements.length).toBe(2);
    statements[1].finish();
    await expect(next).resolves.toBeUndefined();
  });
});
