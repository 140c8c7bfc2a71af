import { builder } from './builder.js';
import { OrderPayload, OrderStatusEnum, OrderType, orderPayload } from './orders.js';
import { EvidenceType } from './evidence.js';
import { UserErrorType } from './user-errors.js';
import { DOCUMENT_TYPES } from '../domain/evidence.js';
import type { Order } from '../generated/prisma/client.js';
import type { UserError } from '../domain/user-errors.js';

const ReportIdentificationStatusInput = builder.inputType('ReportIdentificationStatusInput', {
  description: 'A partner’s progress report on one order.',
  fields: (t) => ({
    refId: t.id({ required: true, description: 'The order’s reference id.' }),
    status: t.field({ type: OrderStatusEnum, required: true, description: 'The new status (not CREATED; TERMINATED comes with importEvidence).' }),
    reason: t.string({ description: 'Free text for the service provider’s support, returned verbatim.' }),
    ipspOrderId: t.string({ description: 'Your order id, checked against the one on record.' }),
  }),
});

const ReportIdentificationStatusPayload = OrderPayload('ReportIdentificationStatusPayload', 'The order after the report, or why the report was refused.');

builder.mutationField('reportIdentificationStatus', (t) =>
  t.field({
    type: ReportIdentificationStatusPayload,
    description: 'IPSP only, for orders of its own issuer.',
    authScopes: { $all: { scope: 'ipsp', role: 'IPSP' } },
    args: { input: t.arg({ type: ReportIdentificationStatusInput, required: true }) },
    resolve: async (_root, { input }, context) =>
      orderPayload(await context.app.orders.reportStatus(context.viewer, { ...input, refId: String(input.refId) })),
  }),
);

const IdentitySubjectInput = builder.inputType('IdentitySubjectInput', {
  description: 'The identified person, as on the document.',
  fields: (t) => ({
    givenNames: t.string({ required: true, description: 'All given names.' }),
    surname: t.string({ required: true, description: 'The surname.' }),
    dateOfBirth: t.field({ type: 'Date', required: true, description: 'The date of birth.' }),
    nationality: t.string({ description: 'ISO 3166-1 alpha-2 code.' }),
    placeOfBirth: t.string({ description: 'The place of birth.' }),
  }),
});

const DocumentTypeEnum = builder.enumType('DocumentType', {
  description: 'What the person was identified with.',
  values: {
    PASSPORT: { description: 'A passport.' },
    ID_CARD: { description: 'A national identity card.' },
    RESIDENCE_PERMIT: { description: 'A residence permit.' },
    BANK_ACCOUNT: { description: 'A bank account (bank identification).' },
  } satisfies Record<(typeof DOCUMENT_TYPES)[number], unknown>,
});

const IdentityDocumentInput = builder.inputType('IdentityDocumentInput', {
  description: 'The document the person was identified with.',
  fields: (t) => ({
    type: t.field({ type: DocumentTypeEnum, required: true, description: 'The kind of document.' }),
    number: t.string({ description: 'The document number.' }),
    issuingCountry: t.string({ description: 'ISO 3166-1 alpha-2 code.' }),
    validUntil: t.field({ type: 'Date', description: 'The document’s expiry; it caps the evidence’s validity.' }),
  }),
});

const ImportEvidenceInput = builder.inputType('ImportEvidenceInput', {
  description: 'The evidence of a finished identification.',
  fields: (t) => ({
    refId: t.id({ required: true, description: 'The order’s reference id.' }),
    mobileNumber: t.string({ required: true, description: 'The identified person’s mobile number, international form.' }),
    subject: t.field({ type: IdentitySubjectInput, required: true, description: 'The person.' }),
    document: t.field({ type: IdentityDocumentInput, required: true, description: 'The document.' }),
    identifiedAt: t.field({ type: 'DateTime', required: true, description: 'When the person was identified.' }),
    termsAcceptedInApp: t.boolean({ description: 'True when the IPSP’s app already collected the T&C acceptance.' }),
  }),
});

const ImportEvidencePayload = builder
  .objectRef<{ order: Order | null; evidenceId: string | null; userErrors: UserError[] }>('ImportEvidencePayload')
  .implement({
    description: 'The stored evidence and the TERMINATED order, or why the import was refused.',
    fields: (t) => ({
      evidence: t.prismaField({
        type: EvidenceType,
        nullable: true,
        description: 'The stored evidence; null when refused.',
        resolve: (query, payload, _args, context) => {
          // Read on every path: a refusal that skipped it failed the unused-query check (NODE_ENV=test).
          const selection = { ...query };
          return payload.evidenceId ? context.app.evidence.imported(payload.evidenceId, selection) : null;
        },
      }),
      order: t.field({ type: OrderType, nullable: true, description: 'The order; null when refused.', resolve: (payload) => payload.order }),
      userErrors: t.field({ type: [UserErrorType], description: 'Why the import was refused; empty on success.', resolve: (payload) => payload.userErrors }),
    }),
  });

builder.mutationField('importEvidence', (t) =>
  t.field({
    type: ImportEvidencePayload,
    description: 'IPSP only, for orders of its own issuer in IDENTIFICATION_DONE or DATA_READY.',
    authScopes: { $all: { scope: 'ipsp', role: 'IPSP' } },
    args: { input: t.arg({ type: ImportEvidenceInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const result = await context.app.evidence.import(context.viewer, {
        ...input,
        refId: String(input.refId),
        subject: { ...input.subject, dateOfBirth: input.subject.dateOfBirth },
      });
      return result.ok
        ? { order: result.value.order, evidenceId: result.value.evidenceId, userErrors: [] }
        : { order: null, evidenceId: null, userErrors: result.errors };
    },
  }),
);
