import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { spToken, startTestService, type TestService } from '../kit.js';

const MethodsQuery = graphql(`
  query Methods($filter: IdentificationMethodFilter) {
    identificationMethods(filter: $filter) {
      id
      name
      issuer
      type
      offline
      webFlow
      realtime
      termsInApp
      testOnly
      capabilities { jurisdiction loa }
    }
  }
`);

let srs: TestService;
let token: string;

beforeAll(async () => {
  srs = await startTestService();
  token = await spToken(srs);
});
afterAll(() => srs?.stop());

async function issuersFor(filter: object | null): Promise<string[]> {
  const response = await srs.graphql(MethodsQuery, { variables: { filter }, token });
  expect(response.errors).toBeUndefined();
  return response.data!.identificationMethods.map((method) => method.issuer);
}

describe('identificationMethods', () => {
  it('lists the whole catalogue, TEST included in test mode, when no filter is given', async () => {
    expect(await issuersFor(null)).toEqual([
      'IDENTITY.TM',
      'KLARNA',
      'IDENTITY-TM-EID',
      'NECT',
      'INTRUM-VIDEO',
      'INTRUM-AUTOIDENT',
      'SWISSCOM-RA',
      'TEST',
    ]);
  });

  it('keeps LOA a minimum within the requested jurisdictions', async () => {
    expect(await issuersFor({ jurisdictions: ['ZERTES'], loa: 'LOA4' })).toEqual(['INTRUM-VIDEO', 'INTRUM-AUTOIDENT', 'SWISSCOM-RA', 'TEST']);
  });
});

const IssuersQuery = graphql(`
  query MethodIssuers($filter: IdentificationMethodFilter) {
    identificationMethods(filter: $filter) {
      issuer
    }
  }
`);

const MethodDetailsQuery = graphql(`
  query MethodDetails($filter: IdentificationMethodFilter) {
    identificationMethods(filter: $filter) {
      id
      name
      issuer
      type
      capabilities { jurisdiction loa }
      offline
      webFlow
      realtime
      languages
      evidenceValidityMonths
      targetUrlValiditySeconds
      termsInApp
      testOnly
      initialData { attribute requirement mustMatchDocument }
    }
  }
`);

const MethodNodeQuery = graphql(`
  query MethodNode($id: ID!) {
    node(id: $id) {
      id
      ... on IdentificationMethod { issuer name }
    }
  }
`);

const ALL = ['IDENTITY.TM', 'KLARNA', 'IDENTITY-TM-EID', 'NECT', 'INTRUM-VIDEO', 'INTRUM-AUTOIDENT', 'SWISSCOM-RA', 'TEST'];
const ALL_BUT_SWISSCOM = ALL.filter((issuer) => issuer !== 'SWISSCOM-RA');

/** Asks for the issuer alone, so the filter cannot rely on fields the client happened to select. */
async function onlyIssuersFor(filter: object | null): Promise<string[]> {
  const response = await srs.graphql(IssuersQuery, { variables: { filter }, token });
  expect(response.status).toBe(200);
  expect(response.errors).toBeUndefined();
  return response.data!.identificationMethods.map((method) => method.issuer);
}

describe('identificationMethods filter over HTTP', () => {
  it('issuers: several, case-insensitive, unknown ones match nothing', async () => {
    expect(await issuersFor({ issuers: [' klarna ', 'Nect', 'NO-SUCH-IPSP'] })).toEqual(['KLARNA', 'NECT']);
    expect(await issuersFor({ issuers: ['NO-SUCH-IPSP'] })).toEqual([]);
    expect(await onlyIssuersFor({ issuers: ['identity.tm'] })).toEqual(['IDENTITY.TM']);
  });

  it('jurisdictions', async () => {
    expect(await issuersFor({ jurisdictions: ['EIDAS'] })).toEqual(ALL_BUT_SWISSCOM);
    expect(await onlyIssuersFor({ jurisdictions: ['EIDAS'] })).toEqual(ALL_BUT_SWISSCOM);
  });

  it('loa alone and within a jurisdiction', async () => {
    expect(await issuersFor({ loa: 'LOA4' })).toEqual(ALL);
    expect(await issuersFor({ jurisdictions: ['EIDAS'], loa: 'LOA4' })).toEqual(['IDENTITY.TM', 'KLARNA', 'IDENTITY-TM-EID', 'NECT', 'TEST']);
    expect(await onlyIssuersFor({ jurisdictions: ['EIDAS'], loa: 'LOA4' })).toEqual(['IDENTITY.TM', 'KLARNA', 'IDENTITY-TM-EID', 'NECT', 'TEST']);
  });

  it('offline', async () => {
    expect(await issuersFor({ offline: true })).toEqual(['SWISSCOM-RA']);
    expect(await issuersFor({ offline: false })).toEqual(ALL_BUT_SWISSCOM);
    expect(await onlyIssuersFor({ offline: true })).toEqual(['SWISSCOM-RA']);
  });

  it('methodTypes', async () => {
    expect(await issuersFor({ methodTypes: ['VIDEO', 'BANK'] })).toEqual(['IDENTITY.TM', 'KLARNA', 'INTRUM-VIDEO', 'TEST']);
    expect(await onlyIssuersFor({ methodTypes: ['AUTOIDENT'] })).toEqual(['INTRUM-AUTOIDENT']);
  });

  it('webFlow', async () => {
    expect(await issuersFor({ webFlow: false })).toEqual(['SWISSCOM-RA']);
    expect(await onlyIssuersFor({ webFlow: true })).toEqual(ALL_BUT_SWISSCOM);
  });

  it('realtime', async () => {
    expect(await issuersFor({ realtime: false })).toEqual(['SWISSCOM-RA']);
    expect(await onlyIssuersFor({ realtime: true })).toEqual(ALL_BUT_SWISSCOM);
  });

  it('combines criteria with AND', async () => {
    const filter = { issuers: ['intrum-video', 'KLARNA', 'swisscom-ra'], jurisdictions: ['ZERTES'], loa: 'LOA4', realtime: true };
    expect(await issuersFor(filter)).toEqual(['INTRUM-VIDEO']);
    expect(await onlyIssuersFor(filter)).toEqual(['INTRUM-VIDEO']);
    expect(await issuersFor({ offline: true, webFlow: true })).toEqual([]);
  });

  it('an empty filter object and null criteria do not restrict; an empty list matches nothing', async () => {
    expect(await issuersFor({})).toEqual(ALL);
    expect(await issuersFor({ issuers: null, jurisdictions: null, loa: null, offline: null, methodTypes: null, webFlow: null, realtime: null })).toEqual(ALL);
    expect(await issuersFor({ issuers: [] })).toEqual([]);
  });

  it('answers an invalid enum value in the filter with a clear error, not a server error', async () => {
    const response = await srs.graphql(MethodsQuery, { variables: { filter: { loa: 'LOA9' } } as never, token });
    expect([200, 400]).toContain(response.status);
    expect(response.data ?? null).toBeNull();
    expect(response.errors).toHaveLength(1);
    expect(response.errors![0].message).toContain('LOA9');
    expect(response.errors![0].message).toContain('LevelOfAssurance');
    expect(response.errors![0].message).not.toMatch(/unexpected error/i);
  });

  it('answers an invalid enum literal in the query with a validation error', async () => {
    const response = await srs.graphql('{ identificationMethods(filter: { methodTypes: [SELFIE] }) { issuer } }', { token });
    expect([200, 400]).toContain(response.status);
    expect(response.data ?? null).toBeNull();
    expect(response.errors![0].message).toContain('SELFIE');
  });
});

describe('identificationMethods fields', () => {
  it('returns every field of KLARNA', async () => {
    const response = await srs.graphql(MethodDetailsQuery, { variables: { filter: { issuers: ['KLARNA'] } }, token });
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    const methods = response.data!.identificationMethods;
    expect(methods).toHaveLength(1);
    const { id, ...klarna } = methods[0];
    expect(klarna).toStrictEqual({
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
      targetUrlValiditySeconds: 3600,
      termsInApp: false,
      testOnly: false,
      initialData: [
        { attribute: 'GIVEN_NAMES', requirement: 'MANDATORY', mustMatchDocument: true },
        { attribute: 'SURNAME', requirement: 'MANDATORY', mustMatchDocument: true },
        { attribute: 'DATE_OF_BIRTH', requirement: 'MANDATORY', mustMatchDocument: true },
        { attribute: 'MOBILE_NUMBER', requirement: 'MANDATORY', mustMatchDocument: true },
        { attribute: 'PLACE_OF_BIRTH', requirement: 'OPTIONAL', mustMatchDocument: false },
        { attribute: 'NATIONALITY', requirement: 'NOT_ACCEPTED', mustMatchDocument: false },
        { attribute: 'COUNTRY', requirement: 'MANDATORY', mustMatchDocument: true },
        { attribute: 'EMAIL', requirement: 'OPTIONAL', mustMatchDocument: false },
        { attribute: 'LANGUAGE', requirement: 'OPTIONAL', mustMatchDocument: false },
        { attribute: 'DOCUMENT_VALID_UNTIL', requirement: 'NOT_ACCEPTED', mustMatchDocument: false },
      ],
    });
    // The id is a global id that fetches the same method again.
    expect(typeof id).toBe('string');
    expect(id).not.toBe('klarna-bank');
    const node = await srs.graphql(MethodNodeQuery, { variables: { id }, token });
    expect(node.errors).toBeUndefined();
    expect(node.data!.node).toEqual({ id, issuer: 'KLARNA', name: 'bank' });
  });

  it('gives IDENTITY.TM a null target URL validity (valid until cancelled)', async () => {
    const response = await srs.graphql(MethodDetailsQuery, { variables: { filter: { issuers: ['IDENTITY.TM'] } }, token });
    expect(response.errors).toBeUndefined();
    expect(response.data!.identificationMethods.map((method) => method.targetUrlValiditySeconds)).toEqual([null]);
  });
});
