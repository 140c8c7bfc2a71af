// The delivery worker: drains the webhook outbox when woken and on a timer.
import type { PrismaClient } from '../generated/prisma/client.js';
import type { DataProtection } from '../crypto/data-protection.js';
import type { EventBus } from '../events/bus.js';
import type { ServiceMetrics } from '../observability/metrics.js';
import { log, withLogScope } from '../observability/log.js';
import type { WebhookConfig } from './config.js';
import { webhookBody } from './events.js';
import { createWebhookMetrics, type AttemptMetricOutcome, type WebhookMetrics } from './metrics.js';
import { nextStep, type AttemptOutcome } from './retry-policy.js';
import { postWebhook } from './sender.js';
import { signedHeaders, webhookMessageId } from './signer.js';
import { claimDueDeliveries, deliveryForAttempt, nextDueAt, recordAttempt, type ClaimedDelivery } from './store.js';
import { resolveDestination, type Resolver } from './url-guard.js';

/** Deliveries attempted at once by one process (never two of one order for one endpoint). */
const BATCH = 16;
/** A claim lapses this long after the attempt's timeout: by then the attempt has surely ended. */
const LEASE_MARGIN_SECONDS = 30;
/** The longest an event's first delivery attempt waits for the events committed just after it. */
const NOTICE_COALESCE_MS = 50;

export interface WebhookWorkerDeps {
  prisma: PrismaClient;
  dataProtection: DataProtection;
  config: WebhookConfig;
  metrics: WebhookMetrics;
  resolve?: Resolver;
  /** True once the process is shutting down: the drain stops after the attempts in flight. */
  stopping?: () => boolean;
}

/** Claims due deliveries and attempts them until none is due; returns how many attempts it made. */
export async function drainWebhookOutbox(deps: WebhookWorkerDeps): Promise<number> {
  let attempted = 0;
  while (!deps.stopping?.()) {
    const claimed = await claimDueDeliveries(deps.prisma, BATCH, deps.config.timeoutSeconds + LEASE_MARGIN_SECONDS);
    if (claimed.length === 0) return attempted;
    await Promise.all(claimed.map((claim) => attempt(deps, claim)));
    attempted += claimed.length;
  }
  return attempted;
}

async function attempt(deps: WebhookWorkerDeps, claim: ClaimedDelivery): Promise<void> {
  const delivery = await deliveryForAttempt(deps.prisma, claim.id);
  if (!delivery) return;
  const { endpoint, event } = delivery;
  const started = performance.now();
  const now = new Date();
  let outcome: AttemptOutcome;
  const destination = await resolveDestination(endpoint.url, { allowPrivate: deps.config.allowPrivateDestinations, resolve: deps.resolve });
  if (!destination.ok) {
    outcome = { kind: 'error', message: `Refused: ${destination.reason}` };
  } else {
    const secrets = [deps.dataProtection.open<string>(endpoint.secretSealed)];
    if (endpoint.previousSecretSealed && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now) {
      secrets.push(deps.dataProtection.open<string>(endpoint.previousSecretSealed));
    }
    const body = webhookBody({ ...event, refId: event.order.refId, externalId: event.order.externalId });
    outcome = await postWebhook(destination, signedHeaders(webhookMessageId(delivery.id), now, body, secrets), body, deps.config.timeoutSeconds * 1000);
  }
  const step = nextStep(outcome, claim.attempts, deps.config.retryScheduleSeconds, new Date());
  const recorded = await recordAttempt(deps.prisma, claim, endpoint.id, step);
  const metricOutcome: AttemptMetricOutcome = step.disableEndpoint ? 'gone' : step.status === 'DELIVERED' ? 'delivered' : step.status === 'FAILED' ? 'failed' : 'retry';
  deps.metrics.observeAttempt(metricOutcome, (performance.now() - started) / 1000);
  if (step.status !== 'DELIVERED') {
    log().warn({ deliveryId: delivery.id, endpointId: endpoint.id, refId: event.order.refId, attempt: claim.attempts, outcome: metricOutcome, error: step.lastError, recorded }, 'a webhook attempt failed');
  }
}

/**
 * Drains the outbox when an order event commits anywhere (the event bus's notices), when the
 * earliest retry falls due, and every `pollSeconds` as a catch-up. Never two drains at once in
 * one process; other processes drain beside it, each claiming different deliveries.
 */
export function startWebhookWorker(deps: { prisma: PrismaClient; dataProtection: DataProtection; bus: EventBus; metrics: ServiceMetrics; config: WebhookConfig; resolve?: Resolver }) {
  let stopped = false;
  const workerDeps: WebhookWorkerDeps = { ...deps, metrics: createWebhookMetrics(deps.metrics, deps.prisma), stopping: () => stopped };
  let running: Promise<unknown> = Promise.resolve();
  let queued = false;
  let dueTimer: NodeJS.Timeout | undefined;

  const scheduleNextDue = async () => {
    const due = await nextDueAt(deps.prisma);
    clearTimeout(dueTimer);
    if (!due || stopped) return;
    const waitMs = Math.max(0, due.getTime() - Date.now()) + 20;
    if (waitMs < deps.config.pollSeconds * 1000) dueTimer = setTimeout(wake, waitMs).unref();
  };

  const wake = () => {
    if (queued || stopped) return;
    queued = true;
    running = running.then(() => {
      queued = false;
      return withLogScope({ job: 'webhooks' }, () =>
        drainWebhookOutbox(workerDeps)
          .then(scheduleNextDue)
          .then(
            () => deps.metrics.observeJobRun('webhooks', 'ok'),
            (error: unknown) => {
              deps.metrics.observeJobRun('webhooks', 'error');
              log().error({ err: error }, 'the webhook outbox failed');
            },
          ),
      );
    });
  };
  // An event notice wakes the drain at most once per NOTICE_COALESCE_MS: under load every order
  // sent two notices, each costing a claim and a look for the next due delivery (4 of the 10
  // statements of a placeOrder), almost always for no delivery at all.
  let noticeTimer: NodeJS.Timeout | undefined;
  const wakeOnNotice = () => {
    noticeTimer ??= setTimeout(() => {
      noticeTimer = undefined;
      wake();
    }, NOTICE_COALESCE_MS);
  };
  const unsubscribe = deps.bus.subscribe(wakeOnNotice);
  const timer = setInterval(wake, deps.config.pollSeconds * 1000);
  timer.unref();
  wake();
  return {
    wake,
    async stop() {
      stopped = true;
      unsubscribe();
      clearInterval(timer);
      clearTimeout(dueTimer);
      clearTimeout(noticeTimer);
      await running;
    },
  };
}
