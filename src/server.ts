import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { PrismaClient } from './generated/prisma/client.js';
import type { Config } from './config.js';
import type { GraphQLContext } from './context.js';
import { openDatabaseAdapter, type DatabaseHandle } from './db/adapter.js';
import { applyMigrations } from './db/migrate.js';
import { createOidcProvider, OIDC_MOUNT_PATH } from './auth/oidc.js';
import { createBearerAuthenticator } from './auth/bearer.js';
import { createOrderTokens } from './auth/order-tokens.js';
import { createInProcessEventBus, type EventBus } from './events/bus.js';
import { createRedisEventBus } from './events/redis-bus.js';
import { createPostgresEventBus } from './events/postgres-bus.js';
import { startEventFeed } from './events/feed.js';
import { ensureSimulatorClients } from './partners/simulators.js';
import { createPartnerRegistry, servedIssuers, simulatedIssuers } from './partners/registry.js';
import { sendJson } from './partners/http-helpers.js';
import { seedCatalogue } from './services/methods.js';
import { createSimulation } from './services/simulation.js';
import { startTimeoutJob } from './jobs/timeouts.js';
import { startOrderRecoveryJob } from './jobs/order-recovery.js';
import { markOrderStarted } from './services/order-store.js';
import { createDataProtection, embeddedDataKeys } from './crypto/data-protection.js';
import { createEvidenceSigner } from './crypto/evidence-signing.js';
import { createSmsGateway } from './sms/gateways.js';
import { startSmsWorker } from './sms/worker.js';
import { startWebhookWorker } from './webhooks/worker.js';
import { createTermsPages } from './pages/terms.js';
import { createGraphiqlPage, GRAPHIQL_ASSETS_PATH } from './pages/graphiql.js';
import { serveAdminSocket } from './admin/local-socket.js';
import { loopbackAliases, serveAliasDiscovery } from './startup/discovery-aliases.js';
import { listRecordedSms } from './sms/recorded.js';
import { schema } from './schema/index.js';
import { configureLogging, log, requestIdFrom, withLogScope } from './observability/log.js';
import { loggablePath } from './observability/redact.js';
import { createMetrics, type ServiceMetrics } from './observability/metrics.js';
import { useOperationMetrics } from './observability/graphql-plugin.js';
import { useSharedSubscriptionExecution } from './graphql/shared-subscription-execution.js';
import { serveGraphqlOverWebSocket } from './graphql/websocket-server.js';
import { useRequestBodyLimit } from './graphql/request-body-limit.js';
import { maskDatabaseOutage } from './graphql/database-outage.js';
import { isDatabaseUnavailable } from './db/availability.js';
import { subscriptionAudience } from './schema/subscriptions.js';
import { isRestPath, serveRestRoute } from './rest/routes.js';
import { createDashboard } from './dashboard/pages.js';
import { answerRouteError, classifyUnavailable, refuseImpossibleUrl } from './http/errors.js';
import { applySecurityHeaders } from './http/security-headers.js';
import { useOperationLimits } from './graphql/operation-limits.js';
import { useNoNulCharacters, useReadableRequests } from './graphql/input-hygiene.js';
import { createClientRateLimiter } from './graphql/client-rate-limit.js';

export interface RunningService {
  /** Where the HTTP server listens, e.g. http://127.0.0.1:4000 (the bound port, not PUBLIC_URL). */
  url: string;
  config: Config;
  database: DatabaseHandle;
  prisma: PrismaClient;
  close(): Promise<void>;
}

/** How long a shutting-down process keeps answering after the last request started (see close()). */
const SHUTDOWN_QUIET_MS = 300;
/** The largest GraphQL request: far above any operation of this API (yoga's default was 25 MB). */
const MAX_GRAPHQL_BODY_BYTES = 1024 * 1024;

/** Opens the database, migrates and seeds it, and serves every endpoint of the service. */
export async function startService(config: Config): Promise<RunningService> {
  // Every route's errors: a database outage is a 503 with Retry-After, not a 500.
  classifyUnavailable(isDatabaseUnavailable);
  configureLogging(config.logLevel);
  const database = await openDatabaseAdapter({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await applyMigrations(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  // Under a burst of load a transaction may wait long for its turn on the event loop; failing
  // it after the default 5 s would leave an order half opened at its partner.
  const prisma = new PrismaClient({ adapter: database.adapter, transactionOptions: { maxWait: 10_000, timeout: 15_000 } });
  await seedCatalogue(prisma, config.testMode, servedIssuers(config));
  const simulatorSecrets = await ensureSimulatorClients(prisma, simulatedIssuers(config));
  const dataProtection = createDataProtection(config.dataKeys ?? embeddedDataKeys(config.dataDir, (message) => log().warn(message)));
  const evidenceSigner = createEvidenceSigner(prisma, config.publicUrl, dataProtection);

  let bus: EventBus;
  try {
    const onError = (message: string) => log().error(message);
    bus =
      config.eventNotices === 'redis'
        ? await createRedisEventBus({ url: config.redisUrl!, channel: config.redisChannel, onError })
        : config.eventNotices === 'postgres'
          ? await createPostgresEventBus({ url: config.databaseUrl!, database, onError })
          : createInProcessEventBus();
  } catch (error) {
    await prisma.$disconnect();
    await database.close();
    throw error;
  }
  // Orders this process is opening at their partner right now (see placeOrder).
  const ordersBeingOpened = new Set<string>();
  const oidc = await createOidcProvider(config, { prisma, database, dataProtection }, {
    onOrderTokenIntrospected: async (refId) => {
      // A partner checking the token of an order this process is opening is SRS's own doing.
      if (!ordersBeingOpened.has(refId)) await markOrderStarted(database, refId, new Date());
    },
    onTokenDestroyed: (id) => bus.publishInvalidation({ kind: 'token', id }),
  });
  const bearer = createBearerAuthenticator({ provider: oidc, prisma, cacheSeconds: config.tokenCacheSeconds });
  bus.onInvalidation((invalidation) => (invalidation.kind === 'token' ? bearer.forgetToken(invalidation.id) : bearer.forgetClient(invalidation.id)));
  const oidcCallback = oidc.callback();
  const eventFeed = await startEventFeed({ prisma, database, bus, pollIntervalMs: config.eventPollSeconds * 1000, onError: (message) => log().error(message) });
  // Filled in once the WebSocket server exists.
  let webSocketConnections = () => 0;
  const metrics = createMetrics({ prisma, openSubscriptions: () => eventFeed.listeners, webSocketConnections: () => webSocketConnections() });
  const orderTokens = createOrderTokens(oidc, dataProtection);
  const { connectors, simulators } = createPartnerRegistry(config, { prisma, database, secrets: simulatorSecrets, dataProtection });
  const smsWorker = startSmsWorker({ database, dataProtection, gateway: createSmsGateway(config.sms, metrics), bus, metrics }, config.smsOutboxSweepSeconds);
  const webhookWorker = startWebhookWorker({ prisma, dataProtection, bus, metrics, config: config.webhooks });
  const termsPages = createTermsPages({ prisma, database, bus, termsVersion: config.termsVersion });
  const dashboard = createDashboard({ prisma, oidc, dataProtection, config });
  const graphiqlPage = createGraphiqlPage({ title: 'Smart Registration Service' });
  const services: GraphQLContext['services'] = {
    prisma,
    database,
    ordersBeingOpened,
    config,
    bus,
    connectors,
    orderTokens,
    dataProtection,
    evidenceSigner,
    onSmsQueued: smsWorker.wake,
    simulation: createSimulation({ prisma, internalUrl: config.internalUrl, testMode: config.testMode, orderTokens }),
    eventFeed,
    tokenStillValid: bearer.stillValid,
    onWebhooksQueued: webhookWorker.wake,
  };

  const rateLimiter = createClientRateLimiter(prisma, { ...config.rateLimit, redisUrl: config.redisUrl, databaseUrl: config.databaseUrl });
  const yoga = createYoga<{ connectionParams?: Record<string, unknown> }, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    maskedErrors: { maskError: maskDatabaseOutage },
    logging: {
      debug: (...args) => log().debug(args.map(String).join(' ')),
      info: (...args) => log().info(args.map(String).join(' ')),
      warn: (...args) => log().warn(args.map(String).join(' ')),
      // yoga logs the original of a masked error here: keep it, it is what an operator needs.
      error: (...args) => log().error({ err: args.find((arg) => arg instanceof Error) }, args.filter((arg) => !(arg instanceof Error)).map(String).join(' ') || 'GraphQL error'),
    },
    // Our own body limit replaces yoga's (see request-body-limit.ts); it must stay the last plugin.
    maxRequestBodySize: false,
    plugins: [
      useOperationMetrics(metrics),
      useSharedSubscriptionExecution(subscriptionAudience),
      ...useOperationLimits(config.operationLimits),
      useNoNulCharacters(),
      useReadableRequests(),
      useRequestBodyLimit(MAX_GRAPHQL_BODY_BYTES),
    ],
    // GraphiQL is served by src/pages/graphiql.ts, from our own origin and with its own CSP.
    graphiql: false,
    context: async ({ request, connectionParams, params, req }: { request: Request; connectionParams?: Record<string, unknown>; params?: { query?: string; operationName?: string | null }; req?: http.IncomingMessage }) => ({
      prisma,
      config,
      services,
      viewer: await rateLimiter.admitted(
        await bearer.authenticate(connectionParams ? (authorizationParam(connectionParams) ?? (await dashboard.sessions.authorization(req, params))) : await dashboard.sessions.authorization(request, params)),
      ),
    }),
  });

  let shuttingDown = false;
  let inFlight = 0;
  let lastRequestStartedAt = 0;
  let drained = () => {};
  const server = http.createServer((request, response) => {
    const requestId = requestIdFrom(request.headers['x-request-id']);
    response.setHeader('x-request-id', requestId);
    applySecurityHeaders(response, { https: config.publicUrl.startsWith('https:') });
    const started = performance.now();
    lastRequestStartedAt = started;
    inFlight++;
    withLogScope({ requestId }, (scope) => {
      response.once('close', () => {
        const seconds = (performance.now() - started) / 1000;
        const route = routeOf(request.url ?? '/');
        metrics.observeRequest(route, request.method ?? 'GET', response.statusCode, seconds);
        // Health checks and scrapes would drown everything else.
        if (route !== 'health' && route !== 'metrics') {
          const refIds = [...scope.refIds];
          scope.logger.info(
            {
              method: request.method,
              path: loggablePath(request.url ?? '/'),
              status: response.statusCode,
              ms: Math.round(seconds * 1000),
              ...(scope.operation && { operation: scope.operation }),
              ...(refIds.length === 1 ? { refId: refIds[0] } : refIds.length > 1 ? { refIds } : {}),
            },
            'request completed',
          );
        }
        if (--inFlight === 0) drained();
      });
      // Whatever a route throws is answered here (4xx, 503 or a masked 500), never a crash.
      route(request, response).catch((error: unknown) => answerRouteError(response, error));
    });
  });

  const route = async (request: http.IncomingMessage, response: http.ServerResponse) => {
    const url = request.url ?? '/';
    refuseImpossibleUrl(url);
    if (shuttingDown) {
      response.setHeader('connection', 'close');
      // Partner traffic stays open: orders in flight are opened through the simulators here.
      const partnerTraffic = url.startsWith('/ipsp/') || url.startsWith(`${OIDC_MOUNT_PATH}/`);
      if (!partnerTraffic && url !== '/health') {
        response.setHeader('retry-after', '1');
        return sendJson(response, 503, { error: 'shutting_down', message: 'This process is shutting down; send the request again (to another process).' });
      }
    }
    if (url.startsWith(`${OIDC_MOUNT_PATH}/.well-known/`) && (await serveAliasDiscovery(request, response, { ...config, aliases: loopbackAliases(config.publicUrl) }))) return;
    if (url === OIDC_MOUNT_PATH || url.startsWith(`${OIDC_MOUNT_PATH}/`) || url.startsWith(`${OIDC_MOUNT_PATH}?`)) {
      // oidc-provider routes relative to its mount path and finds that path in originalUrl.
      Object.assign(request, { originalUrl: url });
      request.url = url.slice(OIDC_MOUNT_PATH.length) || '/';
      return oidcCallback(request, response);
    }
    if (url === '/health' && request.method === 'GET') return void sendHealth(response, prisma, database, shuttingDown);
    if (url === '/metrics' && request.method === 'GET') return void sendMetrics(request, response, metrics, config.metricsToken);
    if ((url === '/graphql' || url.startsWith('/graphql?') || url.startsWith(GRAPHIQL_ASSETS_PATH)) && (await graphiqlPage.handle(request, response))) return;
    if (url === '/graphql' || url.startsWith('/graphql?')) return yoga(request, response);
    if (url.startsWith('/ipsp/') && (await simulators.handle(request, response))) return;
    if (url.startsWith('/terms/') && (await termsPages.handle(request, response))) return;
    if (url.startsWith('/dashboard') && (await dashboard.handle(request, response))) return;
    if (url === '/.well-known/jwks.json' && request.method === 'GET') return sendJson(response, 200, { keys: await evidenceSigner.publicKeys() });
    if (isRestPath(url)) {
      // The same per-client rate limit as GraphQL.
      const authenticate = async (authorization: string | undefined) => rateLimiter.admitted(await bearer.authenticate(authorization));
      return serveRestRoute({ services, authenticate, oidc: oidcCallback }, request, response);
    }
    if (url === '/dev/sms' && request.method === 'GET' && config.testMode) return sendJson(response, 200, await listRecordedSms(prisma, dataProtection));
    sendJson(response, 404, { error: 'not_found', message: `Nothing at ${request.method} ${url.split('?')[0]}.` });
  };

  // Subscriptions over WebSocket (graphql-ws) share yoga's whole envelop chain.
  const webSockets = new WebSocketServer({ server, path: '/graphql', maxPayload: MAX_GRAPHQL_BODY_BYTES });
  webSocketConnections = () => webSockets.clients.size;
  const wsServer = serveGraphqlOverWebSocket<Record<string, unknown>>(
    {
      onConnect: async ({ connectionParams, ...ctx }) => {
        try {
          await bearer.authenticate(authorizationParam(connectionParams ?? {}) ?? (await dashboard.sessions.authorization(ctx.extra.request)));
          return true;
        } catch (error) {
          // An outage is no refusal: 1013 (try again later) lets the client reconnect, where 4403 would make it give up.
          if (isDatabaseUnavailable(error)) ctx.extra.socket.close(1013, 'Service unavailable; retry shortly');
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
        // A bad operation (syntax, validation, a limit) is an error for its id only: the
        // connection and its other subscriptions stay.
        let document: ReturnType<typeof parse>;
        try {
          document = parse(payload.query);
          const errors = validate(envelopedSchema, document);
          if (errors.length) return errors;
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
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
    config.webSocketKeepAliveSeconds * 1000,
  );

  const timeoutJob = startTimeoutJob({ prisma, database, bus, orderTokens, metrics }, config.timeoutSweepSeconds);
  // The embedded folder is ours alone: the CLI sends its commands here (src/admin/local-socket.ts).
  const adminSocket =
    database.kind === 'embedded'
      ? await serveAdminSocket(config.dataDir, { prisma, database, dataProtection: () => dataProtection, announce: async (invalidation) => bus.publishInvalidation(invalidation) }, (message) => log().warn(message))
      : undefined;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  // Only once listening: re-opening an order calls the partner, whose simulator is served here.
  const orderRecoveryJob = startOrderRecoveryJob({ ...services, metrics });

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    config,
    database,
    prisma,
    close: () =>
      (closing ??= (async () => {
        // Stop taking work: new requests and /health answer 503 so a load balancer moves on (the
        // listener stays open for the partner calls of requests in flight), and the jobs finish
        // the transaction they are in.
        // Idle keep-alive connections are not cut here: a request racing onto one would be reset.
        // Every answer from now on says `Connection: close` instead.
        shuttingDown = true;
        await Promise.all([timeoutJob.stop(), smsWorker.stop(), webhookWorker.stop(), orderRecoveryJob.stop(), adminSocket?.close()]);
        // Streams complete (SSE requests end with them); WebSocket subscribers learn why (1001:
        // going away) and can reconnect to another process.
        await eventFeed.close();
        for (const socket of webSockets.clients) socket.close(1001, 'Server shutting down');
        await wsServer.dispose();
        // Requests in flight may finish, within the grace period. Closing the connections then
        // would reset a request already on its way (sent, not yet read): late ones are still
        // answered (503) until no request has started for a quiet moment.
        const deadline = performance.now() + config.shutdownGraceSeconds * 1000;
        while ((inFlight > 0 || performance.now() - lastRequestStartedAt < SHUTDOWN_QUIET_MS) && performance.now() < deadline) {
          await new Promise<void>((resolve) => {
            drained = resolve;
            setTimeout(resolve, inFlight > 0 ? deadline - performance.now() : SHUTDOWN_QUIET_MS).unref();
          });
        }
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await bus.close();
        await rateLimiter.close();
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

async function sendHealth(response: http.ServerResponse, prisma: PrismaClient, database: DatabaseHandle, shuttingDown: boolean): Promise<void> {
  if (shuttingDown) return sendJson(response, 503, { status: 'shutting_down', database: database.kind });
  try {
    await prisma.$queryRaw`SELECT 1`;
    sendJson(response, 200, { status: 'ok', database: database.kind });
  } catch {
    sendJson(response, 503, { status: 'unavailable', database: database.kind });
  }
}

/** Prometheus exposition; with METRICS_TOKEN set, only for `Authorization: Bearer <that token>`. */
async function sendMetrics(request: http.IncomingMessage, response: http.ServerResponse, metrics: ServiceMetrics, token: string | undefined): Promise<void> {
  if (token && request.headers.authorization !== `Bearer ${token}`) {
    response.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
    return sendJson(response, 401, { error: 'unauthorized', message: 'Send the METRICS_TOKEN as Authorization: Bearer <token>.' });
  }
  try {
    const body = await metrics.render();
    response.writeHead(200, { 'content-type': metrics.registry.contentType });
    response.end(body);
  } catch (error) {
    log().error({ err: error }, 'rendering metrics failed');
    sendJson(response, 503, { error: 'unavailable', message: 'The metrics could not be collected.' });
  }
}

const ROUTES = ['graphql', 'graphiql', 'oidc', 'ipsp', 'terms', 'health', 'metrics', 'dev', 'dashboard', 'api', 'oauth'] as const;

/** A route label of bounded cardinality for a request path. */
function routeOf(url: string): string {
  const first = url.split('?')[0].split('/')[1] ?? '';
  if (first === '.well-known') return 'jwks';
  return (ROUTES as readonly string[]).includes(first) ? first : 'other';
}
