// The composition root: builds the whole application from the configuration, once per process.
// Every feature is a small manager whose methods take the viewer and the input; the access rules
// stay in the service functions they call. GraphQL resolvers, REST routes and the HTTP layer
// only ever talk to this object.
import { PrismaClient, type Evidence, type Order } from './generated/prisma/client.js';
import type { Config } from './config.js';
import type { Viewer } from './auth/viewer.js';
import { openDatabaseAdapter } from './db/adapter.js';
import { applyMigrations } from './db/migrate.js';
import { createOidcProvider } from './auth/oidc.js';
import type { OidcAdapterFactory } from './auth/oidc-adapter.js';
import { createBearerAuthenticator } from './auth/bearer.js';
import { createOrderTokens } from './auth/order-tokens.js';
import { createInProcessEventBus, type EventBus } from './events/bus.js';
import { createRedisEventBus } from './events/redis-bus.js';
import { createPostgresEventBus } from './events/postgres-bus.js';
import { startEventFeed } from './events/feed.js';
import { ensureSimulatorClients } from './partners/simulators.js';
import { createPartnerRegistry, servedIssuers, simulatedIssuers } from './partners/registry.js';
import { listIdentificationMethods, seedCatalogue } from './services/methods.js';
import { cancelOrder, importEvidence, placeOrder, reportIdentificationStatus, type OrderServiceDeps } from './services/orders.js';
import { countVisibleOrders, findImportedEvidence, findOrderWithHistory, findVisibleEvidence, findVisibleOrder, latestEventOfVisibleOrder, listVisibleOrders } from './services/order-queries.js';
import { recordTermsDecisionBySp } from './services/terms.js';
import { verifyMobileNumber } from './services/verification.js';
import { billingReport } from './services/billing.js';
import { orderStatistics } from './services/statistics.js';
import { createSimulation } from './services/simulation.js';
import { markOrderStarted } from './services/order-store.js';
import { createWebhookEndpoint, deleteWebhookEndpoint, redeliverWebhooks, rotateWebhookSecret, updateWebhookEndpoint, webhookEndpointsOf } from './webhooks/manager.js';
import { startTimeoutJob } from './jobs/timeouts.js';
import { startOrderRecoveryJob } from './jobs/order-recovery.js';
import { createDataProtection, embeddedDataKeys } from './crypto/data-protection.js';
import { createEvidenceSigner } from './crypto/evidence-signing.js';
import { createSmsGateway } from './sms/gateways.js';
import { startSmsWorker } from './sms/worker.js';
import { listRecordedSms } from './sms/recorded.js';
import { startWebhookWorker } from './webhooks/worker.js';
import { createTermsPages } from './pages/terms.js';
import { createDashboard } from './dashboard/pages.js';
import { serveAdminSocket } from './admin/local-socket.js';
import { createMetrics } from './observability/metrics.js';
import { log } from './observability/log.js';
import { createClientRateLimiter } from './graphql/client-rate-limit.js';
import type { EvidenceSubject } from './domain/evidence.js';
import type { InitialIdentityData } from './domain/initial-data.js';

export type App = Awaited<ReturnType<typeof createApp>>;

/** What a caller may build differently from the configuration (the benchmarks do). */
export interface AppOverrides {
  /** oidc-provider's storage instead of the database's, e.g. bench/memory-oidc-adapter.ts. */
  oidcAdapter?: OidcAdapterFactory;
}

/** Opens the database, migrates and seeds it, and builds every part of the service on it. */
export async function createApp(config: Config, overrides: AppOverrides = {}) {
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
  const oidc = await createOidcProvider(config, { prisma, database, dataProtection }, {
    onOrderTokenIntrospected: async (refId, token) => {
      // The partner checking the call that opens the order is SRS's own doing, not the user starting.
      if (!orderTokens.isBeingOpened(token)) await markOrderStarted(database, refId, new Date());
    },
    onTokenDestroyed: (id) => bus.publishInvalidation({ kind: 'token', id }),
  }, overrides.oidcAdapter);
  const bearer = createBearerAuthenticator({ provider: oidc, prisma, cacheSeconds: config.tokenCacheSeconds });
  bus.onInvalidation((invalidation) => (invalidation.kind === 'token' ? bearer.forgetToken(invalidation.id) : bearer.forgetClient(invalidation.id)));
  const eventFeed = await startEventFeed({ prisma, database, bus, pollIntervalMs: config.eventPollSeconds * 1000, onError: (message) => log().error(message) });
  // The HTTP layer tells how many WebSockets are open once it serves them.
  let webSocketConnections = () => 0;
  const metrics = createMetrics({ prisma, openSubscriptions: () => eventFeed.listeners, webSocketConnections: () => webSocketConnections() });
  const orderTokens = createOrderTokens(oidc, dataProtection);
  const { connectors, simulators } = createPartnerRegistry(config, { prisma, database, secrets: simulatorSecrets, dataProtection });
  const smsWorker = startSmsWorker({ database, dataProtection, gateway: createSmsGateway(config.sms, metrics), bus, metrics }, config.smsOutboxSweepSeconds);
  const webhookWorker = startWebhookWorker({ prisma, dataProtection, bus, metrics, config: config.webhooks });
  const rateLimiter = createClientRateLimiter(prisma, { ...config.rateLimit, redisUrl: config.redisUrl, databaseUrl: config.databaseUrl });

  const orderDeps: OrderServiceDeps = {
    prisma,
    database,
    config,
    bus,
    connectors,
    orderTokens,
    dataProtection,
    evidenceSigner,
    onSmsQueued: smsWorker.wake,
  };
  const webhookDeps = { prisma, dataProtection, config, onWebhooksQueued: webhookWorker.wake };
  // A manager's method: the service function with its dependencies bound, viewer first.
  const withViewer =
    <Deps, Rest extends unknown[], Answer>(fn: (deps: Deps, viewer: Viewer, ...rest: Rest) => Answer, deps: Deps) =>
    (viewer: Viewer, ...rest: Rest): Answer =>
      fn(deps, viewer, ...rest);

  const timeoutJob = startTimeoutJob({ prisma, database, bus, orderTokens, metrics }, config.timeoutSweepSeconds);
  // The embedded folder is ours alone: the CLI sends its commands here (src/admin/local-socket.ts).
  const adminSocket =
    database.kind === 'embedded'
      ? await serveAdminSocket(config.dataDir, { prisma, database, dataProtection: () => dataProtection, announce: async (invalidation) => bus.publishInvalidation(invalidation) }, (message) => log().warn(message))
      : undefined;
  let orderRecoveryJob: { stop(): Promise<void> } | undefined;

  return {
    config,
    database,
    /** For Pothos' prisma plugin: the relations it loads under a row the viewer could already see. */
    prisma,
    metrics,
    /** oidc-provider's request handler, mounted at OIDC_MOUNT_PATH. */
    oidcCallback: oidc.callback(),
    /** The built-in partner simulators served here (under /ipsp/). */
    simulators,
    termsPages: createTermsPages({ prisma, database, bus, termsVersion: config.termsVersion }),
    dashboard: createDashboard({ prisma, oidc, dataProtection, config }),
    auth: {
      bearer,
      /** The viewer of an API request (GraphQL or REST): its bearer token, within its client's rate limit. */
      viewerOf: async (authorization: string | undefined) => rateLimiter.admitted(await bearer.authenticate(authorization)),
    },
    events: {
      /** This process's reader of new order events, which subscriptions listen to. */
      feed: eventFeed,
      /** Whether the access token is still valid (not revoked, not expired, client enabled). */
      tokenStillValid: bearer.stillValid,
      tokenCheckIntervalMs: config.subscriptionTokenCheckSeconds * 1000,
    },
    methods: {
      list: (query: Parameters<typeof listIdentificationMethods>[1], filter: Parameters<typeof listIdentificationMethods>[2]) => listIdentificationMethods(prisma, query, filter),
    },
    orders: {
      place: withViewer(placeOrder, orderDeps),
      cancel: withViewer(cancelOrder, orderDeps),
      reportStatus: withViewer(reportIdentificationStatus, orderDeps),
      /** The target URL as the service provider gets it (it is stored sealed: it carries the order token). */
      targetUrlOf: (order: Pick<Order, 'targetUrl'>) => orderTokens.openSecret(order.targetUrl),
      /** One of the viewer's orders with its method, events and evidence (REST's identification view). */
      withHistory: withViewer(findOrderWithHistory, prisma),
      /** Reads for the GraphQL API, each within what the viewer may see. */
      find: withViewer(findVisibleOrder, prisma),
      list: withViewer(listVisibleOrders, prisma),
      count: withViewer(countVisibleOrders, prisma),
      latestEventOf: withViewer(latestEventOfVisibleOrder, prisma),
      /** The mobile number an order is about: its evidence's, else the one in the service provider's initial data. */
      mobileNumberOf: (order: Pick<Order, 'initialDataSealed'> & { evidence: Pick<Evidence, 'mobileNumberSealed'> | null }) =>
        order.evidence
          ? dataProtection.open<string>(order.evidence.mobileNumberSealed)
          : (dataProtection.open<InitialIdentityData>(order.initialDataSealed).mobileNumber ?? null),
    },
    evidence: {
      import: withViewer(importEvidence, orderDeps),
      find: withViewer(findVisibleEvidence, prisma),
      /** The evidence a partner has just imported, for the mutation's answer. */
      imported: (id: string, selection: Parameters<typeof findImportedEvidence>[2]) => findImportedEvidence(prisma, id, selection),
      mobileNumberOf: (evidence: Pick<Evidence, 'mobileNumberSealed'>) => dataProtection.open<string>(evidence.mobileNumberSealed),
      subjectOf: (evidence: Pick<Evidence, 'personalDataSealed'>) => dataProtection.open<{ subject: EvidenceSubject }>(evidence.personalDataSealed).subject,
    },
    terms: { recordDecision: withViewer(recordTermsDecisionBySp, orderDeps) },
    verification: { verify: withViewer(verifyMobileNumber, orderDeps) },
    billing: { report: withViewer(billingReport, prisma) },
    statistics: { of: withViewer(orderStatistics, orderDeps) },
    webhooks: {
      endpointsOf: withViewer(webhookEndpointsOf, prisma),
      create: withViewer(createWebhookEndpoint, webhookDeps),
      update: withViewer(updateWebhookEndpoint, webhookDeps),
      rotateSecret: withViewer(rotateWebhookSecret, webhookDeps),
      delete: withViewer(deleteWebhookEndpoint, webhookDeps),
      redeliver: withViewer(redeliverWebhooks, webhookDeps),
    },
    simulation: createSimulation({ prisma, internalUrl: config.internalUrl, testMode: config.testMode, orderTokens }),
    evidenceKeys: () => evidenceSigner.publicKeys(),
    /** The SMS the log gateway recorded (test mode's GET /dev/sms). */
    recordedSms: () => listRecordedSms(prisma, dataProtection),

    /** The HTTP layer reports how many WebSocket connections it holds (a metric). */
    countWebSocketsWith(count: () => number) {
      webSocketConnections = count;
    },
    /** Only once listening: re-opening an order calls the partner, whose simulator is served here. */
    startOrderRecovery() {
      orderRecoveryJob ??= startOrderRecoveryJob({ ...orderDeps, metrics });
    },
    /** Stops taking work: the jobs and workers finish the transaction they are in. */
    async stopWork() {
      await Promise.all([timeoutJob.stop(), smsWorker.stop(), webhookWorker.stop(), orderRecoveryJob?.stop(), adminSocket?.close()]);
    },
    /** Releases the connections, once nothing runs any more. */
    async close() {
      await bus.close();
      await rateLimiter.close();
      await prisma.$disconnect();
      await database.close();
    },
  };
}
