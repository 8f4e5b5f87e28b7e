// Launches Debian's chromium through playwright-core: never a downloaded
// browser. A fresh --user-data-dir per launch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

/** launch returns a persistent context on a new profile and a cleanup function. */
export async function launch(extraArgs = []) {
  const profile = mkdtempSync(path.join(tmpdir(), 'mezzo-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS, ...extraArgs],
    // The caller's own signal handlers close the browser (and remove the
    // profile); playwright's would kill chromium first and leave it behind.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  return {
    context,
    profile,
    close: async () => {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}

/**
 * recordCspViolations has every page of context record its
 * Content-Security-Policy violations before any page script runs (an init
 * script is injected by the browser, so the page's CSP does not apply to it).
 */
export function recordCspViolations(context) {
  return context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
}

/** cspViolations returns the violations page has recorded so far. */
export const cspViolations = (page) => page.evaluate(() => window.__cspViolations ?? []);

/**
 * openApp launches chromium (see launch) with the CSP recorder and opens a
 * page that collects in errors the uncaught errors and console errors it
 * raises while it shows appOrigin (the provider's pages are not the app's).
 */
export async function openApp(appOrigin) {
  const browser = await launch();
  await recordCspViolations(browser.context);
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => { if (page.url().startsWith(appOrigin)) errors.push(`pageerror: ${e.message}`); });
  page.on('console', (m) => {
    if (m.type() === 'error' && page.url().startsWith(appOrigin)) errors.push(`console: ${m.text()}`);
  });
  return { browser, page, errors };
}
