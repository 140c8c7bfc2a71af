import { GraphQLError } from 'graphql';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from './builder.js';
import { JurisdictionEnum, LevelOfAssuranceEnum, SignatureCapabilityType } from './methods.js';
import { VERIFICATION_REASONS, type Verification } from '../domain/verification.js';
import type { Result } from '../domain/user-errors.js';
import type { BillingLine } from '../services/billing.js';

const VerificationReasonEnum = builder.enumType('VerificationReason', {
  description: 'Why a number may or may not sign.',
  values: {
    OK: { description: 'Valid evidence, T&C accepted: the number may sign.' },
    NO_EVIDENCE: { description: 'No evidence for this number.' },
    EXPIRED: { description: 'The evidence is past its validity: identify again.' },
    REVOKED: { description: 'The evidence was revoked.' },
    TERMS_PENDING: { description: 'Identified, but the T&C are not accepted (yet).' },
    NAME_MISMATCH: { description: 'The evidence belongs to another name.' },
    INSUFFICIENT_LOA: { description: 'The evidence does not reach the requested jurisdiction or level.' },
  } satisfies Record<(typeof VERIFICATION_REASONS)[number], unknown>,
});

const VerificationResultType = builder.objectRef<Verification>('VerificationResult').implement({
  description: 'Whether a mobile number may sign, and why not.',
  fields: (t) => ({
    valid: t.exposeBoolean('valid', { description: 'True: the number may sign at the requested level.' }),
    reason: t.field({ type: VerificationReasonEnum, description: 'OK, or why not.', resolve: (result) => result.reason }),
    evidenceId: t.id({
      nullable: true,
      description: 'The global id of the evidence the answer rests on (the newest valid one, else the newest).',
      resolve: (result) => (result.evidence ? encodeGlobalID('Evidence', result.evidence.id) : null),
    }),
    capabilities: t.field({
      type: [SignatureCapabilityType],
      description: 'What that evidence allows; empty without evidence.',
      resolve: (result) => result.evidence?.capabilities ?? [],
    }),
    validUntil: t.field({ type: 'DateTime', nullable: true, description: 'Until when that evidence is valid.', resolve: (result) => result.evidence?.validUntil ?? null }),
    expiresWithin90Days: t.exposeBoolean('expiresWithin90Days', {
      description: 'True: the valid evidence expires within 90 days; ask the user to identify again soon.',
    }),
  }),
});

function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  const [error] = result.errors;
  throw new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT', field: error.field } });
}

const LookupInput = builder.inputType('LookupInput', {
  description: 'Which number to look up, and at which level.',
  fields: (t) => ({
    mobileNumber: t.string({ required: true, description: 'The mobile number, international form.' }),
    jurisdiction: t.field({ type: JurisdictionEnum, description: 'The jurisdiction the signature is for; any when absent.' }),
    loa: t.field({ type: LevelOfAssuranceEnum, description: 'The level needed; any when absent.' }),
  }),
});

builder.queryField('lookup', (t) =>
  t.field({
    type: VerificationResultType,
    description: 'Whether this number may sign, without personal data. Needs the verify scope; every call is audited.',
    authScopes: { scope: 'verify' },
    args: { input: t.arg({ type: LookupInput, required: true }) },
    resolve: async (_root, { input }, context) => unwrap(await context.app.verification.verify(context.viewer, input)),
  }),
);

const DistinguishedNameInput = builder.inputType('DistinguishedNameInput', {
  description: 'The name the signature will carry.',
  fields: (t) => ({
    givenNames: t.string({ required: true, description: 'At least one of them must be among the evidence’s given names.' }),
    surname: t.string({ required: true, description: 'Must equal the evidence’s surname, ignoring case and surrounding spaces.' }),
    country: t.string({ description: 'ISO 3166-1 alpha-2; must match the nationality when both are known.' }),
  }),
});

const VerifyInput = builder.inputType('VerifyInput', {
  description: 'Which number and name to verify, and at which level.',
  fields: (t) => ({
    mobileNumber: t.string({ required: true, description: 'The mobile number, international form.' }),
    distinguishedName: t.field({ type: DistinguishedNameInput, required: true, description: 'The name to match.' }),
    jurisdiction: t.field({ type: JurisdictionEnum, description: 'The jurisdiction the signature is for; any when absent.' }),
    loa: t.field({ type: LevelOfAssuranceEnum, description: 'The level needed; any when absent.' }),
  }),
});

builder.queryField('verify', (t) =>
  t.field({
    type: VerificationResultType,
    description: 'Like lookup, and the evidence must also match the name. Needs the verify scope; every call is audited.',
    authScopes: { scope: 'verify' },
    args: { input: t.arg({ type: VerifyInput, required: true }) },
    resolve: async (_root, { input }, context) => unwrap(await context.app.verification.verify(context.viewer, input)),
  }),
);

const BillingLineType = builder.objectRef<BillingLine>('BillingLine').implement({
  description: 'Successful identifications of one month, service provider, method, issuer and external id.',
  fields: (t) => ({
    month: t.exposeString('month', { description: 'YYYY-MM (UTC) of the evidence import.' }),
    clientId: t.exposeString('clientId', { description: 'The service provider whose orders these are (external ids are each provider’s own).' }),
    methodName: t.exposeString('methodName', { description: 'The method.' }),
    issuer: t.exposeString('issuer', { description: 'The partner.' }),
    externalId: t.exposeString('externalId', { nullable: true, description: 'The service provider’s external id of the orders.' }),
    successfulIdentifications: t.exposeInt('successfulIdentifications', { description: 'How many orders reached TERMINATED.' }),
  }),
});

builder.queryField('billingReport', (t) =>
  t.field({
    type: [BillingLineType],
    description: 'Successful identifications (TERMINATED) per month, service provider, method, issuer and external id, from and to inclusive; your own orders (an ADMIN: all). Needs the billing scope.',
    authScopes: { scope: 'billing' },
    args: {
      from: t.arg({ type: 'Date', required: true, description: 'First day, inclusive.' }),
      to: t.arg({ type: 'Date', required: true, description: 'Last day, inclusive.' }),
    },
    resolve: async (_root, { from, to }, context) => unwrap(await context.app.billing.report(context.viewer, from, to)),
  }),
);
