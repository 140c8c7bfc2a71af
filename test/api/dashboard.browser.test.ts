// The operations dashboard in Debian's chromium, every request to another host aborted (and the
// test failing if one was tried): sign in, counts that move as orders are placed and completed
// through the API without a reload, another provider's orders never shown, sign-out ending the
// live stream, webhook endpoints with their deliveries counted (a failing receiver shown at once),
// the four languages, a phone-sized screen, and axe-core finding nothing.
// DASHBOARD_SCREENSHOTS=1 also saves the screenshots of docs/screenshots/.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { methodGlobalId, placeOrderBrief, type TestClient, type TestService } from '../kit.js';
import { closeBrowserAndService, missingChromium, openBrowserAndService } from '../browser-kit.js';
import { SimulateBriefMutation } from '../documents.js';

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SCREENSHOTS = process.env.DASHBOARD_SCREENSHOTS === '1' ? path.resolve(import.meta.dirname, '../../docs/screenshots') : undefined;
const PERSON = { givenNames: 'Erika', surname: 'Muster', dateOfBirth: '1990-04-12', mobileNumber: '+41791234567' };

let srs: TestService;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let alpha: TestClient;
let beta: TestClient;
let alphaToken: string;
let betaToken: string;
/** Requests the page tried to send to any other host than the service. */
let foreignRequests: string[];
let consoleErrors: string[];
/** The webhook endpoints created by the webhooks test, per provider. */
const webhookUrls: { alpha?: string; beta?: string } = {};

const missingBrowser = missingChromium();

beforeAll(async () => {
  if (missingBrowser) return;
  // Webhooks to a local receiver, given up after two quick attempts.
  ({ browser, srs } = await openBrowserAndService({
    env: { SUBSCRIPTION_TOKEN_CHECK_SECONDS: '0.5', WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: '1', WEBHOOK_RETRY_SCHEDULE: '0,0.3', WEBHOOK_POLL_SECONDS: '0.3' },
  }));
  alpha = await srs.createClient('SERVICE_PROVIDER', { name: 'Alpha Bank' });
  beta = await srs.createClient('SERVICE_PROVIDER', { name: 'Beta Insurance' });
  alphaToken = await srs.token(alpha);
  betaToken = await srs.token(beta);
});
afterAll(() => closeBrowserAndService({ browser, srs }));

async function newPage(options: { width?: number; height?: number; locale?: string } = {}): Promise<Page> {
  context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 900 }, locale: options.locale ?? 'en-GB' });
  const origin = new URL(srs.url).origin;
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    foreignRequests.push(url);
    return route.abort();
  });
  const opened = await context.newPage();
  opened.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  opened.on('pageerror', (error) => consoleErrors.push(error.message));
  return opened;
}

beforeEach(() => {
  if (missingBrowser) throw missingBrowser;
  foreignRequests = [];
  consoleErrors = [];
});
afterEach(async () => {
  await context?.close();
  expect(foreignRequests).toEqual([]);
});

async function signIn(client: TestClient, lang = 'en'): Promise<void> {
  await page.goto(`${srs.url}/dashboard?lang=${lang}`);
  await page.getByLabel(lang === 'de' ? 'Client-ID' : 'Client ID').fill(client.clientId);
  await page.getByLabel(lang === 'de' ? 'Client-Secret' : 'Client secret').fill(client.clientSecret);
  await page.getByRole('button', { name: lang === 'de' ? 'Anmelden' : 'Sign in' }).click();
  await page.locator('#stream-state[data-state="live"]').waitFor({ timeout: 15_000 });
}

async function statusCount(status: string): Promise<number> {
  const table = page.getByRole('table', { name: 'Orders by status' });
  return Number((await table.locator(`tr[data-status="${status}"] td`).textContent())?.replace(/\D/g, ''));
}

async function expectCounts(expected: Record<string, number>): Promise<void> {
  await expect
    .poll(async () => Object.fromEntries(await Promise.all(Object.keys(expected).map(async (status) => [status, await statusCount(status)] as const))), { timeout: 15_000 })
    .toEqual(expected);
}

async function place(token: string): Promise<string> {
  return (await placeOrderBrief(srs, token, { methodId: methodGlobalId('test-video'), initialData: PERSON })).refId;
}

async function simulate(token: string, refId: string, outcome: 'SUCCESS' | 'ERROR' | 'TIMEOUT', reason?: string): Promise<void> {
  const response = await srs.graphql(SimulateBriefMutation, { variables: { input: { refId, outcome, reason } }, token });
  expect(response.data!.simulateIdentification.userErrors).toEqual([]);
}

async function createWebhookEndpoint(token: string, url: string): Promise<void> {
  const response = await srs.graphql<{ createWebhookEndpoint: { userErrors: unknown[] } }, unknown>(
    'mutation DashboardTestWebhook($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } userErrors { code field message } } }',
    { variables: { input: { url } }, token },
  );
  expect(response.errors).toBeUndefined();
  expect(response.data!.createWebhookEndpoint.userErrors).toEqual([]);
}

/** The PENDING, DELIVERED and FAILED counts of one endpoint's row, as the page shows them. */
async function webhookCounts(url: string): Promise<number[]> {
  const row = page.getByRole('table', { name: 'Webhook endpoints' }).locator('tbody tr').filter({ has: page.getByRole('rowheader', { name: url, exact: true }) });
  return (await row.locator('td.number').allTextContents()).map((text) => Number(text.replace(/\D/g, '')));
}

async function axeViolations(): Promise<unknown[]> {
  // Our pages allow no inline script (CSP), so addScriptTag cannot inject axe: it is evaluated
  // through the DevTools protocol instead, which the page's CSP does not govern.
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; nodes: Array<{ target: unknown }> }> }> } }).axe;
    return (await axe.run()).violations.map((violation) => ({ id: violation.id, targets: violation.nodes.map((node) => node.target) }));
  });
  return result;
}

async function screenshot(name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, name) });
}

describe('the dashboard of a service provider', () => {
  it('signs in, and its counts follow orders placed and completed through the API without a reload; another provider’s never appear', async () => {
    page = await newPage();
    await signIn(alpha);
    await page.evaluate(() => Object.assign(window, { noReload: true }));
    expect(await page.getByRole('table', { name: 'Orders by status' }).locator('tbody tr').count()).toBe(10);
    await expectCounts({ INITIALIZED: 0, TERMINATED: 0, ERROR: 0 });

    const first = await place(alphaToken);
    await expectCounts({ CREATED: 0, INITIALIZED: 1, TERMINATED: 0 });
    await simulate(alphaToken, first, 'SUCCESS');
    await expectCounts({ INITIALIZED: 0, TERMINATED: 1 });
    const second = await place(alphaToken);
    await simulate(alphaToken, second, 'ERROR', 'Camera could not be started');
    await expectCounts({ INITIALIZED: 0, TERMINATED: 1, ERROR: 1 });

    // Beta's order is placed before Alpha's third: once the third is shown, Beta's had its chance.
    const betas = [await place(betaToken)];
    await simulate(betaToken, betas[0], 'TIMEOUT');
    const third = await place(alphaToken);
    await page.locator(`#events li[data-ref-id="${third}"]`).first().waitFor({ timeout: 15_000 });
    await expectCounts({ INITIALIZED: 1, TERMINATED: 1, ERROR: 1, TIMEOUT: 0 });
    expect(await page.locator('#orders-total').textContent()).toBe('3');
    const html = await page.content();
    for (const refId of betas) expect(html).not.toContain(refId);
    expect(await page.locator('#providers').isHidden()).toBe(true);

    // Funnel, timings and health follow within a moment, with the partner's reason.
    await expect.poll(() => page.locator('#funnels').textContent(), { timeout: 15_000 }).toContain('Camera could not be started');
    await expect.poll(() => page.locator('#partner-health').textContent(), { timeout: 15_000 }).toContain('TEST');
    expect(await page.locator('#funnels canvas').count()).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).toBe(true);
    expect(consoleErrors).toEqual([]);
    await screenshot('dashboard-desktop.png');

    // Each event links to its order's timeline.
    await page.locator(`#events li[data-ref-id="${first}"] a`).first().click();
    await page.getByRole('heading', { name: `Order ${first}` }).waitFor();
    await expect.poll(() => page.locator('#order-events li').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
    expect(await page.locator('#order-summary').textContent()).toContain('ACTIVE');
    expect(await axeViolations()).toEqual([]);
  });

  it('shows its webhook endpoints, a receiver that fails at once among them, their counts following without a reload; another provider’s never', async () => {
    const received: string[] = [];
    const receiver = http.createServer((request, response) => {
      received.push(request.url ?? '');
      request.resume();
      request.on('end', () => response.writeHead(500, { 'content-type': 'text/plain' }).end('receiver down'));
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    try {
      webhookUrls.alpha = `${base}/alpha-hooks`;
      webhookUrls.beta = `${base}/beta-hooks`;
      await createWebhookEndpoint(alphaToken, webhookUrls.alpha);
      await createWebhookEndpoint(betaToken, webhookUrls.beta);
      page = await newPage();
      await signIn(alpha);
      await page.evaluate(() => Object.assign(window, { noReload: true }));
      const endpoints = page.getByRole('table', { name: 'Webhook endpoints' });
      await expect.poll(() => webhookCounts(webhookUrls.alpha!), { timeout: 15_000 }).toEqual([0, 0, 0]);
      expect(await endpoints.locator('tbody tr').count()).toBe(1);
      expect(await endpoints.locator('tbody tr td').first().textContent()).toBe('yes');

      // The order's events are queued for Alpha's endpoint, answered 500 and retried, then given up.
      const refId = await place(alphaToken);
      const betaRefId = await place(betaToken);
      await expect.poll(async () => (await webhookCounts(webhookUrls.alpha!)).reduce((sum, count) => sum + count, 0), { timeout: 15_000 }).toBeGreaterThan(0);
      await simulate(alphaToken, refId, 'SUCCESS');
      await expect.poll(async () => (await webhookCounts(webhookUrls.alpha!))[2], { timeout: 15_000 }).toBeGreaterThan(0);
      expect((await webhookCounts(webhookUrls.alpha!))[1]).toBe(0);
      const failed = page.getByRole('table', { name: 'Latest failed deliveries' }).locator(`tbody tr[data-ref-id="${refId}"][data-status="FAILED"]`);
      await expect.poll(() => failed.count(), { timeout: 15_000 }).toBeGreaterThan(0);
      const failedRow = (await failed.first().locator('td').allTextContents()).join(' | ');
      expect(failedRow).toContain(webhookUrls.alpha);
      expect(failedRow).toContain('500');
      expect(failedRow).toContain(' 2 |'); // two attempts, no next one
      expect(failedRow.endsWith('–')).toBe(true);
      expect(received).toContain('/alpha-hooks');

      // Beta's endpoint and order are never shown to Alpha.
      expect(await endpoints.locator('tbody tr').count()).toBe(1);
      const html = await page.content();
      expect(html).not.toContain('/beta-hooks');
      expect(html).not.toContain(betaRefId);
      expect(await page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).toBe(true);
      expect(await axeViolations()).toEqual([]);
      expect(consoleErrors).toEqual([]);
    } finally {
      await context.close();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('resumes after a lost connection from the last event seen: nothing missed, nothing counted twice', async () => {
    page = await newPage();
    await signIn(alpha);
    const before = { INITIALIZED: await statusCount('INITIALIZED'), TERMINATED: await statusCount('TERMINATED') };
    const total = Number(await page.locator('#orders-total').textContent());
    await context.setOffline(true);
    await page.locator('#stream-state[data-state="reconnecting"]').waitFor({ timeout: 15_000 });
    // While the page is cut off: one order placed and completed, one placed.
    const completed = await place(alphaToken);
    await simulate(alphaToken, completed, 'SUCCESS');
    const open = await place(alphaToken);
    await context.setOffline(false);
    await page.locator('#stream-state[data-state="live"]').waitFor({ timeout: 15_000 });
    await expectCounts({ INITIALIZED: before.INITIALIZED + 1, TERMINATED: before.TERMINATED + 1 });
    expect(Number(await page.locator('#orders-total').textContent())).toBe(total + 2);
    for (const refId of [completed, open]) {
      const created = page.locator(`#events li[data-ref-id="${refId}"][data-status="CREATED"]`);
      await expect.poll(() => created.count(), { timeout: 10_000 }).toBe(1);
    }
    // The same event never listed twice.
    const sequences = await page.locator('#events li').evaluateAll((items) => items.map((item) => item.getAttribute('data-sequence')));
    expect(new Set(sequences).size).toBe(sequences.length);
    expect(consoleErrors.filter((error) => !/ERR_INTERNET_DISCONNECTED|Failed to fetch|Failed to load resource/.test(error))).toEqual([]);
  });

  it('stays within a 390 px screen and passes axe-core', async () => {
    page = await newPage({ width: 390, height: 844 });
    await signIn(alpha);
    await expect.poll(() => page.locator('#funnels canvas').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await axeViolations()).toEqual([]);
    await screenshot('dashboard-phone.png');
    expect(consoleErrors).toEqual([]);
  });

  it('ends the live stream on sign-out: the session’s own stream stops, the cookie is gone', async () => {
    page = await newPage();
    await signIn(alpha);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'srs_dashboard', httpOnly: true, sameSite: 'Strict' });
    // The same session's stream, read outside the page, to see it end on the server's side.
    const controller = new AbortController();
    const stream = await fetch(`${srs.url}/graphql?query=${encodeURIComponent('subscription { orderEvents { sequence } }')}`, {
      headers: { accept: 'text/event-stream', cookie: `${cookie.name}=${cookie.value}`, 'sec-fetch-site': 'same-origin' },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    const ended = stream.text().then(() => true);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await context.cookies()).toEqual([]);
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000));
    expect(await Promise.race([ended, timeout])).toBe(true);
    controller.abort();
    expect(await axeViolations()).toEqual([]);
  });
});

describe('the dashboard of an operator, and languages', () => {
  it('shows an ADMIN every provider’s orders, per provider', async () => {
    const admin = await srs.createClient('ADMIN', { name: 'Operations' });
    page = await newPage({ width: 1600, height: 900 });
    await signIn(admin);
    const providers = page.getByRole('table', { name: 'Orders per service provider' });
    await providers.waitFor();
    const text = await providers.textContent();
    expect(text).toContain('Alpha Bank');
    expect(text).toContain('Beta Insurance');
    // Every provider's webhook endpoints.
    const endpoints = page.getByRole('table', { name: 'Webhook endpoints' });
    await expect.poll(() => endpoints.textContent(), { timeout: 15_000 }).toContain(webhookUrls.alpha!);
    expect(await endpoints.textContent()).toContain(webhookUrls.beta!);
    expect(await axeViolations()).toEqual([]);
    await screenshot('dashboard-admin-wall.png');
    expect(consoleErrors).toEqual([]);
  });

  it('shows a partner (IPSP), who has no webhooks, no Webhooks section', async () => {
    const ipsp = await srs.createClient('IPSP', { issuer: 'TEST', name: 'Test partner' });
    page = await newPage();
    await signIn(ipsp);
    // The section is settled before the stream goes live.
    expect(await page.locator('section.webhooks h2').textContent()).toBe('Webhooks');
    expect(await page.locator('section.webhooks').isHidden()).toBe(true);
    expect(await page.getByRole('heading', { name: 'Orders by status' }).isVisible()).toBe(true);
    expect(await axeViolations()).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('speaks the browser’s language and switches on request', async () => {
    page = await newPage({ locale: 'de-CH' });
    await page.goto(`${srs.url}/dashboard`);
    expect(await page.getAttribute('html', 'lang')).toBe('de');
    await page.getByRole('link', { name: 'Français' }).click();
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    await page.getByRole('button', { name: 'Se connecter' }).waitFor();
    expect(await axeViolations()).toEqual([]);
    await signIn(alpha, 'de');
    await page.getByRole('table', { name: 'Aufträge nach Status' }).waitFor();
    await page.getByRole('link', { name: 'Italiano' }).click();
    await page.getByRole('table', { name: 'Ordini per stato' }).waitFor();
    await screenshot('dashboard-it.png');
  });
});
