// Debian's chromium driven by playwright-core, for the tests that walk pages in a real browser.
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

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
