import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PrismaClient } from './generated/prisma/client.js';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/adapter.js';
import { createApp, type AppOverrides } from './app.js';
import { createGraphqlServer } from './graphql/server.js';
import { createRoutes } from './http/routes.js';
import { createRequestHandler } from './http/request-handler.js';
import { classifyUnavailable } from './http/errors.js';
import { isDatabaseUnavailable } from './db/availability.js';
import { configureLogging } from './observability/log.js';
import { createRequestTracker, orderlyShutdown } from './shutdown.js';

export interface RunningService {
  /** Where the HTTP server listens, e.g. http://127.0.0.1:4000 (the bound port, not PUBLIC_URL). */
  url: string;
  config: Config;
  database: DatabaseHandle;
  prisma: PrismaClient;
  close(): Promise<void>;
}

/** Builds the application and serves every endpoint of the service. */
export async function startService(config: Config, overrides: AppOverrides = {}): Promise<RunningService> {
  // Every route's errors: a database outage is a 503 with Retry-After, not a 500.
  classifyUnavailable(isDatabaseUnavailable);
  configureLogging(config.logLevel);
  const app = await createApp(config, overrides);
  const graphql = createGraphqlServer(app);
  const requests = createRequestTracker();
  const routes = createRoutes(app, graphql, () => requests.shuttingDown);
  const server = http.createServer(createRequestHandler({ routes, metrics: app.metrics, https: config.publicUrl.startsWith('https:'), requests }));
  const webSockets = graphql.serveWebSockets(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  app.startOrderRecovery();
  const close = orderlyShutdown({
    requests,
    server,
    graceSeconds: config.shutdownGraceSeconds,
    stopWork: () => app.stopWork(),
    endSubscriptions: async () => {
      // Streams complete (SSE requests end with them), then the WebSockets are closed.
      await app.events.feed.close();
      await webSockets.close();
    },
    release: () => app.close(),
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, config, database: app.database, prisma: app.prisma, close };
}
