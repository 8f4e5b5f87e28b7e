// `make bench`: mezzo, @auth0/auth0-spa-js and oidc-client-ts side by side,
// in one headless Chromium, against the dev identity provider
// (oidc-provider), all on 127.0.0.1. See README.md beside this file for
// what each metric means and the fairness choices.
//
//   BENCH_RUNS=15 (default)  runs per timed metric; BENCH_RUNS=3 for a smoke run
//   BENCH_ONLY=login,memory  only these phases (load, login, stampede, memory,
//                            tabs, reload, silent, popup, mainthread, codecache, dpop)
//   BENCH_MEZZO_OPTIONS=JSON  extra createClient options for mezzo (a variant)
//   BENCH_OUT=dir             write the results there (default bench-results/)
//   BENCH_REFRESH_CYCLES=1000 forced refreshes in the memory phase (a multiple of 100)
//
// Writes bench-results/{results.json,results.md,ratios.svg} and prints the
// Markdown table. Exits non-zero, naming the step, when a measurement fails.
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startIdp } from '../dev/idp/harness.mjs';
import { launch, recordCspViolations, cspViolations, CHROMIUM } from '../test/browser/browser.mjs';
import { within } from '../test/lib/common.mjs';
import { buildAssets, packageVersion, repo, LIBS, LIB_NAMES } from './build.mjs';
import { startBenchServer, contentSecurityPolicy } from './server.mjs';
import { startProxy } from './proxy.mjs';
import { buildRows, writeReport, summarize } from './report.mjs';
import { appSizes } from '../tools/app-size.mjs';
import { mainThreadMs, realmMemory, dedicatedWorkers, sharedWorkers, closeSharedWorkers, histogram, histogramDelta } from './probe.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
// BENCH_ONLY=load,login,stampede,memory,tabs,reload,silent,popup,mainthread,codecache,dpop runs
// only those phases (for work on the harness; the other rows then read "not
// measured").
const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : null;
// BENCH_MEZZO_OPTIONS='{"idTokenSignature":"tls"}' adds options to mezzo's
// createClient, to measure a variant; recorded in the results.
const MEZZO_OPTIONS = process.env.BENCH_MEZZO_OPTIONS ? JSON.parse(process.env.BENCH_MEZZO_OPTIONS) : {};
const STAMPEDE_CALLS = 1000;
const REFRESH_CYCLES = Number(process.env.BENCH_REFRESH_CYCLES ?? 1000);
const SCOPE = 'openid profile email offline_access';
const OUT = path.resolve(repo, process.env.BENCH_OUT ?? 'bench-results');
// The slow new phases take fewer runs (README.md, "The metrics").
const TABS = 5; // the memory of this many open tabs
const CODECACHE_RUNS = Math.min(RUNS, 2); // a fresh browser and three 3 s visits each
const CODECACHE_HOLD_MS = 3000; // each visit stays open this long: V8 caches 2 s after its last tier-up
const CODE_CACHE_HOSTS = ['shared-worker', 'page']; // where mezzo compiles its module (?runtime= on its page)
const PROVIDER_STARTS = 3; // providers starting at once
const DPOP_CALLS = 10; // the dpop phase: renewals and fetches per library and run (a run's median is one sample)
const DPOP_PROOF_MS = 100; // and proofs for at least this long per run
// auth0-spa-js's fixed token path: the dpop scenario asks the provider to
// serve its token endpoint there, so that every library's proof names the
// URL it called (proxy.mjs).
const AUTH0_TOKEN_PATH = '/oauth/token';

// Each scenario is one provider (its own process, client and token
// lifetime) behind its own proxy, so counts never mix.
//  - long: an hour-long token: load, login, callback, cached getToken.
//  - storm-*: the stampede. Each library meets a token that needs renewal
//    2–3 s after it was issued: mezzo renews at half the life of a short
//    token (4 s -> 2 s); auth0-spa-js renews within 60 s of expiry
//    (62 s -> after 2–3 s); oidc-client-ts's signinSilent() always renews.
//  - mem: 1 s tokens for the refresh churn.
//  - reload: the reload row; its pages run each library as its users get it
//    for a reload (variant 'reload', see pages/*.entry.js), and its provider
//    answers response_mode=web_message (auth0-spa-js's silent check).
//  - silent: the silent sign-in row; each library restores its session
//    from the provider's cookie in a hidden iframe (variant 'silent').
//  - popup: the popup login row (variant 'popup'); auth0-spa-js's popup
//    answers with response_mode=web_message from its domain's origin,
//    which the bench's path-mapping proxy cannot front for an
//    interactive sign-in (the provider's own pages would be on its origin).
//  - dpop: hour-long DPoP-bound tokens (variant 'dpop': each library with
//    DPoP on, pages/*.entry.js); its provider serves the token endpoint at
//    auth0-spa-js's path, and its proxy keeps the client's Host on token
//    requests (proxy.mjs), so every proof's htu is what the provider checks.
//    The dpop phase's renewals without DPoP run on the long scenario.
const SCENARIOS = {
  long: { ttl: 3600, libs: LIBS },
  'storm-mezzo': { ttl: 4, libs: ['mezzo'] },
  'storm-auth0': { ttl: 62, libs: ['auth0'] },
  'storm-oidc': { ttl: 4, libs: ['oidc'] },
  mem: { ttl: 1, libs: LIBS },
  reload: { ttl: 3600, libs: LIBS, variant: 'reload', webMessage: true },
  silent: { ttl: 3600, libs: LIBS, variant: 'silent', webMessage: true },
  popup: { ttl: 3600, libs: ['mezzo', 'oidc'], variant: 'popup' },
  dpop: { ttl: 3600, libs: LIBS, variant: 'dpop', dpop: true },
};

class BenchError extends Error {}
const fail = (msg) => { throw new BenchError(msg); };
const log = (...a) => console.error('[bench]', ...a);

// ---- cleanup: children and browsers die with us, whatever happens ----
const cleanups = [];
const idpChildren = [];
async function cleanup() {
  while (cleanups.length) {
    const fn = cleanups.pop();
    try { await Promise.race([fn(), sleep(10000)]); } catch { /* best effort */ }
  }
}
process.on('exit', () => { for (const c of idpChildren) if (c.exitCode === null) c.kill('SIGKILL'); });
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { log(`${sig}: stopping`); cleanup().finally(() => process.exit(130)); });
}

const withTimeout = (promise, ms, what) => within(promise, ms, what, (message) => new BenchError(message));

const rotate = (list, r) => list.map((_, i) => list[(i + r) % list.length]);

// ---- the browser side ----

async function openBrowser() {
  const b = await launch();
  cleanups.push(b.close);
  await recordCspViolations(b.context);
  return b;
}

async function closeBrowser(b) {
  const i = cleanups.indexOf(b.close);
  await b.close();
  if (i >= 0) cleanups.splice(i, 1);
}

/** watchPage records uncaught errors on our pages; lib names the library (a function when the page serves several). */
function watchPage(page, env, lib) {
  const name = () => LIB_NAMES[typeof lib === 'function' ? lib() : lib];
  page.on('pageerror', (e) => { if (page.url().startsWith(env.origin)) env.pageErrors.push(`${name()}: ${e.message}`); });
}

/** waitReady waits for the driver to finish starting (or fail) and returns its state. */
async function waitReady(page, what) {
  await page.waitForFunction(() => window.__bench && window.__bench.state !== 'loading', null, { timeout: 30000 })
    .catch((e) => fail(`${what}: the page did not get ready: ${e.message.split('\n')[0]}`));
  const st = await page.evaluate(() => window.__bench);
  if (st.state !== 'ready') fail(`${what}: ${st.error}`);
  const csp = await cspViolations(page);
  if (csp.length) fail(`${what}: Content-Security-Policy violations: ${csp.join(', ')}`);
  return st;
}

async function evalIn(page, fn, arg, ms, what) {
  return withTimeout(page.evaluate(fn, arg), ms, what).catch((e) => fail(`${what}: ${e.message.split('\n')[0]}`));
}

/**
 * login signs in from the library's page: calls its login, fills the
 * provider's form when asked (a fresh provider session always asks), and
 * waits until the callback page reports an authenticated client. Returns
 * the driver's state there (loginStart/loginEnd, callback timings).
 */
async function login(page, env, lib, scenario, { freshSession }) {
  const what = `${LIB_NAMES[lib]} login (${scenario})`;
  const { idp } = env.scenarios[scenario];
  await page.goto(`${env.origin}/${lib}/${scenario}/`);
  const st = await waitReady(page, what);
  if (st.authenticatedAtStart) fail(`${what}: already authenticated on a fresh page`);
  if (freshSession) await page.context().clearCookies(); // the provider asks for the password again
  await page.evaluate(() => window.__benchApi.login());
  const deadline = Date.now() + 30000;
  let filled = false;
  for (;;) {
    if (Date.now() > deadline) fail(`${what}: did not complete within 30 s (at ${page.url().split('?')[0]})`);
    const url = page.url();
    try {
      if (!filled && url.startsWith(`${idp.issuer}/interaction/`) && await page.$('input[name="password"]')) {
        await page.fill('input[name="login"]', idp.user.login);
        await page.fill('input[name="password"]', idp.user.password);
        await page.click('button[type="submit"]', { noWaitAfter: true });
        filled = true;
      } else if (url.startsWith(`${env.origin}/${lib}/${scenario}/cb`)) {
        const s = await page.evaluate(() => window.__bench && window.__bench.state);
        if (s === 'ready' || s === 'error') break;
      } else if (url.startsWith(`${env.origin}/`)) {
        const e = await page.evaluate(() => window.__bench && window.__bench.loginError);
        if (e) fail(`${what}: ${e}`);
      }
    } catch (e) {
      if (e instanceof BenchError) throw e;
      // a navigation replaced the page under us: look again
    }
    await sleep(10);
  }
  const done = await waitReady(page, what);
  if (freshSession && !filled) fail(`${what}: the provider did not ask for the password`);
  if (!done.callback || !done.loginStart) fail(`${what}: the callback page reported no timings`);
  return done;
}

// ---- the measurements ----

async function measureLoad(env, raw) {
  log(`load to ready: ${RUNS} runs × ${LIBS.length} libraries, a fresh browser profile each`);
  for (let r = 0; r < RUNS; r++) {
    for (const lib of rotate(LIBS, r)) {
      const b = await openBrowser();
      try {
        const page = b.context.pages()[0] ?? await b.context.newPage();
        watchPage(page, env, lib);
        for (const visit of ['cold', 'warm', 'hot']) {
          if (visit !== 'cold') await page.goto('about:blank');
          await page.goto(`${env.origin}/${lib}/long/`, { timeout: 30000 });
          const st = await waitReady(page, `${LIB_NAMES[lib]} load (${visit})`);
          if (st.authenticatedAtStart !== false) fail(`${LIB_NAMES[lib]} load: isAuthenticated() should be false, got ${st.authenticatedAtStart}`);
          raw.load[visit][lib].push(st.readyAt);
          raw.loadModule[visit][lib].push(st.moduleReadyAt);
          raw.loadResources[visit][lib].push(st.resources);
          raw.loadMarks[visit][lib].push(st.marks);
        }
      } finally {
        await closeBrowser(b);
      }
    }
  }
}

async function measureLogin(env, raw) {
  log(`login round trip, callback and cached getToken: ${RUNS} runs × ${LIBS.length} libraries`);
  const b = await openBrowser();
  try {
    const page = b.context.pages()[0] ?? await b.context.newPage();
    const { idp } = env.scenarios.long;
    const browserCdp = await b.context.browser().newBrowserCDPSession();
    let current = null;
    watchPage(page, env, () => current);
    for (let r = 0; r < RUNS; r++) {
      for (const lib of rotate(LIBS, r)) {
        current = lib;
        // Every login starts signed out: a runtime worker that outlived the
        // last run's pages (a SharedWorker with extendedLifetime keeps the
        // session) is ended first, as when a user comes back another day.
        await page.goto('about:blank');
        await closeSharedWorkers(browserCdp, env.origin);
        env.scenarios.long.proxy.resetCounts();
        const st = await login(page, env, lib, 'long', { freshSession: true });
        // readyAt: when, in the callback page's life, the callback began.
        // proxy: the requests each login made to the provider's front door.
        const callback = callbackNetwork(st.callback, env.scenarios.long.proxy.timings());
        // runtimeAlive: the callback page found mezzo's runtime already
        // started (a worker that outlived the trip to the provider): its
        // start-up marks came before the client answered.
        const m = st.marks ?? {};
        const runtimeAlive = lib === 'mezzo' ? m['mezzo:started'] !== null && m['mezzo:ready'] !== null && m['mezzo:started'] <= m['mezzo:ready'] : null;
        raw.login[lib].push({ ms: st.loginEnd - st.loginStart, readyAt: st.readyAt, callback, runtimeAlive, proxy: env.scenarios.long.proxy.counts() });
        if (r === RUNS - 1) {
          // Signed in with an hour-long token: getToken is served from cache.
          const before = await idp.stats();
          const batches = await evalIn(page, (a) => window.__benchApi.tokenLoop(a), { batches: RUNS, minMs: 100, chunk: 1000 },
            RUNS * 30000, `${LIB_NAMES[lib]} getToken loop`);
          const after = await idp.stats();
          if (after.tokenRequests !== before.tokenRequests) fail(`${LIB_NAMES[lib]} getToken loop: ${after.tokenRequests - before.tokenRequests} token requests; the cache was not used`);
          raw.getToken[lib] = batches;
        }
      }
    }
  } finally {
    await closeBrowser(b);
  }
}

// The routes of the requests a callback waits for: the code exchange and
// the keys for the ID token's signature.
const CALLBACK_ROUTES = { 'POST /oauth/token': '/oauth/token', 'OPTIONS /oauth/token': '/oauth/token', 'GET /.well-known/jwks.json': '/jwks.json' };
// Clocks: the page's timeOrigin and node's are both taken from the
// machine's wall clock; a request counts when it lies inside the callback's
// span give or take this much.
const CLOCK_SLACK_MS = 5;

/**
 * callbackNetwork adds to the callback page's span ({total, epochStart,
 * epochEnd}) the proxy-timed requests to CALLBACK_ROUTES inside it, as
 * {url, start, end, duration} relative to the callback's start, and the
 * length of their union (requests may overlap): the same figures for every
 * library, whether it fetches from the page or from a worker.
 */
function callbackNetwork(cb, timings) {
  const entries = timings
    .filter((t) => CALLBACK_ROUTES[t.route] && t.start >= cb.epochStart - CLOCK_SLACK_MS && t.end <= cb.epochEnd + CLOCK_SLACK_MS)
    .map((t) => ({ url: CALLBACK_ROUTES[t.route], start: Math.max(0, t.start - cb.epochStart), end: Math.min(cb.total, t.end - cb.epochStart), duration: t.end - t.start }));
  const spans = entries.map((e) => [e.start, e.end]).sort((a, b) => a[0] - b[0]);
  let union = 0; let curStart = -1; let curEnd = -1;
  for (const [s, e] of spans) {
    if (s > curEnd) { union += curEnd - curStart; curStart = s; curEnd = e; } else if (e > curEnd) curEnd = e;
  }
  union += curEnd - curStart;
  return { total: cb.total, entries, union };
}

async function measureStampede(env, raw) {
  log(`stampede: ${STAMPEDE_CALLS} concurrent calls, ${RUNS} runs × ${LIBS.length} libraries`);
  const b = await openBrowser();
  try {
    for (const lib of LIBS) {
      const scenario = `storm-${lib}`;
      const { idp, proxy } = env.scenarios[scenario];
      const page = await b.context.newPage();
      watchPage(page, env, lib);
      await login(page, env, lib, scenario, { freshSession: true });
      for (let r = 0; r < RUNS; r++) {
        // oidc-client-ts's concurrent renewals reuse one rotating refresh
        // token; the provider then revokes the grant. Each run starts from
        // a new login (the provider session is kept: no form).
        if (lib === 'oidc' && r > 0) await login(page, env, lib, scenario, { freshSession: false });
        await idp.resetStats();
        proxy.resetCounts();
        const res = await evalIn(page, (n) => window.__benchApi.stampede(n), STAMPEDE_CALLS, 120000, `${LIB_NAMES[lib]} stampede`);
        const stats = await idp.stats();
        const counts = proxy.counts();
        const sample = { ...res, requests: stats.refreshRequests, tokenRequests: stats.tokenRequests, preflights: counts['OPTIONS /oauth/token'] ?? 0 };
        if (sample.requests === 0) fail(`${LIB_NAMES[lib]} stampede: the provider saw no refresh; the token did not need renewal`);
        if (lib !== 'oidc' && res.rejected) fail(`${LIB_NAMES[lib]} stampede: ${res.rejected} calls rejected: ${res.firstError}`);
        raw.stampede[lib].push(sample);
      }
      await page.close();
    }
  } finally {
    await closeBrowser(b);
  }
}

async function measureMemory(env, raw) {
  log(`memory: ${REFRESH_CYCLES} forced refreshes with 1 s tokens, each library`);
  const b = await openBrowser();
  try {
    for (const lib of LIBS) {
      const page = await b.context.newPage();
      watchPage(page, env, lib);
      const checkpoints = [];
      // The page, its dedicated workers and the origin's shared workers (a
      // runtime worker holds mezzo's module; auth0-spa-js's token worker
      // its refresh logic), as for the open tabs (tabsMemory).
      const measure = async (cycles) => {
        let m = await tabsMemory(b, env, [page]);
        // mezzo's module lives in its runtime worker: a measurement that
        // found none alive (one ending while another starts) is taken again.
        for (let i = 0; lib === 'mezzo' && m.wasmBytes === 0 && i < 3; i++) {
          await sleep(2000);
          m = await tabsMemory(b, env, [page]);
        }
        if (lib === 'mezzo' && m.wasmBytes === 0) fail(`mezzo memory (${cycles}): no runtime with a module found`);
        checkpoints.push({ cycles, jsHeapBytes: m.jsHeapBytes, wasmBytes: m.wasmBytes, realms: m.realms.length });
      };
      await page.goto(`${env.origin}/${lib}/mem/`);
      await waitReady(page, `${LIB_NAMES[lib]} memory`);
      await measure('start');
      await login(page, env, lib, 'mem', { freshSession: true });
      await measure(0);
      let done = 0; let ms = 0;
      while (done < REFRESH_CYCLES) {
        const res = await evalIn(page, (n) => window.__benchApi.refreshCycles(n), 100, 120000, `${LIB_NAMES[lib]} refresh cycles`);
        done += 100; ms += res.ms;
        await measure(done);
      }
      raw.memory[lib] = { checkpoints, refreshMs: ms };
      await page.close();
    }
  } finally {
    await closeBrowser(b);
  }
}

/** openTab opens a new tab of lib's page for scenario and waits until its client answers. */
async function openTab(b, env, lib, scenario, what) {
  const page = await b.context.newPage();
  watchPage(page, env, lib);
  await page.goto(`${env.origin}/${lib}/${scenario}/`, { timeout: 30000 });
  return { page, st: await waitReady(page, what) };
}

/**
 * measureTabs: per library, in a fresh browser, sign in in one tab; then
 * the second tab, RUNS times (opened while the first is signed in, timed
 * until its client answers, closed); then TABS tabs open at once and their
 * memory: every page's JS heap and WebAssembly memory, its dedicated
 * workers', and the origin's shared workers' (each isolate counted once).
 */
async function measureTabs(env, raw) {
  log(`second tab: ${RUNS} runs × ${LIBS.length} libraries; memory of ${TABS} open tabs`);
  for (const lib of LIBS) {
    const b = await openBrowser();
    try {
      const first = b.context.pages()[0] ?? await b.context.newPage();
      watchPage(first, env, lib);
      await login(first, env, lib, 'long', { freshSession: true });
      for (let r = 0; r < RUNS; r++) {
        const { page, st } = await openTab(b, env, lib, 'long', `${LIB_NAMES[lib]} second tab`);
        raw.secondTab[lib].push({ readyAt: st.readyAt, authenticated: st.authenticatedAtStart === true, runtime: st.runtime });
        await page.close();
      }
      const tabs = [first];
      while (tabs.length < TABS) tabs.push((await openTab(b, env, lib, 'long', `${LIB_NAMES[lib]} tab ${tabs.length + 1}`)).page);
      raw.tabsMemory[lib] = await tabsMemory(b, env, tabs);
    } finally {
      await closeBrowser(b);
    }
  }
}

/** tabsMemory sums the memory of pages, their dedicated workers and the origin's shared workers, each isolate once. */
async function tabsMemory(b, env, pages) {
  const seen = new Set();
  const realms = [];
  const add = async (kind, url, send) => {
    const m = await withTimeout(realmMemory(send), 30000, `memory of ${url}`);
    realms.push({ kind, url: url.replace(env.origin, ''), ...m, counted: !seen.has(m.isolate) });
    seen.add(m.isolate);
  };
  for (const page of pages) {
    const cdp = await b.context.newCDPSession(page);
    await add('page', page.url().split('?')[0], (m, p) => cdp.send(m, p));
    for (const w of await dedicatedWorkers(cdp)) { await add('worker', w.url, w.send); w.send.close(); }
    await cdp.detach();
  }
  const browserCdp = await b.context.browser().newBrowserCDPSession();
  for (const w of await sharedWorkers(browserCdp, env.origin)) {
    // A shared worker ended over CDP (login's fresh session) can stay
    // listed for a while without answering: one that does not answer a
    // cheap probe within 5 s is recorded as gone, not measured.
    // One that answers the probe and then stops answering while it is
    // measured is ending too (its last page left); the caller checks that
    // the live runtime was counted.
    const alive = await within(w.send('Runtime.getIsolateId'), 5000, 'probe').then(() => true, () => false);
    const measured = alive && await add('shared_worker', w.url, w.send).then(() => true, () => false);
    if (!measured) realms.push({ kind: 'shared_worker', url: w.url.replace(env.origin, ''), gone: true, counted: false });
    await w.detach();
  }
  await browserCdp.detach();
  const counted = realms.filter((x) => x.counted);
  return { realms, jsHeapBytes: counted.reduce((n, x) => n + x.jsHeapBytes, 0), wasmBytes: counted.reduce((n, x) => n + x.wasmBytes, 0) };
}

/**
 * measureReload: per library one tab of the reload scenario (each library
 * as its users get it for a reload), signed in once; then RUNS reloads of
 * that one tab (rotating the library order), each timed from the reload's
 * navigation until the client answers, and whether it answers
 * authenticated.
 */
async function measureReload(env, raw) {
  log(`reload to authenticated: ${RUNS} runs × ${LIBS.length} libraries, one tab each`);
  const b = await openBrowser();
  try {
    const pages = {};
    for (const lib of LIBS) {
      const page = await b.context.newPage();
      watchPage(page, env, lib);
      await login(page, env, lib, 'reload', { freshSession: lib === LIBS[0] });
      // What an app does after its callback: drop code and state from the
      // address bar, so that a reload is a plain start.
      await page.evaluate((p) => history.replaceState(null, '', p), `/${lib}/reload/`);
      pages[lib] = page;
    }
    for (let r = 0; r < RUNS; r++) {
      for (const lib of rotate(LIBS, r)) {
        await pages[lib].reload({ timeout: 30000 });
        const st = await waitReady(pages[lib], `${LIB_NAMES[lib]} reload`);
        raw.reload[lib].push({ readyAt: st.readyAt, authenticated: st.authenticatedAtStart === true, runtime: st.runtime });
      }
    }
  } finally {
    await closeBrowser(b);
  }
}

/**
 * measureSilent: per library, in a fresh browser, sign in once (the silent
 * scenario); then RUNS times, with nothing kept in the browser but the
 * provider's session cookie (the page left, mezzo's runtime worker ended),
 * open the library's page again and time it from navigation until the
 * client answers, after its silent sign-in (mezzo: silentRestore and
 * loginSilently(); auth0-spa-js: checkSession(); oidc-client-ts:
 * signinSilent()), and whether it answers authenticated with the page
 * never navigated away.
 */
async function measureSilent(env, raw) {
  log(`silent sign-in: ${RUNS} runs × ${LIBS.length} libraries`);
  for (const lib of LIBS) {
    const b = await openBrowser();
    try {
      const page = b.context.pages()[0] ?? await b.context.newPage();
      watchPage(page, env, lib);
      await login(page, env, lib, 'silent', { freshSession: true });
      const browserCdp = await b.context.browser().newBrowserCDPSession();
      const url = `${env.origin}/${lib}/silent/`;
      for (let r = 0; r < RUNS; r++) {
        await page.goto('about:blank');
        await closeSharedWorkers(browserCdp, env.origin);
        await page.goto(url, { timeout: 30000 });
        const st = await waitReady(page, `${LIB_NAMES[lib]} silent sign-in`);
        raw.silent[lib].push({ readyAt: st.readyAt, authenticated: st.authenticatedAtStart === true && page.url() === url, runtime: st.runtime });
      }
      await browserCdp.detach();
    } finally {
      await closeBrowser(b);
    }
  }
}

/**
 * measurePopup: per library of the popup scenario, in a fresh browser, RUNS
 * popup logins, each signed out before (provider cookies cleared, so the
 * form is shown; mezzo's runtime ended): the harness clicks the page's
 * button, fills in the provider's form in the popup, and the page reports
 * the time from the click until the popup login resolved, authenticated.
 */
async function measurePopup(env, raw) {
  const libs = SCENARIOS.popup.libs;
  log(`popup login: ${RUNS} runs × ${libs.length} libraries`);
  const { idp } = env.scenarios.popup;
  for (const lib of libs) {
    const b = await openBrowser();
    try {
      const page = b.context.pages()[0] ?? await b.context.newPage();
      watchPage(page, env, lib);
      const browserCdp = await b.context.browser().newBrowserCDPSession();
      for (let r = 0; r < RUNS; r++) {
        const what = `${LIB_NAMES[lib]} popup login`;
        await page.goto('about:blank');
        await closeSharedWorkers(browserCdp, env.origin);
        await b.context.clearCookies();
        await page.goto(`${env.origin}/${lib}/popup/`, { timeout: 30000 });
        const st = await waitReady(page, what);
        if (st.authenticatedAtStart) fail(`${what}: authenticated before the popup`);
        const popupOpened = page.waitForEvent('popup', { timeout: 10000 });
        await page.click('#bench-popup');
        const popup = await popupOpened;
        await popup.waitForSelector('input[name="password"]', { timeout: 15000 });
        await popup.fill('input[name="login"]', idp.user.login);
        await popup.fill('input[name="password"]', idp.user.password);
        await popup.click('button[type="submit"]', { noWaitAfter: true });
        const deadline = Date.now() + 30000;
        let out = null;
        while (!(out = await page.evaluate(() => window.__bench.popup))) {
          if (Date.now() > deadline) fail(`${what}: did not complete within 30 s`);
          await sleep(10);
        }
        if (out.error) fail(`${what}: ${out.error}`);
        raw.popup[lib].push({ ms: out.ms, authenticated: out.authenticated });
      }
      await browserCdp.detach();
    } finally {
      await closeBrowser(b);
    }
  }
}

/**
 * measureMainThread: in one fresh browser, RUNS loads of each library's
 * page in a new tab each (rotating the order); the first of each library
 * meets empty caches (cold), the others warm ones. The page's main-thread
 * task time (probe.mjs, mainThreadMs) from before the navigation until the
 * client answers; the harness awaits the driver's promise instead of
 * polling, so that it adds no work of its own to the page.
 */
async function measureMainThread(env, raw) {
  log(`main-thread time during load: ${RUNS} runs × ${LIBS.length} libraries`);
  const b = await openBrowser();
  try {
    for (let r = 0; r < RUNS; r++) {
      for (const lib of rotate(LIBS, r)) {
        const page = await b.context.newPage();
        watchPage(page, env, lib);
        const cdp = await b.context.newCDPSession(page);
        await cdp.send('Performance.enable');
        const before = await mainThreadMs(cdp);
        await page.goto(`${env.origin}/${lib}/long/`, { timeout: 30000, waitUntil: 'domcontentloaded' }); // the driver (defer) has run
        await withTimeout(page.evaluate(() => window.__benchDone), 30000, `${LIB_NAMES[lib]} main thread`);
        const after = await mainThreadMs(cdp);
        const st = await waitReady(page, `${LIB_NAMES[lib]} main thread`);
        // A navigation that moved to another renderer process restarts its counters.
        const base = after.taskMs >= before.taskMs ? before : { taskMs: 0, scriptMs: 0 };
        raw.mainThread[r === 0 ? 'cold' : 'warm'][lib].push({ taskMs: after.taskMs - base.taskMs, scriptMs: after.scriptMs - base.scriptMs, readyAt: st.readyAt, runtime: st.runtime });
        await cdp.detach();
        await page.close();
      }
    }
  } finally {
    await closeBrowser(b);
  }
}

/**
 * measureCodeCache: for each runtime host mezzo compiles its module in
 * (the default shared worker, and the page), CODECACHE_RUNS fresh
 * browsers; in each, three visits to mezzo's page (as in the load rows),
 * each held CODECACHE_HOLD_MS, the origin's shared workers ended before
 * each later visit so that every visit compiles the module again (a
 * surviving runtime compiles nothing: the load rows show that case).
 * After each visit, the change in Chromium's V8.WasmCodeCaching histogram
 * (recorded by Blink when a streamed module looks for cached code: bucket
 * 0 miss, 1 hit, 2 invalid entry, 3 no cache handler; no sample: no
 * lookup) and in V8.WasmSerializationTimeMilliSeconds (a sample each time
 * V8 handed compiled code to the cache).
 */
async function measureCodeCache(env, raw) {
  log(`WebAssembly code cache: ${CODE_CACHE_HOSTS.length} hosts × ${CODECACHE_RUNS} fresh browsers × 3 visits to mezzo's page`);
  for (const host of CODE_CACHE_HOSTS) {
    for (let r = 0; r < CODECACHE_RUNS; r++) {
      const b = await openBrowser();
      try {
        const page = b.context.pages()[0] ?? await b.context.newPage();
        watchPage(page, env, 'mezzo');
        const sync = await b.context.newPage();
        const browserCdp = await b.context.browser().newBrowserCDPSession();
        const read = async () => ({
          caching: await histogram(browserCdp, sync, 'V8.WasmCodeCaching'),
          serialized: Object.values(await histogram(browserCdp, sync, 'V8.WasmSerializationTimeMilliSeconds')).reduce((n, c) => n + c, 0),
        });
        let before = await read();
        for (const visit of ['cold', 'warm', 'hot']) {
          if (visit !== 'cold') {
            await page.goto('about:blank');
            await closeSharedWorkers(browserCdp, env.origin);
          }
          await page.goto(`${env.origin}/mezzo/long/?runtime=${host}`, { timeout: 30000 });
          const st = await waitReady(page, `mezzo code cache (${host}, ${visit})`);
          if (st.runtime !== host) fail(`mezzo code cache: asked for the ${host} host, got ${st.runtime}`);
          await sleep(CODECACHE_HOLD_MS);
          const after = await read();
          if (visit !== 'cold') {
            raw.codeCache[host][visit].push({ caching: histogramDelta(before.caching, after.caching), serializedBefore: before.serialized, compiledAt: st.marks['mezzo:compiled'] });
          }
          before = after;
        }
        await browserCdp.detach();
      } finally {
        await closeBrowser(b);
      }
    }
  }
}

/**
 * measureDpop: in one browser, each library signed in twice: on the dpop
 * scenario's page (DPoP on: each library's option, the provider binding
 * the tokens) and on the long scenario's (Bearer, the same library as in
 * the other phases). Then RUNS runs, the libraries rotating; in each, per
 * library: DPOP_CALLS forced renewals on each page (the refresh-token
 * grant, with a proof on the DPoP page), each timed; proofs as the
 * library's API makes them for an app, for at least DPOP_PROOF_MS; and
 * DPOP_CALLS authenticated GETs of the provider's DPoP-protected resource.
 * A run's median is one sample. Checked: the provider counted every
 * renewal, each with a DPoP proof on the DPoP page and none on the other;
 * the peers' token_type is DPoP (mezzo does not show it, and refuses
 * anything but DPoP); every fetch answered 200 and the resource counted a
 * DPoP-bound token with a valid proof (it takes a Bearer token too, and
 * says which); each proof is a dpop+jwt for GET of the URL, with ath.
 */
async function measureDpop(env, raw) {
  const sc = env.scenarios.dpop;
  log(`DPoP: ${RUNS} runs × ${LIBS.length} libraries: ${DPOP_CALLS} renewals with and without DPoP, proofs, ${DPOP_CALLS} fetches`);
  if (!sc.dpopSupported) fail(`dpop: the dev provider does not offer DPoP (no dpop_signing_alg_values_supported in its metadata)`);
  if (!sc.idp.resource) fail('dpop: the dev provider has no DPoP-protected resource (no `resource` in its ready line)');
  const resource = sc.idp.resource;
  const median = (xs) => summarize(xs).median;
  const b = await openBrowser();
  try {
    const pages = {};
    const libs = [];
    for (const lib of LIBS) {
      if (lib === 'auth0' && !sc.auth0TokenPath) {
        // Its proofs would be refused (DPoP proof htu mismatch).
        raw.dpop.unavailable[lib] = `its proofs name ${AUTH0_TOKEN_PATH}; this provider's token endpoint is ${sc.tokenPath} (RFC 9449 §4.3)`;
        continue;
      }
      pages[lib] = {};
      for (const [mode, scenario] of [['dpop', 'dpop'], ['bearer', 'long']]) {
        const page = await b.context.newPage();
        watchPage(page, env, lib);
        if (mode === 'dpop') {
          // A build of mezzo from before DPoP refuses the option: n/a, not a failure.
          await page.goto(`${env.origin}/${lib}/${scenario}/`);
          await page.waitForFunction(() => window.__bench && window.__bench.state !== 'loading', null, { timeout: 30000 }).catch(() => {});
          const early = await page.evaluate(() => window.__bench);
          const refused = early?.state === 'error' && /unknown field "dpop"/.test(early.error);
          if (!refused) await waitReady(page, `${LIB_NAMES[lib]} dpop`);
          if (refused || !await page.evaluate(() => window.__benchApi.dpopAvailable())) {
            raw.dpop.unavailable[lib] = `this build has no DPoP: ${refused ? 'createClient refuses the dpop option' : 'no DPoP API'}`;
            await page.close();
            break;
          }
        }
        await login(page, env, lib, scenario, { freshSession: true });
        pages[lib][mode] = page;
      }
      if (!raw.dpop.unavailable[lib]) libs.push(lib);
    }
    // The peers' token_type on the DPoP pages, before and after the runs
    // (the Bearer pages are the other phases' pages, without DPoP).
    const checkTokenTypes = async (when) => {
      for (const lib of libs) {
        const type = await evalIn(pages[lib].dpop, () => window.__benchApi.tokenType(), undefined, 30000, `${LIB_NAMES[lib]} token_type`);
        (raw.dpop.tokenTypes[lib] ??= []).push({ when, type });
        if (lib !== 'mezzo' && String(type).toLowerCase() !== 'dpop') fail(`${LIB_NAMES[lib]} dpop (${when}): token_type ${type}, not DPoP`);
      }
    };
    await checkTokenTypes('after login');
    // CORS preflights the proxy saw (a DPoP header is not safelisted; the
    // provider's Access-Control-Max-Age lets the browser cache the answer).
    const preflights = (proxy) => Object.entries(proxy.counts()).filter(([k]) => k.startsWith('OPTIONS ')).reduce((n, [, c]) => n + c, 0);
    const renewals = async (lib, mode) => {
      const { idp, proxy } = env.scenarios[mode === 'dpop' ? 'dpop' : 'long'];
      const before = await idp.stats();
      const preflightsBefore = preflights(proxy);
      const ms = await evalIn(pages[lib][mode], (n) => window.__benchApi.renewals(n), DPOP_CALLS, 120000, `${LIB_NAMES[lib]} dpop renewals (${mode})`);
      const after = await idp.stats();
      if (after.refreshRequests - before.refreshRequests !== DPOP_CALLS) fail(`${LIB_NAMES[lib]} dpop renewals (${mode}): the provider saw ${after.refreshRequests - before.refreshRequests} refresh requests for ${DPOP_CALLS} renewals`);
      // Each with a proof on the DPoP page, none on the other (the provider counts token requests with a DPoP header).
      const proofs = after.tokenDpopProofs - before.tokenDpopProofs;
      if (proofs !== (mode === 'dpop' ? DPOP_CALLS : 0)) fail(`${LIB_NAMES[lib]} dpop renewals (${mode}): ${proofs} of ${DPOP_CALLS} token requests carried a DPoP proof`);
      return { ms, preflights: preflights(proxy) - preflightsBefore };
    };
    // The resource's answer names the token it accepted: DPoP-bound, with its key's thumbprint.
    const fetches = async (lib) => {
      const before = await sc.idp.stats();
      const out = await evalIn(pages[lib].dpop, (a) => window.__benchApi.dpopFetches(a), { url: resource, n: DPOP_CALLS }, 60000, `${LIB_NAMES[lib]} dpop fetches`);
      const after = await sc.idp.stats();
      const answer = JSON.parse(out.body);
      if (answer.token_type !== 'DPoP' || !answer.cnf?.jkt) fail(`${LIB_NAMES[lib]} dpop fetches: the resource accepted a ${answer.token_type} token (cnf ${JSON.stringify(answer.cnf)}), not a DPoP-bound one`);
      const accepted = after.resourceAccepted.DPoP - before.resourceAccepted.DPoP;
      if (accepted !== DPOP_CALLS) fail(`${LIB_NAMES[lib]} dpop fetches: the resource accepted ${accepted} DPoP requests of ${DPOP_CALLS}`);
      return { ms: out.ms, answer };
    };
    for (let r = 0; r < RUNS; r++) {
      for (const lib of rotate(libs, r)) {
        const run = {};
        for (const mode of rotate(['dpop', 'bearer'], r)) run[mode] = await renewals(lib, mode);
        const proofs = await evalIn(pages[lib].dpop, (a) => window.__benchApi.dpopProofs(a), { url: resource, batches: 1, minMs: DPOP_PROOF_MS }, 60000, `${LIB_NAMES[lib]} dpop proofs`);
        const { header, payload } = proofs.proof;
        if (header.typ !== 'dpop+jwt' || payload.htu !== resource || payload.htm !== 'GET' || !payload.ath) {
          fail(`${LIB_NAMES[lib]} dpop proof: want a dpop+jwt for GET ${resource} with ath, got ${JSON.stringify(proofs.proof)}`);
        }
        const fetched = await fetches(lib);
        raw.dpop.runs[lib].push({
          renewal: median(run.dpop.ms), renewalBearer: median(run.bearer.ms), proofUs: proofs.batches[0].usPerCall, fetch: median(fetched.ms),
          samples: { renewal: run.dpop.ms, renewalBearer: run.bearer.ms, proofs: proofs.batches, fetch: fetched.ms },
          preflights: { dpop: run.dpop.preflights, bearer: run.bearer.preflights }, resourceAnswer: fetched.answer,
        });
      }
    }
    await checkTokenTypes('after the runs');
  } finally {
    await closeBrowser(b);
  }
}

// ---- environment ----

function environment(env) {
  const sh = (cmd, args) => { try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return null; } };
  const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const commit = sh('git', ['-C', repo, 'rev-parse', '--short=12', 'HEAD']);
  const dirty = sh('git', ['-C', repo, 'status', '--porcelain', '--', 'pkce', 'jsbridge', 'wasm', 'web/src']);
  return {
    date: new Date().toISOString(),
    runs: RUNS,
    node: process.version,
    chromium: env.chromiumVersion,
    cpu,
    cores: os.cpus().length,
    go: sh('go', ['version']),
    mezzoCommit: commit ? `${commit}${dirty ? '-dirty' : ''}` : 'unknown',
    versions: Object.fromEntries(['@auth0/auth0-spa-js', 'oidc-client-ts', 'oidc-provider', 'esbuild', 'playwright-core'].map((n) => [n, packageVersion(n)])),
  };
}


// ---- main, in steps ----

/** checkSetup fails early on bad settings or a missing build or browser. */
function checkSetup() {
  if (!Number.isInteger(RUNS) || RUNS < 1) fail(`BENCH_RUNS must be a positive integer, got ${process.env.BENCH_RUNS}`);
  if (!Number.isInteger(REFRESH_CYCLES) || REFRESH_CYCLES < 100 || REFRESH_CYCLES % 100) fail(`BENCH_REFRESH_CYCLES must be a positive multiple of 100, got ${process.env.BENCH_REFRESH_CYCLES}`);
  for (const f of ['mezzo.wasm', 'mezzo.js', 'wasm_exec.js']) {
    if (!existsSync(path.join(repo, 'web/dist', f))) fail(`web/dist/${f} missing: run make build`);
  }
  if (!existsSync(CHROMIUM)) fail(`chromium missing at ${CHROMIUM}: run make bench (it installs Debian's chromium) or apt-get install chromium`);
}

/** startServer builds and compresses what the pages download and serves it. */
async function startServer() {
  log('building the pages and compressing what they download');
  const { assets, sizes, heads, dpopHeads } = await buildAssets();
  const server = await startBenchServer();
  cleanups.push(() => server.close());
  server.setAssets(assets);
  return { server, sizes, heads, dpopHeads };
}

/** startProviders starts each scenario's provider behind its own proxy; returns the env the phases share. */
async function startProviders(server) {
  log('starting the identity providers');
  const env = { origin: server.origin, scenarios: {}, pageErrors: [] };
  // A few at a time: each must print its ready line within the harness's
  // 15 s, which nine at once (each making its RSA key) missed on a busy
  // shared machine.
  const pending = Object.entries(SCENARIOS);
  const startOne = async ([name, sc]) => {
    const redirectUris = sc.libs.map((lib) => `${server.origin}/${lib}/${name}/cb`);
    const idp = await startIdp({ accessTokenTtl: sc.ttl, redirectUris, clientId: `bench-${name}`, webMessage: sc.webMessage, ...(sc.dpop ? { tokenPath: AUTH0_TOKEN_PATH } : {}) });
    idpChildren.push(idp.child);
    cleanups.push(() => idp.stop());
    // DPoP: the token path the provider really serves (its metadata), for
    // the proxy to forward to under the same path (proxy.mjs).
    const dpop = {};
    if (sc.dpop) {
      const meta = await idp.discovery();
      dpop.dpopSupported = Array.isArray(meta.dpop_signing_alg_values_supported) && meta.dpop_signing_alg_values_supported.length > 0;
      dpop.tokenPath = new URL(meta.token_endpoint).pathname;
      dpop.auth0TokenPath = dpop.tokenPath === AUTH0_TOKEN_PATH;
    }
    const proxy = await startProxy(idp.issuer, sc.dpop ? { tokenPath: dpop.tokenPath } : {});
    cleanups.push(() => proxy.close());
    env.scenarios[name] = { ...sc, ...dpop, idp, proxy };
  };
  await Promise.all(Array.from({ length: PROVIDER_STARTS }, async () => {
    while (pending.length) await startOne(pending.shift());
  }));
  return env;
}

/** servePages sets one CSP for every page (all providers and proxies) and a page per library and scenario. */
function servePages(server, env, heads, dpopHeads) {
  // The DPoP-protected resource is the provider's (its origin, as a rule).
  const origins = [...new Set(Object.values(env.scenarios).flatMap((s) => [s.proxy.origin, s.idp.issuer, ...(s.dpop && s.idp.resource ? [new URL(s.idp.resource).origin] : [])]))];
  // Only the silent sign-in's return pages may be framed (by the bench's own pages).
  const framed = /^\/[a-z0-9]+\/silent\/cb$/;
  server.setCsp((pathname) => contentSecurityPolicy(origins, origins, { frameable: framed.test(pathname) }));
  const template = readFileSync(new URL('./pages/page.html', import.meta.url), 'utf8');
  const escAttr = (s) => s.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  const pages = new Map();
  for (const [name, sc] of Object.entries(env.scenarios)) {
    for (const lib of sc.libs) {
      const cfg = {
        issuer: sc.idp.issuer,
        clientId: sc.idp.clientId,
        redirectUri: `${server.origin}/${lib}/${name}/cb`,
        scope: SCOPE,
        endpoints: sc.proxy.endpoints,
        auth0WorkerUrl: '/b/auth0-worker.js',
        // The dpop scenario: mezzo's option (the peers' are in their DPoP builds, build.mjs).
        mezzoOptions: sc.dpop ? { ...MEZZO_OPTIONS, dpop: true } : MEZZO_OPTIONS,
        ...(sc.variant ? { variant: sc.variant } : {}),
      };
      pages.set(`${lib}/${name}`, template
        .replaceAll('{{LIB}}', LIB_NAMES[lib])
        .replace('{{CONFIG}}', escAttr(JSON.stringify(cfg)))
        .replace('{{HEAD}}', (sc.dpop ? dpopHeads : heads)[lib].map((t) => `  ${t}`).join('\n')));
    }
  }
  server.setPages(pages);
}

/** newRaw is the empty record of every sample, with the run's configuration and the sizes. */
function newRaw(server, sizes) {
  const empty = () => Object.fromEntries(LIBS.map((l) => [l, []]));
  return {
    config: { runs: RUNS, only: ONLY, tabs: TABS, dpopCalls: DPOP_CALLS, dpopProofMs: DPOP_PROOF_MS, codeCacheRuns: CODECACHE_RUNS, codeCacheHoldMs: CODECACHE_HOLD_MS, mezzoOptions: MEZZO_OPTIONS, stampedeCalls: STAMPEDE_CALLS, refreshCycles: REFRESH_CYCLES, scope: SCOPE, csp: server.csp(),
      scenarios: Object.fromEntries(Object.entries(SCENARIOS).map(([k, v]) => [k, { accessTokenTtl: v.ttl, libs: v.libs }])) },
    sizes,
    load: { cold: empty(), warm: empty(), hot: empty() },
    loadResources: { cold: empty(), warm: empty(), hot: empty() }, // per sample: what the page fetched
    loadMarks: { cold: empty(), warm: empty(), hot: empty() }, // per sample: mezzo's start-up marks
    loadModule: { cold: empty(), warm: empty(), hot: empty() }, // per sample: when a protocol call could run
    login: empty(),
    getToken: empty(),
    stampede: empty(),
    memory: {},
    secondTab: empty(), // per sample: {readyAt, authenticated, runtime}
    tabsMemory: {}, // per library: {tabs: [...], workers: [...], total}
    reload: empty(), // per sample: {readyAt, authenticated, runtime}
    silent: empty(), // per sample: {readyAt, authenticated (and not navigated), runtime}
    popup: empty(), // per sample: {ms, authenticated}
    mainThread: { cold: empty(), warm: empty() }, // per sample: {taskMs, scriptMs, readyAt}
    codeCache: Object.fromEntries(CODE_CACHE_HOSTS.map((h) => [h, { warm: [], hot: [] }])), // mezzo, per host and run: {caching: {bucket: count}, serializedBefore, compiledAt}
    // per library and run: {renewal, renewalBearer, fetch (ms, medians of DPOP_CALLS), proofUs, samples, preflights, resourceAnswer};
    // unavailable: library -> why it has no DPoP figures; tokenTypes: the checks.
    dpop: { runs: empty(), unavailable: {}, tokenTypes: {} },
    phaseSeconds: {}, // how long each phase took
  };
}

/** readChromiumVersion records the browser's version for the report. */
async function readChromiumVersion(env) {
  const b = await openBrowser();
  env.chromiumVersion = (await b.context.pages()[0]?.evaluate(() => navigator.userAgent))?.match(/Chrome\/[\d.]+/)?.[0] ?? 'chromium';
  await closeBrowser(b);
}

/** measure runs the phases (all, or BENCH_ONLY's) and fails on any uncaught page error. */
async function measure(env, raw) {
  const phases = {
    load: measureLoad, login: measureLogin, stampede: measureStampede, memory: measureMemory,
    tabs: measureTabs, reload: measureReload, silent: measureSilent, popup: measurePopup, mainthread: measureMainThread, codecache: measureCodeCache,
    dpop: measureDpop,
  };
  const unknown = (ONLY ?? []).filter((n) => !phases[n]);
  if (unknown.length) fail(`BENCH_ONLY: unknown phase ${unknown.join(', ')}; the phases are ${Object.keys(phases).join(', ')}`);
  for (const [name, phase] of Object.entries(phases)) {
    if (ONLY && !ONLY.includes(name)) continue;
    const t0 = Date.now();
    await phase(env, raw);
    raw.phaseSeconds[name] = Math.round((Date.now() - t0) / 1000);
    log(`${name}: ${raw.phaseSeconds[name]} s`);
  }
  if (env.pageErrors.length) fail(`uncaught errors on the bench pages:\n  ${env.pageErrors.join('\n  ')}`);
}

/**
 * report writes results.json, results.md and ratios.svg and prints the
 * table. The method, metrics and fairness choices are in README.md beside
 * this file, once; the notes only point there and name a variant run.
 */
function report(env, raw, t0) {
  const environ = environment(env);
  const notes = [`How each row is measured, and the fairness choices: scripts/bench/README.md at mezzo ${environ.mezzoCommit}.`];
  if (Object.keys(MEZZO_OPTIONS).length) notes.unshift(`A variant: mezzo ran with extra options ${JSON.stringify(MEZZO_OPTIONS)} (BENCH_MEZZO_OPTIONS).`);
  if (ONLY) notes.unshift(`Only these phases ran: ${ONLY.join(', ')} (BENCH_ONLY).`);
  const results = {
    environment: environ,
    notes,
    rows: buildRows(raw),
    raw,
    elapsedSeconds: Math.round((Date.now() - t0) / 1000),
  };
  const table = writeReport(OUT, results);
  log(`done in ${results.elapsedSeconds} s; wrote ${path.relative(process.cwd(), OUT) || OUT}/results.json, results.md, ratios.svg`);
  console.log(`\n${table}\n`);
}

async function main() {
  checkSetup();
  const t0 = Date.now();
  const { server, sizes, heads, dpopHeads } = await startServer();
  const env = await startProviders(server);
  servePages(server, env, heads, dpopHeads);
  const raw = newRaw(server, sizes);
  log('what each library adds to a Vite production build of a minimal app');
  const version = execFileSync(path.join(repo, 'scripts/build/version.sh'), { encoding: 'utf8' }).trim();
  const tarball = execFileSync('node', [path.join(repo, 'scripts/build/package.mjs'), path.join(repo, 'web/dist'), version, path.join(repo, 'build')], { encoding: 'utf8' }).trim();
  raw.appSizes = appSizes(tarball);
  await readChromiumVersion(env);
  await measure(env, raw);
  report(env, raw, t0);
}

try {
  await main();
  await cleanup();
} catch (e) {
  console.error(`\nbench failed: ${e instanceof BenchError ? e.message : e.stack}`);
  await cleanup();
  process.exit(1);
}
