// What callers may do with webhook endpoints: a service provider manages its own, an ADMIN all.
// Every refusal is a user error with a code and the path of the input field at fault.
import type { PrismaClient, WebhookEndpoint, Prisma } from '../generated/prisma/client.js';
import type { OrderEventType } from '../generated/prisma/enums.js';
import type { DataProtection } from '../crypto/data-protection.js';
import type { Viewer } from '../auth/viewer.js';
import { failed, ok, userError, type Result } from '../domain/user-errors.js';
import type { WebhookConfig } from './config.js';
import { newWebhookSecret } from './signer.js';
import { resolveDestination, type Resolver } from './url-guard.js';
import {
  countEndpointsOf,
  createEndpointRow,
  deleteEndpointRow,
  findEndpoint,
  listEndpoints,
  requeueDeliveries,
  rotateEndpointSecret,
  updateEndpointRow,
} from './store.js';

export interface WebhookManagerDeps {
  prisma: PrismaClient;
  dataProtection: DataProtection;
  config: { webhooks: WebhookConfig };
  /** Wakes this process's delivery worker (redeliveries are due at once). */
  onWebhooksQueued?: () => void;
  resolve?: Resolver;
}

const MAX_DESCRIPTION_LENGTH = 500;
const MAX_ENDPOINTS_PER_CLIENT = 20;
const MAX_REDELIVERY_IDS = 1000;

/** The endpoints a viewer may see and change. */
export function visibleEndpoints(viewer: Viewer): Prisma.WebhookEndpointWhereInput {
  return viewer.role === 'ADMIN' ? {} : { clientId: viewer.clientId };
}

export function webhookEndpointsOf(prisma: PrismaClient, viewer: Viewer, query: object = {}): Promise<WebhookEndpoint[]> {
  return listEndpoints(prisma, visibleEndpoints(viewer), query);
}

async function checkUrl(deps: WebhookManagerDeps, url: string): Promise<Result<string>> {
  const destination = await resolveDestination(url.trim(), { allowPrivate: deps.config.webhooks.allowPrivateDestinations, resolve: deps.resolve });
  return destination.ok ? ok(destination.url.toString()) : failed(userError('INVALID_URL', destination.reason, ['input', 'url']));
}

function checkDescription(description: string | null | undefined): Result<string | null> {
  const trimmed = description?.trim() || null;
  if (trimmed && trimmed.length > MAX_DESCRIPTION_LENGTH) {
    return failed(userError('INVALID_INPUT', `The description is longer than ${MAX_DESCRIPTION_LENGTH} characters.`, ['input', 'description']));
  }
  // PostgreSQL text cannot hold NUL: refused here, or the insert fails with a 500.
  if (trimmed?.includes('\u0000')) return failed(userError('INVALID_INPUT', 'The description must not contain NUL characters.', ['input', 'description']));
  return ok(trimmed);
}

const distinct = (types: readonly OrderEventType[] | null | undefined): OrderEventType[] => [...new Set(types ?? [])];

export async function createWebhookEndpoint(
  deps: WebhookManagerDeps,
  viewer: Viewer,
  input: { url: string; description?: string | null; eventTypes?: readonly OrderEventType[] | null },
): Promise<Result<{ endpoint: WebhookEndpoint; secret: string }>> {
  const url = await checkUrl(deps, input.url);
  const description = checkDescription(input.description);
  const errors = [url, description].flatMap((result) => (result.ok ? [] : result.errors));
  if (errors.length || !url.ok || !description.ok) return failed(...errors);
  const count = await countEndpointsOf(deps.prisma, viewer.clientId);
  if (count >= MAX_ENDPOINTS_PER_CLIENT) {
    return failed(userError('INVALID_INPUT', `A client may have at most ${MAX_ENDPOINTS_PER_CLIENT} webhook endpoints; delete one first.`, ['input']));
  }
  const secret = newWebhookSecret();
  const endpoint = await createEndpointRow(deps.prisma, {
    clientId: viewer.clientId,
    url: url.value,
    description: description.value,
    eventTypes: distinct(input.eventTypes),
    secretSealed: deps.dataProtection.seal(secret),
  });
  return ok({ endpoint, secret });
}

async function ownEndpoint(deps: WebhookManagerDeps, viewer: Viewer, id: string | null, field = ['input', 'id']): Promise<Result<WebhookEndpoint>> {
  const endpoint = id ? await findEndpoint(deps.prisma, id, visibleEndpoints(viewer)) : null;
  return endpoint ? ok(endpoint) : failed(userError('NOT_FOUND', 'No webhook endpoint with this id is yours.', field));
}

export async function updateWebhookEndpoint(
  deps: WebhookManagerDeps,
  viewer: Viewer,
  input: { id: string | null; url?: string | null; description?: string | null; eventTypes?: readonly OrderEventType[] | null; enabled?: boolean | null },
): Promise<Result<WebhookEndpoint>> {
  const endpoint = await ownEndpoint(deps, viewer, input.id);
  if (!endpoint.ok) return endpoint;
  const url = input.url != null ? await checkUrl(deps, input.url) : undefined;
  const description = input.description !== undefined ? checkDescription(input.description) : undefined;
  const errors = [url, description].flatMap((result) => (result && !result.ok ? result.errors : []));
  if (errors.length) return failed(...errors);
  return ok(
    await updateEndpointRow(deps.prisma, endpoint.value.id, {
      ...(url?.ok && { url: url.value }),
      ...(description?.ok && { description: description.value }),
      ...(input.eventTypes != null && { eventTypes: distinct(input.eventTypes) }),
      ...(input.enabled != null && { enabled: input.enabled }),
    }),
  );
}

export async function rotateWebhookSecret(deps: WebhookManagerDeps, viewer: Viewer, input: { id: string | null }): Promise<Result<{ endpoint: WebhookEndpoint; secret: string }>> {
  const endpoint = await ownEndpoint(deps, viewer, input.id);
  if (!endpoint.ok) return endpoint;
  const secret = newWebhookSecret();
  const overlapUntil = new Date(Date.now() + deps.config.webhooks.secretOverlapSeconds * 1000);
  return ok({ endpoint: await rotateEndpointSecret(deps.prisma, endpoint.value, deps.dataProtection.seal(secret), overlapUntil), secret });
}

export async function deleteWebhookEndpoint(deps: WebhookManagerDeps, viewer: Viewer, input: { id: string | null }): Promise<Result<WebhookEndpoint>> {
  const endpoint = await ownEndpoint(deps, viewer, input.id);
  if (!endpoint.ok) return endpoint;
  return ok(await deleteEndpointRow(deps.prisma, endpoint.value.id));
}

export async function redeliverWebhooks(
  deps: WebhookManagerDeps,
  viewer: Viewer,
  input: { endpointId: string | null; deliveryIds?: Array<string | null> | null; failedSince?: Date | null },
): Promise<Result<number>> {
  const endpoint = await ownEndpoint(deps, viewer, input.endpointId, ['input', 'endpointId']);
  if (!endpoint.ok) return endpoint;
  if (input.deliveryIds && input.failedSince) {
    return failed(userError('INVALID_INPUT', 'Give either deliveryIds or failedSince, not both.', ['input', 'failedSince']));
  }
  if (input.deliveryIds && input.deliveryIds.length > MAX_REDELIVERY_IDS) {
    return failed(userError('INVALID_INPUT', `At most ${MAX_REDELIVERY_IDS} deliveries at once.`, ['input', 'deliveryIds']));
  }
  const unknown = input.deliveryIds?.findIndex((id) => id === null);
  if (unknown !== undefined && unknown >= 0) {
    return failed(userError('NOT_FOUND', 'No delivery of this endpoint has this id.', ['input', 'deliveryIds', String(unknown)]));
  }
  const queued = await requeueDeliveries(deps.prisma, endpoint.value.id, {
    deliveryIds: input.deliveryIds?.filter((id): id is string => id !== null),
    failedSince: input.failedSince ?? undefined,
  });
  if (queued) deps.onWebhooksQueued?.();
  return ok(queued);
}
