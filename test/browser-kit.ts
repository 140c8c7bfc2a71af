// Debian's chromium driven by playwright-core, for the tests that walk pages in a real browser.
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { spToken, startTestService, type TestService } from './kit.js';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Why the browser tests cannot run, or undefined when they can. Without the browser every test
 * should fail with this message (rather than the file being skipped).
 */
export function missingChromium(): Error | undefined {
  return fs.existsSync(CHROMIUM)
    ? undefined
    : new Error(`${CHROMIUM} is missing: these browser tests need Debian's chromium. Install it with: apt-get install -y chromium`);
}

/** Launches Debian's chromium headless, with the flags these tests need. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** What a browser test file shares between its tests: one chromium and one service. */
export interface BrowserAndService {
  browser: Browser;
  srs: TestService;
  /** A token of a fresh service provider of that service. */
  token: string;
}

/** Launches chromium and starts a service (both are closed by closeBrowserAndService). */
export async function openBrowserAndService(options?: Parameters<typeof startTestService>[0]): Promise<BrowserAndService> {
  const browser = await launchChromium();
  const srs = await startTestService(options);
  return { browser, srs, token: await spToken(srs) };
}

/** Closes what openBrowserAndService opened, as far as it got. */
export async function closeBrowserAndService(opened: Partial<BrowserAndService>): Promise<void> {
  await opened.browser?.close();
  await opened.srs?.stop();
}
