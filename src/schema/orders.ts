import { decodeGlobalID } from '@pothos/plugin-relay';
import { builder } from './builder.js';
import { UserErrorType } from './user-errors.js';
import { ORDER_STATUSES } from '../domain/order-status.js';
import type { Order } from '../generated/prisma/client.js';
import type { Result, UserError } from '../domain/user-errors.js';
import { visibleOrders } from '../auth/visibility.js';

/**
 * For the nodes that belong to an order: read by its service provider and its issuer's partner
 * only; anyone else gets null (and FORBIDDEN without the scope), not even the type name.
 */
export const orderPartyNode = { authScopes: { readOrders: true }, nullable: true, runScopesOnType: true } as const;

export const OrderStatusEnum = builder.enumType('OrderStatus', {
  description: 'Where an order stands. TERMINATED, ERROR, NEGATIVELY_CONDUCTED, TIMEOUT and CANCELED are final.',
  values: {
    CREATED: { description: 'Stored; the order is being opened at the partner.' },
    INITIALIZED: { description: 'Open at the partner: send the user to the target URL.' },
    IDENTIFICATION_DONE: { description: 'Identified; the partner prepares the evidence.' },
    DATA_READY: { description: 'The partner has the evidence ready for import.' },
    TERMINATED: { description: 'Evidence stored (final). Follow verify/lookup until the T&C are accepted.' },
    ERROR: { description: 'Failed for a technical or fraud reason (final); place a new order.' },
    NEGATIVELY_CONDUCTED: { description: 'The identification failed, e.g. invalid document (final); check the reason.' },
    TIMEOUT: { description: 'Not finished or not used in time (final).' },
    CANCELED: { description: 'Canceled by the user or the service provider (final).' },
    ABORTED: { description: 'The user left; they may come back with the same target URL.' },
  } satisfies Record<(typeof ORDER_STATUSES)[number], unknown>,
});

export const OrderEventTypeEnum = builder.enumType('OrderEventType', {
  description: 'What happened to an order.',
  values: {
    STATUS_CHANGED: { description: 'The status changed.' },
    EVIDENCE_IMPORTED: { description: 'The partner imported the evidence.' },
    TERMS_SENT: { description: 'The T&C link was sent by SMS.' },
    TERMS_ACCEPTED: { description: 'The user accepted the T&C.' },
    TERMS_DECLINED: { description: 'The user declined the T&C.' },
  },
});

export const OrderType = builder.prismaNode('Order', {
  description: 'An identification order of a service provider at one partner. Reference id and IPSP order id are what support needs.',
  id: { field: 'id' },
  findUnique: (id, context) => ({ id, ...visibleOrders(context.viewer) }) as never,
  ...orderPartyNode,
  fields: (t) => ({
    refId: t.exposeID('refId', { description: 'The SRS reference id.' }),
    ipspOrderId: t.exposeString('ipspOrderId', { nullable: true, description: 'The partner’s order, ident or case id; set once the partner opened the order.' }),
    method: t.relation('method', { description: 'The identification method of the order.' }),
    status: t.field({ type: OrderStatusEnum, description: 'The current status.', resolve: (order) => order.status }),
    statusReason: t.exposeString('statusReason', { nullable: true, description: 'The reason given with the current status, verbatim from the partner.' }),
    targetUrl: t.string({
      nullable: true,
      description: 'Where to send the end user; use it exactly as given.',
      // Stored sealed: it carries the order token (see order-tokens.ts).
      resolve: (order, _args, context) => context.app.orders.targetUrlOf(order),
    }),
    targetUrlExpiresAt: t.expose('targetUrlExpiresAt', { type: 'DateTime', nullable: true, description: 'When the target URL stops working; null: until the order is cancelled.' }),
    externalId: t.exposeString('externalId', { nullable: true, description: 'The service provider’s own id, e.g. for its billing.' }),
    language: t.exposeString('language', { nullable: true, description: 'The language of the identification process.' }),
    disabledSmsAlerts: t.exposeBoolean('disabledSmsAlerts', { description: 'True: no T&C SMS; the service provider collects the T&C itself.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the order was placed.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the order last changed.' }),
    events: t.relation('events', { description: 'Every change of the order, oldest first.', query: { orderBy: { sequence: 'asc' } } }),
    evidence: t.relation('evidence', { nullable: true, description: 'The imported evidence, once TERMINATED.' }),
  }),
});

export const OrderEventType = builder.prismaNode('OrderEvent', {
  description: 'One change of an order.',
  id: { field: 'id' },
  findUnique: (id, context) => ({ id, order: visibleOrders(context.viewer) }) as never,
  ...orderPartyNode,
  fields: (t) => ({
    sequence: t.string({
      description: 'Strictly increasing across the service; resume a stream after the last one seen.',
      select: { sequence: true },
      resolve: (event) => event.sequence.toString(),
    }),
    type: t.field({ type: OrderEventTypeEnum, description: 'What happened.', resolve: (event) => event.type }),
    refId: t.id({ description: 'The order’s reference id.', select: { order: { select: { refId: true } } }, resolve: (event) => event.order.refId }),
    order: t.relation('order', { description: 'The order.' }),
    status: t.field({ type: OrderStatusEnum, description: 'The order’s status after the event.', resolve: (event) => event.status }),
    previousStatus: t.field({ type: OrderStatusEnum, nullable: true, description: 'The status before; null for the first event.', resolve: (event) => event.previousStatus }),
    reason: t.exposeString('reason', { nullable: true, description: 'The reason, verbatim from whoever caused it.' }),
    actor: t.exposeString('actor', { description: 'The client id that caused the event, or "system".' }),
    at: t.expose('at', { type: 'DateTime', description: 'When it happened.' }),
  }),
});

/** A mutation's answer about one order: the order, or why the input was refused. */
export const OrderPayload = (name: string, description: string) =>
  builder.objectRef<{ order: Order | null; userErrors: UserError[] }>(name).implement({
    description,
    fields: (t) => ({
      order: t.field({ type: OrderType, nullable: true, description: 'The order; null when the input was refused.', resolve: (payload) => payload.order }),
      userErrors: t.field({ type: [UserErrorType], description: 'Why the input was refused; empty on success.', resolve: (payload) => payload.userErrors }),
    }),
  });

export function orderPayload(result: Result<Order>) {
  return result.ok ? { order: result.value, userErrors: [] } : { order: null, userErrors: result.errors };
}

const InitialIdentityDataInput = builder.inputType('InitialIdentityDataInput', {
  description: 'Identity data the service provider already has, to speed up the identification. Which attributes a method needs, accepts or refuses: IdentificationMethod.initialData.',
  fields: (t) => ({
    givenNames: t.string({ description: 'All given names, as on the document.' }),
    surname: t.string({ description: 'The surname, as on the document (for IDENTITY.TM without title or punctuation).' }),
    dateOfBirth: t.field({ type: 'Date', description: 'The date of birth.' }),
    mobileNumber: t.string({ description: 'The mobile number, with country code (Swiss numbers may omit it when country is CH); stored in E.164.' }),
    placeOfBirth: t.string({ description: 'The place of birth.' }),
    nationality: t.string({ description: 'ISO 3166-1 alpha-2 code, e.g. CH.' }),
    country: t.string({ description: 'Country of residence (KLARNA: of the bank account), ISO 3166-1 alpha-2.' }),
    email: t.string({ description: 'An e-mail address.' }),
    documentValidUntil: t.field({ type: 'Date', description: 'Expiry of the identity document to be used.' }),
  }),
});

const PlaceOrderInput = builder.inputType('PlaceOrderInput', {
  description: 'An order for one identification method.',
  fields: (t) => ({
    methodId: t.id({ required: true, description: 'The id of an IdentificationMethod.' }),
    initialData: t.field({ type: InitialIdentityDataInput, description: 'Identity data to prefill, validated against the method’s rules.' }),
    externalId: t.string({ description: 'Your own id for this order (at most 200 characters), e.g. for billing your customers.' }),
    language: t.string({ description: 'ISO 639-1 code of a language the method offers.' }),
    disabledSmsAlerts: t.boolean({ description: 'True: no T&C SMS (silent SMS); you collect the T&C in your own signing flow.' }),
    idempotencyKey: t.string({ description: 'The same key with the same input returns the first order instead of a new one.' }),
  }),
});

builder.mutationField('placeOrder', (t) =>
  t.field({
    type: OrderPayload('PlaceOrderPayload', 'The placed order, or why it was refused.'),
    description: 'Places an order and opens it at the partner. Answers with the reference id, the IPSP order id and the target URL (status INITIALIZED), or ERROR with the partner’s reason. Needs orders:write.',
    authScopes: { $all: { scope: 'orders:write', role: 'SERVICE_PROVIDER' } },
    args: { input: t.arg({ type: PlaceOrderInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const methodId = decodeMethodId(input.methodId);
      return orderPayload(await context.app.orders.place(context.viewer, { ...input, methodId }));
    },
  }),
);

function decodeMethodId(globalId: string | number): string | null {
  try {
    const { typename, id } = decodeGlobalID(String(globalId));
    return typename === 'IdentificationMethod' ? id : null;
  } catch {
    return null;
  }
}

const CancelOrderInput = builder.inputType('CancelOrderInput', {
  description: 'Which order to cancel.',
  fields: (t) => ({
    refId: t.id({ required: true, description: 'The order’s reference id.' }),
    reason: t.string({ description: 'Why, kept with the order.' }),
  }),
});

builder.mutationField('cancelOrder', (t) =>
  t.field({
    type: OrderPayload('CancelOrderPayload', 'The canceled order, or why it could not be canceled.'),
    description: 'Cancels one of your open orders, here and at the partner; its target URL stops working. Needs orders:write.',
    authScopes: { $all: { scope: 'orders:write', role: 'SERVICE_PROVIDER' } },
    args: { input: t.arg({ type: CancelOrderInput, required: true }) },
    resolve: async (_root, { input }, context) => orderPayload(await context.app.orders.cancel(context.viewer, { refId: String(input.refId), reason: input.reason })),
  }),
);

builder.queryField('order', (t) =>
  t.prismaField({
    type: 'Order',
    nullable: true,
    description: 'One of your orders by reference id (an IPSP: of its issuer); null when there is none.',
    authScopes: { readOrders: true },
    args: { refId: t.arg.id({ required: true, description: 'The reference id.' }) },
    resolve: (query, _root, { refId }, context) => context.app.orders.find(context.viewer, String(refId), query),
  }),
);

const OrderFilter = builder.inputType('OrderFilter', {
  description: 'Narrows the order list; absent criteria do not restrict.',
  fields: (t) => ({
    statuses: t.field({ type: [OrderStatusEnum], description: 'Only orders in one of these statuses.' }),
    methodIds: t.idList({ description: 'Only orders of these methods (IdentificationMethod ids).' }),
    externalId: t.string({ description: 'Only orders with this external id.' }),
    createdAfter: t.field({ type: 'DateTime', description: 'Only orders placed at or after this instant.' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Only orders placed before this instant.' }),
  }),
});

builder.queryField('orders', (t) =>
  t.prismaConnection(
    {
      type: 'Order',
      cursor: 'id',
      totalCount: (_parent, args, context) => context.app.orders.count(context.viewer, args.filter, decodeMethodId),
      description: 'Your orders (an IPSP: its issuer’s), newest first, a page at a time.',
      authScopes: { readOrders: true },
      defaultSize: 20,
      maxSize: 100,
      args: { filter: t.arg({ type: OrderFilter }) },
      resolve: (query, _root, args, context) => context.app.orders.list(context.viewer, args.filter, decodeMethodId, query),
    },
    { name: 'OrderConnection', description: 'A page of orders.' },
    { name: 'OrderEdge', description: 'An order in a page.' },
  ),
);
