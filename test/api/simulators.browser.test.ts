// The partner simulators' pages, walked through by a person in a real browser (Debian's chromium
// driven by playwright-core). Everything goes through the public surface: orders are placed and
// read over GraphQL, the simulators' pages are used with the browser.
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { graphql } from '../generated/index.js';
import { methodGlobalId, placeOrderBrief, type TestService } from '../kit.js';
import { closeBrowserAndService, missingChromium, openBrowserAndService } from '../browser-kit.js';
import { CancelOrderBriefMutation } from '../documents.js';

const OrderQuery = graphql(`
  query SimOrder($refId: ID!) {
    order(refId: $refId) {
      refId
      status
      statusReason
      ipspOrderId
      events { status type reason }
      evidence { issuer mobileNumber subject { givenNames surname dateOfBirth } }
    }
  }
`);

type Outcome = 'SUCCESS' | 'NEGATIVELY_CONDUCTED' | 'ERROR' | 'TIMEOUT' | 'CANCELED' | 'ABORTED';

interface InitialData {
  givenNames?: string;
  surname?: string;
  dateOfBirth?: string;
  mobileNumber?: string;
  country?: string;
  nationality?: string;
}

const PERSON = { givenNames: 'Erika Maria', surname: 'Muster', dateOfBirth: '1990-04-12', mobileNumber: '+41791234567' };

/** Valid initial data per catalogue method: exactly what each partner needs. */
const PARTNERS: Array<{ methodId: string; issuer: string; initialData: InitialData | null }> = [
  { methodId: 'identity-tm-video', issuer: 'IDENTITY.TM', initialData: { ...PERSON } },
  { methodId: 'klarna-bank', issuer: 'KLARNA', initialData: { ...PERSON, country: 'DE' } },
  { methodId: 'identity-tm-eid', issuer: 'IDENTITY-TM-EID', initialData: { ...PERSON } },
  { methodId: 'nect-robo-ident', issuer: 'NECT', initialData: { ...PERSON, nationality: 'DE' } },
  { methodId: 'intrum-video', issuer: 'INTRUM-VIDEO', initialData: { givenNames: PERSON.givenNames, surname: PERSON.surname, mobileNumber: PERSON.mobileNumber } },
  { methodId: 'intrum-autoident', issuer: 'INTRUM-AUTOIDENT', initialData: { givenNames: PERSON.givenNames, surname: PERSON.surname, mobileNumber: PERSON.mobileNumber } },
  { methodId: 'test-video', issuer: 'TEST', initialData: { ...PERSON } },
];

let srs: TestService;
let token: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;

// Without the browser every test fails with this message (rather than the file being skipped).
const missingBrowser = missingChromium();

beforeAll(async () => {
  if (missingBrowser) return;
  ({ browser, srs, token } = await openBrowserAndService());
});
afterAll(() => closeBrowserAndService({ browser, srs }));

beforeEach(async () => {
  if (missingBrowser) throw missingBrowser;
  context = await browser.newContext();
  page = await context.newPage();
});
afterEach(async () => {
  await context?.close();
});

async function placeOrder(methodId: string, initialData: InitialData | null) {
  const order = await placeOrderBrief(srs, token, { methodId: methodGlobalId(methodId), initialData });
  expect(order!.status).toBe('INITIALIZED');
  expect(order!.targetUrl).toBeTruthy();
  return order as { refId: string; status: string; ipspOrderId: string; targetUrl: string };
}

async function readOrder(refId: string) {
  const response = await srs.graphql(OrderQuery, { variables: { refId }, token });
  expect(response.errors).toBeUndefined();
  expect(response.data!.order).toBeTruthy();
  return response.data!.order!;
}

/** Opens a URL exactly as given; answers the HTTP status of the page. */
async function open(url: string): Promise<number> {
  const response = await page.goto(url);
  expect(response).not.toBeNull();
  return response!.status();
}

/** Optionally types a reason, clicks an outcome button, and answers the status of the page it led to. */
async function choose(outcome: Outcome, reason?: string): Promise<number> {
  if (reason !== undefined) await page.locator('input[name="reason"]').fill(reason);
  const [response] = await Promise.all([
    page.waitForResponse((candidate: Response) => candidate.request().method() === 'POST' && candidate.request().isNavigationRequest()),
    page.getByTestId(`outcome-${outcome}`).click(),
  ]);
  await page.waitForLoadState('domcontentloaded');
  return response.status();
}

/** The form shows the initial data; the person types in what the document shows and the SP did not send. */
async function completeForm(): Promise<void> {
  for (const [name, value] of Object.entries(PERSON)) {
    const field = page.locator(`input[name="${name}"]`);
    if (!(await field.inputValue())) await field.fill(value);
  }
}

async function resultText(): Promise<string> {
  return (await page.getByTestId('result').textContent({ timeout: 10_000 }))?.trim() ?? '';
}

async function bodyText(): Promise<string> {
  return (await page.locator('main').innerText()).trim();
}

describe('every partner: a person opens the target URL and succeeds', () => {
  for (const partner of PARTNERS) {
    it(`${partner.issuer} (${partner.methodId}) ends TERMINATED with its evidence`, async () => {
      const order = await placeOrder(partner.methodId, partner.initialData);
      expect(await open(order.targetUrl)).toBe(200);
      expect(await page.getByTestId('ipsp-order-id').textContent()).toBe(order.ipspOrderId);
      expect(await bodyText()).toContain(order.refId);
      await completeForm();
      expect(await choose('SUCCESS')).toBe(200);
      expect(await resultText()).toMatch(/identified/i);
      expect(await page.getByTestId('result').getAttribute('data-outcome')).toBe('SUCCESS');

      const after = await readOrder(order.refId);
      expect(after.status).toBe('TERMINATED');
      expect(after.evidence).toMatchObject({
        issuer: partner.issuer,
        mobileNumber: PERSON.mobileNumber,
        subject: { givenNames: PERSON.givenNames, surname: PERSON.surname, dateOfBirth: PERSON.dateOfBirth },
      });
      const statuses = after.events.filter((event) => event.type === 'STATUS_CHANGED').map((event) => event.status);
      expect(statuses).toEqual(['CREATED', 'INITIALIZED', 'IDENTIFICATION_DONE', 'DATA_READY', 'TERMINATED']);
      expect(after.events.some((event) => event.type === 'EVIDENCE_IMPORTED')).toBe(true);

      // The link has done its job: opening it again shows that the identification has ended.
      expect(await open(order.targetUrl)).toBe(410);
      expect(await bodyText()).toMatch(/ended/i);
      expect(await page.getByTestId('outcome-SUCCESS').count()).toBe(0);
    });
  }

  it('IDENTITY.TM without initial data: the person fills in the form (and is asked for what is missing)', async () => {
    const order = await placeOrder('identity-tm-video', null);
    expect(await open(order.targetUrl)).toBe(200);
    await page.locator('input[name="givenNames"]').fill('Hans Peter');
    expect(await choose('SUCCESS')).toBe(400);
    expect(await page.getByRole('alert').innerText()).toMatch(/Please fill in: Surname, Date of birth and Mobile number\./);
    // What the person typed is still there.
    expect(await page.locator('input[name="givenNames"]').inputValue()).toBe('Hans Peter');
    expect((await readOrder(order.refId)).status).toBe('INITIALIZED');

    await page.locator('input[name="surname"]').fill('Meier');
    await page.locator('input[name="dateOfBirth"]').fill('1985-11-30');
    await page.locator('input[name="nationality"]').fill('CH');
    await page.locator('input[name="mobileNumber"]').fill('+41 79 765 43 21');
    expect(await choose('SUCCESS')).toBe(200);
    expect(await resultText()).toMatch(/identified/i);
    const after = await readOrder(order.refId);
    expect(after.status).toBe('TERMINATED');
    expect(after.evidence).toMatchObject({
      issuer: 'IDENTITY.TM',
      mobileNumber: '+41797654321',
      subject: { givenNames: 'Hans Peter', surname: 'Meier', dateOfBirth: '1985-11-30' },
    });
  });
});

describe('a person who makes a typo', () => {
  it('gets the refusal on the page, corrects it, and the identification still succeeds (IDENTITY-TM-EID)', async () => {
    const order = await placeOrder('identity-tm-eid', PARTNERS[2].initialData);
    expect(await open(order.targetUrl)).toBe(200);
    await page.locator('input[name="nationality"]').fill('Swiss');
    expect(await choose('SUCCESS')).toBe(422);
    expect(await page.getByRole('alert').innerText()).toMatch(/nationality/i);
    expect(await page.locator('input[name="nationality"]').inputValue()).toBe('Swiss');

    await page.locator('input[name="nationality"]').fill('CH');
    expect(await choose('SUCCESS')).toBe(200);
    expect(await resultText()).toMatch(/identified/i);
    const after = await readOrder(order.refId);
    expect(after.status).toBe('TERMINATED');
    expect(after.evidence).toMatchObject({ issuer: 'IDENTITY-TM-EID', mobileNumber: PERSON.mobileNumber });
  });
});

describe('failure outcomes chosen on the page', () => {
  it('NEGATIVELY_CONDUCTED with a typed reason keeps the reason verbatim (IDENTITY.TM)', async () => {
    const reason = 'Ausweis abgelaufen – «Prüfung» <b>nicht</b> bestanden & "Foto" unscharf';
    const order = await placeOrder('identity-tm-video', PARTNERS[0].initialData);
    expect(await open(order.targetUrl)).toBe(200);
    expect(await choose('NEGATIVELY_CONDUCTED', reason)).toBe(200);
    expect(await resultText()).toMatch(/not successful/i);
    const after = await readOrder(order.refId);
    expect(after.status).toBe('NEGATIVELY_CONDUCTED');
    expect(after.statusReason).toBe(reason);
    expect(after.events.at(-1)).toMatchObject({ status: 'NEGATIVELY_CONDUCTED', reason });
    expect(after.evidence).toBeNull();
    expect(await open(order.targetUrl)).toBe(410);
  });

  it('NEGATIVELY_CONDUCTED without a reason gets the partner default (NECT)', async () => {
    const order = await placeOrder('nect-robo-ident', PARTNERS[3].initialData);
    expect(await open(order.targetUrl)).toBe(200);
    expect(await choose('NEGATIVELY_CONDUCTED')).toBe(200);
    const after = await readOrder(order.refId);
    expect(after.status).toBe('NEGATIVELY_CONDUCTED');
    expect(after.statusReason).toBe('Document not valid');
  });

  it('ERROR ends the order (INTRUM-AUTOIDENT)', async () => {
    const order = await placeOrder('intrum-autoident', PARTNERS[5].initialData);
    expect(await open(order.targetUrl)).toBe(200);
    expect(await choose('ERROR')).toBe(200);
    expect(await resultText()).toMatch(/could not be completed/i);
    const after = await readOrder(order.refId);
    expect(after.status).toBe('ERROR');
    expect(after.statusReason).toBe('Camera or microphone not usable');
    expect(await open(order.targetUrl)).toBe(410);
  });

  it('CANCELED by the person ends the order (IDENTITY-TM-EID)', async () => {
    const order = await placeOrder('identity-tm-eid', PARTNERS[2].initialData);
    expect(await open(order.targetUrl)).toBe(200);
    expect(await choose('CANCELED', 'I will do this later in a shop')).toBe(200);
    expect(await resultText()).toMatch(/canceled/i);
    const after = await readOrder(order.refId);
    expect(after.status).toBe('CANCELED');
    expect(after.statusReason).toBe('I will do this later in a shop');
    expect(await open(order.targetUrl)).toBe(410);
  });

  it('INTRUM-VIDEO: ABORTED, then the same URL again and SUCCESS ends TERMINATED', async () => {
    const order = await placeOrder('intrum-video', PARTNERS[4].initialData);
    expect(await open(order.targetUrl)).toBe(200);
    expect(await choose('ABORTED')).toBe(200);
    expect(await resultText()).toMatch(/same link/i);
    const aborted = await readOrder(order.refId);
    expect(aborted.status).toBe('ABORTED');
    expect(aborted.statusReason).toBe('User left the identification');

    // The person comes back later with the very same link.
    expect(await open(order.targetUrl)).toBe(200);
    expect(await page.getByTestId('ipsp-order-id').textContent()).toBe(order.ipspOrderId);
    await completeForm();
    expect(await choose('SUCCESS')).toBe(200);
    expect(await resultText()).toMatch(/identified/i);
    const after = await readOrder(order.refId);
    expect(after.status).toBe('TERMINATED');
    expect(after.evidence).toMatchObject({ issuer: 'INTRUM-VIDEO', mobileNumber: PERSON.mobileNumber });
    const statuses = after.events.filter((event) => event.type === 'STATUS_CHANGED').map((event) => event.status);
    expect(statuses).toEqual(['CREATED', 'INITIALIZED', 'ABORTED', 'IDENTIFICATION_DONE', 'DATA_READY', 'TERMINATED']);
  });
});

describe('use limits of the target URL', () => {
  it('KLARNA: the long URL works as given; the 6th opening ends the identification', async () => {
    const order = await placeOrder('klarna-bank', PARTNERS[1].initialData);
    expect(order.targetUrl.length).toBeGreaterThan(600);
    for (let use = 1; use <= 5; use++) {
      expect(await open(order.targetUrl)).toBe(200);
      // The browser kept the URL intact: nothing truncated, nothing re-encoded.
      expect(page.url()).toBe(order.targetUrl);
      expect(await bodyText()).toContain(`Opened ${use} of 5 times`);
    }
    expect((await readOrder(order.refId)).status).toBe('INITIALIZED');

    expect(await open(order.targetUrl)).toBe(410);
    expect(await bodyText()).toMatch(/used more than 5 times.*ended/i);
    expect(await page.getByTestId('outcome-SUCCESS').count()).toBe(0);
    const after = await readOrder(order.refId);
    expect(after.status).toBe('NEGATIVELY_CONDUCTED');
    expect(after.statusReason).toMatch(/used more than 5 times/);
    expect(after.evidence).toBeNull();
    // And it stays ended.
    expect(await open(order.targetUrl)).toBe(410);
    expect(await bodyText()).toMatch(/ended/i);
  });

  it('NECT: the first try and 5 retries; the 7th opening ends in ERROR "Timeout"', async () => {
    const order = await placeOrder('nect-robo-ident', PARTNERS[3].initialData);
    for (let use = 1; use <= 6; use++) {
      expect(await open(order.targetUrl)).toBe(200);
      expect(await bodyText()).toContain(`Opened ${use} of 6 times`);
    }
    expect((await readOrder(order.refId)).status).toBe('INITIALIZED');
    expect(await open(order.targetUrl)).toBe(410);
    expect(await bodyText()).toMatch(/Timeout.*ended/i);
    const after = await readOrder(order.refId);
    expect(after.status).toBe('ERROR');
    expect(after.statusReason).toBe('Timeout');
  });
});

/** The target URL with one character of its `token` parameter changed. */
function withTamperedToken(targetUrl: string): string {
  const url = new URL(targetUrl);
  const original = url.searchParams.get('token')!;
  expect(original).toBeTruthy();
  const at = Math.floor(original.length / 2);
  const changed = original.slice(0, at) + (original[at] === 'A' ? 'B' : 'A') + original.slice(at + 1);
  url.searchParams.set('token', changed);
  return url.toString();
}

describe('links that must not work', () => {
  it('a tampered token is refused (403) and leaves the order as it was', async () => {
    const order = await placeOrder('identity-tm-video', PARTNERS[0].initialData);
    const before = await readOrder(order.refId);
    expect(await open(withTamperedToken(order.targetUrl))).toBe(403);
    expect(await bodyText()).toMatch(/not valid/i);
    expect(await page.getByTestId('outcome-SUCCESS').count()).toBe(0);
    expect(await readOrder(order.refId)).toEqual(before);
    // The genuine link still works.
    expect(await open(order.targetUrl)).toBe(200);
  });

  it('KLARNA: a tampered token in the long URL is refused and does not use up an opening', async () => {
    const order = await placeOrder('klarna-bank', PARTNERS[1].initialData);
    expect(await open(withTamperedToken(order.targetUrl))).toBe(403);
    expect(await open(withTamperedToken(order.targetUrl))).toBe(403);
    expect(await open(order.targetUrl)).toBe(200);
    expect(await bodyText()).toContain('Opened 1 of 5 times');
    expect((await readOrder(order.refId)).status).toBe('INITIALIZED');
  });

  it('a form sent back with a tampered token is refused and changes nothing', async () => {
    const order = await placeOrder('intrum-video', PARTNERS[4].initialData);
    expect(await open(order.targetUrl)).toBe(200);
    const before = await readOrder(order.refId);
    await page.locator('input[name="token"]').evaluate((input: HTMLInputElement) => {
      input.value = `${input.value.slice(0, -1)}${input.value.endsWith('A') ? 'B' : 'A'}`;
    });
    expect(await choose('SUCCESS')).toBe(403);
    expect(await bodyText()).toMatch(/not valid/i);
    expect(await readOrder(order.refId)).toEqual(before);
  });

  it('after cancelOrder the target URL shows that the identification has ended', async () => {
    const order = await placeOrder('intrum-video', PARTNERS[4].initialData);
    expect(await open(order.targetUrl)).toBe(200);
    const cancel = await srs.graphql(CancelOrderBriefMutation, { variables: { input: { refId: order.refId, reason: 'Customer chose another method' } }, token });
    expect(cancel.errors).toBeUndefined();
    expect(cancel.data!.cancelOrder.userErrors).toEqual([]);
    expect(cancel.data!.cancelOrder.order!.status).toBe('CANCELED');

    expect([403, 410]).toContain(await open(order.targetUrl));
    expect(await bodyText()).toMatch(/ended|not valid/i);
    expect(await page.getByTestId('outcome-SUCCESS').count()).toBe(0);
    const after = await readOrder(order.refId);
    expect(after.status).toBe('CANCELED');
    expect(after.statusReason).toBe('Customer chose another method');
  });

  it('a page left open while the order is cancelled cannot conclude it any more', async () => {
    const order = await placeOrder('identity-tm-eid', PARTNERS[2].initialData);
    expect(await open(order.targetUrl)).toBe(200);
    const cancel = await srs.graphql(CancelOrderBriefMutation, { variables: { input: { refId: order.refId } }, token });
    expect(cancel.data!.cancelOrder.userErrors).toEqual([]);
    expect([403, 410]).toContain(await choose('SUCCESS'));
    expect(await page.getByTestId('result').count()).toBe(0);
    const after = await readOrder(order.refId);
    expect(after.status).toBe('CANCELED');
    expect(after.evidence).toBeNull();
  });
});

describe('SWISSCOM-RA: registration in a shop', () => {
  /** The shop's sign-in: an IPSP client of SWISSCOM-RA, as the operator creates one for the partner. */
  let agentCredentials: { username: string; password: string };
  beforeAll(async () => {
    if (missingBrowser) return;
    const { clientId, clientSecret } = await srs.createClient('IPSP', { issuer: 'SWISSCOM-RA' });
    agentCredentials = { username: clientId, password: clientSecret };
  });
  const basic = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

  it('the person sees a registration code; the agent desk takes it and concludes SUCCESS', async () => {
    const order = await placeOrder('swisscom-ra-direct', { ...PERSON });
    expect(await open(order.targetUrl)).toBe(200);
    const code = (await page.getByTestId('ipsp-order-id').textContent())?.trim();
    expect(code).toBe(order.ipspOrderId);
    // The person cannot conclude the registration alone.
    expect(await page.getByTestId('outcome-SUCCESS').count()).toBe(0);
    expect((await readOrder(order.refId)).status).toBe('INITIALIZED');

    // The agent, on another machine, types the code the person shows (in lower case, as typed).
    const agent = await browser.newContext({ httpCredentials: agentCredentials });
    try {
      const desk = await agent.newPage();
      const deskResponse = await desk.goto(`${srs.url}/ipsp/swisscom-ra/agent`);
      expect(deskResponse!.status()).toBe(200);
      await desk.locator('input[name="code"]').fill(code!.toLowerCase());
      await Promise.all([desk.waitForURL(/[?&]code=/), desk.getByRole('button', { name: 'Open' }).click()]);
      await desk.getByTestId('outcome-SUCCESS').waitFor();
      for (const outcome of ['SUCCESS', 'NEGATIVELY_CONDUCTED', 'ERROR', 'CANCELED', 'ABORTED']) {
        expect(await desk.getByTestId(`outcome-${outcome}`).count()).toBe(1);
      }
      expect(await desk.getByTestId('ipsp-order-id').textContent()).toBe(code);
      expect(await desk.locator('input[name="surname"]').inputValue()).toBe(PERSON.surname);
      const [submitted] = await Promise.all([
        desk.waitForResponse((candidate: Response) => candidate.request().method() === 'POST'),
        desk.getByTestId('outcome-SUCCESS').click(),
      ]);
      expect(submitted.status()).toBe(200);
      expect(await desk.getByTestId('result').textContent()).toMatch(/identified/i);

      const after = await readOrder(order.refId);
      expect(after.status).toBe('TERMINATED');
      expect(after.evidence).toMatchObject({ issuer: 'SWISSCOM-RA', mobileNumber: PERSON.mobileNumber });

      // The code is used up: the desk no longer finds it.
      const again = await desk.goto(`${srs.url}/ipsp/swisscom-ra/agent?code=${encodeURIComponent(code!)}`);
      expect(again!.status()).toBe(404);
      expect(await desk.getByRole('alert').innerText()).toMatch(/No open registration/);
    } finally {
      await agent.close();
    }
  });

  it('the agent desk does not know a made-up code', async () => {
    const agent = await browser.newContext({ httpCredentials: agentCredentials });
    try {
      const desk = await agent.newPage();
      const response = await desk.goto(`${srs.url}/ipsp/swisscom-ra/agent?code=SWIS-000000000000`);
      expect(response!.status()).toBe(404);
      expect(await desk.getByTestId('outcome-SUCCESS').count()).toBe(0);
    } finally {
      await agent.close();
    }
  });

  it('the agent desk needs the partner’s credentials: none, wrong ones, or another client’s answer 401 and show nobody’s data', async () => {
    const order = await placeOrder('swisscom-ra-direct', { ...PERSON });
    const desk = `${srs.url}/ipsp/swisscom-ra/agent?code=${order.ipspOrderId}`;
    const sp = await srs.createClient('SERVICE_PROVIDER');
    const otherPartner = await srs.createClient('IPSP', { issuer: 'KLARNA' });
    const refused: Array<[string, Record<string, string>]> = [
      ['no credentials', {}],
      ['a wrong secret', { authorization: basic(agentCredentials.username, `${agentCredentials.password}x`) }],
      ['an unknown client', { authorization: basic('nobody', agentCredentials.password) }],
      ['a service provider', { authorization: basic(sp.clientId, sp.clientSecret) }],
      ['another partner', { authorization: basic(otherPartner.clientId, otherPartner.clientSecret) }],
      ['a bearer token', { authorization: `Bearer ${token}` }],
      ['garbage', { authorization: 'Basic !!!' }],
    ];
    for (const [who, headers] of refused) {
      for (const method of ['GET', 'POST'] as const) {
        const response = await fetch(desk, { method, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: method === 'POST' ? `code=${order.ipspOrderId}&outcome=SUCCESS` : undefined });
        expect(response.status, `${who} ${method}`).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="SWISSCOM-RA agent desk"/);
        const body = await response.text();
        expect(body).not.toContain(PERSON.surname);
        expect(body).not.toContain('outcome-SUCCESS');
      }
    }
    expect((await readOrder(order.refId)).status).toBe('INITIALIZED');

    // The right credentials open it.
    const right = await fetch(desk, { headers: { authorization: basic(agentCredentials.username, agentCredentials.password) } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain(PERSON.surname);
  });

  it('only the desk concludes: a forged desk form (no proof) or the person posting to their own link changes nothing', async () => {
    const order = await placeOrder('swisscom-ra-direct', { ...PERSON });
    const authorization = basic(agentCredentials.username, agentCredentials.password);
    const form = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${srs.url}/ipsp/swisscom-ra/agent`, { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    // A page elsewhere cannot know the proof the desk puts into its own form.
    expect((await form(`code=${order.ipspOrderId}&outcome=SUCCESS`)).status).toBe(403);
    expect((await form(`code=${order.ipspOrderId}&outcome=SUCCESS&proof=AAAA`)).status).toBe(403);
    // The person's own link (with its order token) has no form to post to.
    const targetUrl = new URL(order.targetUrl);
    const own = await fetch(`${targetUrl.origin}${targetUrl.pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: targetUrl.searchParams.get('token')!, outcome: 'SUCCESS' }).toString(),
    });
    expect(own.status).toBe(405);
    expect((await readOrder(order.refId)).status).toBe('INITIALIZED');
  });
});

describe('TEST partner', () => {
  it('offers every outcome; TIMEOUT ends the order TIMEOUT', async () => {
    const order = await placeOrder('test-video', PARTNERS[6].initialData);
    expect(await open(order.targetUrl)).toBe(200);
    for (const outcome of ['SUCCESS', 'NEGATIVELY_CONDUCTED', 'ERROR', 'TIMEOUT', 'CANCELED', 'ABORTED']) {
      await expect(page.getByTestId(`outcome-${outcome}`).isVisible()).resolves.toBe(true);
    }
    await page.setViewportSize({ width: 1024, height: 900 });
    await page.screenshot({ path: '/tmp/sim.png', fullPage: true });
    expect(await choose('TIMEOUT', 'Tester let it run out')).toBe(200);
    expect(await resultText()).toMatch(/timed out/i);
    const after = await readOrder(order.refId);
    expect(after.status).toBe('TIMEOUT');
    expect(after.statusReason).toBe('Tester let it run out');
  });

  it('other partners do not offer TIMEOUT', async () => {
    const order = await placeOrder('intrum-autoident', PARTNERS[5].initialData);
    expect(await open(order.targetUrl)).toBe(200);
    expect(await page.getByTestId('outcome-TIMEOUT').count()).toBe(0);
    expect(await page.getByTestId('outcome-SUCCESS').count()).toBe(1);
  });
});
