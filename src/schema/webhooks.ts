import { decodeGlobalID } from '@pothos/plugin-relay';
import { builder } from './builder.js';
import { UserErrorType } from './user-errors.js';
import { OrderEventTypeEnum } from './orders.js';
import type { WebhookEndpoint } from '../generated/prisma/client.js';
import type { Result, UserError } from '../domain/user-errors.js';
import { webhookMessageId } from '../webhooks/signer.js';
import { visibleEndpoints } from '../webhooks/manager.js';

/** Webhooks belong to service providers (and are overseen by ADMIN clients). */
const webhookScopes = { $any: { role: 'ADMIN', scope: 'orders:read' } } as const;

const WebhookDeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  description: 'Where the delivery of one event to one endpoint stands.',
  values: {
    PENDING: { description: 'Not delivered yet: due, in flight, waiting for a retry, or for an earlier event of its order.' },
    DELIVERED: { description: 'The endpoint answered 2xx.' },
    FAILED: { description: 'Every attempt failed, or the endpoint answered 410 Gone; redeliverWebhooks queues it again.' },
  },
});

export const WebhookDeliveryType = builder.prismaNode('WebhookDelivery', {
  description: 'One order event for one endpoint, with the state of its attempts.',
  id: { field: 'id' },
  findUnique: (id, context) => ({ id, endpoint: visibleEndpoints(context.viewer) }) as never,
  // Another client's delivery is null, not an error.
  nullable: true,
  fields: (t) => ({
    messageId: t.string({
      description: 'The webhook-id header: one per event and endpoint, the same on every attempt.',
      resolve: (delivery) => webhookMessageId(delivery.id),
    }),
    eventType: t.field({
      type: OrderEventTypeEnum,
      description: 'What happened to the order.',
      select: { event: { select: { type: true } } },
      resolve: (delivery) => delivery.event.type,
    }),
    refId: t.id({
      description: 'The order’s reference id.',
      select: { event: { select: { order: { select: { refId: true } } } } },
      resolve: (delivery) => delivery.event.order.refId,
    }),
    status: t.field({ type: WebhookDeliveryStatusEnum, description: 'Where it stands.', resolve: (delivery) => delivery.status }),
    attempts: t.exposeInt('attempts', { description: 'Attempts made so far (one may be in flight).' }),
    lastResponseStatus: t.exposeInt('lastResponseStatus', { nullable: true, description: 'The HTTP status of the last answer; null when there was none.' }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'Why the last attempt failed: the status and a short excerpt of the answer, or the connection error.' }),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the next attempt is due (while one is in flight: when it is given up); null once delivered or failed.',
      select: { nextAttemptAt: true, status: true },
      resolve: (delivery) => (delivery.status === 'PENDING' ? delivery.nextAttemptAt : null),
    }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true, description: 'When the endpoint answered 2xx.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the event was queued for the endpoint.' }),
  }),
});

export const WebhookEndpointType = builder.prismaNode('WebhookEndpoint', {
  description: 'A URL of your backend that receives your orders’ events, signed as Standard Webhooks.',
  id: { field: 'id' },
  findUnique: (id, context) => ({ id, ...visibleEndpoints(context.viewer) }) as never,
  nullable: true,
  fields: (t) => ({
    url: t.exposeString('url', { description: 'Where the events are POSTed.' }),
    description: t.exposeString('description', { nullable: true, description: 'Your note about it.' }),
    eventTypes: t.field({
      type: [OrderEventTypeEnum],
      description: 'The event types it receives. Empty: every event type.',
      resolve: (endpoint) => endpoint.eventTypes,
    }),
    enabled: t.exposeBoolean('enabled', { description: 'False: nothing is queued for it and its pending deliveries wait (disabled by you, or by a 410 Gone answer).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    deliveries: t.relatedConnection(
      'deliveries',
      {
        description: 'Its delivery log, newest first, a page at a time.',
        cursor: 'id',
        totalCount: true,
        args: { status: t.arg({ type: WebhookDeliveryStatusEnum, description: 'Only deliveries in this state.' }) },
        query: (args) => ({ where: args.status ? { status: args.status } : {}, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
        defaultSize: 20,
        maxSize: 100,
      },
      { name: 'WebhookDeliveryConnection', description: 'A page of deliveries.' },
      { name: 'WebhookDeliveryEdge', description: 'A delivery in a page.' },
    ),
  }),
});

builder.queryField('webhookEndpoints', (t) =>
  t.prismaField({
    type: ['WebhookEndpoint'],
    description: 'The caller’s webhook endpoints (service provider: its own; ADMIN: all).',
    authScopes: webhookScopes,
    resolve: (query, _root, _args, context) => context.app.webhooks.endpointsOf(context.viewer, query),
  }),
);

/** The local id of a global id of `typename`, or null for anything else (answered as NOT_FOUND). */
function localId(globalId: string | number | null | undefined, typename: string): string | null {
  try {
    const decoded = decodeGlobalID(String(globalId));
    // NUL: no id holds one, and PostgreSQL refuses it in a query (an internal error).
    return decoded.typename === typename && !decoded.id.includes('\u0000') ? decoded.id : null;
  } catch {
    return null;
  }
}

const SecretPayload = builder.objectRef<{ endpoint: WebhookEndpoint | null; secret: string | null; userErrors: UserError[] }>('CreateWebhookEndpointPayload').implement({
  description: 'The endpoint and its new signing secret, or why the input was refused.',
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointType, nullable: true, description: 'The endpoint; null when refused.', resolve: (payload) => payload.endpoint }),
    secret: t.exposeString('secret', { nullable: true, description: 'The whsec_ signing secret, shown once.' }),
    userErrors: t.field({ type: [UserErrorType], description: 'Why it was refused; empty on success.', resolve: (payload) => payload.userErrors }),
  }),
});

function secretPayload(result: Result<{ endpoint: WebhookEndpoint; secret: string }>) {
  return result.ok ? { ...result.value, userErrors: [] } : { endpoint: null, secret: null, userErrors: result.errors };
}

const EndpointPayload = builder.objectRef<{ endpoint: WebhookEndpoint | null; userErrors: UserError[] }>('WebhookEndpointPayload').implement({
  description: 'The endpoint, or why the input was refused.',
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointType, nullable: true, description: 'The endpoint (as it was, when deleted); null when refused.', resolve: (payload) => payload.endpoint }),
    userErrors: t.field({ type: [UserErrorType], description: 'Why it was refused; empty on success.', resolve: (payload) => payload.userErrors }),
  }),
});

function endpointPayload(result: Result<WebhookEndpoint>) {
  return result.ok ? { endpoint: result.value, userErrors: [] } : { endpoint: null, userErrors: result.errors };
}

const CreateWebhookEndpointInput = builder.inputType('CreateWebhookEndpointInput', {
  description: 'A new webhook endpoint.',
  fields: (t) => ({
    url: t.string({ required: true, description: 'An http(s) URL on the public internet (no private, loopback or link-local address).' }),
    description: t.string({ description: 'Your note about it (at most 500 characters).' }),
    eventTypes: t.field({ type: [OrderEventTypeEnum], description: 'The event types to receive; absent or empty: all.' }),
  }),
});

builder.mutationField('createWebhookEndpoint', (t) =>
  t.field({
    type: SecretPayload,
    description: 'Registers an endpoint for your orders’ events; the answer holds its signing secret, shown this once.',
    authScopes: webhookScopes,
    args: { input: t.arg({ type: CreateWebhookEndpointInput, required: true }) },
    resolve: async (_root, { input }, context) => secretPayload(await context.app.webhooks.create(context.viewer, input)),
  }),
);

const UpdateWebhookEndpointInput = builder.inputType('UpdateWebhookEndpointInput', {
  description: 'Changes to an endpoint; absent fields stay as they are.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The endpoint’s id.' }),
    url: t.string({ description: 'A new URL, checked as at creation.' }),
    description: t.string({ description: 'A new note; empty clears it.' }),
    eventTypes: t.field({ type: [OrderEventTypeEnum], description: 'The event types to receive from now on; empty: all.' }),
    enabled: t.boolean({ description: 'False: stop queueing events for it; true: resume (its pending deliveries go out).' }),
  }),
});

builder.mutationField('updateWebhookEndpoint', (t) =>
  t.field({
    type: EndpointPayload,
    description: 'Changes one of your endpoints.',
    authScopes: webhookScopes,
    args: { input: t.arg({ type: UpdateWebhookEndpointInput, required: true }) },
    resolve: async (_root, { input }, context) =>
      endpointPayload(await context.app.webhooks.update(context.viewer, { ...input, id: localId(input.id, 'WebhookEndpoint') })),
  }),
);

const RotateWebhookSecretInput = builder.inputType('RotateWebhookSecretInput', {
  description: 'Which endpoint gets a new secret.',
  fields: (t) => ({ id: t.id({ required: true, description: 'The endpoint’s id.' }) }),
});

builder.mutationField('rotateWebhookSecret', (t) =>
  t.field({
    type: SecretPayload,
    description: 'A new signing secret; the old one keeps signing beside it for 24 hours (two signatures).',
    authScopes: webhookScopes,
    args: { input: t.arg({ type: RotateWebhookSecretInput, required: true }) },
    resolve: async (_root, { input }, context) =>
      secretPayload(await context.app.webhooks.rotateSecret(context.viewer, { id: localId(input.id, 'WebhookEndpoint') })),
  }),
);

const DeleteWebhookEndpointInput = builder.inputType('DeleteWebhookEndpointInput', {
  description: 'Which endpoint to delete.',
  fields: (t) => ({ id: t.id({ required: true, description: 'The endpoint’s id.' }) }),
});

builder.mutationField('deleteWebhookEndpoint', (t) =>
  t.field({
    type: EndpointPayload,
    description: 'Deletes one of your endpoints with its delivery log; nothing more is sent to it.',
    authScopes: webhookScopes,
    args: { input: t.arg({ type: DeleteWebhookEndpointInput, required: true }) },
    resolve: async (_root, { input }, context) =>
      endpointPayload(await context.app.webhooks.delete(context.viewer, { id: localId(input.id, 'WebhookEndpoint') })),
  }),
);

const RedeliverWebhooksInput = builder.inputType('RedeliverWebhooksInput', {
  description: 'Which deliveries of an endpoint to queue again: the given ones, or the failed ones (since a time).',
  fields: (t) => ({
    endpointId: t.id({ required: true, description: 'The endpoint’s id.' }),
    deliveryIds: t.idList({ description: 'These deliveries (delivered or failed ones; pending ones are queued already).' }),
    failedSince: t.field({ type: 'DateTime', description: 'Every FAILED delivery created at or after this time.' }),
  }),
});

const RedeliverWebhooksPayload = builder.objectRef<{ queued: number; userErrors: UserError[] }>('RedeliverWebhooksPayload').implement({
  description: 'How many deliveries were queued again, or why the input was refused.',
  fields: (t) => ({
    queued: t.exposeInt('queued', { description: 'Deliveries queued again, each with a fresh retry schedule.' }),
    userErrors: t.field({ type: [UserErrorType], description: 'Why it was refused; empty on success.', resolve: (payload) => payload.userErrors }),
  }),
});

builder.mutationField('redeliverWebhooks', (t) =>
  t.field({
    type: RedeliverWebhooksPayload,
    description: 'Queue the endpoint’s deliveries again: the given ones, or every failed one since a time (no time: every failed one).',
    authScopes: webhookScopes,
    args: { input: t.arg({ type: RedeliverWebhooksInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const result = await context.app.webhooks.redeliver(context.viewer, {
        endpointId: localId(input.endpointId, 'WebhookEndpoint'),
        deliveryIds: input.deliveryIds?.map((id) => localId(id, 'WebhookDelivery')),
        failedSince: input.failedSince,
      });
      return result.ok ? { queued: result.value, userErrors: [] } : { queued: 0, userErrors: result.errors };
    },
  }),
);
