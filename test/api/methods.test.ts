import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { startTestService, type TestService } from '../kit.js';

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
  token = await srs.token(await srs.createClient('SERVICE_PROVIDER'));
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
