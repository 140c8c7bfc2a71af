// GraphiQL as a person uses it, in Debian's chromium with every request to another host aborted
// (and counted): the page must come entirely from the service. The person pastes a token once;
// the schema loads, a query, a subscription (with an event the test causes through the API) and
// a mutation all run from the page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { methodGlobalId, placeOrderBrief, type TestService } from '../kit.js';
import { closeBrowserAndService, missingChromium, openBrowserAndService } from '../browser-kit.js';

let srs: TestService;
let token: string;
let browser: Browser;

const missingBrowser = missingChromium();

beforeAll(async () => {
  if (missingBrowser) return;
  ({ browser, srs, token } = await openBrowserAndService());
});
afterAll(() => closeBrowserAndService({ browser, srs }));

/** Replaces the whole text of the Monaco editor inside `container`, as a paste would. */
async function replaceEditorText(page: Page, container: string, text: string): Promise<void> {
  await page.locator(`${container} .monaco-editor .view-lines`).filter({ visible: true }).first().click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  // GraphiQL parses an edited document after a debounce; an Execute before that runs with the
  // previous document's operation name ("Cannot infer operation Live").
  await page.waitForTimeout(500);
}

/** The visible text of GraphiQL's response pane. */
async function responseText(page: Page): Promise<string> {
  return (await page.locator('.graphiql-response').innerText()).replace(/\s+/g, ' ');
}

describe('GraphiQL', () => {
  it('runs offline from the service alone: token pasted once, schema, query, live subscription, mutation', async () => {
    if (missingBrowser) throw missingBrowser;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const foreignRequests: string[] = [];
      await context.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.origin !== srs.url) {
          foreignRequests.push(url.href);
          return route.abort();
        }
        return route.continue();
      });
      const cspViolations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
      });

      const answer = await page.goto(`${srs.url}/graphql`);
      expect(answer!.status()).toBe(200);
      const csp = answer!.headers()['content-security-policy'];
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(answer!.headers()['x-content-type-options']).toBe('nosniff');

      // Before a token, the schema cannot load.
      await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
      await expect.poll(() => page.locator('.graphiql-doc-explorer').innerText(), { timeout: 30_000 }).toContain('Error fetching schema');

      // The token pasted once into the Headers tab: the docs load without a reload.
      await page.getByRole('button', { name: 'Headers', exact: true }).click();
      await replaceEditorText(page, '.graphiql-editor-tool', JSON.stringify({ Authorization: `Bearer ${token}` }));
      await expect.poll(() => page.locator('.graphiql-doc-explorer').innerText(), { timeout: 30_000 }).toMatch(/Root Types[\s\S]*query: Query[\s\S]*subscription: Subscription/);
      expect(await page.locator('.graphiql-doc-explorer').innerText()).not.toContain('Error fetching schema');

      // A query.
      await replaceEditorText(page, '.graphiql-query-editor', '{ viewer { clientId role } }');
      await page.getByRole('button', { name: /^Execute query/ }).click();
      await expect.poll(() => responseText(page), { timeout: 30_000 }).toContain('"role": "SERVICE_PROVIDER"');

      // A subscription: an order placed through the API arrives while it runs.
      await replaceEditorText(page, '.graphiql-query-editor', 'subscription Live { orderEvents { refId status } }');
      await page.getByRole('button', { name: /^Execute query/ }).click();
      await expect.poll(() => page.getByRole('button', { name: /^Stop/ }).count(), { timeout: 30_000 }).toBe(1);
      // The stream is open on the server before the event is caused.
      await page.waitForTimeout(1000);
      const order = await placeOrderBrief(srs, token, {
        methodId: methodGlobalId('test-video'),
        initialData: { givenNames: 'Erika', surname: 'Muster', dateOfBirth: '1990-04-12', mobileNumber: '+41791234567' },
      });
      // GraphiQL shows the latest event of the stream: CREATED, then INITIALIZED.
      await expect.poll(() => responseText(page), { timeout: 30_000 }).toContain(`"refId": "${order.refId}", "status": "INITIALIZED"`);
      await page.getByRole('button', { name: /^Stop/ }).click();

      // A mutation.
      await replaceEditorText(page, '.graphiql-query-editor', `mutation { cancelOrder(input: { refId: "${order.refId}", reason: "from GraphiQL" }) { order { status } userErrors { code } } }`);
      await page.getByRole('button', { name: /^Execute query/ }).click();
      await expect.poll(() => responseText(page), { timeout: 30_000 }).toContain('"status": "CANCELED"');

      // The token stayed in the page's memory: nothing in the browser's storage holds it.
      const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
      expect(stored).not.toContain(token);

      expect(cspViolations).toEqual([]);
      expect(foreignRequests).toEqual([]);
    } finally {
      await context.close();
    }
  }, 240_000);

  it('is only a page for browsers: GraphQL over GET still answers JSON, unknown files are 404', async () => {
    if (missingBrowser) throw missingBrowser;
    const api = await fetch(`${srs.url}/graphql?query=${encodeURIComponent('{ viewer { role } }')}`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    expect(api.status).toBe(200);
    expect(await api.json()).toEqual({ data: { viewer: { role: 'SERVICE_PROVIDER' } } });
    const missing = await fetch(`${srs.url}/graphiql/../../etc/passwd`);
    expect(missing.status).toBe(404);
    const page = await fetch(`${srs.url}/graphiql/page`);
    expect(page.status).toBe(404);
    const script = await fetch(`${srs.url}/graphiql/start.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
  });
});
