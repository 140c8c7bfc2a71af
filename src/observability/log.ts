import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';

/** What one HTTP request (or one job run) carries through everything it calls. */
interface LogScope {
  logger: Logger;
  /** Reference ids of the orders the request touched: its summary line names them. */
  refIds: Set<string>;
  /** The GraphQL operation, once known. */
  operation?: string;
}

const scopes = new AsyncLocalStorage<LogScope>();
let root: Logger = pino({ level: 'info', base: { service: 'srs' } });

/** Sets the process's logger: JSON lines on stdout at the given level. */
export function configureLogging(level: string): Logger {
  root = pino({ level, base: { service: 'srs', pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
  return root;
}

/** The logger of the current request or job (with its request id), else the process's. */
export function log(): Logger {
  return scopes.getStore()?.logger ?? root;
}

/** Records that the current request concerns this order, and returns the logger to say so. */
export function logForOrder(refId: string): Logger {
  const scope = scopes.getStore();
  scope?.refIds.add(refId);
  return log().child({ refId });
}

/** Names the GraphQL operation of the current request for its summary line. */
export function noteOperation(operation: string): void {
  const scope = scopes.getStore();
  if (scope) scope.operation = operation;
}

/** An incoming id is kept if it looks like one (a proxy's), otherwise a new one is made. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[\w.:@-]{1,128}$/.test(value) ? value : randomUUID();
}

/** Runs `work` with a logger carrying `fields` (a request id, a job name). */
export function withLogScope<T>(fields: Record<string, unknown>, work: (scope: Readonly<LogScope>) => T): T {
  const scope: LogScope = { logger: root.child(fields), refIds: new Set() };
  return scopes.run(scope, () => work(scope));
}
