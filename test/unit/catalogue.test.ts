import { describe, expect, it } from 'vitest';
import {
  IDENTITY_ATTRIBUTES,
  METHOD_CATALOGUE,
  matchesMethodFilter,
  type IdentificationMethodDefinition,
  type IdentityAttribute,
  type MethodFilter,
  type SignatureCapability,
} from '../../src/domain/catalogue.js';

const ALL = ['IDENTITY.TM', 'KLARNA', 'IDENTITY-TM-EID', 'NECT', 'INTRUM-VIDEO', 'INTRUM-AUTOIDENT', 'SWISSCOM-RA', 'TEST'];
const ALL_BUT_SWISSCOM = ALL.filter((issuer) => issuer !== 'SWISSCOM-RA');

/** The issuers of the catalogue methods that fit the filter, in catalogue order. */
function issuersFor(filter?: MethodFilter): string[] {
  return METHOD_CATALOGUE.filter((method) => matchesMethodFilter(method, filter)).map((method) => method.issuer);
}

function method(issuer: string): IdentificationMethodDefinition {
  const found = METHOD_CATALOGUE.find((candidate) => candidate.issuer === issuer);
  if (!found) throw new Error(`No method of ${issuer} in the catalogue`);
  return found;
}

function rule(issuer: string, attribute: IdentityAttribute) {
  return method(issuer).initialData.find((candidate) => candidate.attribute === attribute);
}

function attributesWhere(issuer: string, requirement: string): IdentityAttribute[] {
  return method(issuer)
    .initialData.filter((candidate) => candidate.requirement === requirement)
    .map((candidate) => candidate.attribute);
}

describe('matchesMethodFilter: absent criteria', () => {
  it('does not restrict without a filter or with an empty one', () => {
    expect(issuersFor()).toEqual(ALL);
    expect(issuersFor({})).toEqual(ALL);
  });

  it('does not restrict with every criterion null', () => {
    expect(
      issuersFor({ issuers: null, jurisdictions: null, loa: null, offline: null, methodTypes: null, webFlow: null, realtime: null }),
    ).toEqual(ALL);
  });

  it('does not restrict with every criterion undefined', () => {
    expect(
      issuersFor({
        issuers: undefined,
        jurisdictions: undefined,
        loa: undefined,
        offline: undefined,
        methodTypes: undefined,
        webFlow: undefined,
        realtime: undefined,
      }),
    ).toEqual(ALL);
  });

  it('takes an empty list as given: it matches nothing', () => {
    expect(issuersFor({ issuers: [] })).toEqual([]);
    expect(issuersFor({ jurisdictions: [] })).toEqual([]);
    expect(issuersFor({ methodTypes: [] })).toEqual([]);
  });
});

describe('matchesMethodFilter: issuers', () => {
  it('matches one issuer exactly', () => {
    expect(issuersFor({ issuers: ['KLARNA'] })).toEqual(['KLARNA']);
  });

  it('compares case-insensitively and ignores surrounding spaces', () => {
    expect(issuersFor({ issuers: ['klarna'] })).toEqual(['KLARNA']);
    expect(issuersFor({ issuers: [' klarna '] })).toEqual(['KLARNA']);
    expect(issuersFor({ issuers: ['Intrum-Video'] })).toEqual(['INTRUM-VIDEO']);
  });

  it('does not take a prefix for a name: identity.tm is not IDENTITY-TM-EID', () => {
    expect(issuersFor({ issuers: ['identity.tm'] })).toEqual(['IDENTITY.TM']);
    expect(issuersFor({ issuers: ['INTRUM'] })).toEqual([]);
  });

  it('takes several issuers as OR, in catalogue order', () => {
    expect(issuersFor({ issuers: ['nect', 'KLARNA', 'swisscom-ra'] })).toEqual(['KLARNA', 'NECT', 'SWISSCOM-RA']);
  });

  it('matches nothing for an unknown issuer, and ignores it among known ones', () => {
    expect(issuersFor({ issuers: ['NO-SUCH-IPSP'] })).toEqual([]);
    expect(issuersFor({ issuers: ['NO-SUCH-IPSP', 'nect'] })).toEqual(['NECT']);
  });
});

describe('matchesMethodFilter: jurisdictions', () => {
  it('keeps the methods usable in EIDAS (all but SWISSCOM-RA)', () => {
    expect(issuersFor({ jurisdictions: ['EIDAS'] })).toEqual(ALL_BUT_SWISSCOM);
  });

  it('keeps the methods usable in ZERTES (all)', () => {
    expect(issuersFor({ jurisdictions: ['ZERTES'] })).toEqual(ALL);
  });

  it('takes several jurisdictions as OR', () => {
    expect(issuersFor({ jurisdictions: ['EIDAS', 'ZERTES'] })).toEqual(ALL);
  });

  it('drops a method without a capability in the jurisdiction', () => {
    expect(matchesMethodFilter(method('SWISSCOM-RA'), { jurisdictions: ['EIDAS'] })).toBe(false);
    expect(matchesMethodFilter(method('SWISSCOM-RA'), { jurisdictions: ['ZERTES'] })).toBe(true);
  });
});

describe('matchesMethodFilter: loa', () => {
  it('alone, is a minimum in any jurisdiction: LOA4 keeps every catalogue method', () => {
    // INTRUM is EIDAS LOA3 but ZERTES LOA4; SWISSCOM-RA is ZERTES LOA4 only.
    expect(issuersFor({ loa: 'LOA4' })).toEqual(ALL);
    expect(matchesMethodFilter(method('INTRUM-VIDEO'), { loa: 'LOA4' })).toBe(true);
  });

  it('alone, LOA3 keeps every catalogue method (LOA4 satisfies LOA3)', () => {
    expect(issuersFor({ loa: 'LOA3' })).toEqual(ALL);
    expect(matchesMethodFilter(method('SWISSCOM-RA'), { loa: 'LOA3' })).toBe(true);
  });

  it('counts only the requested jurisdictions: EIDAS LOA4 excludes INTRUM (EIDAS LOA3) and SWISSCOM-RA', () => {
    expect(issuersFor({ jurisdictions: ['EIDAS'], loa: 'LOA4' })).toEqual(['IDENTITY.TM', 'KLARNA', 'IDENTITY-TM-EID', 'NECT', 'TEST']);
    expect(matchesMethodFilter(method('INTRUM-VIDEO'), { jurisdictions: ['EIDAS'], loa: 'LOA4' })).toBe(false);
    expect(matchesMethodFilter(method('INTRUM-AUTOIDENT'), { jurisdictions: ['EIDAS'], loa: 'LOA4' })).toBe(false);
  });

  it('ZERTES LOA4 keeps only the methods qualified in Switzerland', () => {
    expect(issuersFor({ jurisdictions: ['ZERTES'], loa: 'LOA4' })).toEqual(['INTRUM-VIDEO', 'INTRUM-AUTOIDENT', 'SWISSCOM-RA', 'TEST']);
  });

  it('EIDAS LOA3 is satisfied by LOA4 and LOA3 capabilities alike', () => {
    expect(issuersFor({ jurisdictions: ['EIDAS'], loa: 'LOA3' })).toEqual(ALL_BUT_SWISSCOM);
  });

  it('ZERTES LOA3 is satisfied by every method (LOA4 satisfies LOA3)', () => {
    expect(issuersFor({ jurisdictions: ['ZERTES'], loa: 'LOA3' })).toEqual(ALL);
  });

  it('with several jurisdictions, LOA4 in any one of them is enough', () => {
    expect(issuersFor({ jurisdictions: ['EIDAS', 'ZERTES'], loa: 'LOA4' })).toEqual(ALL);
  });

  it('rejects a method whose levels are all below the minimum, and one without capabilities', () => {
    const advancedCapabilities: SignatureCapability[] = [
      { jurisdiction: 'EIDAS', loa: 'LOA3' },
      { jurisdiction: 'ZERTES', loa: 'LOA3' },
    ];
    const advancedOnly = { ...method('KLARNA'), capabilities: advancedCapabilities };
    expect(matchesMethodFilter(advancedOnly, { loa: 'LOA4' })).toBe(false);
    expect(matchesMethodFilter(advancedOnly, { loa: 'LOA3' })).toBe(true);
    const none = { ...method('KLARNA'), capabilities: [] };
    expect(matchesMethodFilter(none, { loa: 'LOA3' })).toBe(false);
    expect(matchesMethodFilter(none, { jurisdictions: ['EIDAS'] })).toBe(false);
    expect(matchesMethodFilter(none, {})).toBe(true);
  });
});

describe('matchesMethodFilter: flags and types', () => {
  it('offline true lists only SWISSCOM-RA, false all the others', () => {
    expect(issuersFor({ offline: true })).toEqual(['SWISSCOM-RA']);
    expect(issuersFor({ offline: false })).toEqual(ALL_BUT_SWISSCOM);
  });

  it('webFlow true lists the browser methods, false only SWISSCOM-RA', () => {
    expect(issuersFor({ webFlow: true })).toEqual(ALL_BUT_SWISSCOM);
    expect(issuersFor({ webFlow: false })).toEqual(['SWISSCOM-RA']);
  });

  it('realtime true lists the methods after which one can sign at once, false only SWISSCOM-RA', () => {
    expect(issuersFor({ realtime: true })).toEqual(ALL_BUT_SWISSCOM);
    expect(issuersFor({ realtime: false })).toEqual(['SWISSCOM-RA']);
  });

  it('methodTypes match one type each', () => {
    expect(issuersFor({ methodTypes: ['VIDEO'] })).toEqual(['IDENTITY.TM', 'INTRUM-VIDEO', 'TEST']);
    expect(issuersFor({ methodTypes: ['EID'] })).toEqual(['IDENTITY-TM-EID']);
    expect(issuersFor({ methodTypes: ['BANK'] })).toEqual(['KLARNA']);
    expect(issuersFor({ methodTypes: ['ROBO_IDENT'] })).toEqual(['NECT']);
    expect(issuersFor({ methodTypes: ['AUTOIDENT'] })).toEqual(['INTRUM-AUTOIDENT']);
    expect(issuersFor({ methodTypes: ['IN_PERSON'] })).toEqual(['SWISSCOM-RA']);
  });

  it('takes several methodTypes as OR', () => {
    expect(issuersFor({ methodTypes: ['BANK', 'IN_PERSON', 'EID'] })).toEqual(['KLARNA', 'IDENTITY-TM-EID', 'SWISSCOM-RA']);
  });
});

describe('matchesMethodFilter: combined criteria (AND)', () => {
  it('issuers AND jurisdiction-bound loa', () => {
    expect(issuersFor({ issuers: ['intrum-video', 'KLARNA'], jurisdictions: ['ZERTES'], loa: 'LOA4' })).toEqual(['INTRUM-VIDEO']);
    expect(issuersFor({ issuers: ['intrum-video', 'KLARNA'], jurisdictions: ['EIDAS'], loa: 'LOA4' })).toEqual(['KLARNA']);
  });

  it('types AND flags AND loa', () => {
    expect(
      issuersFor({ methodTypes: ['VIDEO', 'IN_PERSON'], jurisdictions: ['EIDAS'], loa: 'LOA4', offline: false, webFlow: true, realtime: true }),
    ).toEqual(['IDENTITY.TM', 'TEST']);
    expect(issuersFor({ methodTypes: ['VIDEO', 'IN_PERSON'], jurisdictions: ['ZERTES'], loa: 'LOA4' })).toEqual([
      'INTRUM-VIDEO',
      'SWISSCOM-RA',
      'TEST',
    ]);
  });

  it('contradicting criteria match nothing', () => {
    expect(issuersFor({ offline: true, webFlow: true })).toEqual([]);
    expect(issuersFor({ issuers: ['SWISSCOM-RA'], jurisdictions: ['EIDAS'] })).toEqual([]);
    expect(issuersFor({ methodTypes: ['BANK'], realtime: false })).toEqual([]);
  });
});

describe('METHOD_CATALOGUE', () => {
  it('holds the 8 methods of domain.md, in order, with unique ids', () => {
    expect(METHOD_CATALOGUE.map((candidate) => candidate.issuer)).toEqual(ALL);
    expect(METHOD_CATALOGUE).toHaveLength(8);
    expect(new Set(METHOD_CATALOGUE.map((candidate) => candidate.id)).size).toBe(8);
  });

  it('has exactly one test-only method, the TEST issuer', () => {
    expect(METHOD_CATALOGUE.filter((candidate) => candidate.testOnly).map((candidate) => candidate.issuer)).toEqual(['TEST']);
  });

  it('has the types and names of domain.md', () => {
    expect(METHOD_CATALOGUE.map((candidate) => [candidate.issuer, candidate.name, candidate.type])).toEqual([
      ['IDENTITY.TM', 'video', 'VIDEO'],
      ['KLARNA', 'bank', 'BANK'],
      ['IDENTITY-TM-EID', 'identity-tm-eid', 'EID'],
      ['NECT', 'robo-ident', 'ROBO_IDENT'],
      ['INTRUM-VIDEO', 'video', 'VIDEO'],
      ['INTRUM-AUTOIDENT', 'autoident', 'AUTOIDENT'],
      ['SWISSCOM-RA', 'direct', 'IN_PERSON'],
      ['TEST', 'video', 'VIDEO'],
    ]);
  });

  it('collects T&C in the app only for NECT', () => {
    expect(method('NECT').termsInApp).toBe(true);
    expect(METHOD_CATALOGUE.filter((candidate) => candidate.termsInApp).map((candidate) => candidate.issuer)).toEqual(['NECT']);
  });

  it('gives every method exactly one rule per identity attribute', () => {
    for (const candidate of METHOD_CATALOGUE) {
      expect(candidate.initialData.map((entry) => entry.attribute).sort(), candidate.id).toEqual([...IDENTITY_ATTRIBUTES].sort());
    }
  });

  it('KLARNA needs the names, date of birth, mobile number and country, each matching the bank account', () => {
    const mandatory = ['GIVEN_NAMES', 'SURNAME', 'DATE_OF_BIRTH', 'MOBILE_NUMBER', 'COUNTRY'] as const;
    expect(attributesWhere('KLARNA', 'MANDATORY')).toEqual(mandatory);
    for (const attribute of mandatory) {
      expect(rule('KLARNA', attribute), attribute).toEqual({ attribute, requirement: 'MANDATORY', mustMatchDocument: true });
    }
    expect(rule('KLARNA', 'EMAIL')).toEqual({ attribute: 'EMAIL', requirement: 'OPTIONAL', mustMatchDocument: false });
    expect(rule('KLARNA', 'DOCUMENT_VALID_UNTIL')).toEqual({ attribute: 'DOCUMENT_VALID_UNTIL', requirement: 'NOT_ACCEPTED', mustMatchDocument: false });
  });

  it('INTRUM needs the mobile number without matching a document, and the names matching it', () => {
    for (const issuer of ['INTRUM-VIDEO', 'INTRUM-AUTOIDENT']) {
      expect(rule(issuer, 'MOBILE_NUMBER'), issuer).toEqual({ attribute: 'MOBILE_NUMBER', requirement: 'MANDATORY', mustMatchDocument: false });
      expect(rule(issuer, 'GIVEN_NAMES'), issuer).toEqual({ attribute: 'GIVEN_NAMES', requirement: 'MANDATORY', mustMatchDocument: true });
      expect(rule(issuer, 'SURNAME'), issuer).toEqual({ attribute: 'SURNAME', requirement: 'MANDATORY', mustMatchDocument: true });
      expect(rule(issuer, 'DATE_OF_BIRTH'), issuer).toEqual({ attribute: 'DATE_OF_BIRTH', requirement: 'OPTIONAL', mustMatchDocument: false });
      expect(attributesWhere(issuer, 'MANDATORY'), issuer).toEqual(['GIVEN_NAMES', 'SURNAME', 'MOBILE_NUMBER']);
    }
  });

  it('IDENTITY.TM refuses the email and accepts the document validity', () => {
    expect(rule('IDENTITY.TM', 'EMAIL')).toEqual({ attribute: 'EMAIL', requirement: 'NOT_ACCEPTED', mustMatchDocument: false });
    expect(rule('IDENTITY.TM', 'DOCUMENT_VALID_UNTIL')).toEqual({ attribute: 'DOCUMENT_VALID_UNTIL', requirement: 'OPTIONAL', mustMatchDocument: false });
    expect(attributesWhere('IDENTITY.TM', 'MANDATORY')).toEqual([]);
  });

  it('only IDENTITY.TM accepts the document validity', () => {
    expect(
      METHOD_CATALOGUE.filter((candidate) => candidate.initialData.some((entry) => entry.attribute === 'DOCUMENT_VALID_UNTIL' && entry.requirement !== 'NOT_ACCEPTED')).map(
        (candidate) => candidate.issuer,
      ),
    ).toEqual(['IDENTITY.TM']);
  });

  it('has the mandatory initial data of domain.md for the other methods', () => {
    expect(attributesWhere('IDENTITY-TM-EID', 'MANDATORY')).toEqual(['GIVEN_NAMES', 'SURNAME', 'DATE_OF_BIRTH', 'MOBILE_NUMBER']);
    expect(attributesWhere('NECT', 'MANDATORY')).toEqual([]);
    expect(attributesWhere('NECT', 'NOT_ACCEPTED')).toEqual(['DOCUMENT_VALID_UNTIL']);
  });

  it('has the target URL validity of domain.md', () => {
    expect(method('IDENTITY.TM').targetUrlValiditySeconds).toBeNull();
    expect(method('KLARNA').targetUrlValiditySeconds).toBe(3600);
    expect(method('NECT').targetUrlValiditySeconds).toBe(30 * 86_400);
    expect(method('INTRUM-VIDEO').targetUrlValiditySeconds).toBe(90 * 86_400);
    expect(method('TEST').targetUrlValiditySeconds).toBe(86_400);
  });

  it('has the evidence validity of domain.md', () => {
    expect(METHOD_CATALOGUE.map((candidate) => candidate.evidenceValidityMonths)).toEqual([60, 24, 60, 24, 60, 24, 60, 1]);
  });
});
