// The demo app in a real browser (Debian's chromium) against the Intermezzo
// profile (scripts/dev/intermezzo.mjs: explicit endpoints under
// /api/id/v1/auth/, iss "Screening Eagle ID", HS256 ID tokens, mezzo in
// "tls" mode), end to end: the sign-in form, Intermezzo's claims, renewal
// with rotation, an error in Intermezzo's shape, logout with revocation.
// The provider runs in this process, so its own log is the record of what
// the page sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startDemoServer } from '../../dev/demo-server.mjs';
import { startIntermezzo, clientOptions, INTERMEZZO_USER, ISSUER } from '../../dev/intermezzo.mjs';
import { openApp, cspViolations, CHROMIUM } from './browser.mjs';
import { redeemRefreshToken } from '../lib/common.mjs';

const TTL = 4; // access tokens renew after half their life: 2 s
const LONG_TTL = 3600; // no renewal under way while a test signs in or out

let demo; let tp; let browser; let page;
let appErrors; // uncaught errors and console errors on the app's origin

before(async () => {
  assert.ok(existsSync(CHROMIUM), `chromium missing at ${CHROMIUM}: run make test (it installs Debian's chromium) or apt-get install chromium`);
  assert.ok(existsSync(new URL('../../../web/dist/mezzo.wasm', import.meta.url)), 'web/dist missing: run make build');
  demo = await startDemoServer();
  tp = await startIntermezzo({ accessTokenTtl: TTL, redirectUris: [demo.redirectUri] });
  // The page host: these scenarios end a session by reloading the page,
  // which a SharedWorker's session would outlive (tabs.test.mjs covers the
  // worker hosts).
  demo.setConfig({ ...clientOptions(tp, demo.redirectUri), runtime: 'page' });

  ({ browser, page, errors: appErrors } = await openApp(demo.origin));
});

after(async () => {
  await browser?.close();
  await tp?.stop();
  await demo?.close();
});

/** tokenRequests lists the provider's log of token requests of grant type. */
const tokenRequests = (grantType) => tp.requests.filter((r) => r.path === tp.paths.token && r.form.get('grant_type') === grantType);
const renewals = () => page.$$eval('#events li', (lis) => lis.filter((li) => li.textContent.includes('token renewed')).length);

/** signIn starts a login from the demo and fills the provider's form when it asks. */
async function signIn({ form }) {
  await page.goto(`${demo.origin}/`);
  await page.waitForSelector('#status[data-state="signed-out"]');
  await page.click('#login');
  await page.waitForURL((u) => u.href.startsWith(tp.origin) || u.href.startsWith(demo.origin + '/?'));
  assert.equal(page.url().startsWith(tp.origin), form, form ? 'the provider asks for the password' : 'the provider session signs in without a form');
  if (form) {
    await page.fill('input[name="login"]', INTERMEZZO_USER.login);
    await page.fill('input[name="password"]', INTERMEZZO_USER.password);
    await page.click('button[type="submit"]');
  }
}

test("logs in through the provider's form; Intermezzo's claims are shown", async () => {
  await signIn({ form: true });
  await page.waitForSelector('#status[data-state="signed-in"]', { timeout: 15000 });
  const claims = JSON.parse(await page.textContent('#claims'));
  assert.equal(claims.iss, ISSUER);
  assert.equal(claims.sub, INTERMEZZO_USER.sub);
  assert.equal(claims.aud, tp.clientId);
  assert.deepEqual(claims.scp, ['openid', 'profile', 'email', 'offline_access']);
  assert.deepEqual(claims.scopes, ['inspect:read', 'inspect:write']);
  assert.equal(claims.userID, 4711);
  assert.equal(claims.userRegion, 'eu');
  assert.equal(claims.country_code, 'CH');
  assert.match(claims.picture, /^https:\/\//);
  assert.equal(await page.textContent('#user-name'), 'Demo User', 'first_name and last_name');
  for (const p of ['code', 'state', 'iss']) assert.equal(new URL(page.url()).searchParams.has(p), false, `${p} removed from the address bar`);

  const [exchange] = tokenRequests('authorization_code');
  assert.match(exchange.form.get('code_verifier'), /^[A-Za-z0-9_-]{43}$/, 'PKCE, checked by the provider');
  assert.equal(exchange.form.has('client_secret'), false);
  const [header] = tp.issued.idTokens[0].split('.');
  assert.equal(JSON.parse(Buffer.from(header, 'base64url')).alg, 'HS256');
  assert.deepEqual(await cspViolations(page), []);
});

test('client.fetch calls the protected userinfo endpoint (CORS preflight included)', async () => {
  await page.click('#call-api');
  await page.waitForFunction(() => document.querySelector('#api-result').textContent.startsWith('HTTP'));
  const text = await page.textContent('#api-result');
  assert.match(text, /^HTTP 200/);
  assert.match(text, /"userID": 4711/);
  const calls = tp.requests.filter((r) => r.path === tp.paths.userinfo).map((r) => `${r.method} ${r.authorization ? 'Bearer' : '-'}`);
  assert.deepEqual(calls, ['OPTIONS -', 'GET Bearer'], 'the preflight, then the call with the token');
});

test('renews automatically and rotates the refresh token; the provider refuses the old one', async () => {
  await page.waitForFunction(() => [...document.querySelectorAll('#events li')].filter((li) => li.textContent.includes('token renewed')).length >= 2, null, { timeout: TTL * 4000 });
  const login = tp.issued.refreshTokens[0];
  const refreshes = tokenRequests('refresh_token');
  assert.ok(refreshes.length >= 2 && (await renewals()) >= 2, 'two automatic renewals');
  assert.equal(refreshes[0].form.get('refresh_token'), login, 'the first renewal uses the login refresh token');
  assert.equal(refreshes[1].form.get('refresh_token'), tp.issued.refreshTokens[1], 'the next uses the rotated one');
  const sent = refreshes.map((r) => r.form.get('refresh_token'));
  assert.equal(new Set(sent).size, sent.length, 'no refresh token is sent twice');
  assert.equal(await page.getAttribute('#status', 'data-state'), 'signed-in');

  assert.equal(tp.live(login), false);
  const res = await redeemRefreshToken(tp.url('token'), tp.clientId, login);
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { error: 'invalid_grant', errorDescription: 'refresh token invalid or already used' });
});

test("an error in Intermezzo's shape is shown with its code and description", async () => {
  tp.accessTokenTtl = LONG_TTL;
  await page.goto(`${demo.origin}/`); // a reload: the session and its renewals are gone
  await page.waitForSelector('#status[data-state="signed-out"]');
  tp.fault('token', { status: 403, body: JSON.stringify({ error: 'Forbidden', errorDescription: 'permission denied' }) });
  const before = tokenRequests('authorization_code').length;
  await signIn({ form: false });
  await page.waitForSelector('#error-box:not([hidden])', { timeout: 15000 });
  assert.equal(await page.textContent('#error-code'), 'Forbidden');
  assert.equal(await page.textContent('#error-description'), 'permission denied');
  assert.equal(await page.getAttribute('#status', 'data-state'), 'signed-out');
  assert.equal(tokenRequests('authorization_code').length, before + 1, 'one code exchange, not retried');
});

test('logout revokes the refresh token and ends the provider session', async () => {
  const issuedBefore = tp.issued.refreshTokens.length;
  await signIn({ form: false });
  await page.waitForSelector('#status[data-state="signed-in"]', { timeout: 15000 });
  const refreshToken = tp.issued.refreshTokens.at(-1);
  const accessToken = tp.issued.accessTokens.at(-1);
  assert.ok(tp.live(refreshToken) && tp.live(accessToken));
  const revokes = tp.count('revoke');
  await page.click('#logout');
  await page.waitForURL((u) => u.href.startsWith(demo.origin) && !u.href.includes('code='));
  await page.waitForSelector('#status[data-state="signed-out"]');
  assert.equal(tp.count('revoke'), revokes + 1);
  const revoke = tp.requests.filter((r) => r.path === tp.paths.revoke).at(-1);
  assert.equal(revoke.form.get('token'), refreshToken, 'the refresh token was revoked');
  assert.equal(tp.live(refreshToken), false);
  assert.equal(tp.live(accessToken), false, 'and the access token of its grant');
  assert.deepEqual(tp.issued.refreshTokens.slice(issuedBefore).filter(tp.live), [], 'no refresh token of this session left alive');
  assert.deepEqual(await cspViolations(page), []);
  const end = tp.requests.filter((r) => r.path === tp.paths.logout).at(-1);
  assert.ok(new URL(end.url).searchParams.get('id_token_hint'), 'end-session with id_token_hint');
  // Signing in again needs the password: the provider's session is gone.
  await page.click('#login');
  await page.waitForSelector('input[name="password"]', { timeout: 10000 });
  assert.ok(page.url().startsWith(tp.origin));
});

test('the app raised no uncaught error', async () => {
  // The one expected failure: the 403 of the error test, which Chrome logs.
  const unexpected = appErrors.filter((e) => !/status of 403/.test(e));
  assert.deepEqual(unexpected, [], String(appErrors));
  assert.ok(appErrors.length - unexpected.length <= 1, String(appErrors));
});
