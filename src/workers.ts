import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.js';
import { log } from './observability/log.js';

/**
 * The primary process of `WORKERS` > 1: it serves nothing itself. Node's cluster module hands the
 * connections on the one port to the workers in turn; each worker is a whole service process
 * (API, OAuth2, subscriptions, jobs) on the shared PostgreSQL, exactly as processes behind a load
 * balancer are. A worker that dies is replaced; one that dies before it ever listened means the
 * service cannot start (a bad database, a port in use), so everything stops with exit code 1
 * instead of restarting in a loop. SIGTERM or SIGINT stop every worker in order, then the primary.
 */
export function superviseWorkers(config: Config): void {
  let stopping = false;
  let exitCode = 0;
  const listening = new WeakSet<Worker>();

  const fork = () => {
    const worker = cluster.fork();
    worker.once('listening', () => {
      listening.add(worker);
      log().info({ workerPid: worker.process.pid }, 'worker listening');
    });
  };

  const stop = (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    log().info({ reason }, 'stopping the workers');
    const limitSeconds = config.shutdownGraceSeconds + 25;
    setTimeout(() => {
      log().error(`The workers took longer than ${limitSeconds} s to stop; exiting anyway.`);
      process.exit(1);
    }, limitSeconds * 1000).unref();
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    exitWhenAllGone();
  };

  const exitWhenAllGone = () => {
    if (stopping && Object.keys(cluster.workers ?? {}).length === 0) {
      log().info('stopped');
      process.exit(exitCode);
    }
  };

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return exitWhenAllGone();
    if (!listening.has(worker)) {
      log().error({ workerPid: worker.process.pid, code, signal }, 'A worker exited before it could serve; the service cannot start');
      return stop('a worker could not start', 1);
    }
    log().error({ workerPid: worker.process.pid, code, signal }, 'A worker exited; starting another');
    fork();
  });
  // A terminal's Ctrl-C reaches the workers too; they ignore the second signal.
  process.on('SIGINT', () => stop('SIGINT', 0));
  process.on('SIGTERM', () => stop('SIGTERM', 0));

  log().info({ workers: config.workers, listen: `${config.host}:${config.port}` }, `Starting ${config.workers} workers on ${config.host}:${config.port}`);
  for (let index = 0; index < config.workers; index++) fork();
}
