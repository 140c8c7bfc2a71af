// The operator's endpoints: /health for load balancers and orchestrators, /metrics for Prometheus.
import type http from 'node:http';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { ServiceMetrics } from '../observability/metrics.js';
import { log } from '../observability/log.js';
import { sendJson } from '../partners/http-helpers.js';

/** 200 while the database answers; 503 when it does not, or once this process is shutting down. */
export async function sendHealth(response: http.ServerResponse, prisma: PrismaClient, databaseKind: string, shuttingDown: boolean): Promise<void> {
  if (shuttingDown) return sendJson(response, 503, { status: 'shutting_down', database: databaseKind });
  try {
    await prisma.$queryRaw`SELECT 1`;
    sendJson(response, 200, { status: 'ok', database: databaseKind });
  } catch {
    sendJson(response, 503, { status: 'unavailable', database: databaseKind });
  }
}

/** Prometheus exposition; with METRICS_TOKEN set, only for `Authorization: Bearer <that token>`. */
export async function sendMetrics(request: http.IncomingMessage, response: http.ServerResponse, metrics: ServiceMetrics, token: string | undefined): Promise<void> {
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
