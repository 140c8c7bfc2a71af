// The REST routes' parsing: filters, path segments, distinguished names, MSISDNs, token requests.
import { describe, expect, it } from 'vitest';
import { METHOD_CATALOGUE } from '../../src/domain/catalogue.js';
import { methodSegmentMatches, msisdnToInternational, parseDistinguishedName, placeOrderInputFrom, providerFilter, restErrorOf } from '../../src/rest/mapping.js';
import { RestError } from '../../src/rest/http.js';
import { tokenRequestFrom } from '../../src/rest/token.js';

describe('providerFilter', () => {
  it('reads the query string, or a header for a filter the query lacks', () => {
    expect(providerFilter(new URLSearchParams('jurisdiction=eIDAS&loa=3&method=video'), {})).toEqual({ jurisdictions: ['EIDAS'], loa: 'LOA3', methodTypes: ['VIDEO'] });
    expect(providerFilter(new URLSearchParams('loa=LOA4'), { jurisdiction: 'ch, eu', loa: '3', issuer: 'Test' })).toEqual({
      jurisdictions: ['ZERTES', 'EIDAS'],
      loa: 'LOA4',
      issuers: ['Test'],
    });
    expect(providerFilter(new URLSearchParams('method=robo-ident&method=eID&offline=false'), {})).toEqual({ methodTypes: ['ROBO_IDENT', 'EID'], offline: false });
  });

  it('refuses values that do not exist', () => {
    for (const query of ['jurisdiction=MARS', 'loa=5', 'loa=3&loa=4', 'method=teleport', 'webFlow=maybe']) {
      expect(() => providerFilter(new URLSearchParams(query), {}), query).toThrow(RestError);
    }
  });
});

describe('methodSegmentMatches', () => {
  const method = (id: string) => METHOD_CATALOGUE.find((entry) => entry.id === id)!;
  it('takes the method name or the guide\'s type name, in any case', () => {
    expect(methodSegmentMatches(method('test-video'), 'Video')).toBe(true);
    expect(methodSegmentMatches(method('identity-tm-eid'), 'eID')).toBe(true);
    expect(methodSegmentMatches(method('nect-robo-ident'), 'robo-ident')).toBe(true);
    expect(methodSegmentMatches(method('klarna-bank'), 'video')).toBe(false);
  });
});

describe('parseDistinguishedName', () => {
  it('reads givenname / surname / c, and their short forms, with escaped commas', () => {
    expect(parseDistinguishedName('cn=Max Maximus, givenname=Max, surname=Maximus, c=RO')).toEqual({ givenNames: 'Max', surname: 'Maximus', country: 'RO' });
    expect(parseDistinguishedName('CN=Anna Muster,GN=Anna Maria,SN=Muster\\, jr')).toEqual({ givenNames: 'Anna Maria', surname: 'Muster, jr', country: null });
  });
  it('refuses a name without given name or surname, and text that is no DN', () => {
    expect(() => parseDistinguishedName('cn=Max Maximus')).toThrow(/givenname/);
    expect(() => parseDistinguishedName('Max Maximus')).toThrow(RestError);
  });
});

describe('msisdnToInternational', () => {
  it('adds the + to international digits and leaves the rest to the number check', () => {
    expect(msisdnToInternational('41791234567')).toBe('+41791234567');
    expect(msisdnToInternational('+41 79 123 45 67')).toBe('+41 79 123 45 67');
    expect(msisdnToInternational('0791234567')).toBe('0791234567');
  });
});

describe('placeOrderInputFrom and restErrorOf', () => {
  it('maps the commercial body to placeOrder\'s input and refuses unknown fields', () => {
    expect(placeOrderInputFrom({ firstName: 'Max', lastName: 'Maximus', dob: '1985-07-14', mobile: '+41791234567', country: 'CH', externalId: 'x' }, 'test-video', 'k1')).toMatchObject({
      methodId: 'test-video',
      initialData: { givenNames: 'Max', surname: 'Maximus', dateOfBirth: '1985-07-14', mobileNumber: '+41791234567', country: 'CH' },
      externalId: 'x',
      idempotencyKey: 'k1',
    });
    expect(() => placeOrderInputFrom({ title: 'Dr' }, 'test-video', undefined)).toThrow(/Unknown field "title"/);
  });

  it('names the services\' field paths as the REST bodies do, with a status per code', () => {
    const error = restErrorOf([
      { code: 'MISSING_MANDATORY_ATTRIBUTE', message: 'm', field: ['input', 'initialData', 'dateOfBirth'] },
      { code: 'INVALID_INPUT', message: 'i', field: ['input', 'initialData', 'mobileNumber'] },
    ]);
    expect(error).toMatchObject({ status: 422, code: 'MISSING_MANDATORY_ATTRIBUTE', field: 'dob' });
    expect(error.details!.map((detail) => detail.field)).toEqual(['dob', 'mobile']);
    expect(restErrorOf([{ code: 'INVALID_INPUT', message: 'n', field: ['input', 'mobileNumber'] }]).field).toBe('msisdn');
    expect(restErrorOf([{ code: 'IDEMPOTENCY_CONFLICT', message: 'c', field: ['input', 'idempotencyKey'] }]).status).toBe(409);
  });
});

describe('tokenRequestFrom', () => {
  it('turns query credentials into Basic authentication and scope=miss into every scope', () => {
    const { form, authorization } = tokenRequestFrom(new URLSearchParams('client_id=a b&client_secret=s:e%26t&grant_type=client_credentials&scope=miss'), new URLSearchParams(), undefined);
    expect(form.toString()).toBe('grant_type=client_credentials');
    expect(Buffer.from(authorization!.replace('Basic ', ''), 'base64').toString()).toBe('a+b:s%3Ae%26t');
  });
  it('keeps other scopes, and a body wins over the query', () => {
    const { form, authorization } = tokenRequestFrom(new URLSearchParams('grant_type=password&scope=miss verify'), new URLSearchParams('grant_type=client_credentials'), 'Basic xyz');
    expect(Object.fromEntries(form)).toEqual({ grant_type: 'client_credentials', scope: 'verify' });
    expect(authorization).toBe('Basic xyz');
  });
});
