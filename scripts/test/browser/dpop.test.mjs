// DPoP (RFC 9449) in Chromium against the real provider (oidc-provider with
// its dpop feature, ../../dev/idp/) and its DPoP-protected resource: the
// demo app with dpop: true signs in, renews and calls the resource with
// DPoP-bound tokens; the key is non-extractable, made in the runtime and
// never stored (a key planted in IndexedDB is never used), lives as long as
// the runtime (a reload of the page host makes a new one; the SharedWorker
// keeps it across reloads), and is the one the tokens are bound to; a
// refresh token taken out of the page
// is useless without it; a provider that wants nonces costs one extra
// round trip; no proof is ever sent twice; silent (iframe) and popup
// sign-in bind their codes to the key too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startDemoServer } from '../../dev/demo-server.mjs';
import { startIdp } from '../../dev/idp/harness.mjs';
import { launch, recordCspViolations, cspViolations, CHROMIUM, signIn, logTokenRequests } from './browser.mjs';
import { redeemRefreshToken, until } from '../lib/common.mjs';
import { dpopKey, dpopProof, thumbprint } from '../lib/dpop-lib.mjs';

const TTL = 8; // access tokens renew after half their life

let demo; let idp; let nonceIdp; let browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `chromium missing at ${CHROMIUM}: run make test`);
  demo = await startDemoServer();
  [idp, nonceIdp] = await Promise.all([
    startIdp({ accessTokenTtl: TTL, redirectUris: [demo.redirectUri, demo.silentRedirectUri] }),
    startIdp({ accessTokenTtl: TTL, redirectUris: [demo.redirectUri], dpopNonce: true }),
  ]);
  browser = await launch();
  await recordCspViolations(browser.context);
});

after(async () => {
  await browser?.close();
  await Promise.all([idp?.stop(), nonceIdp?.stop()]);
  await demo?.close();
});

/**
 * configure points the demo at provider p with dpop on (runtime: 'page' so
 * that page.route sees the token requests; one test runs the default
 * shared worker), and returns the token endpoint.
 */
async function configure(p, extra = {}) {
  const discovery = await p.discovery();
  demo.setConfig({ issuer: p.issuer, clientId: p.clientId, redirectUri: demo.redirectUri, dpop: true, resourceEndpoint: p.resource, runtime: 'page', ...extra });
  await p.resetStats();
  return discovery.token_endpoint;
}

/**
 * openPage opens a page that records its errors on the app's origin and
 * logs every token request it makes: {form, dpop, status, reply}.
 */
async function openPage(tokenEndpoint) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => { if (page.url().startsWith(demo.origin)) errors.push(`pageerror: ${e.message}`); });
  page.on('console', (m) => { if (m.type() === 'error' && page.url().startsWith(demo.origin)) errors.push(`console: ${m.text()}`); });
  const traffic = await logTokenRequests(page, tokenEndpoint);
  return { page, traffic, errors };
}

const claimsOf = (proof) => JSON.parse(Buffer.from(proof.split('.')[1], 'base64url').toString());
const headerOf = (proof) => JSON.parse(Buffer.from(proof.split('.')[0], 'base64url').toString());

/** callApi clicks the demo's API button and returns what it shows. */
async function callApi(page) {
  await page.click('#call-api');
  await page.waitForFunction(() => /^HTTP \d+/.test(document.querySelector('#api-result')?.textContent ?? ''));
  return page.evaluate(() => ({
    result: document.querySelector('#api-result').textContent,
    tokenType: document.querySelector('#api-token-type').textContent,
    jkt: document.querySelector('#api-jkt').textContent,
    thumbprint: document.querySelector('#dpop-thumbprint').textContent,
    match: document.querySelector('#api-jkt-match').dataset.match,
  }));
}

/**
 * watchAuthorizations collects the query of every authorization request
 * that target (a page or the whole context: a popup's too) sends to
 * endpoint, not the provider's resumes after its form (/auth/<uid>);
 * stop() ends the watch.
 */
function watchAuthorizations(target, endpoint) {
  const seen = [];
  const onRequest = (r) => {
    const u = new URL(r.url());
    if (`${u.origin}${u.pathname}` === endpoint) seen.push(u.searchParams);
  };
  target.on('request', onRequest);
  return { seen, stop: () => target.off('request', onRequest) };
}

/** pageThumbprint is the thumbprint a new client of the page's config reports: its runtime's key's. */
const pageThumbprint = (page) => page.evaluate(async () => {
  const { userinfoEndpoint, resourceEndpoint, ...options } = await (await fetch('/config.json')).json();
  const c = await mezzo.createClient(options);
  try { return await c.getDpopThumbprint(); } finally { c.close(); }
});

test('sign-in, renewal and client.fetch with DPoP-bound tokens; cnf.jkt is the key\'s thumbprint', async () => {
  const tokenEndpoint = await configure(idp);
  const { page, traffic, errors } = await openPage(tokenEndpoint);
  try {
    await signIn(page, demo.origin, idp);
    const [exchange] = traffic;
    assert.equal(exchange.form.get('grant_type'), 'authorization_code');
    assert.equal(exchange.reply.token_type, 'DPoP', 'RFC 9449 §5: a DPoP token');
    assert.equal(headerOf(exchange.dpop).typ, 'dpop+jwt');
    const jkt = thumbprint(headerOf(exchange.dpop).jwk);
    const api = await callApi(page);
    assert.deepEqual(api, { result: api.result, tokenType: 'DPoP', jkt, thumbprint: jkt, match: 'true' }, 'RFC 9449 §6.1: cnf.jkt is the key');
    assert.match(api.result, /^HTTP 200/);

    await until(() => traffic.some((t) => t.done && t.form.get('grant_type') === 'refresh_token'), 15000, 'a renewal');
    const renewal = traffic.find((t) => t.form.get('grant_type') === 'refresh_token');
    assert.equal(renewal.status, 200);
    assert.equal(renewal.reply.token_type, 'DPoP');
    assert.equal(thumbprint(headerOf(renewal.dpop).jwk), jkt, 'renewed with the same key');
    assert.equal((await callApi(page)).match, 'true', 'the renewed token is bound to it too');
    const stats = await idp.stats();
    assert.equal(stats.resourceAccepted.DPoP, 2);
    assert.equal(stats.resourceAccepted.Bearer, 0);
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

/**
 * plantKey does in page what an injected script could against a key
 * store: a key pair whose private half it keeps, re-imported as
 * non-extractable and stored where mezzo kept its keys before (IndexedDB
 * mezzo-dpop/keys, under the client's name). It returns the planted key's
 * public JWK.
 */
const plantKey = (page, name) => page.evaluate(async (keyName) => {
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  const attacker = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const privateKey = await crypto.subtle.importKey('jwk', await crypto.subtle.exportKey('jwk', attacker.privateKey), alg, false, ['sign']);
  const req = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
  const open = indexedDB.open('mezzo-dpop', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('keys');
  const db = await req(open);
  const tx = db.transaction('keys', 'readwrite');
  tx.objectStore('keys').put({ privateKey, publicKey: attacker.publicKey, created: Date.now() }, keyName);
  await new Promise((resolve) => { tx.oncomplete = resolve; });
  db.close();
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', attacker.publicKey);
  return { kty, crv, x, y };
}, name);

/**
 * storedInPage is what the app's origin keeps in the page's storage:
 * localStorage, sessionStorage, document.cookie, and every IndexedDB
 * database with its records' keys.
 */
const storedInPage = (page) => page.evaluate(async () => {
  const dump = (st) => Array.from({ length: st.length }, (_, i) => `${st.key(i)}=${st.getItem(st.key(i))}`);
  const req = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
  const idb = {};
  for (const { name } of await indexedDB.databases()) {
    const db = await req(indexedDB.open(name));
    idb[name] = {};
    for (const store of db.objectStoreNames) idb[name][store] = (await req(db.transaction(store).objectStore(store).getAllKeys())).map(String);
    db.close();
  }
  return { local: dump(localStorage), session: dump(sessionStorage), cookie: document.cookie, idb };
});

test('the key: made in the runtime, non-extractable, never stored; a key planted in IndexedDB is never used; a refresh token taken out is refused without the key', async () => {
  const tokenEndpoint = await configure(idp);
  const { page, traffic } = await openPage(tokenEndpoint);
  // Every key pair the page's runtime makes, seen through WebCrypto itself.
  await page.addInitScript(() => {
    const generateKey = crypto.subtle.generateKey;
    window.__keysMade = [];
    crypto.subtle.generateKey = async function spy(...args) {
      const pair = await generateKey.apply(this, args);
      window.__keysMade.push(pair);
      return pair;
    };
  });
  try {
    await page.goto(`${demo.origin}/`);
    await page.waitForSelector('#status[data-state="signed-out"]');
    const keyName = JSON.stringify([idp.issuer, idp.clientId]);
    const planted = thumbprint(await plantKey(page, keyName));
    await signIn(page, demo.origin, idp);
    const jkt = await pageThumbprint(page);
    assert.notEqual(jkt, planted, 'the planted key is not the client\'s');
    const proofs = traffic.map((t) => thumbprint(headerOf(t.dpop).jwk));
    assert.ok(proofs.length > 0 && proofs.every((p) => p === jkt), 'the provider sees proofs only by the runtime\'s own key');
    const made = await page.evaluate(async () => Promise.all(window.__keysMade.map(async ({ privateKey, publicKey }) => {
      let exported = 'exported';
      try { await crypto.subtle.exportKey('jwk', privateKey); } catch (e) { exported = e.name; }
      let pkcs8 = 'exported';
      try { await crypto.subtle.exportKey('pkcs8', privateKey); } catch (e) { pkcs8 = e.name; }
      const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', publicKey);
      return { extractable: privateKey.extractable, exported, pkcs8, jwk: { kty, crv, x, y } };
    })));
    assert.equal(made.length, 1, 'one key made, by the runtime');
    const [{ jwk, ...privateHalf }] = made;
    assert.deepEqual(privateHalf, { extractable: false, exported: 'InvalidAccessError', pkcs8: 'InvalidAccessError' }, 'the private key can sign, never be read');
    assert.equal(thumbprint(jwk), jkt);
    assert.deepEqual(await storedInPage(page), { local: [], session: [], cookie: '', idb: { 'mezzo-dpop': { keys: [keyName] } } },
      'nothing stored: the planted record alone, untouched');

    // A reload starts a new runtime in the page: a new key, as the session
    // it bound is gone with the old one.
    await page.reload();
    await page.waitForSelector('#status[data-state]');
    assert.notEqual(await pageThumbprint(page), jkt, 'the key did not outlive its runtime');

    // The refresh token, copied out of the page (here from its traffic),
    // replayed without the key, then with a proof of another key.
    const rt = traffic.at(-1).reply.refresh_token;
    assert.ok(rt, 'the sign-in got a refresh token');
    const bare = await redeemRefreshToken(tokenEndpoint, idp.clientId, rt);
    assert.equal(bare.status, 400, 'RFC 9449 §5: no proof, no refresh');
    const other = await dpopKey();
    const forged = await fetch(tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await dpopProof(other, { htm: 'POST', htu: tokenEndpoint }) },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt, client_id: idp.clientId }),
    });
    assert.equal(forged.status, 400, 'another key\'s proof is refused');
    assert.equal((await forged.json()).error, 'invalid_grant');
  } finally {
    // The planted database goes, so that later tests see the origin's own storage.
    await page.evaluate(() => new Promise((resolve) => {
      const q = indexedDB.deleteDatabase('mezzo-dpop');
      q.onsuccess = resolve; q.onerror = resolve; q.onblocked = resolve;
    })).catch(() => {});
    await page.close();
  }
});

test('a provider that wants nonces: exactly one extra round trip at the token endpoint and at the resource', async () => {
  const tokenEndpoint = await configure(nonceIdp);
  const { page, traffic, errors } = await openPage(tokenEndpoint);
  try {
    await signIn(page, demo.origin, nonceIdp);
    const codes = traffic.filter((t) => t.form.get('grant_type') === 'authorization_code');
    assert.deepEqual(codes.map((t) => [t.status, t.reply?.error ?? t.reply?.token_type]), [[400, 'use_dpop_nonce'], [200, 'DPoP']]);
    assert.equal(claimsOf(codes[1].dpop).nonce !== undefined, true, 'RFC 9449 §8: the retry carries the nonce');
    assert.equal((await callApi(page)).match, 'true');
    assert.equal((await callApi(page)).match, 'true');
    const stats = await nonceIdp.stats();
    assert.equal(stats.tokenUseDpopNonce, 1, 'one challenge at the token endpoint');
    assert.equal(stats.resourceRefused.use_dpop_nonce ?? 0, 1, 'one challenge at the resource, then its nonce is used');
    assert.equal(stats.resourceAccepted.DPoP, 2);
    // Chromium logs each challenge it loaded (the 400 and the 401); nothing else.
    assert.deepEqual(errors.map((e) => e.replace(/\d{3} \(.*\)$/, 'N')).sort(), Array(2).fill('console: Failed to load resource: the server responded with a status of N'));
    assert.deepEqual(errors.map((e) => e.match(/\d{3}/)[0]).sort(), ['400', '401']);
  } finally {
    await page.close();
  }
});

test('silent sign-in with DPoP: the hidden iframe asks for a code bound to the key (dpop_jkt), and its exchange gets DPoP-bound tokens', async () => {
  const tokenEndpoint = await configure(idp, { silentRedirectUri: demo.silentRedirectUri });
  const { authorization_endpoint: authorizationEndpoint } = await idp.discovery();
  const { page, traffic, errors } = await openPage(tokenEndpoint);
  const { seen: authorizations } = watchAuthorizations(page, authorizationEndpoint); // the iframe's included
  try {
    await signIn(page, demo.origin, idp); // the provider's session cookie is set
    const signedIn = traffic.length;
    authorizations.length = 0;
    const silent = await page.evaluate(async () => {
      const { userinfoEndpoint, resourceEndpoint, ...options } = await (await fetch('/config.json')).json();
      const c = await mezzo.createClient(options); // the page host: a second client, with no session of its own
      try {
        await c.loginSilently();
        const res = await c.fetch(resourceEndpoint);
        return { frames: document.querySelectorAll('iframe').length, thumbprint: await c.getDpopThumbprint(), status: res.status, body: await res.json() };
      } finally { c.close(); }
    });
    assert.equal(authorizations.length, 1, 'one authorization request, the hidden iframe\'s');
    assert.equal(authorizations[0].get('prompt'), 'none');
    assert.equal(authorizations[0].get('dpop_jkt'), silent.thumbprint, 'RFC 9449 §10: the code is bound to the key');
    const exchanges = traffic.slice(signedIn).filter((t) => t.form.get('grant_type') === 'authorization_code'); // the demo's own client may renew meanwhile
    assert.deepEqual(exchanges.map((t) => [t.status, t.reply?.token_type]), [[200, 'DPoP']], 'one code exchange, DPoP-bound');
    assert.equal(thumbprint(headerOf(exchanges[0].dpop).jwk), silent.thumbprint, 'proven with that key');
    assert.deepEqual({ ...silent, body: { token_type: silent.body.token_type, cnf: silent.body.cnf } }, { frames: 0, thumbprint: silent.thumbprint, status: 200, body: { token_type: 'DPoP', cnf: { jkt: silent.thumbprint } } }, 'the resource takes the silently got token with a proof by the key; the iframe is removed');
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('1000 client.fetch calls in the shared worker: 1000 proofs, no jti twice, every one accepted; the session survives a reload; forgetDpopKey makes a new key', async () => {
  const tokenEndpoint = await configure(idp, { runtime: undefined }); // the default: a shared worker
  const { page, errors } = await openPage(tokenEndpoint);
  try {
    await signIn(page, demo.origin, idp);
    assert.equal(await page.getAttribute('#status', 'data-runtime'), 'shared-worker');
    await idp.resetStats();
    const statuses = await page.evaluate(async (resource) => {
      const { userinfoEndpoint, resourceEndpoint, ...options } = await (await fetch('/config.json')).json();
      const c = await mezzo.createClient(options);
      const out = {};
      for (let i = 0; i < 1000; i += 20) {
        const batch = await Promise.all(Array.from({ length: 20 }, () => c.fetch(resource).then((r) => r.status)));
        for (const s of batch) out[s] = (out[s] ?? 0) + 1;
      }
      c.close();
      return out;
    }, idp.resource);
    assert.deepEqual(statuses, { 200: 1000 });
    const stats = await idp.stats();
    assert.equal(stats.resourceProofs, 1000);
    assert.equal(stats.resourceDistinctProofs, 1000, 'RFC 9449 §11.1: no proof reused');
    await page.reload();
    await page.waitForSelector('#status[data-state="signed-in"]');
    assert.equal((await callApi(page)).match, 'true', 'a reload keeps the session and the key (the worker holds them)');
    assert.deepEqual(errors, []);
    assert.deepEqual(await storedInPage(page), { local: [], session: [], cookie: '', idb: {} }, 'nothing in web storage, cookies or IndexedDB after a DPoP session');

    // "Forget this device" in the worker: the key is forgotten, the session
    // ends, and the next client makes a new key.
    const before = await pageThumbprint(page);
    await Promise.all([
      page.waitForURL((u) => u.href.startsWith(idp.issuer)),
      page.evaluate(async () => {
        const { userinfoEndpoint, resourceEndpoint, ...options } = await (await fetch('/config.json')).json();
        const c = await mezzo.createClient(options);
        await c.logout({ forgetDpopKey: true, revoke: false });
      }),
    ]);
    await page.goto(`${demo.origin}/`);
    await page.waitForSelector('#status[data-state="signed-out"]');
    const after = await pageThumbprint(page);
    assert.ok(after && after !== before, 'a new key after forgetDpopKey');
  } finally {
    await page.close();
  }
});

test('popup sign-in with DPoP on the SharedWorker: the code is bound to the worker\'s key, exchanged there with a proof, and the token is DPoP-bound', async () => {
  const tokenEndpoint = await configure(idp, { runtime: undefined, silentRedirectUri: demo.silentRedirectUri }); // a new worker session (new options)
  const { authorization_endpoint: authorizationEndpoint } = await idp.discovery();
  const { page, errors } = await openPage(tokenEndpoint);
  const watch = watchAuthorizations(browser.context, authorizationEndpoint); // the popup's included
  const authorizations = watch.seen;
  try {
    await page.goto(`${demo.origin}/`);
    await page.waitForSelector('#status[data-state="signed-out"]');
    assert.equal(await page.getAttribute('#status', 'data-runtime'), 'shared-worker');
    const [popup] = await Promise.all([browser.context.waitForEvent('page'), page.click('#login-popup')]);
    // The provider's form, unless its session from an earlier test answers at once.
    const form = await popup.waitForSelector('input[name="login"]', { timeout: 5000 }).catch(() => null);
    if (form) {
      await popup.fill('input[name="login"]', idp.user.login);
      await popup.fill('input[name="password"]', idp.user.password);
      await popup.click('button[type="submit"]');
    }
    await page.waitForSelector('#status[data-state="signed-in"]', { timeout: 15000 });
    await until(() => popup.isClosed(), 5000, 'the popup closed');
    const jkt = await pageThumbprint(page);
    assert.equal(authorizations.length, 1, 'one authorization request, the popup\'s');
    assert.equal(authorizations[0].get('dpop_jkt'), jkt, 'RFC 9449 §10: the code is bound to the worker\'s key');
    const stats = await idp.stats();
    assert.equal(stats.authCodeRequests, 1, 'one code exchange, in the worker');
    assert.equal(stats.tokenDpopProofs, 1, 'with a proof');
    const api = await callApi(page);
    assert.deepEqual([api.tokenType, api.jkt, api.match], ['DPoP', jkt, 'true'], 'RFC 9449 §6.1: the token is bound to that key');
    assert.deepEqual(errors, []);
  } finally {
    watch.stop();
    await page.close();
  }
});
