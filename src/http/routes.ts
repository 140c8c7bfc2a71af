// The one route table of the HTTP server: each route has the name the metrics and the access
// log know it by. The first route that matches a request answers it; a route may decline (its
// handler answers false), and the next matching one is tried.
import type http from 'node:http';
import type { App } from '../app.js';
import type { GraphqlServer } from '../graphql/server.js';
import { OIDC_MOUNT_PATH } from '../auth/oidc.js';
import { loopbackAliases, serveAliasDiscovery } from '../startup/discovery-aliases.js';
import { createGraphiqlPage, GRAPHIQL_ASSETS_PATH } from '../pages/graphiql.js';
import { isRestPath, serveRestRoute } from '../rest/routes.js';
import { sendJson } from '../partners/http-helpers.js';
import { sendHealth, sendMetrics } from './health-and-metrics.js';

export interface Route {
  /** The `route` label of the request metrics. */
  name: string;
  matches(url: string, method: string): boolean;
  /** Answers the request; false when it is none of this route's business after all. */
  handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<boolean | void> | boolean | void;
  /** Still served while the process shuts down: partners open the orders in flight through these. */
  duringShutdown?: boolean;
}

/** The name of requests no route matches. */
export const UNMATCHED_ROUTE = 'other';

const isPath = (url: string, path: string) => url === path || url.startsWith(`${path}?`);

export function createRoutes(app: App, graphql: GraphqlServer, isShuttingDown: () => boolean): Route[] {
  const { config } = app;
  const graphiqlPage = createGraphiqlPage({ title: 'Smart Registration Service' });
  const discovery = { ...config, aliases: loopbackAliases(config.publicUrl) };
  return [
    {
      name: 'oidc',
      duringShutdown: true,
      matches: (url) => isPath(url, OIDC_MOUNT_PATH) || url.startsWith(`${OIDC_MOUNT_PATH}/`),
      async handle(request, response) {
        const url = request.url!;
        if (url.startsWith(`${OIDC_MOUNT_PATH}/.well-known/`) && (await serveAliasDiscovery(request, response, discovery))) return;
        // oidc-provider routes relative to its mount path and finds that path in originalUrl.
        Object.assign(request, { originalUrl: url });
        request.url = url.slice(OIDC_MOUNT_PATH.length) || '/';
        return app.oidcCallback(request, response);
      },
    },
    {
      name: 'health',
      duringShutdown: true,
      matches: (url) => url === '/health',
      handle: (request, response) => request.method === 'GET' && sendHealth(response, app.prisma, app.database.kind, isShuttingDown()).then(() => true),
    },
    {
      name: 'metrics',
      matches: (url) => url === '/metrics',
      handle: (request, response) => request.method === 'GET' && sendMetrics(request, response, app.metrics, config.metricsToken).then(() => true),
    },
    {
      name: 'graphql',
      matches: (url) => isPath(url, '/graphql'),
      // GraphiQL for a browser, the API for everyone else.
      handle: async (request, response) => (await graphiqlPage.handle(request, response)) || graphql.yoga(request, response),
    },
    { name: 'graphiql', matches: (url) => url.startsWith(GRAPHIQL_ASSETS_PATH), handle: (request, response) => graphiqlPage.handle(request, response) },
    { name: 'ipsp', duringShutdown: true, matches: (url) => url.startsWith('/ipsp/'), handle: (request, response) => app.simulators.handle(request, response) },
    { name: 'terms', matches: (url) => url.startsWith('/terms/'), handle: (request, response) => app.termsPages.handle(request, response) },
    { name: 'dashboard', matches: (url) => url.startsWith('/dashboard'), handle: (request, response) => app.dashboard.handle(request, response) },
    {
      name: 'jwks',
      matches: (url, method) => url === '/.well-known/jwks.json' && method === 'GET',
      handle: async (_request, response) => sendJson(response, 200, { keys: await app.evidenceKeys() }),
    },
    // The commercial SRS's REST routes: /api/… and its token endpoint /oauth/token.
    ...(['api', 'oauth'] as const).map(
      (name): Route => ({
        name,
        matches: (url) => isRestPath(url) && url.startsWith(`/${name}`),
        handle: (request, response) => serveRestRoute(app, request, response),
      }),
    ),
    {
      name: 'dev',
      matches: (url, method) => url === '/dev/sms' && method === 'GET' && config.testMode,
      handle: async (_request, response) => sendJson(response, 200, await app.recordedSms()),
    },
  ];
}
