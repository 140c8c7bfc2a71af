// What an error that escaped a route means for the client: its HTTP status and the body it gets.
// Every route's promise ends here (src/http/request-handler.ts), so no request can crash the process.
import type http from 'node:http';
import { log } from '../observability/log.js';

/** An error that is the client's fault: answered with its status and message as they are. */
export class ClientRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The body of a request is larger than the route accepts. */
export function requestTooLarge(limitBytes: number): ClientRequestError {
  return new ClientRequestError(413, 'request_too_large', `The request body is larger than ${limitBytes} bytes.`);
}

/** The body of a request ended before it was complete (the client went away, or lied about its length). */
export function requestIncomplete(): ClientRequestError {
  return new ClientRequestError(400, 'request_incomplete', 'The request body was cut off.');
}

/**
 * No address of this service has a NUL character (%00) in it: such a request is refused at the
 * door, before any route could hand the character to the database.
 */
export function refuseImpossibleUrl(url: string): void {
  if (/%00|\u0000/.test(url)) throw new ClientRequestError(400, 'bad_request', 'The address must not contain a NUL character (%00).');
}

/**
 * Whether an error says a dependency (the database, Redis) is unavailable for now, so that the
 * client should retry. The classification belongs to the module that knows those dependencies;
 * it plugs in here once (`classifyUnavailable`), and every route answers 503 with Retry-After.
 */
let isUnavailable: (error: unknown) => boolean = (error) => Boolean((error as { unavailable?: unknown } | null)?.unavailable);

/** Installs the test for "a dependency is unavailable" (see isUnavailable). */
export function classifyUnavailable(test: (error: unknown) => boolean): void {
  isUnavailable = test;
}

/** Seconds a client should wait before retrying after a 503. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** The HTTP status an error that escaped a route stands for: 4xx, 503, or 500. */
export function httpStatusOf(error: unknown): number {
  if (error instanceof ClientRequestError) return error.status;
  if (isUnavailable(error)) return 503;
  // Node's own errors for a request that went wrong on the client's side.
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ABORT_ERR') return 400;
  return 500;
}

/**
 * Answers a request whose route threw: the client's fault as such, an unavailable dependency as
 * 503 with Retry-After, anything else as a masked 500 (the cause goes to the log, with the
 * request id the log scope carries, never to the client).
 */
export function answerRouteError(response: http.ServerResponse, error: unknown): void {
  const status = httpStatusOf(error);
  if (status === 500) log().error({ err: error }, 'A request failed');
  else if (status === 503) log().warn({ err: error }, 'A request failed: a dependency is unavailable');
  else log().info({ status, reason: (error as Error)?.message }, 'A request was refused');
  if (response.headersSent) {
    // Part of an answer is out: the only honest thing left is to cut it off.
    response.destroy();
    return;
  }
  const body =
    error instanceof ClientRequestError
      ? { error: error.code, message: error.message }
      : status === 503
        ? { error: 'unavailable', message: 'A service this request needs is unavailable; retry in a moment.' }
        : status === 400
          ? { error: 'bad_request', message: 'The request could not be read.' }
          : { error: 'internal_error', message: 'Unexpected error.' };
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
  if (status === 503) headers['retry-after'] = String(UNAVAILABLE_RETRY_AFTER_SECONDS);
  // A body the client is still sending is not read: the connection cannot be reused.
  if (!response.req?.complete) headers.connection = 'close';
  try {
    response.writeHead(status, headers);
    response.end(JSON.stringify(body));
  } catch (writeError) {
    log().debug({ err: writeError }, 'The error answer could not be written');
    response.destroy();
  }
}
