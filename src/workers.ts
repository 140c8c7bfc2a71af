import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from './config.js';
import { log } from './observability/log.js';

/** Set in the environment of the workers this module starts (not of another cluster manager's). */
const WORKER_MARK = 'SRS_WORKER';
const METRICS_QUESTION = 'srs:metrics?';
const METRICS_ANSWER = 'srs:metrics';
const METRICS_TIMEOUT_MS = 10_000;

interface MetricsAnswer {
  type: typeof METRICS_ANSWER;
  id: number;
  text?: string;
  error?: string;
}

/** True in a worker of `WORKERS` > 1. */
export function isWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_MARK] === '1';
}

let nextQuestion = 0;
/**
 * The Prometheus exposition of every worker together: a scrape on the shared port reaches one
 * worker, which asks the primary, which gathers all workers' registries (prom-client's
 * AggregatorRegistry) and answers.
 */
export function metricsOfAllWorkers(): Promise<string> {
  const id = nextQuestion++;
  return new Promise((resolve, reject) => {
    const finish = () => {
      clearTimeout(timer);
      process.off('message', onMessage);
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`The primary process did not answer with the workers' metrics within ${METRICS_TIMEOUT_MS / 1000} s.`));
    }, METRICS_TIMEOUT_MS);
    const onMessage = (message: Partial<MetricsAnswer>) => {
      if (message?.type !== METRICS_ANSWER || message.id !== id) return;
      finish();
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve(message.text ?? '');
    };
    process.on('message', onMessage);
    process.send!({ type: METRICS_QUESTION, id });
  });
}

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
    const worker = cluster.fork({ [WORKER_MARK]: '1' });
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
  const metrics = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: string; id?: number }) => {
    if (message?.type !== METRICS_QUESTION) return;
    const answer = (fields: Pick<MetricsAnswer, 'text' | 'error'>) => {
      if (worker.isConnected()) worker.send({ type: METRICS_ANSWER, id: message.id, ...fields } satisfies Partial<MetricsAnswer>);
    };
    metrics.clusterMetrics().then(
      (text) => answer({ text }),
      (error: unknown) => answer({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
  // A terminal's Ctrl-C reaches the workers too; they ignore the second signal.
  process.on('SIGINT', () => stop('SIGINT', 0));
  process.on('SIGTERM', () => stop('SIGTERM', 0));

  log().info({ workers: config.workers, listen: `${config.host}:${config.port}` }, `Starting ${config.workers} workers on ${config.host}:${config.port}`);
  for (let index = 0; index < config.workers; index++) fork();
}
