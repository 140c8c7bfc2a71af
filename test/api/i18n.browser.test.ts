// The end users' pages and SMS in German, French, Italian and English, in a real browser
// (Debian's chromium, 390 px wide like a phone, every request to another host aborted): the
// order's language wins, else the browser's Accept-Language, else English; axe-core finds no
// accessibility violation on any page.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { methodGlobalId, placeOrderBrief, type TestService } from '../kit.js';
import { closeBrowserAndService, missingChromium, openBrowserAndService } from '../browser-kit.js';

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

type Language = 'de' | 'fr' | 'it' | 'en';

/** What each language must read like, written here independently of the locale files. */
const EXPECTED: Record<Language, {
  acceptLanguage: string;
  termsTitle: string;
  acceptButton: string;
  accepted: RegExp;
  testSuccessLabel: string;
  identified: RegExp;
  sms: RegExp;
  date: RegExp;
  deskOpen: string;
  deskTitle: RegExp;
}> = {
  de: {
    acceptLanguage: 'de-CH,de;q=0.9,en;q=0.7',
    termsTitle: 'Nutzungsbedingungen für elektronische Signaturen',
    acceptButton: 'Akzeptieren',
    accepted: /Sie haben die Nutzungsbedingungen akzeptiert/,
    testSuccessLabel: 'Erfolg',
    identified: /Sie wurden identifiziert/,
    sms: /^Ihre Identifikation für elektronische Signaturen ist abgeschlossen\. .*\(Link gültig bis \d\d\.\d\d\.\d{4}, \d\d:\d\d MES?Z\): http/,
    date: /\d{1,2}\. (Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember) \d{4} um \d\d:\d\d MES?Z/,
    deskOpen: 'Öffnen',
    deskTitle: /Arbeitsplatz für Mitarbeitende/,
  },
  fr: {
    acceptLanguage: 'fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5',
    termsTitle: 'Conditions d’utilisation pour les signatures électroniques',
    acceptButton: 'Accepter',
    accepted: /Vous avez accepté les conditions d’utilisation/,
    testSuccessLabel: 'succès',
    identified: /Vous avez été identifié/,
    sms: /^Votre identification pour les signatures électroniques est terminée\. .*\(lien valable jusqu'au \d{1,2} \S+ \d{4}, \d\d:\d\d UTC\+\d\) : http/,
    date: /\d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre) \d{4} à \d\d:\d\d UTC\+\d/,
    deskOpen: 'Ouvrir',
    deskTitle: /poste du personnel/,
  },
  it: {
    acceptLanguage: 'it-CH,it;q=0.9,en-US;q=0.6,en;q=0.5',
    termsTitle: 'Condizioni d’uso per le firme elettroniche',
    acceptButton: 'Accetto',
    accepted: /Ha accettato le condizioni d’uso/,
    testSuccessLabel: 'successo',
    identified: /La sua identificazione è avvenuta/,
    sms: /^La sua identificazione per le firme elettroniche è completata\. .*\(link valido fino al \d{1,2} \S+ \d{4}, \d\d:\d\d CES?T\): http/,
    date: /\d{1,2} (gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre) \d{4} alle ore \d\d:\d\d CES?T/,
    deskOpen: 'Apri',
    deskTitle: /postazione del personale/,
  },
  en: {
    acceptLanguage: 'en-US,en;q=0.9',
    termsTitle: 'Terms of use for electronic signatures',
    acceptButton: 'Accept',
    accepted: /You have accepted the terms of use/,
    testSuccessLabel: 'success',
    identified: /You have been identified/,
    sms: /^Your identification for electronic signatures is complete\. .*\(link valid until \d{1,2} \S+ \d{4}, \d\d:\d\d CES?T\): http/,
    date: /\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December) \d{4} at \d\d:\d\d CES?T/,
    deskOpen: 'Open',
    deskTitle: /agent desk/,
  },
};
const LANGUAGES = Object.keys(EXPECTED) as Language[];
/** A browser language other than `language`, to show that the order's language wins over it. */
const otherThan = (language: Language): Language => LANGUAGES[(LANGUAGES.indexOf(language) + 1) % LANGUAGES.length];

let srs: TestService;
let token: string;
let browser: Browser;
let agentCredentials: { username: string; password: string };
const missingBrowser = missingChromium();

beforeAll(async () => {
  if (missingBrowser) return;
  ({ browser, srs, token } = await openBrowserAndService());
  const { clientId, clientSecret } = await srs.createClient('IPSP', { issuer: 'SWISSCOM-RA' });
  agentCredentials = { username: clientId, password: clientSecret };
});
afterAll(() => closeBrowserAndService({ browser, srs }));
beforeEach(() => {
  if (missingBrowser) throw missingBrowser;
});

/** Requests the pages made to other hosts (there must be none: they are aborted). */
let foreignRequests: string[] = [];

/** A phone-sized browser page that says `acceptLanguage`; every request to another host is aborted. */
async function phone(options: { acceptLanguage?: string; httpCredentials?: { username: string; password: string } } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    // The pages' CSP forbids scripts; axe-core is the test's own, injected into the page.
    bypassCSP: true,
    extraHTTPHeaders: options.acceptLanguage ? { 'accept-language': options.acceptLanguage } : {},
    httpCredentials: options.httpCredentials,
  });
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost') return route.continue();
    foreignRequests.push(route.request().url());
    return route.abort();
  });
  return { context, page: await context.newPage() };
}

async function open(page: Page, url: string): Promise<number> {
  const response = await page.goto(url);
  expect(response).not.toBeNull();
  return response!.status();
}

/** Clicks a submit button and answers the status of the page the POST led to. */
async function submit(page: Page, testId: string): Promise<number> {
  const [response] = await Promise.all([
    page.waitForResponse((candidate: Response) => candidate.request().method() === 'POST' && candidate.request().isNavigationRequest()),
    page.getByTestId(testId).click(),
  ]);
  await page.waitForLoadState('domcontentloaded');
  return response.status();
}

const htmlLang = (page: Page) => page.locator('html').getAttribute('lang');

/** axe-core's violations on the page as it is (WCAG 2 A/AA and best practices). */
async function expectNoAxeViolations(page: Page, what: string): Promise<void> {
  await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run: (context: Document) => Promise<{ violations: Array<{ id: string; help: string; nodes: Array<{ html: string }> }> }> } }).axe.run(document);
    return result.violations.map((violation) => ({ id: violation.id, help: violation.help, nodes: violation.nodes.map((node) => node.html) }));
  });
  expect(violations, `${what}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
}

const freshNumber = () => `+4179${randomInt(1_000_000, 10_000_000)}`;

async function placeOrder(methodId: string, mobileNumber: string, language?: Language) {
  const order = await placeOrderBrief(srs, token, {
    methodId: methodGlobalId(methodId),
    language,
    initialData: { givenNames: 'Erika Maria', surname: 'Muster', dateOfBirth: '1990-04-12', mobileNumber },
  });
  expect(order.status).toBe('INITIALIZED');
  return order as { refId: string; ipspOrderId: string; targetUrl: string };
}

/** The one SMS the outbox sent to this number (test mode records them at /dev/sms). */
async function smsTo(to: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(`${srs.url}/dev/sms`);
    const found = ((await response.json()) as Array<{ to: string; text: string }>).filter((sms) => sms.to === to);
    if (found.length) {
      expect(found).toHaveLength(1);
      return found[0].text;
    }
    if (Date.now() > deadline) throw new Error(`no SMS to ${to} within 15 s`);
    await sleep(100);
  }
}

const linkIn = (sms: string) => {
  const match = /http:\/\/127\.0\.0\.1:\d+\/terms\/[A-Za-z0-9_-]+/.exec(sms);
  expect(match, sms).not.toBeNull();
  return match![0];
};

/**
 * The whole way of a TEST order in one browser: the simulator's page, its result, the SMS, the
 * T&C page and its result, each checked for its language and with axe.
 */
async function walkThrough(page: Page, order: { targetUrl: string }, mobileNumber: string, pageLanguage: Language, smsLanguage: Language): Promise<void> {
  const expected = EXPECTED[pageLanguage];
  expect(await open(page, order.targetUrl)).toBe(200);
  expect(await htmlLang(page)).toBe(pageLanguage);
  expect((await page.getByTestId('outcome-SUCCESS').innerText()).trim()).toBe(expected.testSuccessLabel);
  expect(await page.locator('main').innerText()).toMatch(expected.date);
  await expectNoAxeViolations(page, `${pageLanguage} simulator page`);

  expect(await submit(page, 'outcome-SUCCESS')).toBe(200);
  expect(await htmlLang(page)).toBe(pageLanguage);
  expect(await page.getByTestId('result').innerText()).toMatch(expected.identified);
  await expectNoAxeViolations(page, `${pageLanguage} simulator result`);

  const sms = await smsTo(mobileNumber);
  expect(sms).toMatch(EXPECTED[smsLanguage].sms);

  expect(await open(page, linkIn(sms))).toBe(200);
  expect(await htmlLang(page)).toBe(pageLanguage);
  expect(await page.locator('h1').innerText()).toBe(expected.termsTitle);
  expect(await page.title()).toBe(expected.termsTitle);
  expect((await page.getByTestId('accept').innerText()).trim()).toBe(expected.acceptButton);
  expect(await page.getByTestId('terms-valid-until').innerText()).toMatch(expected.date);
  await expectNoAxeViolations(page, `${pageLanguage} T&C page`);

  expect(await submit(page, 'accept')).toBe(200);
  expect(await htmlLang(page)).toBe(pageLanguage);
  expect(await page.getByTestId('terms-result').getAttribute('data-status')).toBe('ACCEPTED');
  expect(await page.getByTestId('terms-result').innerText()).toMatch(expected.accepted);
  expect(await page.locator('main').innerText()).toMatch(expected.date);
  await expectNoAxeViolations(page, `${pageLanguage} T&C result`);
}

describe('an order with a language: every page and the SMS in it, whatever the browser says', () => {
  for (const language of LANGUAGES) {
    it(language, async () => {
      foreignRequests = [];
      const { context, page } = await phone({ acceptLanguage: EXPECTED[otherThan(language)].acceptLanguage });
      try {
        const mobileNumber = freshNumber();
        await walkThrough(page, await placeOrder('test-video', mobileNumber, language), mobileNumber, language, language);
        expect(foreignRequests).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }
});

describe('an order without a language: the pages follow the browser’s Accept-Language, the SMS is English', () => {
  for (const language of LANGUAGES) {
    it(language, async () => {
      foreignRequests = [];
      const { context, page } = await phone({ acceptLanguage: EXPECTED[language].acceptLanguage });
      try {
        const mobileNumber = freshNumber();
        await walkThrough(page, await placeOrder('test-video', mobileNumber), mobileNumber, language, 'en');
        expect(foreignRequests).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  it('a browser that says nothing (or only languages without texts) gets English', async () => {
    const order = await placeOrder('test-video', freshNumber());
    for (const acceptLanguage of [undefined, 'ja, zh-CN;q=0.8']) {
      const { context, page } = await phone({ acceptLanguage });
      try {
        // Playwright's chromium says en-US by default; an explicit header replaces it.
        expect(await open(page, order.targetUrl)).toBe(200);
        expect(await htmlLang(page)).toBe('en');
      } finally {
        await context.close();
      }
    }
  });
});

describe('SWISSCOM-RA: the person’s page in the order’s language, the agent desk in the agent’s', () => {
  for (const language of LANGUAGES) {
    it(language, async () => {
      foreignRequests = [];
      const order = await placeOrder('swisscom-ra-direct', freshNumber(), language);
      const person = await phone({ acceptLanguage: EXPECTED[otherThan(language)].acceptLanguage });
      const agent = await phone({ acceptLanguage: EXPECTED[language].acceptLanguage, httpCredentials: agentCredentials });
      try {
        expect(await open(person.page, order.targetUrl)).toBe(200);
        expect(await htmlLang(person.page)).toBe(language);
        expect(await person.page.getByTestId('ipsp-order-id').innerText()).toBe(order.ipspOrderId);
        await expectNoAxeViolations(person.page, `${language} in-person page`);

        const desk = agent.page;
        expect(await open(desk, `${srs.url}/ipsp/swisscom-ra/agent`)).toBe(200);
        expect(await htmlLang(desk)).toBe(language);
        expect(await desk.locator('h1').innerText()).toMatch(EXPECTED[language].deskTitle);
        await expectNoAxeViolations(desk, `${language} agent desk`);
        await desk.locator('input[name="code"]').fill(order.ipspOrderId);
        await Promise.all([desk.waitForURL(/[?&]code=/), desk.getByRole('button', { name: EXPECTED[language].deskOpen }).click()]);
        expect(await htmlLang(desk)).toBe(language);
        expect(await desk.getByTestId('ipsp-order-id').innerText()).toBe(order.ipspOrderId);
        await expectNoAxeViolations(desk, `${language} agent desk registration`);
        expect(await submit(desk, 'outcome-SUCCESS')).toBe(200);
        expect(await htmlLang(desk)).toBe(language);
        expect(await desk.getByTestId('result').innerText()).toMatch(EXPECTED[language].identified);
        expect(foreignRequests).toEqual([]);
      } finally {
        await person.context.close();
        await agent.context.close();
      }
    });
  }
});

describe('what a page shows is text, never markup', () => {
  it('a typed reason with markup comes back escaped on the page that asks again', async () => {
    const { context, page } = await phone({ acceptLanguage: EXPECTED.de.acceptLanguage });
    try {
      // No initial data: the person has to type everything.
      const order = (await placeOrderBrief(srs, token, { methodId: methodGlobalId('test-video'), initialData: null })) as { targetUrl: string };
      expect(await open(page, order.targetUrl)).toBe(200);
      const typed = '<img src=x onerror=alert(1)> & "quoted"';
      await page.locator('input[name="reason"]').fill(typed);
      await page.locator('input[name="givenNames"]').fill('<b>Erika</b>');
      await page.locator('input[name="surname"]').fill('Muster');
      expect(await submit(page, 'outcome-SUCCESS')).toBe(400);
      expect(await page.getByRole('alert').innerText()).toBe('Bitte ausfüllen: Geburtsdatum und Mobilnummer.');
      expect(await page.locator('input[name="givenNames"]').inputValue()).toBe('<b>Erika</b>');
      expect(await page.locator('b').count()).toBe(0);
      expect(await page.locator('input[name="reason"]').inputValue()).toBe(typed);
      expect(await page.locator('img').count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
