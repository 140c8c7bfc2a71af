import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga } from 'graphql-yoga';
import { PrismaClient } from './generated/prisma/client.js';
import type { Config } from './config.js';
import type { GraphQLContext } from './context.js';
import { openDatabaseAdapter, type DatabaseHandle } from './db/adapter.js';
import { applyMigrations } from './db/migrate.js';
import { createOidcProvider, OIDC_MOUNT_PATH } from './auth/oidc.js';
import { authenticateBearer } from './auth/bearer.js';
import { seedCatalogue } from './services/methods.js';
import { schema } from './schema/index.js';

export interface RunningService {
  /** Where the HTTP server listens, e.g. http://127.0.0.1:4000 (the bound port, not PUBLIC_URL). */
  url: string;
  config: Config;
  database: DatabaseHandle;
  prisma: PrismaClient;
  close(): Promise<void>;
}

const GRAPHIQL_HEADERS = JSON.stringify({ Authorization: 'Bearer PASTE-YOUR-ACCESS-TOKEN-HERE' }, null, 2);

/** Opens the database, migrates and seeds it, and serves every endpoint of the service. */
export async function startService(config: Config): Promise<RunningService> {
  const database = await openDatabaseAdapter({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await applyMigrations(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  const prisma = new PrismaClient({ adapter: database.adapter });
  await seedCatalogue(prisma, config.testMode);
  const oidc = await createOidcProvider(config, prisma);
  const oidcCallback = oidc.callback();

  const yoga = createYoga<Record<string, never>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    maskedErrors: true,
    graphiql: { title: 'Smart Registration Service', headers: GRAPHIQL_HEADERS, shouldPersistHeaders: true },
    context: async ({ request }) => ({
      prisma,
      config,
      viewer: await authenticateBearer(oidc, prisma, request.headers.get('authorization')),
    }),
  });

  const server = http.createServer(async (request, response) => {
    const url = request.url ?? '/';
    if (url === OIDC_MOUNT_PATH || url.startsWith(`${OIDC_MOUNT_PATH}/`) || url.startsWith(`${OIDC_MOUNT_PATH}?`)) {
      // oidc-provider routes relative to its mount path and finds that path in originalUrl.
      Object.assign(request, { originalUrl: url });
      request.url = url.slice(OIDC_MOUNT_PATH.length) || '/';
      return oidcCallback(request, response);
    }
    if (url === '/health' && request.method === 'GET') return void sendHealth(response, prisma, database);
    if (url === '/graphql' || url.startsWith('/graphql?')) return yoga(request, response);
    sendJson(response, 404, { error: 'not_found', message: `Nothing at ${request.method} ${url.split('?')[0]}.` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    config,
    database,
    prisma,
    close: () =>
      (closing ??= (async () => {
        server.closeIdleConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await prisma.$disconnect();
        await database.close();
      })()),
  };
}

async function sendHealth(response: http.ServerResponse, prisma: PrismaClient, database: DatabaseHandle): Promise<void> {
  try {
    await prisma.$queryRaw`SELECT 1`;
    sendJson(response, 200, { status: 'ok', database: database.kind });
  } catch {
    sendJson(response, 503, { status: 'unavailable', database: database.kind });
  }
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}
