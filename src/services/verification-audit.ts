// The audit record of every lookup and verify, written by group commit: the rows of concurrent
// requests are queued and written together, one INSERT (one commit, one WAL flush) per batch,
// instead of one synchronous commit per request. A request is answered only once its batch has
// committed, so every answered lookup has its record on disk and a crash loses none of them;
// a failed batch fails each of its requests. Every process batches its own rows: nothing is
// shared between processes, so any number of them may write to one database.
import type { SqlRunner } from '../db/adapter.js';

export interface VerificationAuditRow {
  id: string;
  clientId: string;
  operation: 'LOOKUP' | 'VERIFY';
  mobileNumberHash: string;
  reason: string;
  valid: boolean;
  evidenceId: string | null;
  at: Date;
}

export interface AuditBatcher {
  /** Resolves once the row is committed (with the rows queued beside it); rejects if its batch failed. */
  record(row: VerificationAuditRow): Promise<void>;
  /** Writes what is queued now and waits for every batch under way. */
  flush(): Promise<void>;
}

/**
 * How long the first row of a batch waits for others; 0: until the end of the event-loop turn.
 * Waiting was measured to cost more than it saves: with 2 ms, 25 connections of lookups over
 * REST reached 4,900/s at 18 rows per commit; batching each turn's rows reached 10,300/s at 9
 * (BENCHMARKS.md). The batches of successive turns commit concurrently, and PostgreSQL joins
 * their WAL flushes.
 */
export const AUDIT_BATCH_DELAY_MS = 0;
/** A batch is written at once when this many rows are queued. */
export const AUDIT_BATCH_MAX_ROWS = 500;

// One statement text whatever the batch size (one prepared statement on PostgreSQL): the
// columns come as arrays, which unnest turns into the rows. Enum and timestamp travel as text
// because PGlite serialises arrays of built-in types only.
const INSERT_BATCH = `INSERT INTO "VerificationAudit" (id, "clientId", operation, "mobileNumberHash", reason, valid, "evidenceId", at)
  SELECT id, "clientId", operation::"VerificationOperation", "mobileNumberHash", reason, valid, "evidenceId", at::timestamp
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::text[], $8::text[])
    AS batch(id, "clientId", operation, "mobileNumberHash", reason, valid, "evidenceId", at)`;

interface Queued {
  row: VerificationAuditRow;
  resolve(): void;
  reject(error: unknown): void;
}

export function createAuditBatcher(database: SqlRunner, options: { delayMs?: number; maxRows?: number } = {}): AuditBatcher {
  const delayMs = options.delayMs ?? AUDIT_BATCH_DELAY_MS;
  const maxRows = options.maxRows ?? AUDIT_BATCH_MAX_ROWS;
  let queue: Queued[] = [];
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  const schedule = (flush: () => void) => (delayMs === 0 ? setImmediate(flush) : setTimeout(flush, delayMs));
  const cancel = (scheduled: NodeJS.Timeout | NodeJS.Immediate | undefined) =>
    delayMs === 0 ? clearImmediate(scheduled as NodeJS.Immediate | undefined) : clearTimeout(scheduled as NodeJS.Timeout | undefined);
  const underWay = new Set<Promise<void>>();

  const write = async (batch: Queued[]) => {
    const rows = batch.map((entry) => entry.row);
    try {
      await database.query(INSERT_BATCH, [
        rows.map((row) => row.id),
        rows.map((row) => row.clientId),
        rows.map((row) => row.operation),
        rows.map((row) => row.mobileNumberHash),
        rows.map((row) => row.reason),
        rows.map((row) => row.valid),
        rows.map((row) => row.evidenceId),
        rows.map((row) => row.at.toISOString()),
      ]);
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      return;
    }
    for (const entry of batch) entry.resolve();
  };

  const flushQueued = () => {
    cancel(timer);
    timer = undefined;
    while (queue.length) {
      const batch = queue.slice(0, maxRows);
      queue = queue.slice(maxRows);
      const writing = write(batch);
      underWay.add(writing);
      void writing.finally(() => underWay.delete(writing));
    }
  };

  return {
    record(row) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ row, resolve, reject });
        if (queue.length >= maxRows) flushQueued();
        else timer ??= schedule(flushQueued);
      });
    },
    async flush() {
      flushQueued();
      await Promise.all(underWay);
    },
  };
}

// One batcher per database handle: the handle is what one process shares between its requests.
const batchers = new WeakMap<SqlRunner, AuditBatcher>();

/** The process's audit batcher for this database. */
export function auditBatcherFor(database: SqlRunner): AuditBatcher {
  let batcher = batchers.get(database);
  if (!batcher) batchers.set(database, (batcher = createAuditBatcher(database)));
  return batcher;
}
