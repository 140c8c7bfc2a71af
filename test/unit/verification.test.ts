// The verify / lookup rules (src/domain/verification.ts) and the T&C status rules
// (src/domain/terms.ts): plain functions, exercised without a database.
import { describe, expect, it } from 'vitest';
import { evaluateEvidence, meetsLevel, nameMatches, verifyEvidence, type EvidenceFacts, type VerificationRequest } from '../../src/domain/verification.js';
import { effectiveTermsStatus, termsAcceptedInApp, termsChannelFor, type TermsStatus } from '../../src/domain/terms.js';
import { METHOD_CATALOGUE } from '../../src/domain/catalogue.js';

const NOW = new Date('2026-06-15T12:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;
const daysFromNow = (days: number) => new Date(NOW.getTime() + days * DAY);

let counter = 0;
/** A valid evidence (ACTIVE, a year left, T&C accepted, EIDAS LOA4 + ZERTES LOA3) unless overridden. */
function evidence(overrides: Partial<EvidenceFacts> = {}): EvidenceFacts {
  counter++;
  return {
    id: `ev-${counter}`,
    status: 'ACTIVE',
    identifiedAt: daysFromNow(-10),
    validUntil: daysFromNow(365),
    capabilities: [
      { jurisdiction: 'EIDAS', loa: 'LOA4' },
      { jurisdiction: 'ZERTES', loa: 'LOA3' },
    ],
    termsAccepted: true,
    subject: { givenNames: 'Anna Maria', surname: 'Muster', nationality: 'CH' },
    ...overrides,
  };
}

const SUBJECT = { givenNames: 'Anna Maria', surname: 'Muster', nationality: 'CH' };

describe('nameMatches', () => {
  it('matches the surname exactly, ignoring case and surrounding spaces', () => {
    expect(nameMatches(SUBJECT, { givenNames: 'Anna', surname: 'Muster' })).toBe(true);
    expect(nameMatches(SUBJECT, { givenNames: 'Anna', surname: '  MUSTER ' })).toBe(true);
    expect(nameMatches(SUBJECT, { givenNames: 'Anna', surname: 'muster' })).toBe(true);
    expect(nameMatches({ ...SUBJECT, surname: ' Muster ' }, { givenNames: 'Anna', surname: 'Muster' })).toBe(true);
  });

  it('refuses any other surname: longer, shorter, inner spaces, accents, hyphens', () => {
    for (const surname of ['Mustermann', 'Muste', 'Must er', 'Müster', 'Muster-Meier', 'Meier', 'Anna']) {
      expect(nameMatches(SUBJECT, { givenNames: 'Anna', surname }), surname).toBe(false);
    }
  });

  it('needs at least one of the given names among the evidence’s given names', () => {
    expect(nameMatches(SUBJECT, { givenNames: 'Anna Maria', surname: 'Muster' })).toBe(true);
    expect(nameMatches(SUBJECT, { givenNames: 'Maria', surname: 'Muster' })).toBe(true);
    expect(nameMatches(SUBJECT, { givenNames: 'maria', surname: 'Muster' })).toBe(true);
    expect(nameMatches(SUBJECT, { givenNames: ' Peter   MARIA ', surname: 'Muster' })).toBe(true);
    expect(nameMatches(SUBJECT, { givenNames: 'Peter', surname: 'Muster' })).toBe(false);
    // Whole names only: neither part of a name nor two names run together.
    expect(nameMatches(SUBJECT, { givenNames: 'Ann', surname: 'Muster' })).toBe(false);
    expect(nameMatches(SUBJECT, { givenNames: 'Marianne', surname: 'Muster' })).toBe(false);
    expect(nameMatches(SUBJECT, { givenNames: 'AnnaMaria', surname: 'Muster' })).toBe(false);
    expect(nameMatches(SUBJECT, { givenNames: '   ', surname: 'Muster' })).toBe(false);
  });

  it('compares a country with the nationality when both are known', () => {
    expect(nameMatches(SUBJECT, { givenNames: 'Anna', surname: 'Muster', country: 'CH' })).toBe(true);
    expect(nameMatches(SUBJECT, { givenNames: 'Anna', surname: 'Muster', country: ' ch ' })).toBe(true);
    expect(nameMatches(SUBJECT, { givenNames: 'Anna', surname: 'Muster', country: 'DE' })).toBe(false);
    expect(nameMatches(SUBJECT, { givenNames: 'Anna', surname: 'Muster', country: null })).toBe(true);
    expect(nameMatches(SUBJECT, { givenNames: 'Anna', surname: 'Muster', country: '' })).toBe(true);
    // Unknown nationality: the country cannot be compared and does not refuse.
    expect(nameMatches({ givenNames: 'Anna Maria', surname: 'Muster' }, { givenNames: 'Anna', surname: 'Muster', country: 'DE' })).toBe(true);
  });
});

describe('meetsLevel', () => {
  const caps = evidence().capabilities; // EIDAS LOA4, ZERTES LOA3

  it('without jurisdiction and level: any capability will do, none will not', () => {
    expect(meetsLevel(caps, {})).toBe(true);
    expect(meetsLevel([], {})).toBe(false);
  });

  it('a LOA4 capability satisfies a LOA3 need, not the other way round', () => {
    expect(meetsLevel(caps, { jurisdiction: 'EIDAS', loa: 'LOA3' })).toBe(true);
    expect(meetsLevel(caps, { jurisdiction: 'EIDAS', loa: 'LOA4' })).toBe(true);
    expect(meetsLevel(caps, { jurisdiction: 'ZERTES', loa: 'LOA3' })).toBe(true);
    expect(meetsLevel(caps, { jurisdiction: 'ZERTES', loa: 'LOA4' })).toBe(false);
  });

  it('a level without jurisdiction is met in any jurisdiction; a jurisdiction without level needs a capability there', () => {
    expect(meetsLevel(caps, { loa: 'LOA4' })).toBe(true);
    expect(meetsLevel([{ jurisdiction: 'ZERTES', loa: 'LOA3' }], { loa: 'LOA4' })).toBe(false);
    expect(meetsLevel([{ jurisdiction: 'ZERTES', loa: 'LOA4' }], { jurisdiction: 'EIDAS' })).toBe(false);
    expect(meetsLevel([{ jurisdiction: 'ZERTES', loa: 'LOA4' }], { jurisdiction: 'EIDAS', loa: 'LOA3' })).toBe(false);
    expect(meetsLevel([{ jurisdiction: 'ZERTES', loa: 'LOA4' }], { jurisdiction: 'ZERTES' })).toBe(true);
  });
});

describe('evaluateEvidence', () => {
  const request: VerificationRequest = {};

  it('OK for an active, unexpired evidence with accepted T&C', () => {
    expect(evaluateEvidence(evidence(), request, NOW)).toBe('OK');
    expect(evaluateEvidence(evidence(), { jurisdiction: 'ZERTES', loa: 'LOA3', name: { givenNames: 'Maria', surname: 'MUSTER', country: 'CH' } }, NOW)).toBe('OK');
  });

  it('REVOKED before anything else, even when also expired, mismatched and without T&C', () => {
    const revoked = evidence({ status: 'REVOKED', validUntil: daysFromNow(-1), termsAccepted: false });
    expect(evaluateEvidence(revoked, { jurisdiction: 'ZERTES', loa: 'LOA4', name: { givenNames: 'X', surname: 'Y' } }, NOW)).toBe('REVOKED');
  });

  it('EXPIRED by status, or once validUntil is reached', () => {
    expect(evaluateEvidence(evidence({ status: 'EXPIRED' }), request, NOW)).toBe('EXPIRED');
    expect(evaluateEvidence(evidence({ validUntil: daysFromNow(-1) }), request, NOW)).toBe('EXPIRED');
    expect(evaluateEvidence(evidence({ validUntil: new Date(NOW.getTime()) }), request, NOW)).toBe('EXPIRED');
    expect(evaluateEvidence(evidence({ validUntil: new Date(NOW.getTime() + 1) }), request, NOW)).toBe('OK');
    // Expiry comes before the name, the level and the T&C.
    const expired = evidence({ validUntil: daysFromNow(-1), termsAccepted: false });
    expect(evaluateEvidence(expired, { jurisdiction: 'ZERTES', loa: 'LOA4', name: { givenNames: 'X', surname: 'Y' } }, NOW)).toBe('EXPIRED');
  });

  it('NAME_MISMATCH only when a name is asked for, before the level and the T&C', () => {
    const pending = evidence({ termsAccepted: false });
    expect(evaluateEvidence(pending, { jurisdiction: 'ZERTES', loa: 'LOA4', name: { givenNames: 'Anna', surname: 'Meier' } }, NOW)).toBe('NAME_MISMATCH');
    expect(evaluateEvidence(evidence(), { name: { givenNames: 'Peter', surname: 'Muster' } }, NOW)).toBe('NAME_MISMATCH');
    expect(evaluateEvidence(evidence(), { name: { givenNames: 'Anna', surname: 'Muster', country: 'DE' } }, NOW)).toBe('NAME_MISMATCH');
    expect(evaluateEvidence(evidence(), { name: null }, NOW)).toBe('OK');
  });

  it('INSUFFICIENT_LOA for a jurisdiction or level the evidence does not reach, before the T&C', () => {
    expect(evaluateEvidence(evidence(), { jurisdiction: 'ZERTES', loa: 'LOA4' }, NOW)).toBe('INSUFFICIENT_LOA');
    expect(evaluateEvidence(evidence({ termsAccepted: false }), { jurisdiction: 'ZERTES', loa: 'LOA4' }, NOW)).toBe('INSUFFICIENT_LOA');
    const swissOnly = evidence({ capabilities: [{ jurisdiction: 'ZERTES', loa: 'LOA4' }] });
    expect(evaluateEvidence(swissOnly, { jurisdiction: 'EIDAS' }, NOW)).toBe('INSUFFICIENT_LOA');
    expect(evaluateEvidence(swissOnly, { jurisdiction: 'ZERTES', loa: 'LOA3' }, NOW)).toBe('OK');
    expect(evaluateEvidence(evidence(), { jurisdiction: 'EIDAS', loa: 'LOA4' }, NOW)).toBe('OK');
    expect(evaluateEvidence(evidence(), { jurisdiction: 'EIDAS', loa: 'LOA3' }, NOW)).toBe('OK');
  });

  it('TERMS_PENDING when all else is fine but the T&C are not accepted', () => {
    expect(evaluateEvidence(evidence({ termsAccepted: false }), request, NOW)).toBe('TERMS_PENDING');
    expect(evaluateEvidence(evidence({ termsAccepted: false }), { jurisdiction: 'EIDAS', loa: 'LOA4', name: { givenNames: 'Anna', surname: 'Muster' } }, NOW)).toBe(
      'TERMS_PENDING',
    );
  });
});

describe('verifyEvidence', () => {
  it('NO_EVIDENCE without any evidence', () => {
    expect(verifyEvidence([], {}, NOW)).toStrictEqual({ valid: false, reason: 'NO_EVIDENCE', evidence: null, expiresWithin90Days: false });
    expect(verifyEvidence([], { name: { givenNames: 'Anna', surname: 'Muster' } }, NOW).reason).toBe('NO_EVIDENCE');
  });

  it('answers with the single evidence and its reason', () => {
    const only = evidence();
    expect(verifyEvidence([only], {}, NOW)).toStrictEqual({ valid: true, reason: 'OK', evidence: only, expiresWithin90Days: false });
    const pending = evidence({ termsAccepted: false });
    expect(verifyEvidence([pending], {}, NOW)).toStrictEqual({ valid: false, reason: 'TERMS_PENDING', evidence: pending, expiresWithin90Days: false });
  });

  it('the newest valid evidence wins, over newer invalid ones and older valid ones, whatever the input order', () => {
    const oldValid = evidence({ identifiedAt: daysFromNow(-300) });
    const newerValid = evidence({ identifiedAt: daysFromNow(-100) });
    const newestRevoked = evidence({ identifiedAt: daysFromNow(-1), status: 'REVOKED' });
    const newestPending = evidence({ identifiedAt: daysFromNow(-2), termsAccepted: false });
    for (const order of [
      [oldValid, newerValid, newestRevoked, newestPending],
      [newestPending, newestRevoked, newerValid, oldValid],
      [newerValid, newestPending, oldValid, newestRevoked],
    ]) {
      const result = verifyEvidence(order, {}, NOW);
      expect(result.valid).toBe(true);
      expect(result.reason).toBe('OK');
      expect(result.evidence?.id).toBe(newerValid.id);
    }
    // An older evidence that is the only valid one still wins over a newer invalid one.
    const result = verifyEvidence([newestPending, oldValid], {}, NOW);
    expect(result.evidence?.id).toBe(oldValid.id);
    expect(result.reason).toBe('OK');
  });

  it('validity depends on the request: the newest evidence valid for it wins', () => {
    const swiss = evidence({ identifiedAt: daysFromNow(-5), capabilities: [{ jurisdiction: 'ZERTES', loa: 'LOA4' }] });
    const european = evidence({ identifiedAt: daysFromNow(-50), capabilities: [{ jurisdiction: 'EIDAS', loa: 'LOA4' }] });
    expect(verifyEvidence([swiss, european], { jurisdiction: 'EIDAS', loa: 'LOA4' }, NOW).evidence?.id).toBe(european.id);
    expect(verifyEvidence([swiss, european], { jurisdiction: 'ZERTES', loa: 'LOA4' }, NOW).evidence?.id).toBe(swiss.id);
    expect(verifyEvidence([swiss, european], {}, NOW).evidence?.id).toBe(swiss.id);
    const otherPerson = evidence({ identifiedAt: daysFromNow(-1), subject: { givenNames: 'Hans', surname: 'Meier' } });
    const named = verifyEvidence([otherPerson, european], { name: { givenNames: 'Anna', surname: 'Muster' } }, NOW);
    expect(named).toMatchObject({ valid: true, reason: 'OK' });
    expect(named.evidence?.id).toBe(european.id);
  });

  it('without a valid evidence: the newest evidence’s reason, whatever the input order', () => {
    const oldExpired = evidence({ identifiedAt: daysFromNow(-900), validUntil: daysFromNow(-100) });
    const newerRevoked = evidence({ identifiedAt: daysFromNow(-50), status: 'REVOKED' });
    const newestPending = evidence({ identifiedAt: daysFromNow(-1), termsAccepted: false });
    for (const order of [
      [oldExpired, newerRevoked, newestPending],
      [newestPending, oldExpired, newerRevoked],
    ]) {
      const result = verifyEvidence(order, {}, NOW);
      expect(result).toMatchObject({ valid: false, reason: 'TERMS_PENDING', expiresWithin90Days: false });
      expect(result.evidence?.id).toBe(newestPending.id);
    }
    const result = verifyEvidence([oldExpired, newerRevoked], {}, NOW);
    expect(result.reason).toBe('REVOKED');
    expect(result.evidence?.id).toBe(newerRevoked.id);
    expect(verifyEvidence([oldExpired], {}, NOW).reason).toBe('EXPIRED');
    expect(verifyEvidence([newestPending, oldExpired], { jurisdiction: 'ZERTES', loa: 'LOA4' }, NOW).reason).toBe('INSUFFICIENT_LOA');
    expect(verifyEvidence([newestPending, oldExpired], { name: { givenNames: 'Hans', surname: 'Muster' } }, NOW).reason).toBe('NAME_MISMATCH');
  });

  it('expiresWithin90Days: a valid evidence with at most 90 days left', () => {
    const at = (days: number) => verifyEvidence([evidence({ validUntil: daysFromNow(days) })], {}, NOW);
    expect(at(30).expiresWithin90Days).toBe(true);
    expect(at(89).expiresWithin90Days).toBe(true);
    expect(at(90).expiresWithin90Days).toBe(true);
    expect(at(90.001).expiresWithin90Days).toBe(false);
    expect(at(91).expiresWithin90Days).toBe(false);
    expect(at(365).expiresWithin90Days).toBe(false);
    // Only for a valid answer: an invalid evidence near its end is not flagged.
    expect(verifyEvidence([evidence({ validUntil: daysFromNow(30), termsAccepted: false })], {}, NOW).expiresWithin90Days).toBe(false);
    expect(verifyEvidence([evidence({ validUntil: daysFromNow(30), status: 'REVOKED' })], {}, NOW).expiresWithin90Days).toBe(false);
    expect(verifyEvidence([evidence({ validUntil: daysFromNow(-1) })], {}, NOW).expiresWithin90Days).toBe(false);
  });

  it('uses the current time when none is given', () => {
    const inAMonth = new Date(Date.now() + 30 * DAY);
    expect(verifyEvidence([evidence({ identifiedAt: new Date(), validUntil: inAMonth })], {})).toMatchObject({ valid: true, expiresWithin90Days: true });
    expect(verifyEvidence([evidence({ identifiedAt: new Date(Date.now() - 2 * DAY), validUntil: new Date(Date.now() - DAY) })], {}).reason).toBe('EXPIRED');
  });
});

describe('effectiveTermsStatus', () => {
  it('an unanswered link past its expiry is EXPIRED', () => {
    expect(effectiveTermsStatus({ status: 'PENDING', linkExpiresAt: new Date(NOW.getTime() - 1) }, NOW)).toBe('EXPIRED');
    expect(effectiveTermsStatus({ status: 'PENDING', linkExpiresAt: new Date(NOW.getTime()) }, NOW)).toBe('EXPIRED');
  });

  it('stays PENDING before the expiry, or without a link (service provider channel)', () => {
    expect(effectiveTermsStatus({ status: 'PENDING', linkExpiresAt: new Date(NOW.getTime() + 1) }, NOW)).toBe('PENDING');
    expect(effectiveTermsStatus({ status: 'PENDING', linkExpiresAt: null }, NOW)).toBe('PENDING');
  });

  it('a decision stands whatever the link’s expiry', () => {
    const past = new Date(NOW.getTime() - DAY);
    for (const status of ['ACCEPTED', 'DECLINED', 'NOT_REQUIRED', 'EXPIRED'] as TermsStatus[]) {
      expect(effectiveTermsStatus({ status, linkExpiresAt: past }, NOW)).toBe(status);
      expect(effectiveTermsStatus({ status, linkExpiresAt: null }, NOW)).toBe(status);
    }
  });

  it('uses the current time when none is given', () => {
    expect(effectiveTermsStatus({ status: 'PENDING', linkExpiresAt: new Date(Date.now() - 1000) })).toBe('EXPIRED');
    expect(effectiveTermsStatus({ status: 'PENDING', linkExpiresAt: new Date(Date.now() + 60_000) })).toBe('PENDING');
  });
});

describe('termsChannelFor', () => {
  it('in the app wins, then the service provider (silent SMS), else an SMS link', () => {
    expect(termsChannelFor({ acceptedInApp: true, disabledSmsAlerts: true })).toBe('IN_APP');
    expect(termsChannelFor({ acceptedInApp: true, disabledSmsAlerts: false })).toBe('IN_APP');
    expect(termsChannelFor({ acceptedInApp: false, disabledSmsAlerts: true })).toBe('SERVICE_PROVIDER');
    expect(termsChannelFor({ acceptedInApp: false, disabledSmsAlerts: false })).toBe('SMS_LINK');
  });
});

describe('termsAcceptedInApp', () => {
  const method = (issuer: string) => METHOD_CATALOGUE.find((candidate) => candidate.issuer === issuer)!;

  it('follows the method when the partner says nothing or what the method does', () => {
    expect(termsAcceptedInApp(method('NECT'), undefined)).toEqual({ acceptedInApp: true });
    expect(termsAcceptedInApp(method('NECT'), true)).toEqual({ acceptedInApp: true });
    expect(termsAcceptedInApp(method('IDENTITY.TM'), null)).toEqual({ acceptedInApp: false });
    expect(termsAcceptedInApp(method('KLARNA'), false)).toEqual({ acceptedInApp: false });
  });

  it('refuses a claim against the method: an SMS method accepted in the app, or an app method without it', () => {
    expect(termsAcceptedInApp(method('IDENTITY.TM'), true)).toEqual({ problem: expect.stringContaining('collected by SMS') });
    expect(termsAcceptedInApp(method('INTRUM-AUTOIDENT'), true)).toEqual({ problem: expect.stringContaining('INTRUM-AUTOIDENT') });
    expect(termsAcceptedInApp(method('NECT'), false)).toEqual({ problem: expect.stringContaining('collects the T&C before the identification') });
  });

  it('lets the TEST partner choose either way', () => {
    expect(termsAcceptedInApp(method('TEST'), true)).toEqual({ acceptedInApp: true });
    expect(termsAcceptedInApp(method('TEST'), false)).toEqual({ acceptedInApp: false });
  });
});
