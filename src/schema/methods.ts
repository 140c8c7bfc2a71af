import { builder } from './builder.js';
import {
  ATTRIBUTE_REQUIREMENTS,
  IDENTITY_ATTRIBUTES,
  JURISDICTIONS,
  LEVELS_OF_ASSURANCE,
  METHOD_TYPES,
  type InitialDataRule,
  type SignatureCapability,
} from '../domain/catalogue.js';
import { asDefinition } from '../services/methods.js';

export const JurisdictionEnum = builder.enumType('Jurisdiction', {
  description: 'A legal framework for electronic signatures.',
  values: {
    EIDAS: { description: 'The European Union’s eIDAS regulation.' },
    ZERTES: { description: 'Switzerland’s ZertES signature law.' },
  } satisfies Record<(typeof JURISDICTIONS)[number], unknown>,
});

export const LevelOfAssuranceEnum = builder.enumType('LevelOfAssurance', {
  description: 'How strongly an identification binds a person; LOA4 satisfies a LOA3 need.',
  values: {
    LOA3: { description: 'Enough for advanced electronic signatures (AES).' },
    LOA4: { description: 'Enough for qualified electronic signatures (QES).' },
  } satisfies Record<(typeof LEVELS_OF_ASSURANCE)[number], unknown>,
});

export const MethodTypeEnum = builder.enumType('MethodType', {
  description: 'How an identification method identifies a person.',
  values: {
    VIDEO: { description: 'A video call with a trained agent.' },
    EID: { description: 'The chip of an electronic identity card.' },
    BANK: { description: 'A login to the person’s bank account.' },
    ROBO_IDENT: { description: 'An automated selfie and document check in an app.' },
    AUTOIDENT: { description: 'An automated selfie and document check in the browser.' },
    IN_PERSON: { description: 'An agent in a shop or office checks the document.' },
  } satisfies Record<(typeof METHOD_TYPES)[number], unknown>,
});

const IdentityAttributeEnum = builder.enumType('IdentityAttribute', {
  description: 'An attribute of the initial identity data a service provider may send with an order.',
  values: Object.fromEntries(IDENTITY_ATTRIBUTES.map((attribute) => [attribute, {}])) as Record<(typeof IDENTITY_ATTRIBUTES)[number], object>,
});

const AttributeRequirementEnum = builder.enumType('AttributeRequirement', {
  description: 'Whether a method needs, accepts or refuses an initial identity attribute.',
  values: {
    MANDATORY: { description: 'The order is refused without it.' },
    OPTIONAL: { description: 'It may be sent.' },
    NOT_ACCEPTED: { description: 'The order is refused with it.' },
  } satisfies Record<(typeof ATTRIBUTE_REQUIREMENTS)[number], unknown>,
});

export const SignatureCapabilityType = builder.objectRef<SignatureCapability>('SignatureCapability').implement({
  description: 'A level of assurance reached in one jurisdiction.',
  fields: (t) => ({
    jurisdiction: t.field({ type: JurisdictionEnum, description: 'The jurisdiction.', resolve: (capability) => capability.jurisdiction }),
    loa: t.field({ type: LevelOfAssuranceEnum, description: 'The level reached there.', resolve: (capability) => capability.loa }),
  }),
});

const InitialDataRuleType = builder.objectRef<InitialDataRule>('InitialDataRule').implement({
  description: 'How a method treats one attribute of the initial identity data.',
  fields: (t) => ({
    attribute: t.field({ type: IdentityAttributeEnum, description: 'The attribute.', resolve: (rule) => rule.attribute }),
    requirement: t.field({ type: AttributeRequirementEnum, description: 'Whether it is needed, accepted or refused.', resolve: (rule) => rule.requirement }),
    mustMatchDocument: t.exposeBoolean('mustMatchDocument', {
      description: 'True: the value must equal the identity document or bank account exactly, or the identification fails.',
    }),
  }),
});

builder.prismaNode('IdentificationMethod', {
  description: 'A way to identify a person, offered by one identity-proofing partner (issuer).',
  id: { field: 'id' },
  // Disabled methods (the TEST method outside test mode) do not exist for callers.
  findUnique: (id) => ({ id, enabled: true }),
  // An unknown or disabled id is null from `node`, not an error.
  nullable: true,
  authScopes: { scope: 'methods:read' },
  // Checked once per object, before any field: without methods:read, `node` yields null and
  // FORBIDDEN, not even the object's __typename.
  runScopesOnType: true,
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The method’s name at its issuer, e.g. "video".' }),
    issuer: t.exposeString('issuer', { description: 'The identity-proofing partner, e.g. "IDENTITY.TM".' }),
    type: t.field({ type: MethodTypeEnum, description: 'How the method identifies a person.', resolve: (method) => method.type }),
    capabilities: t.field({
      type: [SignatureCapabilityType],
      description: 'The signature levels the method reaches, per jurisdiction.',
      resolve: (method) => asDefinition(method).capabilities,
    }),
    offline: t.exposeBoolean('offline', { description: 'True: a physical step (an agent, a shop) is part of the process.' }),
    webFlow: t.exposeBoolean('webFlow', { description: 'True: the whole process runs in a browser, with no app to install.' }),
    realtime: t.exposeBoolean('realtime', { description: 'True: the user can sign right after the identification.' }),
    languages: t.exposeStringList('languages', { description: 'ISO 639-1 codes of the languages the process is offered in.' }),
    evidenceValidityMonths: t.exposeInt('evidenceValidityMonths', {
      description: 'How long an evidence of this method lets its holder sign, at most (a document expiring earlier caps it).',
    }),
    targetUrlValiditySeconds: t.exposeInt('targetUrlValiditySeconds', {
      nullable: true,
      description: 'Null: the target URL stays valid until the order is cancelled.',
    }),
    termsInApp: t.exposeBoolean('termsInApp', {
      description: 'True: T&C are accepted inside the IPSP’s app, no SMS is sent, the user can sign at TERMINATED.',
    }),
    testOnly: t.exposeBoolean('testOnly', { description: 'True: a simulated method that exists only while the service runs in test mode.' }),
    initialData: t.field({
      type: [InitialDataRuleType],
      description: 'Which initial identity data the method needs, accepts or refuses, one rule per attribute.',
      resolve: (method) => asDefinition(method).initialData,
    }),
  }),
});

const IdentificationMethodFilter = builder.inputType('IdentificationMethodFilter', {
  description:
    'Narrows the method list. Absent criteria do not restrict; several values of one list criterion match any of them; criteria combine with AND.',
  fields: (t) => ({
    issuers: t.stringList({ description: 'Only methods of these issuers (case-insensitive). Unknown names match nothing.' }),
    jurisdictions: t.field({ type: [JurisdictionEnum], description: 'Only methods usable for signatures in at least one of these.' }),
    loa: t.field({
      type: LevelOfAssuranceEnum,
      description: 'Only methods reaching at least this level in one of the requested jurisdictions (any jurisdiction when none is given).',
    }),
    offline: t.boolean({
      description: 'true: only methods with a physical step (agent, shop); false: only fully remote ones. Note: a set flag matches methods whose flag equals it.',
    }),
    methodTypes: t.field({ type: [MethodTypeEnum], description: 'Only methods of these types.' }),
    webFlow: t.boolean({ description: 'true: only methods running wholly in a browser; false: only those needing an app or a visit.' }),
    realtime: t.boolean({ description: 'true: only methods after which the user can sign at once; false: only the others.' }),
  }),
});

builder.queryField('identificationMethods', (t) =>
  t.prismaField({
    type: ['IdentificationMethod'],
    description: 'The identification methods that fit the filter, in the catalogue’s order. Needs the methods:read scope.',
    authScopes: { scope: 'methods:read' },
    args: { filter: t.arg({ type: IdentificationMethodFilter }) },
    resolve: (query, _root, args, context) => context.app.methods.list(query, args.filter),
  }),
);
