import { builder } from './builder.js';
import { SignatureCapabilityType } from './methods.js';
import { orderPartyNode } from './orders.js';
import { mayReadPersonalData, visibleOrders } from '../auth/visibility.js';
import { evidenceIdFrom } from '../services/evidence-admin.js';
import './terms.js';
import type { EvidenceSubject } from '../domain/evidence.js';
import type { SignatureCapability } from '../domain/catalogue.js';

export const EvidenceStatusEnum = builder.enumType('EvidenceStatus', {
  description: 'Whether an evidence still lets its holder sign.',
  values: {
    ACTIVE: { description: 'Valid.' },
    EXPIRED: { description: 'Past its validity.' },
    REVOKED: { description: 'Revoked by an operator.' },
  },
});

const IdentitySubjectType = builder.objectRef<EvidenceSubject>('IdentitySubject').implement({
  description: 'The identified person, as on the document.',
  fields: (t) => ({
    givenNames: t.exposeString('givenNames', { description: 'All given names.' }),
    surname: t.exposeString('surname', { description: 'The surname.' }),
    dateOfBirth: t.field({ type: 'Date', nullable: true, description: 'The date of birth.', resolve: (subject) => subject.dateOfBirth ?? null }),
    nationality: t.string({ nullable: true, description: 'ISO 3166-1 alpha-2 code.', resolve: (subject) => subject.nationality ?? null }),
    placeOfBirth: t.string({ nullable: true, description: 'The place of birth.', resolve: (subject) => subject.placeOfBirth ?? null }),
  }),
});

export const EvidenceType = builder.prismaNode('Evidence', {
  description: 'The identification data a partner imported for an order.',
  id: { field: 'id' },
  findUnique: (id, context) => ({ id, order: visibleOrders(context.viewer) }) as never,
  ...orderPartyNode,
  fields: (t) => ({
    refId: t.id({ description: 'The order’s reference id.', select: { order: { select: { refId: true } } }, resolve: (evidence) => evidence.order.refId }),
    mobileNumber: t.string({
      description: 'The identified person’s mobile number, E.164.',
      resolve: (evidence, _args, context) => context.app.evidence.mobileNumberOf(evidence),
    }),
    issuer: t.exposeString('issuer', { description: 'The partner that identified the person.' }),
    methodName: t.exposeString('methodName', { description: 'The method used.' }),
    capabilities: t.field({
      type: [SignatureCapabilityType],
      description: 'The signature levels this evidence allows, per jurisdiction.',
      resolve: (evidence) => evidence.capabilities as unknown as SignatureCapability[],
    }),
    identifiedAt: t.expose('identifiedAt', { type: 'DateTime', description: 'When the person was identified.' }),
    validUntil: t.expose('validUntil', { type: 'DateTime', description: 'The method’s validity from identifiedAt, capped by the document’s expiry.' }),
    status: t.field({
      type: EvidenceStatusEnum,
      description: 'ACTIVE, EXPIRED (past validUntil) or REVOKED.',
      resolve: (evidence) => (evidence.status === 'ACTIVE' && evidence.validUntil.getTime() <= Date.now() ? 'EXPIRED' : evidence.status),
    }),
    terms: t.relation('terms', { onNull: 'error', description: 'The T&C acceptance that goes with this evidence.' }),
    jws: t.exposeString('jws', { description: 'The evidence as a compact JWS signed by the service; keys at /.well-known/jwks.json.' }),
    subject: t.field({
      type: IdentitySubjectType,
      nullable: true,
      description: 'Personal data: only for the service provider that placed the order.',
      select: { order: { select: { clientId: true } } },
      resolve: (evidence, _args, context) =>
        mayReadPersonalData(context.viewer, evidence.order)
          ? context.app.evidence.subjectOf(evidence)
          : null,
    }),
  }),
});

builder.queryField('evidence', (t) =>
  t.prismaField({
    type: EvidenceType,
    nullable: true,
    description: 'One evidence by its global id, if it belongs to one of your orders (an IPSP: of its issuer).',
    authScopes: { readOrders: true },
    args: { id: t.arg.id({ required: true, description: 'The evidence’s global id.' }) },
    resolve: (query, _root, { id }, context) => context.app.evidence.find(context.viewer, evidenceIdFrom(String(id)), query),
  }),
);
