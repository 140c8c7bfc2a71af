import { GraphQLError } from 'graphql';
import { builder } from './builder.js';
import { OrderEventType, OrderEventTypeEnum, OrderStatusEnum } from './orders.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { GraphQLContext } from '../context.js';
import type { OrderEventNotice } from '../events/bus.js';
import { visibleOrders } from '../services/orders.js';
import { orderEventStream } from '../services/event-stream.js';

function mayConcernViewer(context: GraphQLContext) {
  const { viewer } = context;
  return (notice: OrderEventNotice) =>
    viewer.role === 'ADMIN' || (viewer.role === 'IPSP' ? notice.issuer === viewer.issuer : notice.clientId === viewer.clientId);
}

function streamOptions(context: GraphQLContext) {
  return {
    prisma: context.prisma,
    bus: context.services.bus,
    viewer: context.viewer,
    tokenStillValid: context.services.tokenStillValid,
    tokenCheckIntervalMs: context.config.subscriptionTokenCheckSeconds * 1000,
  };
}

const loadEvent = (query: object, payload: { id: string }, context: GraphQLContext) =>
  context.prisma.orderEvent.findUniqueOrThrow({ ...query, where: { id: payload.id } });

builder.subscriptionField('orderStatusChanged', (t) =>
  t.prismaField({
    type: OrderEventType,
    description: 'Events of one order of the caller, starting with its current state (its latest event).',
    authScopes: { readOrders: true },
    args: { refId: t.arg.id({ required: true, description: 'The order’s reference id.' }) },
    subscribe: async (_root, { refId }, context) => {
      const order = await context.prisma.order.findFirst({ where: { refId: String(refId), ...visibleOrders(context.viewer) }, select: { id: true, refId: true } });
      if (!order) throw new GraphQLError(`No order ${refId} of yours.`, { extensions: { code: 'NOT_FOUND' } });
      const latest = await context.prisma.orderEvent.findFirst({ where: { orderId: order.id }, orderBy: { sequence: 'desc' }, select: { sequence: true } });
      return orderEventStream({
        ...streamOptions(context),
        where: { orderId: order.id },
        mayConcern: (notice) => notice.orderId === order.id,
        afterSequence: latest ? latest.sequence - 1n : 0n,
      });
    },
    resolve: (query, payload, _args, context) => loadEvent(query, payload as { id: string }, context),
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
      const concerns = mayConcernViewer(context);
      return orderEventStream({
        ...streamOptions(context),
        where,
        mayConcern: (notice) => concerns(notice) && (!refIds || refIds.includes(notice.refId)),
        afterSequence,
      });
    },
    resolve: (query, payload, _args, context) => loadEvent(query, payload as { id: string }, context),
  }),
);
