// The last line of defence: what escaped every handler is logged (JSON, like every log line).
import { log } from './log.js';

/**
 * A promise rejected with nobody listening is logged and the process keeps serving: the request
 * it belonged to has already been answered or timed out. An uncaught exception may have left
 * the process in an unknown state: `onUncaughtException` decides (see main.ts) whether the
 * process stops in order, so that a supervisor starts a fresh one, or keeps serving because
 * nobody would start another; it returns whether the process stops.
 */
export function installLastResortHandlers(onUncaughtException: (error: unknown) => boolean): void {
  process.on('unhandledRejection', (reason) => {
    log().error({ err: reason }, 'A promise was rejected and nothing handled it; the process keeps serving');
  });
  process.on('uncaughtException', (error) => {
    const stops = onUncaughtException(error);
    log().fatal({ err: error }, stops ? 'An uncaught exception; the process stops (its supervisor starts another)' : 'An uncaught exception; the process keeps serving (nothing would restart it)');
  });
}
