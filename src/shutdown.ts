// An orderly shutdown: stop taking work, let what is in flight finish, then release everything.
import type http from 'node:http';

/** How long a shutting-down process keeps answering after the last request started (see drain). */
export const SHUTDOWN_QUIET_MS = 300;

/** The requests in flight, which a shutdown waits for. */
export type RequestTracker = ReturnType<typeof createRequestTracker>;

export function createRequestTracker() {
  let shuttingDown = false;
  let inFlight = 0;
  let lastRequestStartedAt = 0;
  let drained = () => {};
  return {
    get shuttingDown() {
      return shuttingDown;
    },
    requestStarted() {
      lastRequestStartedAt = performance.now();
      inFlight++;
    },
    requestFinished() {
      if (--inFlight === 0) drained();
    },
    /** From now on every answer says `Connection: close`, and most routes answer 503. */
    beginShutdown() {
      shuttingDown = true;
    },
    /**
     * Requests in flight may finish, within the grace period. Closing the connections then would
     * reset a request already on its way (sent, not yet read): late ones are still answered (503)
     * until no request has started for a quiet moment.
     */
    async drain(graceSeconds: number) {
      const deadline = performance.now() + graceSeconds * 1000;
      while ((inFlight > 0 || performance.now() - lastRequestStartedAt < SHUTDOWN_QUIET_MS) && performance.now() < deadline) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, inFlight > 0 ? deadline - performance.now() : SHUTDOWN_QUIET_MS).unref();
        });
      }
    },
  };
}

/** The shutdown of one process, run once however often it is asked for. */
export function orderlyShutdown(parts: {
  requests: RequestTracker;
  server: http.Server;
  graceSeconds: number;
  /** Jobs and workers finish the transaction they are in. */
  stopWork(): Promise<void>;
  /** Subscriptions end: streams complete, WebSockets are closed with a reason. */
  endSubscriptions(): Promise<void>;
  /** The connections to the database and the broker, once nothing uses them. */
  release(): Promise<void>;
}): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () =>
    (closing ??= (async () => {
      // Stop taking work: new requests and /health answer 503 so a load balancer moves on (the
      // listener stays open for the partner calls of requests in flight), and the jobs finish
      // the transaction they are in.
      // Idle keep-alive connections are not cut here: a request racing onto one would be reset.
      // Every answer from now on says `Connection: close` instead.
      parts.requests.beginShutdown();
      await parts.stopWork();
      await parts.endSubscriptions();
      await parts.requests.drain(parts.graceSeconds);
      await new Promise<void>((resolve) => {
        parts.server.close(() => resolve());
        parts.server.closeAllConnections();
      });
      await parts.release();
    })());
}
