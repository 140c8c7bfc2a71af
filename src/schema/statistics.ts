import { encodeGlobalID } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import { builder } from './builder.js';
import { OrderStatusEnum } from './orders.js';
import { resolvePeriod, STATISTICS_PERIODS } from '../domain/statistics-period.js';
import type { Duration, MethodStatistics, OrderStatistics, PartnerHealth, StatusCount } from '../services/statistics.js';

const StatisticsPeriodEnum = builder.enumType('StatisticsPeriod', {
  description: 'A period of placed orders, ending now.',
  values: {
    TODAY: { description: 'Since midnight UTC.' },
    LAST_7_DAYS: { description: 'The last 7 × 24 hours.' },
    LAST_30_DAYS: { description: 'The last 30 × 24 hours.' },
  } satisfies Record<(typeof STATISTICS_PERIODS)[number], unknown>,
});

const StatusCountType = builder.objectRef<StatusCount>('StatusCount').implement({
  description: 'How many orders are in one status.',
  fields: (t) => ({
    status: t.field({ type: OrderStatusEnum, description: 'The status.', resolve: (entry) => entry.status }),
    count: t.exposeInt('count', { description: 'How many orders of the period are in it now.' }),
  }),
});

const ProviderOrderCountsType = builder.objectRef<OrderStatistics['byProvider'][number]>('ProviderOrderCounts').implement({
  description: 'The orders of one service provider in the period, by status.',
  fields: (t) => ({
    clientId: t.exposeString('clientId', { description: 'The service provider’s OAuth2 client id.' }),
    name: t.exposeString('name', { description: 'The name the operator gave the client.' }),
    total: t.exposeInt('total', { description: 'All its orders placed in the period.' }),
    byStatus: t.field({ type: [StatusCountType], description: 'Every status with its count, zeros included.', resolve: (entry) => entry.byStatus }),
  }),
});

const DurationType = builder.objectRef<Duration>('DurationStatistics').implement({
  description: 'How long orders took between two steps, in seconds; null when none went through both.',
  fields: (t) => ({
    count: t.exposeInt('count', { description: 'How many orders went through both steps.' }),
    medianSeconds: t.exposeFloat('medianSeconds', { nullable: true, description: 'The median (continuous percentile 0.5).' }),
    p90Seconds: t.exposeFloat('p90Seconds', { nullable: true, description: 'The 90th percentile (continuous).' }),
  }),
});

const DropOffType = builder.objectRef<MethodStatistics['dropOffs'][number]>('FunnelDropOff').implement({
  description: 'Orders that ended without success (or were left, ABORTED), by status and reason.',
  fields: (t) => ({
    status: t.field({ type: OrderStatusEnum, description: 'ABORTED, TIMEOUT, NEGATIVELY_CONDUCTED, ERROR or CANCELED.', resolve: (entry) => entry.status }),
    reason: t.exposeString('reason', { nullable: true, description: 'The reason as the partner gave it (first 200 characters); the five most frequent per status are listed.' }),
    count: t.exposeInt('count', { description: 'How many orders.' }),
  }),
});

const MethodStatisticsType = builder.objectRef<MethodStatistics>('MethodStatistics').implement({
  description: 'The funnel and timings of one identification method over the orders placed in the period.',
  fields: (t) => ({
    methodId: t.id({ description: 'The IdentificationMethod id.', resolve: (entry) => encodeGlobalID('IdentificationMethod', entry.methodId) }),
    methodName: t.exposeString('methodName', { description: 'The method’s name, e.g. video.' }),
    issuer: t.exposeString('issuer', { description: 'The partner (issuer) of the method.' }),
    placed: t.exposeInt('placed', { description: 'Orders placed.' }),
    initialized: t.exposeInt('initialized', { description: 'Orders the partner opened (the target URL could be used).' }),
    identificationDone: t.exposeInt('identificationDone', { description: 'Orders whose identification finished (IDENTIFICATION_DONE, DATA_READY or TERMINATED reached).' }),
    terminated: t.exposeInt('terminated', { description: 'Orders with their evidence imported (TERMINATED).' }),
    termsAccepted: t.exposeInt('termsAccepted', { description: 'Orders whose T&C were accepted (by SMS link or in the partner’s app).' }),
    dropOffs: t.field({ type: [DropOffType], description: 'Where the others ended, most frequent first.', resolve: (entry) => entry.dropOffs }),
    placedToTerminated: t.field({ type: DurationType, description: 'From placing the order to the evidence import.', resolve: (entry) => entry.placedToTerminated }),
    terminatedToTermsAccepted: t.field({ type: DurationType, description: 'From the evidence import to the T&C acceptance.', resolve: (entry) => entry.terminatedToTermsAccepted }),
  }),
});

const PartnerHealthType = builder.objectRef<PartnerHealth>('PartnerHealth').implement({
  description: 'How one partner’s orders ended over the last hour.',
  fields: (t) => ({
    issuer: t.exposeString('issuer', { description: 'The partner (issuer).' }),
    ended: t.exposeInt('ended', { description: 'Orders that reached a final status in the last hour.' }),
    errors: t.exposeInt('errors', { description: 'Of them, ended in ERROR.' }),
    timeouts: t.exposeInt('timeouts', { description: 'Of them, ended in TIMEOUT.' }),
    errorRate: t.exposeFloat('errorRate', { description: 'errors / ended, from 0 to 1.' }),
    timeoutRate: t.exposeFloat('timeoutRate', { description: 'timeouts / ended, from 0 to 1.' }),
  }),
});

const OrderStatisticsType = builder.objectRef<OrderStatistics>('OrderStatistics').implement({
  description: 'Figures over the orders you may see (a provider its own, a partner its issuer’s, an operator all), placed in a period.',
  fields: (t) => ({
    from: t.expose('from', { type: 'DateTime', description: 'The start of the period (included).' }),
    to: t.expose('to', { type: 'DateTime', description: 'The end of the period (excluded).' }),
    asOfSequence: t.exposeString('asOfSequence', {
      description: 'The latest event sequence these figures include: subscribe to orderEvents with this afterSequence to keep them current without missing or repeating an event.',
    }),
    total: t.exposeInt('total', { description: 'Orders placed in the period.' }),
    byStatus: t.field({ type: [StatusCountType], description: 'Every status with the count of the period’s orders now in it, zeros included.', resolve: (stats) => stats.byStatus }),
    byProvider: t.field({ type: [ProviderOrderCountsType], description: 'For an operator (ADMIN): the same per service provider, largest first; empty for everyone else.', resolve: (stats) => stats.byProvider }),
    methods: t.field({ type: [MethodStatisticsType], description: 'The funnel and timings per method that has orders in the period, in catalogue order.', resolve: (stats) => stats.methods }),
    partnerHealthSince: t.expose('partnerHealthSince', { type: 'DateTime', description: 'Partner health counts the orders that ended since then (an hour ago).' }),
    partnerHealth: t.field({ type: [PartnerHealthType], description: 'Error and timeout rate per partner over the last hour, whatever the period.', resolve: (stats) => stats.partnerHealth }),
  }),
});

builder.queryField('orderStatistics', (t) =>
  t.field({
    type: OrderStatisticsType,
    description: 'Orders by status, funnel, timings and partner health over your orders (an IPSP: its issuer’s; an ADMIN: all, also per provider). Give a period or from and to; neither means TODAY.',
    authScopes: { readOrders: true },
    args: {
      period: t.arg({ type: StatisticsPeriodEnum, description: 'A period ending now.' }),
      from: t.arg({ type: 'DateTime', description: 'With to: the orders placed at or after this instant.' }),
      to: t.arg({ type: 'DateTime', description: 'With from: the orders placed before this instant (at most 400 days after from).' }),
    },
    resolve: async (_root, args, context) => {
      const period = resolvePeriod(args, new Date());
      if ('problem' in period) throw new GraphQLError(period.problem, { extensions: { code: 'BAD_USER_INPUT', field: period.field } });
      return context.app.statistics.of(context.viewer, period);
    },
  }),
);
