// The identification method catalogue and its filter. Plain data and functions: no GraphQL, no
// Prisma. The database copy is seeded from METHOD_CATALOGUE on every start.

export const JURISDICTIONS = ['EIDAS', 'ZERTES'] as const;
export type Jurisdiction = (typeof JURISDICTIONS)[number];

export const LEVELS_OF_ASSURANCE = ['LOA3', 'LOA4'] as const;
export type LevelOfAssurance = (typeof LEVELS_OF_ASSURANCE)[number];

export const METHOD_TYPES = ['VIDEO', 'EID', 'BANK', 'ROBO_IDENT', 'AUTOIDENT', 'IN_PERSON'] as const;
export type MethodType = (typeof METHOD_TYPES)[number];

export const IDENTITY_ATTRIBUTES = [
  'GIVEN_NAMES',
  'SURNAME',
  'DATE_OF_BIRTH',
  'MOBILE_NUMBER',
  'PLACE_OF_BIRTH',
  'NATIONALITY',
  'COUNTRY',
  'EMAIL',
  'LANGUAGE',
  'DOCUMENT_VALID_UNTIL',
] as const;
export type IdentityAttribute = (typeof IDENTITY_ATTRIBUTES)[number];

export const ATTRIBUTE_REQUIREMENTS = ['MANDATORY', 'OPTIONAL', 'NOT_ACCEPTED'] as const;
export type AttributeRequirement = (typeof ATTRIBUTE_REQUIREMENTS)[number];

export interface SignatureCapability {
  jurisdiction: Jurisdiction;
  loa: LevelOfAssurance;
}

export interface InitialDataRule {
  attribute: IdentityAttribute;
  requirement: AttributeRequirement;
  /** The value must equal the one on the identity document or bank account, letter for letter. */
  mustMatchDocument: boolean;
}

export interface IdentificationMethodDefinition {
  id: string;
  name: string;
  issuer: string;
  type: MethodType;
  capabilities: SignatureCapability[];
  offline: boolean;
  webFlow: boolean;
  realtime: boolean;
  languages: string[];
  evidenceValidityMonths: number;
  /** Null: the target URL stays valid until the order is cancelled. */
  targetUrlValiditySeconds: number | null;
  termsInApp: boolean;
  testOnly: boolean;
  initialData: InitialDataRule[];
}

const LOA_RANK: Record<LevelOfAssurance, number> = { LOA3: 3, LOA4: 4 };
const DAY = 24 * 60 * 60;

/** Shorthand for the initial-data table: M mandatory, M* mandatory and must match the document, O optional; absent attributes are not accepted. */
type RuleCode = 'M' | 'M*' | 'O';
function rules(codes: Partial<Record<IdentityAttribute, RuleCode>>): InitialDataRule[] {
  return IDENTITY_ATTRIBUTES.map((attribute) => {
    const code = codes[attribute];
    return {
      attribute,
      requirement: code === undefined ? 'NOT_ACCEPTED' : code === 'O' ? 'OPTIONAL' : 'MANDATORY',
      mustMatchDocument: code === 'M*',
    };
  });
}

const INTRUM_RULES = rules({
  GIVEN_NAMES: 'M*',
  SURNAME: 'M*',
  DATE_OF_BIRTH: 'O',
  MOBILE_NUMBER: 'M',
  PLACE_OF_BIRTH: 'O',
  NATIONALITY: 'O',
  COUNTRY: 'O',
  EMAIL: 'O',
  LANGUAGE: 'O',
});

const ALL_OPTIONAL_BUT_DOCUMENT = rules({
  GIVEN_NAMES: 'O',
  SURNAME: 'O',
  DATE_OF_BIRTH: 'O',
  MOBILE_NUMBER: 'O',
  PLACE_OF_BIRTH: 'O',
  NATIONALITY: 'O',
  COUNTRY: 'O',
  EMAIL: 'O',
  LANGUAGE: 'O',
});

/** The catalogue of domain.md, in the order it is listed to service providers. */
export const METHOD_CATALOGUE: readonly IdentificationMethodDefinition[] = [
  {
    id: 'identity-tm-video',
    name: 'video',
    issuer: 'IDENTITY.TM',
    type: 'VIDEO',
    capabilities: [
      { jurisdiction: 'EIDAS', loa: 'LOA4' },
      { jurisdiction: 'ZERTES', loa: 'LOA3' },
    ],
    offline: false,
    webFlow: true,
    realtime: true,
    languages: ['de', 'en', 'fr', 'es', 'hr'],
    evidenceValidityMonths: 60,
    targetUrlValiditySeconds: null,
    termsInApp: false,
    testOnly: false,
    initialData: rules({
      GIVEN_NAMES: 'O',
      SURNAME: 'O',
      DATE_OF_BIRTH: 'O',
      MOBILE_NUMBER: 'O',
      PLACE_OF_BIRTH: 'O',
      NATIONALITY: 'O',
      COUNTRY: 'O',
      LANGUAGE: 'O',
      DOCUMENT_VALID_UNTIL: 'O',
    }),
  },
  {
    id: 'klarna-bank',
    name: 'bank',
    issuer: 'KLARNA',
    type: 'BANK',
    capabilities: [
      { jurisdiction: 'EIDAS', loa: 'LOA4' },
      { jurisdiction: 'ZERTES', loa: 'LOA3' },
    ],
    offline: false,
    webFlow: true,
    realtime: true,
    languages: ['de', 'en'],
    evidenceValidityMonths: 24,
    // The 60-minute session starts when the user opens the URL.
    targetUrlValiditySeconds: 60 * 60,
    termsInApp: false,
    testOnly: false,
    initialData: rules({
      GIVEN_NAMES: 'M*',
      SURNAME: 'M*',
      DATE_OF_BIRTH: 'M*',
      MOBILE_NUMBER: 'M*',
      PLACE_OF_BIRTH: 'O',
      COUNTRY: 'M*',
      EMAIL: 'O',
      LANGUAGE: 'O',
    }),
  },
  {
    id: 'identity-tm-eid',
    name: 'identity-tm-eid',
    issuer: 'IDENTITY-TM-EID',
    type: 'EID',
    capabilities: [
      { jurisdiction: 'EIDAS', loa: 'LOA4' },
      { jurisdiction: 'ZERTES', loa: 'LOA3' },
    ],
    offline: false,
    webFlow: true,
    realtime: true,
    languages: ['de', 'en'],
    evidenceValidityMonths: 60,
    // Valid until the identification is negatively conducted.
    targetUrlValiditySeconds: null,
    termsInApp: false,
    testOnly: false,
    initialData: rules({
      GIVEN_NAMES: 'M*',
      SURNAME: 'M*',
      DATE_OF_BIRTH: 'M*',
      MOBILE_NUMBER: 'M*',
      PLACE_OF_BIRTH: 'O',
      NATIONALITY: 'O',
      COUNTRY: 'O',
      EMAIL: 'O',
      LANGUAGE: 'O',
    }),
  },
  {
    id: 'nect-robo-ident',
    name: 'robo-ident',
    issuer: 'NECT',
    type: 'ROBO_IDENT',
    capabilities: [
      { jurisdiction: 'EIDAS', loa: 'LOA4' },
      { jurisdiction: 'ZERTES', loa: 'LOA3' },
    ],
    offline: false,
    webFlow: true,
    realtime: true,
    languages: ['de', 'en'],
    evidenceValidityMonths: 24,
    targetUrlValiditySeconds: 30 * DAY,
    termsInApp: true,
    testOnly: false,
    initialData: ALL_OPTIONAL_BUT_DOCUMENT,
  },
  {
    id: 'intrum-video',
    name: 'video',
    issuer: 'INTRUM-VIDEO',
    type: 'VIDEO',
    capabilities: [
      { jurisdiction: 'EIDAS', loa: 'LOA3' },
      { jurisdiction: 'ZERTES', loa: 'LOA4' },
    ],
    offline: false,
    webFlow: true,
    realtime: true,
    languages: ['de', 'en', 'fr', 'it'],
    evidenceValidityMonths: 60,
    targetUrlValiditySeconds: 90 * DAY,
    termsInApp: false,
    testOnly: false,
    initialData: INTRUM_RULES,
  },
  {
    id: 'intrum-autoident',
    name: 'autoident',
    issuer: 'INTRUM-AUTOIDENT',
    type: 'AUTOIDENT',
    capabilities: [
      { jurisdiction: 'EIDAS', loa: 'LOA3' },
      { jurisdiction: 'ZERTES', loa: 'LOA4' },
    ],
    offline: false,
    webFlow: true,
    realtime: true,
    languages: ['de', 'en', 'fr', 'it'],
    evidenceValidityMonths: 24,
    targetUrlValiditySeconds: 90 * DAY,
    termsInApp: false,
    testOnly: false,
    initialData: INTRUM_RULES,
  },
  {
    id: 'swisscom-ra-direct',
    name: 'direct',
    issuer: 'SWISSCOM-RA',
    type: 'IN_PERSON',
    capabilities: [{ jurisdiction: 'ZERTES', loa: 'LOA4' }],
    offline: true,
    webFlow: false,
    realtime: false,
    languages: ['de', 'en', 'fr', 'it'],
    evidenceValidityMonths: 60,
    targetUrlValiditySeconds: 30 * DAY,
    termsInApp: false,
    testOnly: false,
    initialData: ALL_OPTIONAL_BUT_DOCUMENT,
  },
  {
    id: 'test-video',
    name: 'video',
    issuer: 'TEST',
    type: 'VIDEO',
    capabilities: [
      { jurisdiction: 'EIDAS', loa: 'LOA4' },
      { jurisdiction: 'ZERTES', loa: 'LOA4' },
    ],
    offline: false,
    webFlow: true,
    realtime: true,
    languages: ['de', 'en', 'fr', 'it'],
    evidenceValidityMonths: 1,
    targetUrlValiditySeconds: DAY,
    termsInApp: false,
    testOnly: true,
    initialData: ALL_OPTIONAL_BUT_DOCUMENT,
  },
];

export interface MethodFilter {
  issuers?: readonly string[] | null;
  jurisdictions?: readonly Jurisdiction[] | null;
  loa?: LevelOfAssurance | null;
  offline?: boolean | null;
  methodTypes?: readonly MethodType[] | null;
  webFlow?: boolean | null;
  realtime?: boolean | null;
}

type FilterableMethod = Pick<
  IdentificationMethodDefinition,
  'issuer' | 'type' | 'capabilities' | 'offline' | 'webFlow' | 'realtime'
>;

/**
 * Whether a method fits a service provider's filter. Absent (null or undefined) criteria do not
 * restrict; list criteria match any of their values; issuers compare case-insensitively; `loa` is
 * a minimum that must be reached in one of the requested jurisdictions (any, when none is given).
 * An empty list is taken as given: it matches nothing.
 */
export function matchesMethodFilter(method: FilterableMethod, filter: MethodFilter = {}): boolean {
  if (filter.issuers != null) {
    const issuer = method.issuer.toUpperCase();
    if (!filter.issuers.some((wanted) => wanted.trim().toUpperCase() === issuer)) return false;
  }
  if (filter.methodTypes != null && !filter.methodTypes.includes(method.type)) return false;
  if (filter.offline != null && method.offline !== filter.offline) return false;
  if (filter.webFlow != null && method.webFlow !== filter.webFlow) return false;
  if (filter.realtime != null && method.realtime !== filter.realtime) return false;

  const usable = method.capabilities.filter(
    (capability) => filter.jurisdictions == null || filter.jurisdictions.includes(capability.jurisdiction),
  );
  if (filter.jurisdictions != null && usable.length === 0) return false;
  if (filter.loa != null && !usable.some((capability) => LOA_RANK[capability.loa] >= LOA_RANK[filter.loa!])) return false;
  return true;
}
