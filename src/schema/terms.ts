import { builder } from './builder.js';
import { UserErrorType } from './user-errors.js';
import { orderPartyNode } from './orders.js';
import { effectiveTermsStatus } from '../domain/terms.js';
import type { TermsAcceptance } from '../generated/prisma/client.js';
import type { UserError } from '../domain/user-errors.js';
import { visibleOrders } from '../auth/visibility.js';

const TermsStatusEnum = builder.enumType('TermsStatus', {
  description: 'Where the T&C acceptance of an evidence stands.',
  values: {
    NOT_REQUIRED: { description: 'No acceptance needed.' },
    PENDING: { description: 'Waiting for the user (SMS link) or the service provider (silent SMS).' },
    ACCEPTED: { description: 'Accepted: the user may sign.' },
    DECLINED: { description: 'Declined: the user may not sign.' },
    EXPIRED: { description: 'The SMS link expired unanswered.' },
  },
});

const TermsChannelEnum = builder.enumType('TermsChannel', {
  description: 'How the T&C are collected.',
  values: {
    SMS_LINK: { description: 'A personal single-use link sent by SMS.' },
    IN_APP: { description: 'In the partner’s app (e.g. NECT).' },
    SERVICE_PROVIDER: { description: 'By the service provider in its own signing flow (silent SMS).' },
  },
});

export const TermsAcceptanceType = builder.prismaNode('TermsAcceptance', {
  description: 'The T&C decision that goes with one evidence.',
  id: { field: 'id' },
  findUnique: (id, context) => ({ id, evidence: { order: visibleOrders(context.viewer) } }) as never,
  ...orderPartyNode,
  fields: (t) => ({
    status: t.field({ type: TermsStatusEnum, description: 'Where it stands.', resolve: (terms) => effectiveTermsStatus(terms) }),
    channel: t.field({ type: TermsChannelEnum, description: 'How it is collected.', resolve: (terms) => terms.channel }),
    termsVersion: t.exposeString('termsVersion', { description: 'The version of the terms shown or accepted.' }),
    smsSentAt: t.expose('smsSentAt', { type: 'DateTime', nullable: true, description: 'When the SMS with the link was sent.' }),
    decidedAt: t.expose('decidedAt', { type: 'DateTime', nullable: true, description: 'When the decision was made.' }),
  }),
});

const RecordTermsDecisionInput = builder.inputType('RecordTermsDecisionInput', {
  description: 'The T&C decision a service provider collected in its own flow.',
  fields: (t) => ({
    refId: t.id({ required: true, description: 'The order’s reference id.' }),
    accepted: t.boolean({ required: true, description: 'True: accepted; false: declined.' }),
    termsVersion: t.string({ required: true, description: 'The version the user decided on.' }),
  }),
});

const RecordTermsDecisionPayload = builder.objectRef<{ terms: TermsAcceptance | null; userErrors: UserError[] }>('RecordTermsDecisionPayload').implement({
  description: 'The recorded decision, or why it was refused.',
  fields: (t) => ({
    terms: t.field({ type: TermsAcceptanceType, nullable: true, description: 'The decision; null when refused.', resolve: (payload) => payload.terms }),
    userErrors: t.field({ type: [UserErrorType], description: 'Why it was refused; empty on success.', resolve: (payload) => payload.userErrors }),
  }),
});

builder.mutationField('recordTermsDecision', (t) =>
  t.field({
    type: RecordTermsDecisionPayload,
    description: 'Service provider only, for its own silent-SMS orders (T&C collected in its own flow).',
    authScopes: { $all: { scope: 'orders:write', role: 'SERVICE_PROVIDER' } },
    args: { input: t.arg({ type: RecordTermsDecisionInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const result = await context.app.terms.recordDecision(context.viewer, { ...input, refId: String(input.refId) });
      return result.ok ? { terms: result.value, userErrors: [] } : { terms: null, userErrors: result.errors };
    },
  }),
);
