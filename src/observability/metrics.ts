import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PrismaClient } from '../generated/prisma/client.js';
import { ORDER_STATUSES } from '../domain/order-status.js';
import { countPendingSms, oldestDueSmsAt } from '../sms/outbox.js';
import { isWorker, metricsOfAllWorkers } from '../workers.js';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type JobName = 'timeouts' | 'sms-outbox' | 'webhooks' | 'order-recovery';

/** The service's Prometheus metrics, one registry per running service (with WORKERS, answered for all workers). */
export interface ServiceMetrics {
  readonly registry: Registry;
  /** A GraphQL operation ran: its root fields, its type and whether it answered with errors. */
  observeOperation(operation: string, type: string, outcome: 'ok' | 'error', seconds: number): void;
  /** An HTTP request ended (every route, GraphQL included). */
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  /** A background job finished a run; `lagSeconds`: how overdue its oldest due work was. */
  observeJobRun(job: JobName, outcome: 'ok' | 'error', lagSeconds?: number): void;
  /** The Prometheus text exposition. */
  render(): Promise<string>;
}

export function createMetrics(deps: { prisma: PrismaClient; openSubscriptions: () => number; webSocketConnections: () => number }): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'srs_' });
  const registers = [registry];
  if (isWorker()) {
    // A scrape reaches one worker; it answers for all (see metricsOfAllWorkers). The primary
    // collects this registry from each worker through prom-client's cluster messages.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([registry]);
  }

  const operationDuration = new Histogram({
    name: 'srs_graphql_operation_duration_seconds',
    help: 'GraphQL operations by root fields (e.g. placeOrder), type and outcome; subscriptions are timed until their first answer.',
    labelNames: ['operation', 'type', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const requestDuration = new Histogram({
    name: 'srs_http_request_duration_seconds',
    help: 'HTTP requests by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const jobRuns = new Counter({ name: 'srs_job_runs_total', help: 'Runs of background jobs by outcome.', labelNames: ['job', 'outcome'] as const, registers });
  // With WORKERS, counters, histograms and per-process gauges add up over the workers; what each
  // reads from the shared database is the same for all (`first`), and of job timings the worst
  // or latest counts (`max`).
  const jobLag = new Gauge({
    name: 'srs_job_lag_seconds',
    help: 'How overdue the oldest due work of a job was at its last run (0: nothing was late).',
    labelNames: ['job'] as const,
    registers,
    aggregator: 'max',
  });
  const jobLastRun = new Gauge({
    name: 'srs_job_last_run_timestamp_seconds',
    help: 'When a job last finished a run (Unix time).',
    labelNames: ['job'] as const,
    registers,
    aggregator: 'max',
  });

  new Gauge({
    name: 'srs_orders',
    help: 'Orders by status, in the whole database.',
    labelNames: ['status'] as const,
    registers,
    aggregator: 'first',
    async collect() {
      const counts = await deps.prisma.order.groupBy({ by: ['status'], _count: { _all: true } });
      for (const status of ORDER_STATUSES) this.set({ status }, counts.find((row) => row.status === status)?._count._all ?? 0);
    },
  });
  new Gauge({
    name: 'srs_open_subscriptions',
    help: 'GraphQL subscriptions streaming order events from this process (WebSocket and SSE).',
    registers,
    collect() {
      this.set(deps.openSubscriptions());
    },
  });
  new Gauge({
    name: 'srs_websocket_connections',
    help: 'Open graphql-ws connections to this process.',
    registers,
    collect() {
      this.set(deps.webSocketConnections());
    },
  });
  new Gauge({
    name: 'srs_sms_outbox_backlog',
    help: 'SMS messages waiting to be sent (due now or waiting for a retry), in the whole database.',
    registers,
    aggregator: 'first',
    async collect() {
      this.set(await countPendingSms(deps.prisma));
    },
  });
  new Gauge({
    name: 'srs_sms_outbox_oldest_due_seconds',
    help: 'How long the oldest due SMS has been waiting to be sent (0: none is due).',
    registers,
    aggregator: 'max',
    async collect() {
      const due = await oldestDueSmsAt(deps.prisma);
      this.set(due ? Math.max(0, (Date.now() - due.getTime()) / 1000) : 0);
    },
  });

  return {
    registry,
    observeOperation(operation, type, outcome, seconds) {
      operationDuration.observe({ operation, type, outcome }, seconds);
    },
    observeRequest(route, method, status, seconds) {
      requestDuration.observe({ route, method, status: String(status) }, seconds);
    },
    observeJobRun(job, outcome, lagSeconds) {
      jobRuns.inc({ job, outcome });
      if (outcome === 'ok' && lagSeconds !== undefined) jobLag.set({ job }, lagSeconds);
      jobLastRun.set({ job }, Date.now() / 1000);
    },
    render: () => (isWorker() ? metricsOfAllWorkers() : registry.metrics()),
  };
}
