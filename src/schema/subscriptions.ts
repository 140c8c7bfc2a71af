import { GraphQLError } from 'graphql';
import { builder } from './builder.js';
import { OrderEventType, OrderEventTypeEnum, OrderStatusEnum } from './orders.js';
import type { OrderEvent, Prisma } from '../generated/prisma/client.js';
import type { GraphQLContext } from '../context.js';
import { mayView, visibleOrders } from '../auth/visibility.js';
import { orderEventStream } from '../events/event-stream.js';
import { eventForSubscriber } from '../events/subscriber-loads.js';

/**
 * What a subscription's results may differ by between callers, for sharing one execution of an
 * event among subscribers (see shared-subscription-execution.ts): the client, which decides what
 * is visible (the order's own provider sees personal data in the evidence, its issuer's partner
 * does not), and the token's scopes, which decide what may be read at all.
 */
export function subscriptionAudience(context: GraphQLContext): string {
  const { viewer } = context;
  return JSON.stringify([viewer.clientId, viewer.role, viewer.issuer, [...viewer.scopes].sort()]);
}

function streamOptions(context: GraphQLContext) {
  return {
    prisma: context.app.prisma,
    feed: context.app.events.feed,
    viewer: context.viewer,
    tokenStillValid: context.app.events.tokenStillValid,
    tokenCheckIntervalMs: context.app.events.tokenCheckIntervalMs,
  };
}

const loadEvent = (query: Parameters<typeof eventForSubscriber>[1], payload: unknown, context: GraphQLContext) =>
  eventForSubscriber(context.app.prisma, query, payload as OrderEvent);

builder.subscriptionField('orderStatusChanged', (t) =>
  t.prismaField({
    type: OrderEventType,
    description: 'Events of one order of the caller, starting with its current state (its latest event).',
    authScopes: { readOrders: true },
    args: { refId: t.arg.id({ required: true, description: 'The order’s reference id.' }) },
    subscribe: async (_root, { refId }, context) => {
      const order = await context.app.orders.latestEventOf(context.viewer, String(refId));
      if (!order) throw new GraphQLError(`No order ${refId} of yours.`, { extensions: { code: 'NOT_FOUND' } });
      return orderEventStream({
        ...streamOptions(context),
        where: { orderId: order.orderId },
        matches: (item) => item.event.orderId === order.orderId,
        afterSequence: order.latestSequence === null ? 0n : order.latestSequence - 1n,
      });
    },
    resolve: (query, payload, _args, context) => loadEvent(query, payload, context),
  }),
);

const OrderEventFilter = builder.inputType('OrderEventFilter', {
  description: 'Which events to stream; absent criteria do not restrict.',
  fields: (t) => ({
    refIds: t.idList({ description: 'Only events of these orders.' }),
    types: t.field({ type: [OrderEventTypeEnum], description: 'Only events of these types.' }),
    statuses: t.field({ type: [OrderStatusEnum], description: 'Only events leaving the order in one of these statuses.' }),
    afterSequence: t.string({ description: 'Replay the events after this sequence before streaming live ones.' }),
  }),
});

builder.subscriptionField('orderEvents', (t) =>
  t.prismaField({
    type: OrderEventType,
    description: 'All events of the caller’s orders (an IPSP: of its issuer’s orders), resumable with afterSequence.',
    authScopes: { readOrders: true },
    args: { filter: t.arg({ type: OrderEventFilter }) },
    subscribe: (_root, { filter }, context) => {
      let afterSequence: bigint | null = null;
      if (filter?.afterSequence != null) {
        if (!/^\d{1,19}$/.test(filter.afterSequence)) {
          throw new GraphQLError('afterSequence must be the decimal sequence of an event.', { extensions: { code: 'BAD_USER_INPUT' } });
        }
        afterSequence = BigInt(filter.afterSequence);
      }
      const refIds = filter?.refIds?.map(String);
      const where: Prisma.OrderEventWhereInput = {
        order: { ...visibleOrders(context.viewer), ...(refIds && { refId: { in: refIds } }) },
        ...(filter?.types && { type: { in: [...filter.types] } }),
        ...(filter?.statuses && { status: { in: [...filter.statuses] } }),
      };
      const { viewer } = context;
      const types = filter?.types && new Set<string>(filter.types);
      const statuses = filter?.statuses && new Set<string>(filter.statuses);
      return orderEventStream({
        ...streamOptions(context),
        where,
        matches: (item) =>
          mayView(viewer, item) &&
          (!refIds || refIds.includes(item.refId)) &&
          (!types || types.has(item.event.type)) &&
          (!statuses || statuses.has(item.event.status)),
        afterSequence,
      });
    },
    resolve: (query, payload, _args, context) => loadEvent(query, payload, context),
  }),
);
