// The demo app in a real browser (Debian's chromium) against the real
// identity provider (oidc-provider), end to end, with the runtime in the
// page (runtime: 'page'); tabs.test.mjs covers the worker hosts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startDemoServer } from '../../dev/demo-server.mjs';
import { startIdp } from '../../dev/idp/harness.mjs';
import { launch, recordCspViolations, cspViolations as recorded, CHROMIUM, signIn as signInThroughForm, logOut, logTokenRequests } from './browser.mjs';
import { redeemRefreshToken, until } from '../lib/common.mjs';

const TTL = 6; // access tokens renew after half their life: 3 s

let demo; let idp; let browser; let page; let tokenEndpoint;
const appErrors = []; // uncaught errors and CSP violations on the app's origin
let tokenTraffic; // {form, status, reply, done} of every token request the page made (logTokenRequests)

before(async () => {
  assert.ok(existsSync(CHROMIUM), `chromium missing at ${CHROMIUM}: run make test (it installs Debian's chromium) or apt-get install chromium`);
  assert.ok(existsSync(new URL('../../../web/dist/mezzo.wasm', import.meta.url)), 'web/dist missing: run make build');
  demo = await startDemoServer();
  idp = await startIdp({ accessTokenTtl: TTL, redirectUris: [demo.redirectUri] });
  const discovery = await idp.discovery();
  tokenEndpoint = discovery.token_endpoint;
  demo.setConfig({ issuer: idp.issuer, clientId: idp.clientId, redirectUri: demo.redirectUri, userinfoEndpoint: discovery.userinfo_endpoint, runtime: 'page' });

  browser = await launch();
  await recordCspViolations(browser.context);
  page = await browser.context.newPage();
  page.on('pageerror', (e) => { if (page.url().startsWith(demo.origin)) appErrors.push(`pageerror: ${e.message}`); });
  page.on('console', (m) => {
    if (m.type() === 'error' && page.url().startsWith(demo.origin)) appErrors.push(`console: ${m.text()}`);
  });
  tokenTraffic = await logTokenRequests(page, tokenEndpoint);
});

after(async () => {
  await browser?.close();
  await idp?.stop();
  await demo?.close();
});

/** waitTraffic waits until n token requests matching pred have their replies logged (renewals are timer-driven); it fails after 10 s. */
async function waitTraffic(pred, n = 1) {
  const done = () => tokenTraffic.filter((t) => t.done && pred(t));
  await until(() => done().length >= n, 10000, () => `${n} token request(s) with their replies (${done().length} logged)`);
  return done();
}
const grant = (g) => (t) => t.form.get('grant_type') === g;

const signIn = () => signInThroughForm(page, demo.origin, idp);

async function cspViolations() {
  return page.url().startsWith(demo.origin) ? recorded(page) : [];
}

test('logs in through the provider form and lands back signed in', async () => {
  await signIn();
  const claims = JSON.parse(await page.textContent('#claims'));
  assert.equal(claims.sub, 'demo-user-1');
  assert.equal(claims.email, idp.user.login);
  assert.equal(claims.iss, idp.issuer);
  assert.equal(await page.textContent('#user-name'), 'Demo User');
  const url = new URL(page.url());
  for (const p of ['code', 'state', 'iss']) assert.equal(url.searchParams.has(p), false, `${p} removed from the address bar`);
  const remaining = Number(await page.textContent('#expires-in'));
  assert.ok(remaining > 0 && remaining <= TTL, `countdown shows the token's remaining life (${remaining})`);
  const [exchange] = await waitTraffic(grant('authorization_code'));
  assert.ok(exchange, 'the code was exchanged');
  assert.equal(exchange.status, 200);
  assert.equal(exchange.form.has('client_secret'), false);
  assert.match(exchange.form.get('code_verifier'), /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(await cspViolations(), []);
});

/**
 * assertNothingStored checks that no token the page received is in
 * localStorage, sessionStorage, document.cookie, IndexedDB or any cookie of
 * the browser for the app's origin.
 */
async function assertNothingStored(when) {
  const secrets = tokenTraffic.flatMap((t) => [t.reply?.access_token, t.reply?.refresh_token, t.reply?.id_token]).filter(Boolean);
  assert.ok(secrets.length >= 3);
  const stored = await page.evaluate(async () => {
    const dump = (s) => Array.from({ length: s.length }, (_, i) => `${s.key(i)}=${s.getItem(s.key(i))}`);
    return {
      local: dump(localStorage),
      session: dump(sessionStorage),
      cookie: document.cookie,
      idb: (await indexedDB.databases()).map((d) => d.name),
    };
  });
  assert.deepEqual(stored, { local: [], session: [], cookie: '', idb: [] }, `nothing stored ${when}`);
  // Cookies ignore ports, so the provider's own session cookies show up for
  // 127.0.0.1 too: none of them may carry a token.
  for (const c of await browser.context.cookies(demo.origin)) {
    for (const secret of secrets) assert.ok(!c.value.includes(secret) && !secret.includes(c.value), `cookie ${c.name} holds no token ${when}`);
  }
}

test('no token is stored anywhere but memory', async () => {
  await waitTraffic(grant('authorization_code'));
  await assertNothingStored('after the sign-in');
});

test('client.fetch calls the protected userinfo endpoint', async () => {
  await page.click('#call-api');
  await page.waitForFunction(() => document.querySelector('#api-result').textContent.startsWith('HTTP'));
  const text = await page.textContent('#api-result');
  assert.match(text, /^HTTP 200/);
  assert.match(text, /"sub": "demo-user-1"/);
});

test('renews automatically and rotates the refresh token', async () => {
  const [{ reply: first }] = await waitTraffic(grant('authorization_code'));
  const issued = await page.$$eval('#events li', (lis) => lis.filter((li) => li.textContent.includes('token issued')).length);
  assert.equal(issued, 1, 'the sign-in token is logged as issued, not renewed');
  assert.ok(first?.refresh_token, 'the login reply carried a refresh token');
  await page.waitForFunction(() => [...document.querySelectorAll('#events li')].filter((li) => li.textContent.includes('token renewed')).length >= 2, null, { timeout: TTL * 3000 });
  const refreshes = await waitTraffic(grant('refresh_token'), 2);
  assert.ok(refreshes.length >= 2, 'at least two automatic renewals');
  assert.equal(refreshes[0].form.get('refresh_token'), first.refresh_token, 'first renewal uses the login refresh token');
  assert.equal(refreshes[1].form.get('refresh_token'), refreshes[0].reply.refresh_token, 'the next uses the rotated one');
  assert.notEqual(refreshes[0].reply.refresh_token, first.refresh_token);
  const sent = refreshes.map((r) => r.form.get('refresh_token'));
  assert.equal(new Set(sent).size, sent.length, 'no refresh token is ever sent twice');
  assert.equal(await page.getAttribute('#status', 'data-state'), 'signed-in');
  await assertNothingStored('after two renewals');

  // The provider rejects the old, rotated refresh token.
  const res = await redeemRefreshToken(tokenEndpoint, idp.clientId, first.refresh_token);
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error, 'invalid_grant');
});

test('reload loses the in-memory session and a new login works', async () => {
  await page.reload();
  await page.waitForSelector('#status[data-state="signed-out"]');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await signIn();
  assert.equal(JSON.parse(await page.textContent('#claims')).sub, 'demo-user-1');
});

test('logout ends the provider session', async () => {
  await signIn();
  await logOut(page, demo.origin, idp);
  // Signing in again needs the password: the provider's session is gone.
  await page.click('#login');
  await page.waitForSelector('input[name="password"]', { timeout: 10000 });
  assert.ok(page.url().startsWith(idp.issuer));
});

test('a tampered callback (changed state) is rejected with no token request', async () => {
  // After the logout above the provider asks for the password again. The
  // form is posted from the browser context (same cookies) without letting
  // the page follow the final redirect, so the test holds the real
  // callback URL and delivers a forged one instead.
  await page.goto(`${demo.origin}/`);
  await page.waitForSelector('#status[data-state="signed-out"]');
  await page.click('#login');
  await page.waitForSelector('input[name="password"]');
  let res = await page.request.post(new URL(await page.getAttribute('form', 'action'), page.url()).href, {
    form: { login: idp.user.login, password: idp.user.password }, maxRedirects: 0,
  });
  let callback = null;
  for (let hops = 0; hops < 10 && !callback; hops++) {
    const location = new URL(res.headers().location, res.url()).href;
    if (location.startsWith(demo.origin)) callback = location;
    else res = await page.request.get(location, { maxRedirects: 0 });
  }
  assert.ok(callback, 'the provider redirected back with a code');
  const forged = new URL(callback);
  assert.ok(forged.searchParams.get('code'));
  forged.searchParams.set('state', 'forged');

  const before = tokenTraffic.length;
  await page.goto(forged.href);
  await page.waitForSelector('#error-box:not([hidden])', { timeout: 15000 });
  assert.equal(await page.textContent('#error-code'), 'state_mismatch');
  assert.equal(tokenTraffic.length, before, 'no token request after a rejected callback');
  assert.equal(await page.getAttribute('#status', 'data-state'), 'signed-out');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'the transaction is gone');
  assert.equal(new URL(page.url()).searchParams.has('code'), false, 'the code was removed from the address bar');
});

test('the app raised no CSP violation and no uncaught error', async () => {
  assert.deepEqual(appErrors, []); // Chrome reports CSP violations on the console too
  assert.deepEqual(await cspViolations(), []);
});
