// Silent sign-in (prompt=none in a hidden iframe) and popup login in a real
// browser (Debian's chromium) against the dev provider (oidc-provider),
// issue 12. Two demo apps: one with the runtime in the page and
// silentRestore on (a reload signs in silently), one on the SharedWorker
// (the popup's code exchange runs in the worker). A third server stands in
// for a provider that never answers (/hang) or answers a page that never
// returns (/page, of another origin). Both return pages are the demo's
// tiny /silent-callback, which only loads mezzo.js.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync } from 'node:fs';
import { startDemoServer } from '../../dev/demo-server.mjs';
import { startIdp } from '../../dev/idp/harness.mjs';
import { launchBrowser, recordCspViolations, cspViolations, watchErrors, watchWorkerErrors, signIn, logOut, CHROMIUM } from './browser.mjs';
import { until } from '../lib/common.mjs';

const SILENT_TIMEOUT_S = 10; // the default; login_required must come far sooner
const HANG_TIMEOUT_S = 3; // the stalled provider's attempts give up after this

let idp; let app; let shared; let stall; let b; let watcher;
const errors = [];
const violations = []; // CSP violations of every app page, collected before it closes

/** startStall serves /hang (never answers) and /page (a page that never redirects) on its own origin. */
async function startStall() {
  const server = http.createServer((req, res) => {
    if (req.url.startsWith('/page')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>a provider that never returns</title><p>waiting</p>');
    }
    // /hang: no answer, ever (the connections are cut at the end).
  });
  await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `chromium missing at ${CHROMIUM}: run make test (it installs Debian's chromium) or apt-get install chromium`);
  assert.ok(existsSync(new URL('../../../web/dist/mezzo.wasm', import.meta.url)), 'web/dist missing: run make build');
  [app, shared, stall] = await Promise.all([startDemoServer(), startDemoServer(), startStall()]);
  idp = await startIdp({ accessTokenTtl: 600, redirectUris: [app.redirectUri, app.silentRedirectUri, shared.redirectUri, shared.silentRedirectUri] });
  app.setConfig({ issuer: idp.issuer, clientId: idp.clientId, redirectUri: app.redirectUri, silentRedirectUri: app.silentRedirectUri, silentRestore: true, runtime: 'page' }, { frameSrc: [stall.origin] });
  shared.setConfig({ issuer: idp.issuer, clientId: idp.clientId, redirectUri: shared.redirectUri, silentRedirectUri: shared.silentRedirectUri });
  b = await launchBrowser();
  await recordCspViolations(b.context);
  for (const d of [app, shared]) watchErrors(b.context, d.origin, errors);
  watcher = await b.browser.newBrowserCDPSession();
  await watchWorkerErrors(watcher, shared.origin, errors);
});

after(async () => {
  await b?.close();
  await idp?.stop();
  await Promise.all([app, shared, stall].map((d) => d?.close()));
});

/** done records page's CSP violations, then closes it. */
async function done(page) {
  for (const v of await cspViolations(page).catch(() => [])) violations.push(`${page.url()}: ${v}`);
  await page.close();
}

/** topNavigations records the URLs the page's top frame commits from now on. */
function topNavigations(page) {
  const urls = [];
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) urls.push(f.url()); });
  return urls;
}

const events = (page) => page.textContent('#events');
/** restored waits until the demo's own silent sign-in at start (silentRestore) has ended, either way. */
const restored = (page) => page.waitForFunction(() => /signed in silently|silent sign-in: [a-z_]+$/m.test([...document.querySelectorAll('#events li')].map((li) => li.textContent).join('\n')), null, { timeout: 15000 });
const iframes = (page) => page.evaluate(() => document.querySelectorAll('iframe').length);

/** silently runs loginSilently() on a client of its own in page, with the demo's config and extra, and returns its outcome and duration. */
const silently = (page, extra = {}) => page.evaluate(async (more) => {
  const config = await (await fetch('/config.json')).json();
  const client = await mezzo.createClient({ ...config, silentRestore: false, ...more });
  await client.ready;
  const t0 = performance.now();
  const outcome = await client.loginSilently().then(() => 'ok', (e) => e.code);
  const ms = performance.now() - t0;
  const authenticated = client.isAuthenticated();
  client.close();
  return { outcome, ms, authenticated };
}, extra);

test('after a sign-in, a fresh page is signed in silently: no top-level navigation, no iframe left, a refresh token kept', { timeout: 60000 }, async () => {
  const first = await b.context.newPage();
  await signIn(first, app.origin, idp); // the provider's session cookie is set
  await first.close(); // the page host: the session dies with the page

  await idp.resetStats();
  const page = await b.context.newPage();
  const navigations = topNavigations(page);
  await page.goto(`${app.origin}/`);
  await page.waitForSelector('#status[data-state="signed-in"]', { timeout: 10000 });
  assert.deepEqual(navigations, [`${app.origin}/`], 'the top page never left');
  assert.match(await events(page), /signed in silently/);
  assert.equal(JSON.parse(await page.textContent('#claims')).sub, 'demo-user-1');
  assert.equal(await iframes(page), 0, 'the iframe is removed');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'nothing stored');
  assert.equal((await idp.stats()).authCodeRequests, 1, 'one code exchange');

  // The silently renewed session has a refresh token (from the user's
  // grant, see the dev provider's issueRefreshToken): a forced renewal works.
  const renewed = await page.evaluate(async () => {
    const config = await (await fetch('/config.json')).json();
    const client = await mezzo.createClient({ ...config, silentRestore: false });
    await client.loginSilently();
    const before = await client.getToken();
    const after = await client.getToken({ forceRefresh: true }).catch((e) => `error:${e.code}`);
    client.close();
    return before !== after && !after.startsWith('error:');
  });
  assert.ok(renewed, 'a forced refresh after a silent sign-in succeeds');
  assert.equal((await idp.stats()).refreshRequests, 1);
  await done(page);
});

test('a silent attempt never touches the tab\'s pending redirect login transaction, and concurrent callers share one attempt', { timeout: 60000 }, async () => {
  const page = await b.context.newPage();
  await page.goto(`${app.origin}/`);
  await page.waitForSelector('#status[data-state="signed-in"]', { timeout: 10000 });
  await idp.resetStats();
  const r = await page.evaluate(async () => {
    sessionStorage.setItem('mezzo.transaction', 'a pending redirect login of this tab');
    const config = await (await fetch('/config.json')).json();
    const client = await mezzo.createClient({ ...config, silentRestore: false });
    const p1 = client.loginSilently();
    const p2 = client.loginSilently();
    const frames = document.querySelectorAll('iframe').length; // none yet: the module starts first
    await Promise.all([p1, p2]);
    const shared = p1 === p2;
    client.close();
    return { shared, frames, tx: sessionStorage.getItem('mezzo.transaction'), keys: sessionStorage.length };
  });
  assert.equal(r.shared, true, 'the second caller joined the first attempt');
  assert.equal(r.tx, 'a pending redirect login of this tab');
  assert.equal(r.keys, 1);
  assert.equal((await idp.stats()).authCodeRequests, 1, 'one attempt, one code exchange');
  await page.evaluate(() => sessionStorage.clear());
  await done(page);
});

test('the provider session ended: login_required well under the timeout, no navigation, no loop', { timeout: 60000 }, async () => {
  const page = await b.context.newPage();
  await page.goto(`${app.origin}/`);
  await page.waitForSelector('#status[data-state="signed-in"]', { timeout: 10000 });
  await logOut(page, app.origin, idp); // ends the provider session; back on a signed-out app page
  // That page tried a silent sign-in on start (silentRestore) and failed once.
  await page.waitForFunction(() => /silent sign-in: login_required/.test(document.querySelector('#events').textContent), null, { timeout: 5000 });
  const navigations = topNavigations(page);
  const r = await silently(page);
  assert.equal(r.outcome, 'login_required');
  assert.equal(r.authenticated, false);
  assert.ok(r.ms < 3000, `answered in ${Math.round(r.ms)} ms, far under the ${SILENT_TIMEOUT_S} s timeout`);
  await new Promise((resolve) => { setTimeout(resolve, 1500); });
  assert.deepEqual(navigations, [], 'the top page never navigated');
  assert.equal((await events(page)).match(/silent sign-in: login_required/g)?.length, 1, 'the restore tried once: no loop');
  assert.equal(await page.getAttribute('#status', 'data-state'), 'signed-out');
  assert.equal(await iframes(page), 0);
  await done(page);
});

test('a closed popup rejects popup_closed; a refused one popup_blocked', { timeout: 60000 }, async () => {
  const page = await b.context.newPage();
  await page.goto(`${shared.origin}/`);
  await page.waitForSelector('#status[data-state="signed-out"]');
  assert.equal(await page.getAttribute('#status', 'data-runtime'), 'shared-worker');
  const [popup] = await Promise.all([b.context.waitForEvent('page'), page.click('#login-popup')]);
  await popup.waitForURL((u) => u.href.startsWith(idp.issuer)); // the provider's form
  const t0 = Date.now();
  await popup.close();
  await page.waitForFunction(() => /popup sign-in: popup_closed/.test(document.querySelector('#events').textContent), null, { timeout: 3000 });
  assert.ok(Date.now() - t0 < 3000);
  assert.equal(await page.getAttribute('#status', 'data-state'), 'signed-out');

  const blocked = await page.evaluate(async () => {
    const config = await (await fetch('/config.json')).json();
    const client = await mezzo.createClient(config);
    const open = window.open;
    window.open = () => null; // what a browser's popup blocker returns
    try {
      return await client.loginWithPopup().then(() => 'ok', (e) => e.code);
    } finally {
      window.open = open;
      client.close();
    }
  });
  assert.equal(blocked, 'popup_blocked');
  await done(page);
});

test('popup login on the SharedWorker host: the form in the popup, the popup closed, the top page signed in where it was', { timeout: 60000 }, async () => {
  await idp.resetStats();
  const page = await b.context.newPage();
  const navigations = topNavigations(page);
  await page.goto(`${shared.origin}/`);
  await page.waitForSelector('#status[data-state="signed-out"]');
  const [popup] = await Promise.all([b.context.waitForEvent('page'), page.click('#login-popup')]);
  await popup.waitForURL((u) => u.href.startsWith(idp.issuer));
  await popup.fill('input[name="login"]', idp.user.login);
  await popup.fill('input[name="password"]', idp.user.password);
  await popup.click('button[type="submit"]');
  await page.waitForSelector('#status[data-state="signed-in"]', { timeout: 10000 });
  await until(() => popup.isClosed(), 3000, 'the popup closed');
  assert.match(await events(page), /signed in with popup/);
  assert.deepEqual(navigations, [`${shared.origin}/`], 'the top page never left');
  const stats = await idp.stats();
  assert.equal(stats.authCodeRequests, 1, 'one code exchange (in the worker: the page made none, see below)');
  // A second tab of the origin shares the worker's session at once.
  const other = await b.context.newPage();
  await other.goto(`${shared.origin}/`);
  await other.waitForSelector('#status[data-state="signed-in"]');
  await done(other);
  await done(page);
});

test('forged messages (another origin, a same-origin window that is not ours, a replay) are ignored; a provider that never answers times out and the iframe is removed', { timeout: 60000 }, async () => {
  const page = await b.context.newPage();
  await page.goto(`${app.origin}/`);
  await restored(page);
  await idp.resetStats();
  // A client whose authorization endpoint never answers: the iframe stays
  // pending until the timeout.
  await page.evaluate(async ([endpoint, timeout]) => {
    const config = await (await fetch('/config.json')).json();
    window.__client = await mezzo.createClient({ ...config, silentRestore: false, authorizationEndpoint: endpoint, silentTimeoutSeconds: timeout });
    window.__t0 = performance.now();
    window.__outcome = window.__client.loginSilently().then(() => 'ok', (e) => e.code);
  }, [`${stall.origin}/hang`, HANG_TIMEOUT_S]);
  await page.waitForFunction(() => document.querySelector('iframe[name^="mezzo-embed:"]'));
  const attempt = await page.evaluate(() => {
    const f = document.querySelector('iframe[name^="mezzo-embed:"]');
    return { name: f.name, state: new URL(f.src).searchParams.get('state') };
  });
  const valid = { type: 'mezzo:authorization-response', id: attempt.name.slice('mezzo-embed:'.length), url: `${app.silentRedirectUri}?code=forged&state=${attempt.state}&iss=${encodeURIComponent(idp.issuer)}` };

  // From a window of another origin (a frame on the stalled server's page).
  await page.evaluate((src) => new Promise((resolve) => {
    const f = document.createElement('iframe');
    f.name = 'other-origin';
    f.onload = resolve;
    f.src = src;
    document.body.append(f);
  }), `${stall.origin}/page`);
  const foreign = page.frames().find((f) => f.name() === 'other-origin');
  await foreign.evaluate((m) => { parent.postMessage(m, '*'); }, valid);
  // From windows of our origin that are not the attempt's: the page itself,
  // and a same-origin frame (the return page, without the marker).
  await page.evaluate((m) => { window.postMessage(m, location.origin); }, valid);
  await page.evaluate(() => new Promise((resolve) => {
    const f = document.createElement('iframe');
    f.name = 'same-origin';
    f.onload = resolve;
    f.src = '/silent-callback';
    document.body.append(f);
  }));
  const sibling = page.frames().find((f) => f.name() === 'same-origin');
  await sibling.evaluate((m) => { parent.postMessage(m, location.origin); }, valid);
  await sibling.evaluate((m) => { parent.postMessage({ ...m, id: m.id }, '*'); }, valid);

  const outcome = await page.evaluate(() => window.__outcome);
  const ms = await page.evaluate(() => performance.now() - window.__t0);
  assert.equal(outcome, 'timeout', 'no forged message was taken');
  assert.ok(ms >= HANG_TIMEOUT_S * 1000 - 100 && ms < HANG_TIMEOUT_S * 1000 + 3000, `timed out after ${Math.round(ms)} ms`);
  assert.equal(await page.evaluate(() => document.querySelectorAll('iframe[name^="mezzo-embed:"]').length), 0, 'the iframe is removed');
  assert.equal((await idp.stats()).tokenRequests, 0, 'nothing reached the code exchange');
  await page.evaluate(() => window.__client.close());
  await done(page);
});

test('from the attempt\'s own iframe, only a well-formed message with its id and state is taken, once', { timeout: 60000 }, async () => {
  const page = await b.context.newPage();
  await page.goto(`${app.origin}/`);
  await restored(page);
  await idp.resetStats();
  // The stalled server answers a page of its own origin, which never
  // returns: the attempt's iframe (its window object is what event.source
  // names) is then ours to post from, but from the wrong origin; before it
  // loads, it is about:blank, of our origin.
  await page.evaluate(async ([endpoint]) => {
    const config = await (await fetch('/config.json')).json();
    window.__client = await mezzo.createClient({ ...config, silentRestore: false, authorizationEndpoint: endpoint, silentTimeoutSeconds: 8 });
    window.__outcome = window.__client.loginSilently().then(() => 'ok', (e) => e.code);
  }, [`${stall.origin}/hang`]);
  await page.waitForFunction(() => document.querySelector('iframe[name^="mezzo-embed:"]'));
  const attempt = await page.evaluate(() => {
    const f = document.querySelector('iframe[name^="mezzo-embed:"]');
    return { name: f.name, state: new URL(f.src).searchParams.get('state') };
  });
  const id = attempt.name.slice('mezzo-embed:'.length);
  const base = `${app.silentRedirectUri}?code=forged&iss=${encodeURIComponent(idp.issuer)}`;
  const good = { type: 'mezzo:authorization-response', id, url: `${base}&state=${attempt.state}` };
  const table = [
    ['not an object', 'mezzo:authorization-response'],
    ['an array', [good]],
    ['another type', { ...good, type: 'mezzo:other' }],
    ['another id', { ...good, id: '0'.repeat(32) }],
    ['no id', { type: good.type, url: good.url }],
    ['url not a string', { ...good, url: { href: good.url } }],
    ['another state', { ...good, url: `${base}&state=forged-state` }],
    ['no state', { ...good, url: base }],
    ['state twice', { ...good, url: `${base}&state=${attempt.state}&state=${attempt.state}` }],
    ['another path', { ...good, url: `${app.origin}/elsewhere?code=forged&state=${attempt.state}` }],
    ['another origin', { ...good, url: `${stall.origin}/silent-callback?code=forged&state=${attempt.state}` }],
    ['too long', { ...good, url: `${good.url}&pad=${'x'.repeat(20000)}` }],
  ];
  // Posted from the attempt's iframe itself, still about:blank of our
  // origin while its navigation hangs.
  const own = await (await page.$('iframe[name^="mezzo-embed:"]')).contentFrame();
  assert.ok(own, 'the attempt\'s frame is there');
  await own.evaluate((msgs) => { for (const [, m] of msgs) parent.postMessage(m, '*'); }, table);
  await new Promise((resolve) => { setTimeout(resolve, 500); });
  assert.equal(await page.evaluate(() => Promise.race([window.__outcome, new Promise((r) => { setTimeout(() => r('pending'), 50); })])), 'pending', 'none of the bad messages was taken');
  assert.equal((await idp.stats()).tokenRequests, 0);
  // The good one is taken, goes to the code exchange (where the provider
  // refuses the forged code), and a replay after it changes nothing.
  const seen = errors.length;
  await own.evaluate((m) => { parent.postMessage(m, '*'); parent.postMessage(m, '*'); }, good);
  assert.equal(await page.evaluate(() => window.__outcome), 'invalid_grant');
  // The refused code exchange is the one console line this test causes
  // (Chrome logs the token endpoint's 400); nothing else may appear.
  const caused = errors.splice(seen);
  assert.ok(caused.every((e) => /status of 400/.test(e)), caused.join('\n'));
  await new Promise((resolve) => { setTimeout(resolve, 300); });
  assert.equal((await idp.stats()).authCodeRequests, 1, 'taken once: one code exchange');
  assert.equal(await page.evaluate(() => document.querySelectorAll('iframe[name^="mezzo-embed:"]').length), 0);
  await page.evaluate(() => window.__client.close());
  await done(page);
});

test('only the silent return page may be framed, by its own origin; every other page refuses frames', { timeout: 60000 }, async () => {
  for (const d of [app, shared]) {
    const csp = async (p) => (await fetch(`${d.origin}${p}`)).headers.get('content-security-policy');
    assert.match(await csp('/silent-callback'), /frame-ancestors 'self'/);
    for (const p of ['/', '/app.js', '/dist/mezzo.js', '/some/route']) assert.match(await csp(p), /frame-ancestors 'none'/, p);
  }
  // In the browser, in a context of its own (the refusal is a console error).
  const ctx = await b.browser.newContext();
  try {
    const page = await ctx.newPage();
    await page.goto(`${app.origin}/`);
    const framed = await page.evaluate(() => Promise.all(['/silent-callback', '/?framed'].map((src) => new Promise((resolve) => {
      const f = document.createElement('iframe');
      f.onload = () => { let ok = false; try { ok = f.contentWindow.location.pathname !== ''; } catch { ok = false; } resolve(ok && f.contentDocument?.querySelector('script[src="/dist/mezzo.js"]') !== null); };
      f.src = src;
      document.body.append(f);
    }))));
    assert.deepEqual(framed, [true, false], 'the return page loads in a frame, the app page is refused');
  } finally {
    await ctx.close();
  }
});

test('no CSP violation or uncaught error in any page or worker', { timeout: 60000 }, async () => {
  assert.deepEqual(violations, []);
  assert.deepEqual(errors, []);
});
