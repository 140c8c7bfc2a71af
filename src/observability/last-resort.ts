// The last line of defence: what escaped every handler is logged (JSON, like every log line).
import { log } from './log.js';

/**
 * A promise rejected with nobody listening is logged and the process keeps serving: the request
 * it belonged to has already been answered or timed out. An uncaught exception may have left
 * the process in an unknown state: it is logged and `onFatal` runs (an orderly exit, after
 * which the supervisor or process manager starts a fresh process).
 */
export function installLastResortHandlers(onFatal: (error: unknown) => void): void {
  process.on('unhandledRejection', (reason) => {
    log().error({ err: reason }, 'A promise was rejected and nothing handled it; the process keeps serving');
  });
  process.on('uncaughtException', (error) => {
    log().fatal({ err: error }, 'An uncaught exception; the process stops');
    onFatal(error);
  });
}
