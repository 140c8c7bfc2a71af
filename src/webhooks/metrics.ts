// The webhook metrics, registered in the service's registry (aggregated over WORKERS like the rest).
import { Counter, Gauge, Histogram } from 'prom-client';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { ServiceMetrics } from '../observability/metrics.js';
import { pendingDeliveryCount } from './store.js';

export type AttemptMetricOutcome = 'delivered' | 'retry' | 'failed' | 'gone';

export interface WebhookMetrics {
  observeAttempt(outcome: AttemptMetricOutcome, seconds: number): void;
}

const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];

export function createWebhookMetrics(metrics: ServiceMetrics, prisma: PrismaClient): WebhookMetrics {
  const registers = [metrics.registry];
  new Gauge({
    name: 'srs_webhook_backlog',
    help: 'Webhook deliveries not yet delivered or failed for good (due, waiting for a retry or in flight), in the whole database.',
    registers,
    aggregator: 'first',
    async collect() {
      this.set(await pendingDeliveryCount(prisma));
    },
  });
  const attempts = new Counter({
    name: 'srs_webhook_attempts_total',
    help: 'Webhook attempts by outcome: delivered (2xx), retry (will be tried again), failed (no attempt left), gone (410: endpoint disabled).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'srs_webhook_attempt_duration_seconds',
    help: 'How long webhook attempts took, answer included, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  return {
    observeAttempt(outcome, seconds) {
      attempts.inc({ outcome });
      latency.observe({ outcome }, seconds);
    },
  };
}
