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
  const stop = async (signal: string) => {
    console.log(`${signal} received, shutting down`);
    await service.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DataFolderInUseError) {
    console.error(error.message);
  } else {
    console.error('The service could not start:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
