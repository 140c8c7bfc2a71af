import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { PrismaClient } from './generated/prisma/client.js';
import type { Config } from './config.js';
import type { GraphQLContext } from './context.js';
import { openDatabaseAdapter, type DatabaseHandle } from './db/adapter.js';
import { applyMigrations } from './db/migrate.js';
import { createOidcProvider, OIDC_MOUNT_PATH } from './auth/oidc.js';
import { authenticateBearer, tokenStillValid } from './auth/bearer.js';
import { createOrderTokens } from './auth/order-tokens.js';
import { createInProcessEventBus } from './events/bus.js';
import { createHttpConnector } from './partners/http-connector.js';
import { createSimulators, ensureSimulatorClients, partnerByIssuer } from './partners/simulators.js';
import { sendJson } from './partners/http-helpers.js';
import { seedCatalogue } from './services/methods.js';
import { createSimulation } from './services/simulation.js';
import { startTimeoutJob } from './jobs/timeouts.js';
import { createDataProtection, embeddedDataKeys } from './crypto/data-protection.js';
import { createEvidenceSigner } from './crypto/evidence-signing.js';
import { recordingGateway } from './sms/gateway.js';
import { startSmsWorker } from './sms/worker.js';
import { createTermsPages } from './pages/terms.js';
import { listRecordedSms } from './sms/recorded.js';
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
  const simulatorSecrets = await ensureSimulatorClients(prisma);
  const dataProtection = createDataProtection(config.dataKeys ?? embeddedDataKeys(config.dataDir));
  const evidenceSigner = createEvidenceSigner(prisma, config.publicUrl);

  const oidc = await createOidcProvider(config, prisma, async (refId) => {
    // A partner checked the order token: the end user opened the target URL. Not while the order
    // is CREATED: then the partner is checking the token of the order SRS is opening with it.
    const now = new Date();
    await prisma.order.updateMany({ where: { refId, startedAt: null, status: { not: 'CREATED' } }, data: { startedAt: now } });
    await prisma.order.updateMany({ where: { refId, status: { not: 'CREATED' } }, data: { lastActivityAt: now } });
  });
  const oidcCallback = oidc.callback();
  const bus = createInProcessEventBus();
  const orderTokens = createOrderTokens(oidc);
  const connectors = (issuer: string) => {
    const profile = partnerByIssuer(issuer);
    return profile ? createHttpConnector(`${config.internalUrl}/ipsp/${profile.slug}/api`) : undefined;
  };
  const simulators = createSimulators({
    prisma,
    internalUrl: config.internalUrl,
    publicUrl: config.publicUrl,
    secrets: simulatorSecrets,
    testMode: config.testMode,
    dataProtection,
  });
  const smsWorker = startSmsWorker({ prisma, dataProtection, gateway: recordingGateway, bus }, config.smsOutboxSweepSeconds);
  const termsPages = createTermsPages({ prisma, bus, termsVersion: config.termsVersion });
  const services: GraphQLContext['services'] = {
    prisma,
    config,
    bus,
    connectors,
    orderTokens,
    dataProtection,
    evidenceSigner,
    onSmsQueued: smsWorker.wake,
    simulation: createSimulation({ prisma, internalUrl: config.internalUrl, testMode: config.testMode }),
    tokenStillValid: (accessToken) => tokenStillValid(oidc, prisma, accessToken),
  };

  const yoga = createYoga<{ connectionParams?: Record<string, unknown> }, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    maskedErrors: true,
    graphiql: { title: 'Smart Registration Service', headers: GRAPHIQL_HEADERS, shouldPersistHeaders: true, subscriptionsProtocol: 'WS' },
    context: async ({ request, connectionParams }) => ({
      prisma,
      config,
      services,
      viewer: await authenticateBearer(oidc, prisma, connectionParams ? authorizationParam(connectionParams) : request.headers.get('authorization')),
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
    if (url.startsWith('/ipsp/') && (await simulators.handle(request, response))) return;
    if (url.startsWith('/terms/') && (await termsPages.handle(request, response))) return;
    if (url === '/.well-known/jwks.json' && request.method === 'GET') return sendJson(response, 200, { keys: await evidenceSigner.publicKeys() });
    if (url === '/dev/sms' && request.method === 'GET' && config.testMode) return sendJson(response, 200, await listRecordedSms(prisma, dataProtection));
    sendJson(response, 404, { error: 'not_found', message: `Nothing at ${request.method} ${url.split('?')[0]}.` });
  });

  // Subscriptions over WebSocket (graphql-ws) share yoga's whole envelop chain.
  const webSockets = new WebSocketServer({ server, path: '/graphql' });
  const wsServer = useServer<Record<string, unknown>>(
    {
      onConnect: async ({ connectionParams }) => {
        try {
          await authenticateBearer(oidc, prisma, authorizationParam(connectionParams ?? {}));
          return true;
        } catch {
          return false;
        }
      },
      execute: (args) => (args.rootValue as { execute: typeof import('graphql').execute }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: typeof import('graphql').subscribe }).subscribe(args),
      onSubscribe: async (ctx, _id, payload) => {
        const { schema: envelopedSchema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          connectionParams: ctx.connectionParams ?? {},
        });
        const document = parse(payload.query);
        const errors = validate(envelopedSchema, document);
        if (errors.length) return errors;
        let contextValue: unknown;
        try {
          contextValue = await contextFactory();
        } catch (error) {
          // A token revoked or expired since connecting: an UNAUTHENTICATED error, not a 4500 close.
          if (error instanceof GraphQLError) return [new GraphQLError(error.message, { extensions: { code: error.extensions.code } })];
          throw error;
        }
        return {
          schema: envelopedSchema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe },
        };
      },
    },
    webSockets,
  );

  const timeoutJob = startTimeoutJob({ prisma, bus, orderTokens }, config.timeoutSweepSeconds);

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
        await timeoutJob.stop();
        await smsWorker.stop();
        for (const socket of webSockets.clients) socket.close(1001, 'Server shutting down');
        await wsServer.dispose();
        server.closeIdleConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await bus.close();
        await prisma.$disconnect();
        await database.close();
      })()),
  };
}

/** The token of a WebSocket connection: `{ "Authorization": "Bearer …" }` or `{ "token": "…" }`. */
function authorizationParam(connectionParams: Record<string, unknown>): string | undefined {
  const header = connectionParams.Authorization ?? connectionParams.authorization;
  if (typeof header === 'string') return header;
  return typeof connectionParams.token === 'string' ? `Bearer ${connectionParams.token}` : undefined;
}

async function sendHealth(response: http.ServerResponse, prisma: PrismaClient, database: DatabaseHandle): Promise<void> {
  try {
    await prisma.$queryRaw`SELECT 1`;
    sendJson(response, 200, { status: 'ok', database: database.kind });
  } catch {
    sendJson(response, 503, { status: 'unavailable', database: database.kind });
  }
}
