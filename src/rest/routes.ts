// The commercial SRS's REST routes, served over the same services as the GraphQL API: this
// module routes, parses and maps (see mapping.ts); the rules are the services' own.
// Documented in docs/rest-api.openapi.json (test/unit/rest-openapi.test.ts keeps the two equal).
import fs from 'node:fs';
import type http from 'node:http';
import { GraphQLError } from 'graphql';
import type { App } from '../app.js';
import type { Viewer } from '../auth/viewer.js';
import { asDefinition } from '../services/methods.js';
import { log } from '../observability/log.js';
import { answerMediaType, EVIDENCE_MEDIA_TYPE, PROVIDER_MEDIA_TYPE, readJsonBody, RestError, sendError, sendJson } from './http.js';
import {
  identificationView,
  methodSegmentMatches,
  placedOrderView,
  placeOrderInputFrom,
  providerFilter,
  providerView,
  restErrorOf,
  verificationInputFrom,
  verificationView,
} from './mapping.js';
import { serveTokenRoute } from './token.js';

interface RouteCall {
  app: App;
  request: http.IncomingMessage;
  response: http.ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
}

/** What a token must allow for a route: the same scopes the GraphQL fields ask for (src/schema). */
const may = {
  listMethods: (viewer: Viewer) => viewer.scopes.includes('methods:read'),
  placeOrders: (viewer: Viewer) => viewer.scopes.includes('orders:write') && viewer.role === 'SERVICE_PROVIDER',
  // As the readOrders scope of src/schema/builder.ts: a provider's orders:read, or a partner's ipsp.
  readOrders: (viewer: Viewer) => viewer.scopes.includes('orders:read') || (viewer.role === 'IPSP' && viewer.scopes.includes('ipsp')),
  verify: (viewer: Viewer) => viewer.scopes.includes('verify'),
};

async function viewerAllowed(call: RouteCall, allowed: (viewer: Viewer) => boolean, what: string): Promise<Viewer> {
  let viewer: Viewer;
  try {
    // The bearer check and rate limit of the GraphQL API.
    viewer = await call.app.auth.viewerOf(call.request.headers.authorization);
  } catch (error) {
    if (error instanceof GraphQLError && error.extensions.code === 'UNAUTHENTICATED') throw new RestError(401, 'UNAUTHENTICATED', error.message);
    // The client's rate limit (README: Limits and security), with its Retry-After and RateLimit headers.
    if (error instanceof GraphQLError && error.extensions.code === 'RATE_LIMITED') {
      const http = error.extensions.http as { headers?: Record<string, string> } | undefined;
      throw new RestError(429, 'RATE_LIMITED', error.message, null, undefined, http?.headers ?? {});
    }
    throw error;
  }
  if (!allowed(viewer)) throw new RestError(403, 'FORBIDDEN', `This client's token does not allow it to ${what}.`);
  return viewer;
}

export interface RestRoute {
  method: 'GET' | 'POST';
  /** The path as OpenAPI writes it, e.g. /api/identifications/{refId}. */
  path: string;
  handle(call: RouteCall): Promise<void>;
}

/** The published description of these routes, served as it is in the repository. */
const OPENAPI_DOCUMENT = fs.readFileSync(new URL('../../docs/rest-api.openapi.json', import.meta.url), 'utf8');

export const REST_ROUTES: readonly RestRoute[] = [
  {
    method: 'GET',
    path: '/api/openapi.json',
    async handle({ response }) {
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' });
      response.end(OPENAPI_DOCUMENT);
    },
  },
  {
    method: 'POST',
    path: '/oauth/token',
    handle: ({ app, request, response, query }) => serveTokenRoute(request, response, query, app.oidcCallback),
  },
  {
    method: 'GET',
    path: '/api/providers',
    async handle(call) {
      await viewerAllowed(call, may.listMethods, 'list identification methods (methods:read)');
      const mediaType = answerMediaType(call.request, PROVIDER_MEDIA_TYPE);
      const filter = providerFilter(call.query, call.request.headers);
      const methods = await call.app.methods.list({}, filter);
      sendJson(call.response, 200, methods.map((method) => providerView(asDefinition(method))), mediaType);
    },
  },
  {
    method: 'POST',
    path: '/api/providers/{issuer}/{method}',
    async handle(call) {
      const viewer = await viewerAllowed(call, may.placeOrders, 'place orders (a service provider with orders:write)');
      const mediaType = answerMediaType(call.request, PROVIDER_MEDIA_TYPE);
      const body = await readJsonBody(call.request, PROVIDER_MEDIA_TYPE);
      const candidates = await call.app.methods.list({}, { issuers: [call.params.issuer] });
      const method = candidates.find((candidate) => methodSegmentMatches(candidate, call.params.method));
      if (!method) throw new RestError(404, 'METHOD_NOT_FOUND', `No identification method "${call.params.method}" of issuer "${call.params.issuer}"; GET /api/providers lists them.`);
      const idempotencyKey = call.request.headers['idempotency-key'];
      const input = placeOrderInputFrom(body, method.id, Array.isArray(idempotencyKey) ? idempotencyKey[0] : idempotencyKey);
      const result = await call.app.orders.place(viewer, input);
      if (!result.ok) throw restErrorOf(result.errors);
      // The target URL is stored sealed (it holds the order token): opened as the GraphQL field does.
      const placed = { ...result.value, targetUrl: call.app.orders.targetUrlOf(result.value) };
      sendJson(call.response, 201, placedOrderView(placed, method.name), mediaType, {
        location: `/api/identifications/${encodeURIComponent(result.value.refId)}`,
      });
    },
  },
  {
    method: 'GET',
    path: '/api/identifications/{refId}',
    async handle(call) {
      const viewer = await viewerAllowed(call, may.readOrders, 'read orders (orders:read)');
      const mediaType = answerMediaType(call.request, PROVIDER_MEDIA_TYPE);
      // As the `order` query: the caller's own orders (a partner: its issuer's).
      const order = await call.app.orders.withHistory(viewer, call.params.refId);
      if (!order) throw new RestError(404, 'ORDER_NOT_FOUND', `No order ${call.params.refId} of yours.`);
      sendJson(call.response, 200, identificationView(order, call.app.orders.mobileNumberOf(order)), mediaType);
    },
  },
  ...(['lookup', 'verify'] as const).map(
    (operation): RestRoute => ({
      method: 'POST',
      path: `/api/evidences/${operation}`,
      async handle(call) {
        const viewer = await viewerAllowed(call, may.verify, 'look up or verify numbers (verify)');
        const mediaType = answerMediaType(call.request, EVIDENCE_MEDIA_TYPE);
        const input = verificationInputFrom(await readJsonBody(call.request, EVIDENCE_MEDIA_TYPE), operation === 'verify');
        const result = await call.app.verification.verify(viewer, input);
        if (!result.ok) throw restErrorOf(result.errors);
        sendJson(call.response, 200, verificationView(result.value), mediaType);
      },
    }),
  ),
];

const MATCHERS = REST_ROUTES.map((route) => ({
  route,
  names: [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]),
  pattern: new RegExp(`^${route.path.replace(/\{\w+\}/g, '([^/]+)').replace(/\./g, '\\.')}/?$`),
}));

/** Whether a request path belongs to the REST routes (the others are none of their business). */
export function isRestPath(url: string): boolean {
  return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?') || url.startsWith('/oauth/');
}

/** The route and path parameters of a method and path, if any route serves them. */
export function matchRestRoute(method: string, path: string): { route: RestRoute; params: Record<string, string> } | { allowed: string[] } | null {
  const allowed: string[] = [];
  for (const { route, names, pattern } of MATCHERS) {
    const match = pattern.exec(path);
    if (!match) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    let params: Record<string, string>;
    try {
      params = Object.fromEntries(names.map((name, index) => [name, decodeURIComponent(match[index + 1])]));
    } catch {
      return null;
    }
    // No identifier holds NUL, and PostgreSQL refuses it in a query (a 500): nothing is there.
    if (Object.values(params).some((value) => value.includes('\u0000'))) return null;
    return { route, params };
  }
  return allowed.length ? { allowed } : null;
}

/** Serves one request of the REST routes: every refusal a JSON error with a code, never a stack. */
export async function serveRestRoute(app: App, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://srs.invalid');
  // The query string may hold client secrets (POST /oauth/token): nothing after this may log it.
  request.url = url.pathname;
  try {
    const found = matchRestRoute(request.method ?? 'GET', url.pathname);
    if (!found) throw new RestError(404, 'NOT_FOUND', `Nothing at ${request.method} ${url.pathname}.`);
    if ('allowed' in found) {
      response.setHeader('allow', found.allowed.join(', '));
      throw new RestError(405, 'METHOD_NOT_ALLOWED', `${url.pathname} takes ${found.allowed.join(', ')}.`);
    }
    await found.route.handle({ app, request, response, params: found.params, query: url.searchParams });
  } catch (error) {
    if (response.headersSent) {
      log().error({ err: error }, 'REST route failed after answering');
      response.destroy();
    } else if (error instanceof RestError) {
      sendError(response, error);
    } else {
      log().error({ err: error }, 'REST route failed');
      sendError(response, new RestError(500, 'INTERNAL', 'Unexpected error.'));
    }
  }
}
