// The GraphQL API over HTTP (yoga) and over WebSocket (graphql-ws): both run the same envelop
// chain, so a subscription is authenticated, limited and measured as a request is.
import type http from 'node:http';
import { GraphQLError } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import type { App } from '../app.js';
import type { GraphQLContext } from '../context.js';
import { schema } from '../schema/index.js';
import { subscriptionAudience } from '../schema/subscriptions.js';
import { log } from '../observability/log.js';
import { useOperationMetrics } from '../observability/graphql-plugin.js';
import { isDatabaseUnavailable } from '../db/availability.js';
import { useSharedSubscriptionExecution } from './shared-subscription-execution.js';
import { serveGraphqlOverWebSocket } from './websocket-server.js';
import { useRequestBodyLimit } from './request-body-limit.js';
import { maskDatabaseOutage } from './database-outage.js';
import { useOperationLimits } from './operation-limits.js';
import { useNoNulCharacters, useReadableRequests } from './input-hygiene.js';

/** The largest GraphQL request: far above any operation of this API (yoga's default was 25 MB). */
const MAX_GRAPHQL_BODY_BYTES = 1024 * 1024;

export type GraphqlServer = ReturnType<typeof createGraphqlServer>;

/** The token of a WebSocket connection: `{ "Authorization": "Bearer …" }` or `{ "token": "…" }`. */
function authorizationParam(connectionParams: Record<string, unknown>): string | undefined {
  const header = connectionParams.Authorization ?? connectionParams.authorization;
  if (typeof header === 'string') return header;
  return typeof connectionParams.token === 'string' ? `Bearer ${connectionParams.token}` : undefined;
}

export function createGraphqlServer(app: App) {
  const { config, dashboard } = app;
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
      useOperationMetrics(app.metrics),
      useSharedSubscriptionExecution(subscriptionAudience),
      ...useOperationLimits(config.operationLimits),
      useNoNulCharacters(),
      useReadableRequests(),
      useRequestBodyLimit(MAX_GRAPHQL_BODY_BYTES),
    ],
    // GraphiQL is served by src/pages/graphiql.ts, from our own origin and with its own CSP.
    graphiql: false,
    context: async ({ request, connectionParams, params, req }: { request: Request; connectionParams?: Record<string, unknown>; params?: { query?: string; operationName?: string | null }; req?: http.IncomingMessage }) => ({
      app,
      viewer: await app.auth.viewerOf(
        connectionParams ? (authorizationParam(connectionParams) ?? (await dashboard.sessions.authorization(req, params))) : await dashboard.sessions.authorization(request, params),
      ),
    }),
  });

  return {
    yoga,
    /** Serves subscriptions over WebSocket (graphql-ws) on the server's /graphql. */
    serveWebSockets(server: http.Server) {
      const webSockets = new WebSocketServer({ server, path: '/graphql', maxPayload: MAX_GRAPHQL_BODY_BYTES });
      app.countWebSocketsWith(() => webSockets.clients.size);
      const wsServer = serveGraphqlOverWebSocket<Record<string, unknown>>(
        {
          onConnect: async ({ connectionParams, ...ctx }) => {
            try {
              await app.auth.bearer.authenticate(authorizationParam(connectionParams ?? {}) ?? (await dashboard.sessions.authorization(ctx.extra.request)));
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
      return {
        /** Subscribers learn why (1001: going away) and can reconnect to another process. */
        async close() {
          for (const socket of webSockets.clients) socket.close(1001, 'Server shutting down');
          await wsServer.dispose();
        },
      };
    },
  };
}
