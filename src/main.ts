import { ConfigError, loadConfig } from './config.js';
import { DataFolderInUseError } from './db/adapter.js';
import { startService } from './server.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const service = await startService(config);
  const where = service.database.kind === 'embedded' ? `embedded PostgreSQL in ${service.database.location}` : `PostgreSQL at ${service.database.location}`;
  console.log(`Smart Registration Service listening on ${config.host}:${config.port} (${where}${config.testMode ? ', test mode' : ''})`);
  console.log(`  GraphQL and GraphiQL:   ${config.publicUrl}/graphql`);
  console.log(`  OAuth2 discovery:       ${config.publicUrl}/oidc/.well-known/openid-configuration`);
  console.log(`  Health:                 ${config.publicUrl}/health`);
  // Launchers (npx, tsx, a process manager) often pass a signal on to us a second time: the
  // first starts an orderly close, later ones must not cut it short (the data folder lock
  // would stay behind).
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received, shutting down`);
    setTimeout(() => {
      console.error('Shutdown took longer than 30 s; exiting anyway.');
      process.exit(1);
    }, 30_000).unref();
    await service.close();
    process.exit(0);
  };
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
