// A registration to its end, through HTTP only: evidence, the T&C by SMS link in a real browser
// (Debian's chromium driven by playwright-core), silent SMS and in-app T&C, every verify / lookup
// answer, the evidence signature against the published keys (and after a key rotation), the
// operator's revocation, billing, isolation between clients, and no personal data in clear in
// the database. The database is read directly only to look for personal data in clear.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { graphql } from '../generated/index.js';
import type { ImportEvidenceInput, InitialIdentityDataInput, LookupInput, PlaceOrderInput, SimulatedOutcome, VerifyInput } from '../generated/graphql.js';
import { backend, freshDatabaseEnv, methodGlobalId, reportStatus, runCli, spToken, startTestService, type CliResult, type TestClient, type TestService } from '../kit.js';
import { launchChromium, missingChromium } from '../browser-kit.js';

const TERMS_VERSION = 'tc-2026-test';
const SLOW_TEST_MS = 180_000;
const DAY_MS = 24 * 60 * 60 * 1000;

graphql(`
  fragment RegEvidenceFields on Evidence {
    ...EvidenceCoreFields
    jws
    terms { id status channel termsVersion smsSentAt decidedAt }
  }
`);

graphql(`
  fragment RegOrderFields on Order {
    refId
    status
    externalId
    disabledSmsAlerts
    events { type status actor }
    evidence { ...RegEvidenceFields }
  }
`);

const PlaceOrderMutation = graphql(`
  mutation RegPlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      order { ...RegOrderFields }
      userErrors { code field message }
    }
  }
`);

const SimulateMutation = graphql(`
  mutation RegSimulate($input: SimulateIdentificationInput!) {
    simulateIdentification(input: $input) {
      order { ...RegOrderFields }
      userErrors { code field message }
    }
  }
`);

const OrderQuery = graphql(`
  query RegOrder($refId: ID!) {
    order(refId: $refId) { ...RegOrderFields }
  }
`);

const ImportMutation = graphql(`
  mutation RegImport($input: ImportEvidenceInput!) {
    importEvidence(input: $input) {
      order { status }
      evidence { ...RegEvidenceFields }
      userErrors { code field message }
    }
  }
`);

const RecordTermsMutation = graphql(`
  mutation RegRecordTerms($input: RecordTermsDecisionInput!) {
    recordTermsDecision(input: $input) {
      terms { id status channel termsVersion smsSentAt decidedAt }
      userErrors { code field message }
    }
  }
`);

graphql(`
  fragment RegVerificationFields on VerificationResult {
    valid
    reason
    evidenceId
    capabilities { jurisdiction loa }
    validUntil
    expiresWithin90Days
  }
`);

const LookupQuery = graphql(`
  query RegLookup($input: LookupInput!) {
    lookup(input: $input) { ...RegVerificationFields }
  }
`);

const VerifyQuery = graphql(`
  query RegVerify($input: VerifyInput!) {
    verify(input: $input) { ...RegVerificationFields }
  }
`);

const BillingQuery = graphql(`
  query RegBilling($from: Date!, $to: Date!) {
    billingReport(from: $from, to: $to) { month clientId methodName issuer externalId successfulIdentifications }
  }
`);

const EvidenceQuery = graphql(`
  query RegEvidence($id: ID!) {
    evidence(id: $id) { id refId mobileNumber status subject { givenNames surname } terms { status } }
  }
`);

const NodeQuery = graphql(`
  query RegNode($id: ID!) {
    node(id: $id) {
      id
      ... on Evidence { refId subject { surname } }
    }
  }
`);

// ---- people and numbers ----------------------------------------------------------------------

const usedNumbers = new Set<string>();
/** A Swiss mobile number no other test uses, E.164 (every lookup finds evidence by number only). */
function freshNumber(): string {
  for (;;) {
    const number = `+4179${randomInt(1_000_000, 10_000_000)}`;
    if (!usedNumbers.has(number)) {
      usedNumbers.add(number);
      return number;
    }
  }
}

/** +41791234567 -> 079 123 45 67 */
const nationalSpaced = (e164: string) => `0${e164.slice(3, 5)} ${e164.slice(5, 8)} ${e164.slice(8, 10)} ${e164.slice(10)}`;
const spacedE164 = (e164: string) => `+41 ${e164.slice(3, 5)} ${e164.slice(5, 8)} ${e164.slice(8, 10)} ${e164.slice(10)}`;

function person(overrides: Partial<InitialIdentityDataInput> = {}): InitialIdentityDataInput & { mobileNumber: string; givenNames: string; surname: string } {
  return { givenNames: 'Erika Maria', surname: 'Muster', dateOfBirth: '1988-02-29', nationality: 'CH', mobileNumber: freshNumber(), ...overrides } as never;
}

const today = () => new Date().toISOString().slice(0, 10);
const dayOffset = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
const rawEvidenceId = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').replace(/^Evidence:/, '');

// ---- GraphQL helpers (all take the service, as some tests run their own) ---------------------

async function placeOk(srs: TestService, token: string, input: Partial<PlaceOrderInput>) {
  const response = await srs.graphql(PlaceOrderMutation, { variables: { input: { methodId: methodGlobalId('test-video'), ...input } }, token });
  expect(response.errors).toBeUndefined();
  expect(response.data!.placeOrder.userErrors).toEqual([]);
  const order = response.data!.placeOrder.order!;
  expect(order.status).toBe('INITIALIZED');
  return order;
}

async function simulate(srs: TestService, token: string, refId: string, outcome: SimulatedOutcome, reason?: string) {
  const response = await srs.graphql(SimulateMutation, { variables: { input: { refId, outcome, reason } }, token });
  expect(response.errors).toBeUndefined();
  expect(response.data!.simulateIdentification.userErrors).toEqual([]);
  return response.data!.simulateIdentification.order!;
}

async function orderOf(srs: TestService, token: string, refId: string) {
  const response = await srs.graphql(OrderQuery, { variables: { refId }, token });
  expect(response.errors).toBeUndefined();
  return response.data!.order;
}

/** A TEST order identified successfully: TERMINATED with its evidence (T&C as the order's channel decides). */
async function identified(srs: TestService, token: string, initialData: InitialIdentityDataInput, extra: Partial<PlaceOrderInput> = {}) {
  const placed = await placeOk(srs, token, { initialData, ...extra });
  const order = await simulate(srs, token, placed.refId, 'SUCCESS');
  expect(order.status).toBe('TERMINATED');
  expect(order.evidence).not.toBeNull();
  return { ...order, evidence: order.evidence! };
}

async function lookup(srs: TestService, token: string, input: LookupInput) {
  const response = await srs.graphql(LookupQuery, { variables: { input }, token });
  expect(response.errors).toBeUndefined();
  return response.data!.lookup;
}

async function verify(srs: TestService, token: string, input: VerifyInput) {
  const response = await srs.graphql(VerifyQuery, { variables: { input }, token });
  expect(response.errors).toBeUndefined();
  return response.data!.verify;
}

async function importOk(srs: TestService, ipspToken: string, input: ImportEvidenceInput) {
  const response = await srs.graphql(ImportMutation, { variables: { input }, token: ipspToken });
  expect(response.errors).toBeUndefined();
  expect(response.data!.importEvidence.userErrors).toEqual([]);
  expect(response.data!.importEvidence.order!.status).toBe('TERMINATED');
  return response.data!.importEvidence.evidence!;
}

async function recordTerms(srs: TestService, token: string, refId: string, accepted: boolean, termsVersion = TERMS_VERSION) {
  const response = await srs.graphql(RecordTermsMutation, { variables: { input: { refId, accepted, termsVersion } }, token });
  expect(response.errors).toBeUndefined();
  return response.data!.recordTermsDecision;
}

async function billing(srs: TestService, token: string, from: string, to: string) {
  const response = await srs.graphql(BillingQuery, { variables: { from, to }, token });
  expect(response.errors).toBeUndefined();
  return response.data!.billingReport;
}

// ---- SMS and the T&C link --------------------------------------------------------------------

interface RecordedSms {
  to: string;
  text: string;
  sentAt: string | null;
}

async function recordedSms(srs: TestService): Promise<RecordedSms[]> {
  const response = await fetch(`${srs.url}/dev/sms`);
  expect(response.status).toBe(200);
  return (await response.json()) as RecordedSms[];
}

/** Waits until the outbox has sent `count` SMS to this number (E.164); fails after 15 s. */
async function smsListTo(srs: TestService, to: string, count: number): Promise<RecordedSms[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = (await recordedSms(srs)).filter((sms) => sms.to === to);
    if (found.length >= count) {
      expect(found).toHaveLength(count);
      return found;
    }
    if (Date.now() > deadline) throw new Error(`${found.length} SMS to ${to} within 15 s, not ${count}`);
    await sleep(100);
  }
}

/** Waits for the one SMS to this number (E.164). */
async function smsTo(srs: TestService, to: string): Promise<RecordedSms> {
  return (await smsListTo(srs, to, 1))[0];
}

function termsLink(srs: TestService, sms: RecordedSms): string {
  const match = new RegExp(`${srs.url.replace(/[.]/g, '\\.')}/terms/[A-Za-z0-9_-]+`).exec(sms.text);
  expect(match, sms.text).not.toBeNull();
  return match![0];
}

/** The end user's decision, as the page's form posts it (no browser). */
async function decideByLink(link: string, decision: 'accept' | 'decline'): Promise<{ status: number; body: string }> {
  const response = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `decision=${decision}` });
  return { status: response.status, body: await response.text() };
}

/** A TEST registration up to accepted T&C, the link answered without a browser. */
async function registeredAndAccepted(srs: TestService, token: string, initialData = person(), extra: Partial<PlaceOrderInput> = {}) {
  const order = await identified(srs, token, initialData, extra);
  const link = termsLink(srs, await smsTo(srs, order.evidence.mobileNumber));
  const decided = await decideByLink(link, 'accept');
  expect(decided.status).toBe(200);
  expect(decided.body).toContain('data-status="ACCEPTED"');
  return { order, evidence: order.evidence, person: initialData, link };
}

// ---- the operator CLI and services of their own ----------------------------------------------

/** A service on a database of its own that can be stopped and started again on the same data. */
interface OwnService {
  srs: TestService;
  /** Runs the CLI on the service's data: on the embedded folder with the service stopped and restarted after. */
  cli(args: string[]): Promise<CliResult>;
  close(): Promise<void>;
}

async function ownService(): Promise<OwnService> {
  const db = await freshDatabaseEnv();
  const own: OwnService = {
    srs: await startTestService({ env: { ...db.env, TERMS_VERSION } }),
    async cli(args) {
      if (backend === 'postgres') return runCli(args, own.srs.env);
      const env = own.srs.env;
      await own.srs.stop({ keepData: true });
      try {
        return await runCli(args, env);
      } finally {
        own.srs = await startTestService({ env });
      }
    },
    async close() {
      await own.srs.stop();
      await db.drop();
    },
  };
  return own;
}

// ---- the shared service ----------------------------------------------------------------------

let srs: TestService;
let sp: string;
let otherSp: string;
let testIpsp: string;
let nectIpsp: string;
let klarnaIpsp: string;
let admin: string;

beforeAll(async () => {
  srs = await startTestService({ env: { TERMS_VERSION } });
  sp = await spToken(srs);
  otherSp = await spToken(srs);
  testIpsp = await srs.token(await srs.createClient('IPSP', { issuer: 'TEST' }));
  nectIpsp = await srs.token(await srs.createClient('IPSP', { issuer: 'NECT' }));
  klarnaIpsp = await srs.token(await srs.createClient('IPSP', { issuer: 'KLARNA' }));
  admin = await srs.token(await srs.createClient('ADMIN'));
});
afterAll(() => srs?.stop());

/** The evidence a partner imports: its document and place of birth are known to the test. */
function importInput(refId: string, who: ReturnType<typeof person>, overrides: Partial<ImportEvidenceInput> = {}): ImportEvidenceInput {
  return {
    refId,
    mobileNumber: spacedE164(who.mobileNumber),
    subject: { givenNames: ` ${who.givenNames} `, surname: who.surname, dateOfBirth: who.dateOfBirth!, nationality: 'ch', placeOfBirth: 'Bern' },
    document: { type: 'ID_CARD', number: 'C4711X', issuingCountry: 'CH', validUntil: dayOffset(3 * 365) },
    identifiedAt: new Date(Date.now() - 60_000).toISOString(),
    ...overrides,
  };
}

/** A SP order of `method` that the partner client reports as identified and imports evidence for. */
async function importedByPartner(ipspToken: string, methodId: string, who: ReturnType<typeof person>, overrides: Partial<ImportEvidenceInput> = {}) {
  const placed = await placeOk(srs, sp, { methodId: methodGlobalId(methodId), initialData: { givenNames: who.givenNames, surname: who.surname, mobileNumber: who.mobileNumber } });
  await reportStatus(srs, ipspToken, placed.refId, 'IDENTIFICATION_DONE');
  const evidence = await importOk(srs, ipspToken, importInput(placed.refId, who, overrides));
  return { refId: placed.refId, evidence };
}

// =============================================================================================

describe('the whole registration, T&C in a real browser', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const missingBrowser = missingChromium();

  beforeAll(async () => {
    if (missingBrowser) return;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    if (missingBrowser) throw missingBrowser;
    context = await browser.newContext();
    page = await context.newPage();
  });
  afterEach(async () => {
    await context?.close();
  });

  async function open(url: string): Promise<number> {
    const response = await page.goto(url);
    expect(response).not.toBeNull();
    return response!.status();
  }

  async function click(testId: 'accept' | 'decline'): Promise<number> {
    const [response] = await Promise.all([
      page.waitForResponse((candidate: Response) => candidate.request().method() === 'POST' && candidate.request().isNavigationRequest()),
      page.getByTestId(testId).click(),
    ]);
    await page.waitForLoadState('domcontentloaded');
    return response.status();
  }

  /** Up to the SMS: placed with initial data (the number as given), identified, the T&C link sent to the number (E.164). */
  async function untilSms(who: ReturnType<typeof person>, numberAsGiven: string) {
    const order = await identified(srs, sp, { ...who, mobileNumber: numberAsGiven }, { externalId: 'browser' });
    expect(order.evidence.mobileNumber).toBe(who.mobileNumber);
    expect(order.evidence.terms).toMatchObject({ status: 'PENDING', channel: 'SMS_LINK', termsVersion: TERMS_VERSION, decidedAt: null });
    const sms = await smsTo(srs, who.mobileNumber);
    expect(sms.to).toMatch(/^\+41\d{9}$/);
    expect(sms.text).toContain(`${srs.url}/terms/`);
    expect(sms.sentAt).toEqual(expect.any(String));
    const link = termsLink(srs, sms);
    // Sending was recorded on the T&C and as an event.
    const sent = (await orderOf(srs, sp, order.refId))!;
    expect(sent.evidence!.terms.smsSentAt).toEqual(expect.any(String));
    expect(sent.events.filter((event) => event.type === 'TERMS_SENT')).toHaveLength(1);
    return { order, link };
  }

  it('accept: identified -> SMS -> the page shows the terms version -> Accept -> the number may sign; the link is used up', async () => {
    // The SP sends the number in national form with spaces (country CH); the SMS goes to its E.164 form.
    const who = person({ givenNames: 'Hanna Luise', surname: 'Brändli', country: 'CH' });
    const e164 = who.mobileNumber;
    const { order, link } = await untilSms(who, nationalSpaced(e164));
    expect(await lookup(srs, sp, { mobileNumber: e164 })).toMatchObject({ valid: false, reason: 'TERMS_PENDING', evidenceId: order.evidence.id });

    expect(await open(link)).toBe(200);
    expect((await page.getByTestId('terms-version').textContent())?.trim()).toBe(TERMS_VERSION);
    expect(await click('accept')).toBe(200);
    const result = page.getByTestId('terms-result');
    expect(await result.getAttribute('data-status')).toBe('ACCEPTED');
    expect(await result.textContent()).toMatch(/accepted/i);

    const ok = await lookup(srs, sp, { mobileNumber: e164 });
    expect(ok).toStrictEqual({
      valid: true,
      reason: 'OK',
      evidenceId: order.evidence.id,
      capabilities: [
        { jurisdiction: 'EIDAS', loa: 'LOA4' },
        { jurisdiction: 'ZERTES', loa: 'LOA4' },
      ],
      validUntil: order.evidence.validUntil,
      // The TEST method's evidence is valid for a month.
      expiresWithin90Days: true,
    });
    const after = (await orderOf(srs, sp, order.refId))!;
    expect(after.evidence!.terms).toMatchObject({ status: 'ACCEPTED', channel: 'SMS_LINK', termsVersion: TERMS_VERSION, decidedAt: expect.any(String) });
    expect(after.events.filter((event) => event.type === 'TERMS_ACCEPTED')).toEqual([{ type: 'TERMS_ACCEPTED', status: 'TERMINATED', actor: 'end-user' }]);
    expect(after.events.map((event) => event.type)).not.toContain('TERMS_DECLINED');

    // Opening the link again: 410, nothing to click.
    expect(await open(link)).toBe(410);
    expect(await page.getByTestId('terms-ended').isVisible()).toBe(true);
    expect(await page.getByTestId('accept').count()).toBe(0);
    expect(await page.getByTestId('decline').count()).toBe(0);
    // A decision posted on the used link changes nothing.
    expect((await decideByLink(link, 'decline')).status).toBe(410);
    expect((await orderOf(srs, sp, order.refId))!.evidence!.terms.status).toBe('ACCEPTED');
    expect((await lookup(srs, sp, { mobileNumber: e164 })).reason).toBe('OK');
  });

  it('decline: the number may not sign (TERMS_PENDING), TERMS_DECLINED is recorded, the link is used up', async () => {
    const who = person();
    const { order, link } = await untilSms(who, spacedE164(who.mobileNumber));
    expect(await open(link)).toBe(200);
    expect(await click('decline')).toBe(200);
    expect(await page.getByTestId('terms-result').getAttribute('data-status')).toBe('DECLINED');

    expect(await lookup(srs, sp, { mobileNumber: who.mobileNumber })).toMatchObject({ valid: false, reason: 'TERMS_PENDING', evidenceId: order.evidence.id, expiresWithin90Days: false });
    expect(await verify(srs, sp, { mobileNumber: who.mobileNumber, distinguishedName: { givenNames: 'Erika', surname: 'Muster' } })).toMatchObject({
      valid: false,
      reason: 'TERMS_PENDING',
    });
    const after = (await orderOf(srs, sp, order.refId))!;
    expect(after.evidence!.terms).toMatchObject({ status: 'DECLINED', decidedAt: expect.any(String) });
    expect(after.events.filter((event) => event.type === 'TERMS_DECLINED')).toEqual([{ type: 'TERMS_DECLINED', status: 'TERMINATED', actor: 'end-user' }]);
    expect(after.events.map((event) => event.type)).not.toContain('TERMS_ACCEPTED');

    expect(await open(link)).toBe(410);
    expect((await decideByLink(link, 'accept')).status).toBe(410);
    expect((await lookup(srs, sp, { mobileNumber: who.mobileNumber })).valid).toBe(false);
  });

  it('a link nobody was sent, and a form without a decision, are refused', async () => {
    expect(await open(`${srs.url}/terms/${randomBytes(24).toString('base64url')}`)).toBe(410);
    expect(await page.getByTestId('accept').count()).toBe(0);
    const who = person();
    const { link, order } = await untilSms(who, who.mobileNumber);
    const response = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'decision=maybe' });
    expect(response.status).toBe(400);
    expect((await orderOf(srs, sp, order.refId))!.evidence!.terms.status).toBe('PENDING');
    // The link still works after the refused form.
    expect(await open(link)).toBe(200);
  });
});

// =============================================================================================

describe('verify and lookup: every reason', () => {
  it('NO_EVIDENCE for a number nobody was identified with', async () => {
    const number = freshNumber();
    const none = { valid: false, reason: 'NO_EVIDENCE', evidenceId: null, capabilities: [], validUntil: null, expiresWithin90Days: false };
    expect(await lookup(srs, sp, { mobileNumber: number })).toStrictEqual(none);
    expect(await lookup(srs, sp, { mobileNumber: number, jurisdiction: 'EIDAS', loa: 'LOA3' })).toStrictEqual(none);
    expect(await verify(srs, sp, { mobileNumber: number, distinguishedName: { givenNames: 'Erika', surname: 'Muster' } })).toStrictEqual(none);
    // Placed and not yet identified is still no evidence.
    await placeOk(srs, sp, { initialData: { mobileNumber: number } });
    expect(await lookup(srs, sp, { mobileNumber: number })).toStrictEqual(none);
  });

  it('TERMS_PENDING before the T&C are accepted, OK after; any spelling of the number finds the evidence', async () => {
    const who = person();
    const order = await identified(srs, sp, who);
    const pending = await lookup(srs, sp, { mobileNumber: who.mobileNumber });
    expect(pending).toMatchObject({ valid: false, reason: 'TERMS_PENDING', evidenceId: order.evidence.id, validUntil: order.evidence.validUntil, expiresWithin90Days: false });
    expect(await verify(srs, sp, { mobileNumber: who.mobileNumber, distinguishedName: { givenNames: 'Erika', surname: 'Muster' } })).toMatchObject({ reason: 'TERMS_PENDING' });

    const decided = await decideByLink(termsLink(srs, await smsTo(srs, who.mobileNumber)), 'accept');
    expect(decided.status).toBe(200);
    for (const mobileNumber of [who.mobileNumber, spacedE164(who.mobileNumber), ` ${who.mobileNumber} `]) {
      expect(await lookup(srs, sp, { mobileNumber }), mobileNumber).toMatchObject({ valid: true, reason: 'OK', evidenceId: order.evidence.id });
    }
    // Lookup needs no relation to the order: another service provider gets the same answer.
    expect(await lookup(srs, otherSp, { mobileNumber: who.mobileNumber })).toMatchObject({ valid: true, reason: 'OK', evidenceId: order.evidence.id });
    // Concurrent lookups share one read of the evidence: each still gets the answer for its own number.
    const unknown = freshNumber();
    const together = await Promise.all([who.mobileNumber, unknown, who.mobileNumber, unknown].map((mobileNumber) => lookup(srs, sp, { mobileNumber })));
    expect(together.map((answer) => answer.reason)).toEqual(['OK', 'NO_EVIDENCE', 'OK', 'NO_EVIDENCE']);
    expect(together.map((answer) => answer.evidenceId)).toEqual([order.evidence.id, null, order.evidence.id, null]);
  });

  it('declined by the link (no browser): TERMS_DECLINED by the end user, the number may not sign, the link is used up', async () => {
    const who = person();
    const order = await identified(srs, sp, who);
    const link = termsLink(srs, await smsTo(srs, who.mobileNumber));
    const declined = await decideByLink(link, 'decline');
    expect(declined.status).toBe(200);
    expect(declined.body).toContain('data-status="DECLINED"');
    expect((await decideByLink(link, 'accept')).status).toBe(410);
    expect(await lookup(srs, sp, { mobileNumber: who.mobileNumber })).toMatchObject({ valid: false, reason: 'TERMS_PENDING' });
    const after = (await orderOf(srs, sp, order.refId))!;
    expect(after.evidence!.terms).toMatchObject({ status: 'DECLINED', decidedAt: expect.any(String) });
    expect(after.events.filter((event) => event.type.startsWith('TERMS_'))).toEqual([
      { type: 'TERMS_SENT', status: 'TERMINATED', actor: 'system' },
      { type: 'TERMS_DECLINED', status: 'TERMINATED', actor: 'end-user' },
    ]);
  });

  it('OK and NAME_MISMATCH: the surname exactly (case and surrounding spaces aside), one given name, the country', async () => {
    const who = person({ givenNames: 'Anna Lea', surname: 'Zürcher', nationality: 'CH' });
    const { evidence } = await registeredAndAccepted(srs, sp, who);
    const check = (givenNames: string, surname: string, country?: string) =>
      verify(srs, sp, { mobileNumber: who.mobileNumber, distinguishedName: { givenNames, surname, country } });
    for (const [givenNames, surname, country] of [
      ['Anna Lea', 'Zürcher'],
      ['lea', '  ZÜRCHER '],
      ['Maria Anna', 'zürcher', 'CH'],
      ['Anna', 'Zürcher', 'ch'],
    ] as Array<[string, string, string?]>) {
      expect(await check(givenNames, surname, country), `${givenNames} ${surname} ${country}`).toMatchObject({ valid: true, reason: 'OK', evidenceId: evidence.id, expiresWithin90Days: true });
    }
    for (const [givenNames, surname, country] of [
      ['Anna', 'Zurcher'],
      ['Anna', 'Zürcher-Meier'],
      ['Anna', 'Meier'],
      ['Annalea', 'Zürcher'],
      ['Peter', 'Zürcher'],
      ['Anna', 'Zürcher', 'DE'],
    ] as Array<[string, string, string?]>) {
      expect(await check(givenNames, surname, country), `${givenNames} ${surname} ${country}`).toStrictEqual({
        valid: false,
        reason: 'NAME_MISMATCH',
        evidenceId: evidence.id,
        capabilities: evidence.capabilities,
        validUntil: evidence.validUntil,
        expiresWithin90Days: false,
      });
    }
    // lookup asks for no name, so it cannot mismatch.
    expect(await lookup(srs, sp, { mobileNumber: who.mobileNumber })).toMatchObject({ valid: true, reason: 'OK' });
  });

  it('INSUFFICIENT_LOA: NECT evidence (ZERTES LOA3) for ZERTES LOA4; LOA4 satisfies LOA3; T&C in the app', async () => {
    const who = person({ surname: 'Nectar' });
    const { refId, evidence } = await importedByPartner(nectIpsp, 'nect-robo-ident', who);
    expect(evidence.terms).toMatchObject({ status: 'ACCEPTED', channel: 'IN_APP' });
    expect(evidence.capabilities).toEqual([
      { jurisdiction: 'EIDAS', loa: 'LOA4' },
      { jurisdiction: 'ZERTES', loa: 'LOA3' },
    ]);
    const at = (jurisdiction?: 'EIDAS' | 'ZERTES', loa?: 'LOA3' | 'LOA4') => lookup(srs, sp, { mobileNumber: who.mobileNumber, jurisdiction, loa });
    expect(await at('ZERTES', 'LOA4')).toStrictEqual({
      valid: false,
      reason: 'INSUFFICIENT_LOA',
      evidenceId: evidence.id,
      capabilities: evidence.capabilities,
      validUntil: evidence.validUntil,
      expiresWithin90Days: false,
    });
    expect(await verify(srs, sp, { mobileNumber: who.mobileNumber, distinguishedName: { givenNames: 'Erika', surname: 'Nectar' }, jurisdiction: 'ZERTES', loa: 'LOA4' })).toMatchObject({
      reason: 'INSUFFICIENT_LOA',
    });
    // NECT evidence lasts two years: not about to expire.
    for (const [jurisdiction, loa] of [['ZERTES', 'LOA3'], ['EIDAS', 'LOA4'], ['EIDAS', 'LOA3'], ['ZERTES', undefined], [undefined, 'LOA4'], [undefined, undefined]] as const) {
      expect(await at(jurisdiction, loa), `${jurisdiction} ${loa}`).toMatchObject({ valid: true, reason: 'OK', evidenceId: evidence.id, expiresWithin90Days: false });
    }

    // A newer identification of the same number whose T&C are pending: the older valid one
    // still answers; where neither is valid, the newest one's reason is given.
    const newer = await identified(srs, sp, { ...who, mobileNumber: who.mobileNumber });
    expect(newer.evidence.id).not.toBe(evidence.id);
    expect(await at()).toMatchObject({ valid: true, reason: 'OK', evidenceId: evidence.id });
    expect(await at('ZERTES', 'LOA4')).toMatchObject({ valid: false, reason: 'TERMS_PENDING', evidenceId: newer.evidence.id });
    await decideByLink(termsLink(srs, await smsTo(srs, who.mobileNumber)), 'accept');
    expect(await at()).toMatchObject({ valid: true, reason: 'OK', evidenceId: newer.evidence.id, expiresWithin90Days: true });
    expect(await at('ZERTES', 'LOA4')).toMatchObject({ valid: true, reason: 'OK', evidenceId: newer.evidence.id });
    expect((await orderOf(srs, sp, refId))!.status).toBe('TERMINATED');
  });

  it('EXPIRED: the document ran out after the identification', async () => {
    const who = person({ surname: 'Abgelaufen' });
    const yesterday = dayOffset(-1);
    const { evidence } = await importedByPartner(testIpsp, 'test-video', who, {
      identifiedAt: `${yesterday}T00:00:01.000Z`,
      document: { type: 'PASSPORT', number: 'P0001', issuingCountry: 'CH', validUntil: yesterday },
      termsAcceptedInApp: true,
    });
    // Valid to the end of the document's last day.
    expect(evidence.validUntil).toBe(`${yesterday}T23:59:59.999Z`);
    expect(evidence.status).toBe('EXPIRED');
    expect(evidence.terms.status).toBe('ACCEPTED');
    expect(await lookup(srs, sp, { mobileNumber: who.mobileNumber })).toStrictEqual({
      valid: false,
      reason: 'EXPIRED',
      evidenceId: evidence.id,
      capabilities: evidence.capabilities,
      validUntil: evidence.validUntil,
      expiresWithin90Days: false,
    });
    expect(await verify(srs, sp, { mobileNumber: who.mobileNumber, distinguishedName: { givenNames: 'Erika', surname: 'Abgelaufen' } })).toMatchObject({ reason: 'EXPIRED' });
    // A document valid until today keeps the evidence valid today (to the end of the day).
    const other = person({ surname: 'Heute' });
    const lastDay = await importedByPartner(testIpsp, 'test-video', other, {
      identifiedAt: `${yesterday}T00:00:01.000Z`,
      document: { type: 'PASSPORT', number: 'P0002', issuingCountry: 'CH', validUntil: today() },
      termsAcceptedInApp: true,
    });
    expect(lastDay.evidence.validUntil).toBe(`${today()}T23:59:59.999Z`);
    expect(await lookup(srs, sp, { mobileNumber: other.mobileNumber })).toMatchObject({ valid: true, reason: 'OK', expiresWithin90Days: true });
  });

  it('REVOKED after the operator revokes the evidence with the CLI', { timeout: SLOW_TEST_MS }, async () => {
    const own = await ownService();
    try {
      const token = await spToken(own.srs);
      const client = await own.srs.createClient('SERVICE_PROVIDER');
      const { evidence, person: who } = await registeredAndAccepted(own.srs, await own.srs.token(client), person());
      expect(await lookup(own.srs, token, { mobileNumber: who.mobileNumber })).toMatchObject({ valid: true, reason: 'OK' });

      const revoked = await own.cli(['evidence', 'revoke', evidence.id, '--reason', 'Fraud suspicion']);
      // stderr names the database the command ran on, and nothing else.
      expect(revoked.stderr).toMatch(/^Database: [^\n]+\n?$/);
      expect(revoked.code).toBe(0);
      expect(revoked.stdout.trim()).toBe(`Revoked evidence ${rawEvidenceId(evidence.id)}: Fraud suspicion`);

      const fresh = await spToken(own.srs);
      expect(await lookup(own.srs, fresh, { mobileNumber: who.mobileNumber })).toStrictEqual({
        valid: false,
        reason: 'REVOKED',
        evidenceId: evidence.id,
        capabilities: evidence.capabilities,
        validUntil: evidence.validUntil,
        expiresWithin90Days: false,
      });
      expect(await verify(own.srs, fresh, { mobileNumber: who.mobileNumber, distinguishedName: { givenNames: who.givenNames, surname: who.surname } })).toMatchObject({ reason: 'REVOKED' });
      const owner = await own.srs.token(client);
      expect((await orderOf(own.srs, owner, evidence.refId))!.evidence!.status).toBe('REVOKED');

      // Again: nothing changes; an unknown id is refused (exit code 3, README: The CLI).
      const again = await own.cli(['evidence', 'revoke', rawEvidenceId(evidence.id), '--reason', 'again']);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/already revoked/);
      const unknown = await own.cli(['evidence', 'revoke', '00000000-0000-0000-0000-000000000000', '--reason', 'x']);
      expect(unknown.code).toBe(3);
      expect(unknown.stderr).toMatch(/No evidence with id/);
      expect((await lookup(own.srs, await spToken(own.srs), { mobileNumber: who.mobileNumber })).reason).toBe('REVOKED');
    } finally {
      await own.close();
    }
  });

  it('a malformed or non-mobile number, or an empty name, is refused with BAD_USER_INPUT', async () => {
    for (const mobileNumber of ['not a number', '', '+41', '+41 44 668 18 00', '+4179123456789012']) {
      const response = await srs.graphql(LookupQuery, { variables: { input: { mobileNumber } }, token: sp });
      expect(response.data, mobileNumber).toBeNull();
      expect(response.errors, mobileNumber).toHaveLength(1);
      expect(response.errors![0].extensions?.code, mobileNumber).toBe('BAD_USER_INPUT');
      expect(response.errors![0].message).toMatch(/mobileNumber/);
      const verifyResponse = await srs.graphql(VerifyQuery, { variables: { input: { mobileNumber, distinguishedName: { givenNames: 'A', surname: 'B' } } }, token: sp });
      expect(verifyResponse.errors![0].extensions?.code, mobileNumber).toBe('BAD_USER_INPUT');
    }
    for (const distinguishedName of [{ givenNames: ' ', surname: 'Muster' }, { givenNames: 'Erika', surname: '' }]) {
      const response = await srs.graphql(VerifyQuery, { variables: { input: { mobileNumber: freshNumber(), distinguishedName } }, token: sp });
      expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    }
  });
});

// =============================================================================================

describe('the evidence signature', () => {
  async function jwks(service: TestService): Promise<JSONWebKeySet> {
    const response = await fetch(`${service.url}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as JSONWebKeySet;
    for (const key of body.keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) });
      expect(key).not.toHaveProperty('d');
    }
    return body;
  }

  async function verifyJws(service: TestService, jws: string) {
    const { payload, protectedHeader } = await compactVerify(jws, createLocalJWKSet(await jwks(service)));
    return { header: protectedHeader, claims: JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown> };
  }

  /** The JWS with its payload replaced, header and signature kept. */
  function withPayload(jws: string, change: (claims: Record<string, unknown>) => void): string {
    const [header, payload, signature] = jws.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    change(claims);
    return [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
  }

  it('verifies against the published keys and states the evidence without personal data', async () => {
    const who = person({ surname: 'Signiert' });
    const order = await identified(srs, sp, who);
    const { evidence } = order;
    const { header, claims } = await verifyJws(srs, evidence.jws);
    expect(header).toStrictEqual({ alg: 'ES256', kid: expect.any(String), typ: 'srs-evidence+jwt' });
    expect((await jwks(srs)).keys.map((key) => key.kid)).toContain(header.kid);
    expect(claims).toStrictEqual({
      iss: srs.url,
      iat: expect.any(Number),
      sub: rawEvidenceId(evidence.id),
      ref: order.refId,
      method: 'video',
      issuer: 'TEST',
      capabilities: evidence.capabilities,
      identified_at: evidence.identifiedAt,
      valid_until: evidence.validUntil,
      personal_data_digest: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(Math.abs((claims.iat as number) * 1000 - Date.now())).toBeLessThan(5 * 60_000);
    expect(JSON.stringify(claims)).not.toMatch(new RegExp(`${who.surname}|Erika|${who.mobileNumber.slice(3)}|${who.dateOfBirth}`));
  });

  it('the digest is the SHA-256 of the canonical JSON of the number, subject and document as imported', async () => {
    const who = person({ givenNames: 'Lena', surname: 'Digest', dateOfBirth: '1979-12-31' });
    const validUntil = dayOffset(700);
    const { evidence } = await importedByPartner(testIpsp, 'test-video', who, {
      document: { type: 'PASSPORT', number: ' X1234567 ', issuingCountry: 'de', validUntil },
    });
    const canonical =
      `{"document":{"issuingCountry":"DE","number":"X1234567","type":"PASSPORT","validUntil":"${validUntil}"},` +
      `"mobileNumber":"${who.mobileNumber}",` +
      `"subject":{"dateOfBirth":"1979-12-31","givenNames":"Lena","nationality":"CH","placeOfBirth":"Bern","surname":"Digest"}}`;
    const { claims } = await verifyJws(srs, evidence.jws);
    expect(claims.personal_data_digest).toBe(createHash('sha256').update(canonical).digest('base64url'));
  });

  it('a changed payload or signature does not verify', async () => {
    const { evidence } = await identified(srs, sp, person());
    const keys = createLocalJWKSet(await jwks(srs));
    await expect(compactVerify(evidence.jws, keys)).resolves.toBeTruthy();
    const tampered = [
      withPayload(evidence.jws, (claims) => (claims.valid_until = '2099-12-31T00:00:00.000Z')),
      withPayload(evidence.jws, (claims) => (claims.capabilities = [{ jurisdiction: 'ZERTES', loa: 'LOA4' }, { jurisdiction: 'EIDAS', loa: 'LOA4' }])),
      withPayload(evidence.jws, (claims) => (claims.personal_data_digest = createHash('sha256').update('someone else').digest('base64url'))),
      // The signature itself changed: its first character (all six bits are signature bits).
      evidence.jws.replace(/\.([A-Za-z0-9_-])([A-Za-z0-9_-]+)$/, (_all, first: string, rest: string) => `.${first === 'A' ? 'B' : 'A'}${rest}`),
    ];
    // Re-encoding an unchanged payload keeps it verifiable: the checks above fail for the change.
    await expect(compactVerify(withPayload(evidence.jws, () => undefined), keys)).resolves.toBeTruthy();
    for (const jws of tampered) {
      expect(jws).not.toBe(evidence.jws);
      await expect(compactVerify(jws, keys)).rejects.toThrow();
    }
  });

  it('after keys rotate-evidence: old evidence still verifies against the new JWKS, new evidence carries the new kid', { timeout: SLOW_TEST_MS }, async () => {
    const own = await ownService();
    try {
      const client = await own.srs.createClient('SERVICE_PROVIDER');
      const before = await identified(own.srs, await own.srs.token(client), person());
      const oldKid = decodeProtectedHeader(before.evidence.jws).kid!;
      expect((await jwks(own.srs)).keys.map((key) => key.kid)).toEqual([oldKid]);

      const rotated = await own.cli(['keys', 'rotate-evidence']);
      expect(rotated.stderr).toMatch(/^Database: [^\n]+\n?$/);
      expect(rotated.code).toBe(0);
      const newKid = /signed with key (\S+);/.exec(rotated.stdout)?.[1];
      expect(newKid, rotated.stdout).toBeTruthy();
      expect(newKid).not.toBe(oldKid);

      const published = await jwks(own.srs);
      expect(published.keys.map((key) => key.kid).sort()).toEqual([oldKid, newKid].sort());
      const token = await own.srs.token(client);
      // The old evidence is unchanged and verifies against the keys published now.
      const old = (await orderOf(own.srs, token, before.refId))!.evidence!;
      expect(old.jws).toBe(before.evidence.jws);
      expect((await verifyJws(own.srs, old.jws)).header.kid).toBe(oldKid);

      const after = await identified(own.srs, token, person());
      const { header, claims } = await verifyJws(own.srs, after.evidence.jws);
      expect(header.kid).toBe(newKid);
      expect(claims.ref).toBe(after.refId);
      // The old key no longer signs: the new evidence does not verify with it alone.
      const oldOnly = createLocalJWKSet({ keys: published.keys.filter((key) => key.kid === oldKid).map((key) => ({ ...key, kid: newKid })) });
      await expect(compactVerify(after.evidence.jws, oldOnly)).rejects.toThrow();
    } finally {
      await own.close();
    }
  });
});

// =============================================================================================

describe('no personal data in clear in the database', () => {
  it('neither names, birth date, place of birth, document number, e-mail nor the number in any form', { timeout: SLOW_TEST_MS }, async () => {
    const own = await ownService();
    const probe = `probe-${randomBytes(6).toString('hex')}`;
    const who = person({
      givenNames: 'Ottilie Wendelgard',
      surname: 'Quastenberg',
      dateOfBirth: '1971-03-14',
      nationality: 'CH',
      email: 'ottilie.quastenberg@example.org',
      placeOfBirth: 'Wolkenheim',
    });
    const e164 = who.mobileNumber;
    try {
      const srsOwn = own.srs;
      const token = await spToken(srsOwn);
      // Everything that touches personal data: initial data, simulated identification, SMS,
      // T&C by link, lookup and verify audits, and a partner's import with a document.
      await registeredAndAccepted(srsOwn, token, { ...who, mobileNumber: spacedE164(e164) }, { externalId: probe });
      expect(await lookup(srsOwn, token, { mobileNumber: e164 })).toMatchObject({ reason: 'OK' });
      expect(await verify(srsOwn, token, { mobileNumber: e164, distinguishedName: { givenNames: 'Ottilie', surname: 'Quastenberg' } })).toMatchObject({ reason: 'OK' });
      const ipsp = await srsOwn.token(await srsOwn.createClient('IPSP', { issuer: 'TEST' }));
      const placed = await placeOk(srsOwn, token, { initialData: { mobileNumber: e164, surname: who.surname }, externalId: probe });
      await reportStatus(srsOwn, ipsp, placed.refId, 'IDENTIFICATION_DONE');
      await importOk(srsOwn, ipsp, {
        ...importInput(placed.refId, who),
        subject: { givenNames: who.givenNames, surname: who.surname, dateOfBirth: who.dateOfBirth!, nationality: 'CH', placeOfBirth: 'Wolkenheim' },
        document: { type: 'PASSPORT', number: 'QZX9817263', issuingCountry: 'CH', validUntil: dayOffset(1000) },
      });
      // Both SMS (the second import asks for the T&C again) have gone out.
      await smsListTo(srsOwn, e164, 2);

      const needles = [
        'Quastenberg',
        'Ottilie',
        'Wendelgard',
        '1971-03-14',
        'Wolkenheim',
        'QZX9817263',
        'ottilie.quastenberg',
        e164,
        e164.slice(1),
        `0${e164.slice(3)}`,
        e164.slice(3),
        nationalSpaced(e164),
        spacedE164(e164),
      ];
      const variants = needles.flatMap((needle) => [needle, needle.toLowerCase(), needle.toUpperCase()]);

      // Every text and JSON value of every row of every table, as the database returns it.
      const tables = await srsOwn.service.prisma.$queryRawUnsafe<Array<{ table_name: string }>>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
      );
      expect(tables.map((table) => table.table_name)).toEqual(expect.arrayContaining(['Order', 'Evidence', 'TermsAcceptance', 'SmsMessage', 'VerificationAudit', 'SimulatedIdentification']));
      let rows = 0;
      let probeSeen = 0;
      for (const { table_name: table } of tables) {
        const found = await srsOwn.service.prisma.$queryRawUnsafe<Array<{ row: string }>>(`SELECT row_to_json(t)::text AS row FROM "${table.replace(/"/g, '""')}" t`);
        for (const { row } of found) {
          rows++;
          if (row.includes(probe)) probeSeen++;
          for (const needle of variants) expect(row.includes(needle), `${needle} in ${table}: ${row.slice(0, 300)}`).toBe(false);
        }
      }
      // The search does see what is stored in clear: the orders' external ids.
      expect(probeSeen).toBeGreaterThanOrEqual(2);
      expect(rows).toBeGreaterThan(20);

      if (backend === 'pglite') {
        // Every byte of every file of the embedded data folder, once the database is shut down.
        const dataDir = srsOwn.env.DATA_DIR;
        await srsOwn.stop({ keepData: true });
        const files: string[] = [];
        const walk = (dir: string) => {
          for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(full);
            else if (entry.isFile()) files.push(full);
          }
        };
        walk(dataDir);
        expect(files.length).toBeGreaterThan(10);
        let probeFiles = 0;
        for (const file of files) {
          const content = fs.readFileSync(file);
          if (content.indexOf(probe) !== -1) probeFiles++;
          for (const needle of variants) {
            expect(content.indexOf(Buffer.from(needle, 'utf8')), `${needle} in ${path.relative(dataDir, file)}`).toBe(-1);
          }
        }
        expect(probeFiles).toBeGreaterThan(0);
      }
    } finally {
      await own.close();
    }
  });
});

// =============================================================================================

describe('silent SMS: the service provider collects the T&C', () => {
  it('no SMS, T&C PENDING by SERVICE_PROVIDER; recordTermsDecision accepts once; lookup OK', async () => {
    const who = person();
    const silent = await identified(srs, sp, who, { disabledSmsAlerts: true });
    expect(silent.disabledSmsAlerts).toBe(true);
    expect(silent.evidence.terms).toMatchObject({ status: 'PENDING', channel: 'SERVICE_PROVIDER', termsVersion: TERMS_VERSION, smsSentAt: null, decidedAt: null });
    // A later SMS order goes out; by then an SMS of the silent order would have gone out too.
    const loud = person();
    const normal = await identified(srs, sp, loud);
    await smsTo(srs, loud.mobileNumber);
    expect((await recordedSms(srs)).filter((sms) => sms.to === who.mobileNumber)).toEqual([]);
    const quiet = (await orderOf(srs, sp, silent.refId))!;
    expect(quiet.events.map((event) => event.type)).not.toContain('TERMS_SENT');
    expect(quiet.evidence!.terms.smsSentAt).toBeNull();
    expect(await lookup(srs, sp, { mobileNumber: who.mobileNumber })).toMatchObject({ valid: false, reason: 'TERMS_PENDING' });

    // Another service provider cannot see the order; the order without silent SMS is not the SP's to decide.
    const foreign = await recordTerms(srs, otherSp, silent.refId, true);
    expect(foreign.terms).toBeNull();
    expect(foreign.userErrors).toEqual([expect.objectContaining({ code: 'ORDER_NOT_FOUND', field: ['input', 'refId'] })]);
    const notSilent = await recordTerms(srs, sp, normal.refId, true);
    expect(notSilent.terms).toBeNull();
    expect(notSilent.userErrors).toEqual([expect.objectContaining({ code: 'FORBIDDEN', field: ['input', 'refId'] })]);
    expect((await orderOf(srs, sp, normal.refId))!.evidence!.terms.status).toBe('PENDING');
    expect(await lookup(srs, sp, { mobileNumber: who.mobileNumber })).toMatchObject({ reason: 'TERMS_PENDING' });

    const accepted = await recordTerms(srs, sp, silent.refId, true, '2026-11-sp');
    expect(accepted.userErrors).toEqual([]);
    expect(accepted.terms).toMatchObject({ status: 'ACCEPTED', channel: 'SERVICE_PROVIDER', termsVersion: '2026-11-sp', smsSentAt: null, decidedAt: expect.any(String) });
    expect(accepted.terms!.id).toBe(silent.evidence.terms.id);
    expect(await lookup(srs, sp, { mobileNumber: who.mobileNumber })).toMatchObject({ valid: true, reason: 'OK', evidenceId: silent.evidence.id });
    const after = (await orderOf(srs, sp, silent.refId))!;
    const spClientId = (await srs.graphql<{ viewer: { clientId: string } }, never>('{ viewer { clientId } }', { token: sp })).data!.viewer.clientId;
    expect(after.events.filter((event) => event.type === 'TERMS_ACCEPTED')).toEqual([{ type: 'TERMS_ACCEPTED', status: 'TERMINATED', actor: spClientId }]);

    // A second decision is refused, whichever it is.
    for (const decision of [false, true]) {
      const second = await recordTerms(srs, sp, silent.refId, decision);
      expect(second.terms).toBeNull();
      expect(second.userErrors).toEqual([expect.objectContaining({ code: 'ILLEGAL_TRANSITION' })]);
    }
    expect((await orderOf(srs, sp, silent.refId))!.evidence!.terms.status).toBe('ACCEPTED');
    expect(await lookup(srs, sp, { mobileNumber: who.mobileNumber })).toMatchObject({ reason: 'OK' });
  });

  it('declined by the service provider: TERMS_DECLINED, the number may not sign; before the evidence: ILLEGAL_TRANSITION', async () => {
    const early = await placeOk(srs, sp, { initialData: { mobileNumber: freshNumber() }, disabledSmsAlerts: true });
    const tooEarly = await recordTerms(srs, sp, early.refId, true);
    expect(tooEarly.userErrors).toEqual([expect.objectContaining({ code: 'ILLEGAL_TRANSITION' })]);

    const who = person();
    const silent = await identified(srs, sp, who, { disabledSmsAlerts: true });
    const declined = await recordTerms(srs, sp, silent.refId, false);
    expect(declined.userErrors).toEqual([]);
    expect(declined.terms).toMatchObject({ status: 'DECLINED', channel: 'SERVICE_PROVIDER' });
    expect(await lookup(srs, sp, { mobileNumber: who.mobileNumber })).toMatchObject({ valid: false, reason: 'TERMS_PENDING' });
    const after = (await orderOf(srs, sp, silent.refId))!;
    expect(after.events.map((event) => event.type)).toContain('TERMS_DECLINED');
    expect(after.events.map((event) => event.type)).not.toContain('TERMS_ACCEPTED');

    // A blank version is refused; partners may not record decisions at all.
    const blank = await recordTerms(srs, sp, early.refId, true, '  ');
    expect(blank.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'termsVersion'] })]);
    const byPartner = await srs.graphql(RecordTermsMutation, { variables: { input: { refId: silent.refId, accepted: true, termsVersion: TERMS_VERSION } }, token: testIpsp });
    expect(byPartner.errors?.length).toBeGreaterThan(0);
    expect((await orderOf(srs, sp, silent.refId))!.evidence!.terms.status).toBe('DECLINED');
  });
});

// =============================================================================================

describe('T&C accepted in the partner’s app', () => {
  it('a TEST partner importing with termsAcceptedInApp: ACCEPTED IN_APP, no SMS, lookup OK at once', async () => {
    const who = person({ surname: 'Inapp' });
    const { refId, evidence } = await importedByPartner(testIpsp, 'test-video', who, { termsAcceptedInApp: true });
    expect(evidence.terms).toMatchObject({ status: 'ACCEPTED', channel: 'IN_APP', termsVersion: TERMS_VERSION, smsSentAt: null, decidedAt: expect.any(String) });
    // The partner sees the evidence, not the person's data.
    expect(evidence.subject).toBeNull();
    expect(await lookup(srs, sp, { mobileNumber: who.mobileNumber })).toMatchObject({ valid: true, reason: 'OK', evidenceId: evidence.id, expiresWithin90Days: true });

    const order = (await orderOf(srs, sp, refId))!;
    expect(order.status).toBe('TERMINATED');
    expect(order.evidence!.terms).toMatchObject({ status: 'ACCEPTED', channel: 'IN_APP' });
    expect(order.evidence!.subject).toMatchObject({ givenNames: who.givenNames, surname: who.surname, nationality: 'CH', placeOfBirth: 'Bern' });
    const types = order.events.map((event) => event.type);
    expect(types).toContain('EVIDENCE_IMPORTED');
    expect(types).toContain('TERMS_ACCEPTED');
    expect(types).not.toContain('TERMS_SENT');

    const loud = person();
    await identified(srs, sp, loud);
    await smsTo(srs, loud.mobileNumber);
    expect((await recordedSms(srs)).filter((sms) => sms.to === who.mobileNumber)).toEqual([]);
    expect((await orderOf(srs, sp, refId))!.evidence!.terms.smsSentAt).toBeNull();
  });

  it('without termsAcceptedInApp a TEST partner’s import sends the SMS link', async () => {
    const who = person();
    const { evidence } = await importedByPartner(testIpsp, 'test-video', who);
    expect(evidence.terms).toMatchObject({ status: 'PENDING', channel: 'SMS_LINK' });
    expect((await smsTo(srs, who.mobileNumber)).text).toContain(`${srs.url}/terms/`);
    expect(await lookup(srs, sp, { mobileNumber: who.mobileNumber })).toMatchObject({ reason: 'TERMS_PENDING' });
  });
});

// =============================================================================================

describe('billing', () => {
  it('counts successful identifications per external id, per service provider; an ADMIN sees all', { timeout: SLOW_TEST_MS }, async () => {
    const own = await startTestService();
    try {
      const [clientA, clientB] = await Promise.all([own.createClient('SERVICE_PROVIDER'), own.createClient('SERVICE_PROVIDER')]);
      const [a, b] = await Promise.all([own.token(clientA), own.token(clientB)]);
      const operator = await own.token(await own.createClient('ADMIN'));
      const succeed = async (token: string, externalId: string) => identified(own, token, person(), { externalId });
      await succeed(a, 'a');
      await succeed(a, 'a');
      await succeed(a, 'b');
      const failed = await placeOk(own, a, { externalId: 'a', initialData: person() });
      expect((await simulate(own, a, failed.refId, 'ERROR', 'Camera not usable')).status).toBe('ERROR');
      const negative = await placeOk(own, a, { externalId: 'b', initialData: person() });
      expect((await simulate(own, a, negative.refId, 'NEGATIVELY_CONDUCTED')).status).toBe('NEGATIVELY_CONDUCTED');
      await placeOk(own, a, { externalId: 'a', initialData: person() });
      await succeed(b, 'c');
      // The same external id from another provider is another provider's customer.
      await succeed(b, 'a');

      const month = today().slice(0, 7);
      const lineOf = (client: TestClient) => (externalId: string, successfulIdentifications: number) => ({
        month,
        clientId: client.clientId,
        methodName: 'video',
        issuer: 'TEST',
        externalId,
        successfulIdentifications,
      });
      const [line, lineOfB] = [lineOf(clientA), lineOf(clientB)];
      expect(await billing(own, a, today(), today())).toStrictEqual([line('a', 2), line('b', 1)]);
      expect(await billing(own, b, today(), today())).toStrictEqual([lineOfB('a', 1), lineOfB('c', 1)]);
      const ofA = [line('a', 2), line('b', 1)];
      const ofB = [lineOfB('a', 1), lineOfB('c', 1)];
      expect(await billing(own, operator, today(), today())).toStrictEqual(clientA.clientId.localeCompare(clientB.clientId) < 0 ? [...ofA, ...ofB] : [...ofB, ...ofA]);
      // Inclusive bounds, nothing outside them.
      expect(await billing(own, a, dayOffset(-40), dayOffset(40))).toStrictEqual([line('a', 2), line('b', 1)]);
      expect(await billing(own, a, dayOffset(-40), dayOffset(-1))).toStrictEqual([]);
      expect(await billing(own, a, dayOffset(1), dayOffset(40))).toStrictEqual([]);
      // The calendar's ends: the day after 9999-12-31 is no date the database stores.
      expect(await billing(own, a, '9999-12-31', '9999-12-31')).toStrictEqual([]);
      expect(await billing(own, a, '0001-01-01', '9999-12-31')).toStrictEqual([line('a', 2), line('b', 1)]);
      const none = await spToken(own);
      expect(await billing(own, none, today(), today())).toStrictEqual([]);

      const backwards = await own.graphql(BillingQuery, { variables: { from: today(), to: dayOffset(-1) }, token: a });
      expect(backwards.data).toBeNull();
      expect(backwards.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      // A partner has no billing scope.
      const partner = await own.token(await own.createClient('IPSP', { issuer: 'TEST' }));
      const refused = await own.graphql(BillingQuery, { variables: { from: today(), to: today() }, token: partner });
      expect(refused.data).toBeNull();
      expect(refused.errors?.length).toBeGreaterThan(0);
    } finally {
      await own.stop();
    }
  });
});

// =============================================================================================

describe('isolation', () => {
  it('evidence(id) and node(id): the owner sees it with the subject; another SP nothing; the partner and ADMIN without the subject', async () => {
    const who = person({ surname: 'Isoliert' });
    const { evidence, refId } = await identified(srs, sp, who);
    const asSeenBy = async (token: string) => {
      const response = await srs.graphql(EvidenceQuery, { variables: { id: evidence.id }, token });
      expect(response.errors).toBeUndefined();
      return response.data!.evidence;
    };
    expect(await asSeenBy(sp)).toStrictEqual({
      id: evidence.id,
      refId,
      mobileNumber: who.mobileNumber,
      status: 'ACTIVE',
      subject: { givenNames: who.givenNames, surname: 'Isoliert' },
      terms: { status: 'PENDING' },
    });
    expect(await asSeenBy(otherSp)).toBeNull();
    expect(await asSeenBy(klarnaIpsp)).toBeNull();
    expect(await asSeenBy(testIpsp)).toMatchObject({ id: evidence.id, refId, subject: null });
    expect(await asSeenBy(admin)).toMatchObject({ id: evidence.id, subject: null });
    // The raw id is accepted too, with the same rules.
    const raw = await srs.graphql(EvidenceQuery, { variables: { id: rawEvidenceId(evidence.id) }, token: otherSp });
    expect(raw.data!.evidence).toBeNull();

    const node = async (token: string) => (await srs.graphql(NodeQuery, { variables: { id: evidence.id }, token })).data?.node ?? null;
    expect(await node(sp)).toMatchObject({ id: evidence.id, refId, subject: { surname: 'Isoliert' } });
    expect(await node(otherSp)).toBeNull();
    expect(await node(testIpsp)).toMatchObject({ id: evidence.id, subject: null });

    // Through the order: the partner sees the evidence, not the subject.
    const viaOrder = await srs.graphql(OrderQuery, { variables: { refId }, token: testIpsp });
    expect(viaOrder.errors).toBeUndefined();
    expect(viaOrder.data!.order!.evidence).toMatchObject({ id: evidence.id, subject: null });
    expect((await srs.graphql(OrderQuery, { variables: { refId }, token: otherSp })).data!.order).toBeNull();
  });
});
