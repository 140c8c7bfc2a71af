// Every HTTP request goes through here: its request id, the security headers, the access log
// line and the request metric, the refusal while shutting down, and the last catch of errors.
import type http from 'node:http';
import { requestIdFrom, withLogScope } from '../observability/log.js';
import { loggablePath } from '../observability/redact.js';
import type { ServiceMetrics } from '../observability/metrics.js';
import { sendJson } from '../partners/http-helpers.js';
import type { RequestTracker } from '../shutdown.js';
import { answerRouteError, refuseImpossibleUrl } from './errors.js';
import { applySecurityHeaders } from './security-headers.js';
import { UNMATCHED_ROUTE, type Route } from './routes.js';

/** Health checks and scrapes would drown everything else in the access log. */
const UNLOGGED_ROUTES = new Set(['health', 'metrics']);

export function createRequestHandler(options: { routes: readonly Route[]; metrics: ServiceMetrics; https: boolean; requests: RequestTracker }) {
  const { routes, metrics, requests } = options;

  async function serve(request: http.IncomingMessage, response: http.ServerResponse, url: string, method: string, matching: Route[]): Promise<void> {
    refuseImpossibleUrl(url);
    if (requests.shuttingDown) {
      response.setHeader('connection', 'close');
      if (!matching[0]?.duringShutdown) {
        response.setHeader('retry-after', '1');
        return sendJson(response, 503, { error: 'shutting_down', message: 'This process is shutting down; send the request again (to another process).' });
      }
    }
    for (const route of matching) if ((await route.handle(request, response)) !== false) return;
    sendJson(response, 404, { error: 'not_found', message: `Nothing at ${method} ${url.split('?')[0]}.` });
  }

  return (request: http.IncomingMessage, response: http.ServerResponse): void => {
    const requestId = requestIdFrom(request.headers['x-request-id']);
    response.setHeader('x-request-id', requestId);
    applySecurityHeaders(response, { https: options.https });
    const started = performance.now();
    requests.requestStarted();
    const url = request.url ?? '/';
    const method = request.method ?? 'GET';
    const matching = routes.filter((route) => route.matches(url, method));
    const routeName = matching[0]?.name ?? UNMATCHED_ROUTE;
    withLogScope({ requestId }, (scope) => {
      response.once('close', () => {
        const seconds = (performance.now() - started) / 1000;
        metrics.observeRequest(routeName, method, response.statusCode, seconds);
        if (!UNLOGGED_ROUTES.has(routeName)) {
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
        requests.requestFinished();
      });
      // Whatever a route throws is answered here (4xx, 503 or a masked 500), never a crash.
      serve(request, response, url, method, matching).catch((error: unknown) => answerRouteError(response, error));
    });
  };
}
