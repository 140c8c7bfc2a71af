import { GraphQLError } from 'graphql';

/** Seconds a client is asked to wait before retrying while the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

// Node's socket errors: the server is down, restarting, or the network between is.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);
// PostgreSQL's SQLSTATEs for a server going away or not taking connections yet:
// class 08 (connection exception), admin/crash shutdown, starting up, too many connections.
const POSTGRES_CODES = new Set(['57P01', '57P02', '57P03', '53300']);
// Prisma's codes for the same, as its driver adapters report them.
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
// What pg, Prisma and PGlite say when there is no connection (some of their errors carry no code).
const MESSAGES =
  /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect|Can't reach database server|Server has closed the connection|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command|PGlite is closed/i;

/**
 * Whether an error means the database cannot be reached right now (stopped, restarting, out of
 * connections, network gone), as opposed to a bug or a bad statement: the request may succeed if
 * repeated shortly, so it is answered 503 with Retry-After, and jobs and streams retry instead of
 * giving up. Looks through the wrappers pg, Prisma and PGlite put around the cause.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return unavailable(error, 0);
}

function unavailable(error: unknown, depth: number): boolean {
  if (depth > 6 || error === null || typeof error !== 'object') return false;
  const candidate = error as { code?: unknown; kind?: unknown; message?: unknown; cause?: unknown; errors?: unknown; meta?: unknown; originalCode?: unknown; originalError?: unknown };
  const code = typeof candidate.code === 'string' ? candidate.code : undefined;
  if (code && (SOCKET_CODES.has(code) || POSTGRES_CODES.has(code) || PRISMA_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  if (typeof candidate.originalCode === 'string' && (POSTGRES_CODES.has(candidate.originalCode) || /^08[0-9A-Z]{3}$/.test(candidate.originalCode))) return true;
  if (typeof candidate.kind === 'string' && ADAPTER_KINDS.has(candidate.kind)) return true;
  if (typeof candidate.message === 'string' && MESSAGES.test(candidate.message)) return true;
  const meta = candidate.meta as { driverAdapterError?: unknown } | undefined;
  const nested = [candidate.cause, candidate.originalError, meta?.driverAdapterError, ...(Array.isArray(candidate.errors) ? candidate.errors : [])];
  return nested.some((inner) => inner !== error && unavailable(inner, depth + 1));
}

/** The error a client gets instead: 503, SERVICE_UNAVAILABLE, and when to try again. */
export function serviceUnavailableError(): GraphQLError {
  return new GraphQLError('The service cannot reach its database right now; retry shortly.', {
    extensions: {
      code: 'SERVICE_UNAVAILABLE',
      http: { status: 503, headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) } },
    },
  });
}
