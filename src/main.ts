// First: libraries' plain-text warnings at import become JSON log lines.
import './observability/console-to-log.js';
import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './config.js';
import { DataFolderInUseError } from './db/adapter.js';
import { startService } from './server.js';
import { configureLogging, log } from './observability/log.js';
import { isWorker, superviseWorkers } from './workers.js';
import { installLastResortHandlers } from './observability/last-resort.js';
import { ensurePortFree } from './startup/port-probe.js';
import { nextStep } from './startup/first-start.js';

// Set once serving: how an uncaught exception closes the service in order (exit code 1).
let stopAfterFatalError: (() => void) | undefined;
installLastResortHandlers(() => {
  // Alone and serving (the default start), nobody would start another process: it keeps serving,
  // the error logged. A worker stops in order and its supervisor starts a fresh one (workers.ts);
  // before serving, the start has failed.
  if (stopAfterFatalError && !isWorker()) return false;
  process.exitCode = 1;
  if (stopAfterFatalError) stopAfterFatalError();
  else process.exit();
  return true;
});

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.workers > 1 && cluster.isPrimary) {
    configureLogging(config.logLevel);
    return superviseWorkers(config);
  }
  // A port in use is told at once, not after the database is opened and migrated.
  if (cluster.isPrimary) await ensurePortFree(config.port, config.host);
  const service = await startService(config);
  const where = service.database.kind === 'embedded' ? `embedded PostgreSQL in ${service.database.location}` : `PostgreSQL at ${service.database.location}`;
  log().info(
    {
      listen: `${config.host}:${config.port}`,
      database: where,
      testMode: config.testMode,
      broker: config.eventNotices === 'process' ? 'none' : config.eventNotices,
      graphql: `${config.publicUrl}/graphql`,
      oauth2: `${config.publicUrl}/oidc/.well-known/openid-configuration`,
      health: `${config.publicUrl}/health`,
      metrics: `${config.publicUrl}/metrics`,
    },
    `Smart Registration Service listening on ${config.host}:${config.port} (${where}${config.testMode ? ', test mode' : ''}); GraphiQL at ${config.publicUrl}/graphql`,
  );
  // The first worker alone speaks for the service (and creates the demo client).
  if (!cluster.isWorker || cluster.worker?.id === 1) {
    const hint = await nextStep(service.prisma, { testMode: config.testMode, publicUrl: config.publicUrl });
    if (hint) log().info(hint.fields, hint.message);
  }
  // Launchers (npx, tsx, a process manager) often pass a signal on to us a second time: the
  // first starts an orderly close, later ones must not cut it short (the data folder lock
  // would stay behind).
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log().info({ signal }, 'shutting down');
    const limitSeconds = config.shutdownGraceSeconds + 20;
    setTimeout(() => {
      log().error(`Shutdown took longer than ${limitSeconds} s; exiting anyway.`);
      process.exit(1);
    }, limitSeconds * 1000).unref();
    await service.close();
    log().info('stopped');
    process.exit();
  };
  stopAfterFatalError = () => void stop('uncaughtException');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DataFolderInUseError) {
    console.error(error.message);
  } else {
    console.error('The service could not start:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
