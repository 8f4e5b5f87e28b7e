// The worker hosts in a real browser (Debian's chromium): the demo app in
// several tabs sharing one SharedWorker runtime (runtime: 'auto'), and the
// dedicated-Worker host on its own. Token requests are counted by the
// provider itself (/__test/stats), since a worker's requests are not the
// page's to intercept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { startDemoServer } from '../../dev/demo-server.mjs';
import { startIdp } from '../../dev/idp/harness.mjs';
import { launchBrowser, recordCspViolations, cspViolations, watchErrors, watchWorkerErrors, signIn, logOut, workerSession, heapSnapshot, searchMemories, tokenReplies as workerTokenReplies, CHROMIUM } from './browser.mjs';
import { redeemRefreshToken } from '../lib/common.mjs';

const SHORT_TTL = 4; // seconds, for the renewal scenarios: renewed after 2 s
const WORKER_SCRIPT = new URL('../../../web/dist/mezzo-worker.js', import.meta.url);

// Two providers: one whose tokens outlive the test (so no renewal adds a
// token request to what a test counts), one with short-lived tokens. Each
// demo server is its own origin, so each has its own SharedWorker.
let idp; let idpShort; let shared; let stampede; let dedicated; let fresh; let b; let watcher; let workerWatch;
const errors = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `chromium missing at ${CHROMIUM}: run make test (it installs Debian's chromium) or apt-get install chromium`);
  assert.ok(existsSync(WORKER_SCRIPT), 'web/dist/mezzo-worker.js missing: run make build');
  [shared, stampede, dedicated, fresh] = await Promise.all([startDemoServer(), startDemoServer(), startDemoServer(), startDemoServer()]);
  [idp, idpShort] = await Promise.all([
    startIdp({ accessTokenTtl: 600, redirectUris: [shared.redirectUri, fresh.redirectUri] }),
    startIdp({ accessTokenTtl: SHORT_TTL, redirectUris: [stampede.redirectUri, dedicated.redirectUri] }),
  ]);
  shared.setConfig({ issuer: idp.issuer, clientId: idp.clientId, redirectUri: shared.redirectUri });
  stampede.setConfig({ issuer: idpShort.issuer, clientId: idpShort.clientId, redirectUri: stampede.redirectUri });
  dedicated.setConfig({ issuer: idpShort.issuer, clientId: idpShort.clientId, redirectUri: dedicated.redirectUri, runtime: 'worker' });
  fresh.setConfig({ issuer: idp.issuer, clientId: idp.clientId, redirectUri: fresh.redirectUri });
  b = await launchBrowser();
  await recordCspViolations(b.context);
  for (const d of [shared, stampede, dedicated, fresh]) watchErrors(b.context, d.origin, errors);
  watcher = await b.browser.newBrowserCDPSession();
  workerWatch = await watchWorkerErrors(watcher, 'http://127.0.0.1:', errors);
});

after(async () => {
  await b?.close();
  await Promise.all([idp?.stop(), idpShort?.stop()]);
  await Promise.all([shared, stampede, dedicated, fresh].map((d) => d?.close()));
});

/** open opens the demo of origin in a new tab and waits until it has started. */
async function open(origin) {
  const page = await b.context.newPage();
  await page.goto(`${origin}/`);
  await page.waitForSelector('#status:is([data-state="signed-in"], [data-state="signed-out"])');
  return page;
}

const state = (page) => page.getAttribute('#status', 'data-state');
/** tokenReplies is browser.mjs's, with the short tokens' patience (three lifetimes). */
const tokenReplies = (worker, provider, grantType, n) => workerTokenReplies(worker, provider, grantType, n, SHORT_TTL * 3000);
const tokenRequests = async (provider) => (await provider.stats()).tokenRequests;

/** getTokens calls getToken() n times at once in page, from a client of the demo's configuration, and returns the distinct answers (or error codes). */
const getTokens = (page, n, at = 0) => page.evaluate(async ([count, when]) => {
  const config = await (await fetch('/config.json')).json();
  const client = await mezzo.createClient(config);
  await new Promise((r) => { setTimeout(r, Math.max(0, when - Date.now())); });
  const answers = await Promise.all(Array.from({ length: count }, () => client.getToken().then((t) => `token:${t.length}:${t.slice(-8)}`, (e) => `error:${e.code}`)));
  client.close();
  return [...new Set(answers)];
}, [n, at]);

let tabs = [];
let stampedeTabs = [];

/** marks returns when page's mezzo:* start-up marks were made (ms since its navigation), null for those not made. */
const marks = (page) => page.evaluate(() => Object.fromEntries(['ready', 'compiled', 'started', 'module-ready']
  .map((n) => [n, performance.getEntriesByName(`mezzo:${n}`)[0]?.startTime ?? null])));

test('a signed-out page answers before the module is ready and starts it in the background; its login works, and the callback page finds the worker\'s runtime started', async () => {
  // A new origin: a worker of its own, started by this page.
  const page = await b.context.newPage();
  await page.goto(`${fresh.origin}/`);
  await page.waitForSelector('#status[data-state="signed-out"]');
  assert.equal(await page.getAttribute('#status', 'data-runtime'), 'shared-worker');
  await page.waitForFunction(() => performance.getEntriesByName('mezzo:module-ready').length > 0, null, { timeout: 15000 });
  const start = await marks(page);
  assert.ok(start.ready < start.compiled && start.compiled <= start.started && start.started <= start['module-ready'],
    `the client answered before the worker compiled the module, which started in the background: ${JSON.stringify(start)}`);

  await idp.resetStats();
  await signIn(page, fresh.origin, idp, { reload: false });
  assert.equal((await idp.stats()).authCodeRequests, 1);
  // The worker outlived the round trip to the provider (extendedLifetime):
  // the callback page's connection learnt that the Go program had started
  // before its client answered, and nothing was compiled or started again.
  const back = await marks(page);
  assert.ok(back.started !== null && back.started <= back.ready && back.ready <= back['module-ready'],
    `the callback page found the runtime started: ${JSON.stringify(back)}`);
  await page.close();
});

test('two tabs share one runtime: sign in in one, the other follows at once with no token request', async () => {
  tabs = [await open(shared.origin), await open(shared.origin)];
  for (const t of tabs) {
    assert.equal(await state(t), 'signed-out');
    assert.equal(await t.getAttribute('#status', 'data-runtime'), 'shared-worker');
  }
  await idp.resetStats();
  await signIn(tabs[0], shared.origin, idp);
  await tabs[1].waitForSelector('#status[data-state="signed-in"]', { timeout: 5000 });
  assert.match(await tabs[1].textContent('#events'), /token issued|token renewed/, 'the other tab heard the sign-in as an event');
  assert.equal(JSON.parse(await tabs[1].textContent('#claims')).sub, 'demo-user-1');
  const stats = await idp.stats();
  assert.equal(stats.authCodeRequests, 1, 'one code exchange');
  assert.equal(stats.tokenRequests, 1, 'and no other token request: the second tab asked nothing');
});

test('a new tab opened while signed in is authenticated with no request to the provider', async () => {
  await idp.resetStats();
  tabs.push(await open(shared.origin));
  assert.equal(await state(tabs[2]), 'signed-in');
  assert.deepEqual((await getTokens(tabs[2], 3)).map((a) => a.slice(0, 6)), ['token:'], 'its getToken answers from the shared session');
  assert.equal(await tokenRequests(idp), 0);
});

test('a reloaded tab, while another is open, is still signed in with no token request', async () => {
  await idp.resetStats();
  await tabs[0].reload();
  await tabs[0].waitForSelector('#status[data-state="signed-in"]');
  assert.equal(await tokenRequests(idp), 0);
  assert.equal(await tabs[0].evaluate(() => sessionStorage.length), 0, 'nothing stored for it');
});

test('a forged or stale-version message gets a typed error, and the tabs keep working', async () => {
  const version = /^\/\/ mezzo (\S+)\. Bundled/.exec(readFileSync(WORKER_SCRIPT, 'utf8'))?.[1];
  assert.ok(version, 'mezzo-worker.js names its version');
  const replies = await tabs[1].evaluate(async (v) => {
    const version = v;
    // The same SharedWorker the app uses: same script, same name (the
    // version and the module it runs).
    const port = new SharedWorker('/dist/mezzo-worker.js', { name: `mezzo@${version} ${new URL('/dist/mezzo.wasm', location.href).href}`, extendedLifetime: true }).port;
    port.start();
    const ask = (msg) => new Promise((resolve) => {
      const t = setTimeout(() => resolve('no reply'), 1000);
      port.addEventListener('message', (e) => { if (e.data.id === msg.id) { clearTimeout(t); resolve(e.data.error?.code ?? 'result'); } });
      port.postMessage(msg);
    });
    const call = (id, extra) => ({ protocol: 'mezzo-rpc/1', version, kind: 'call', id, ...extra });
    port.postMessage('garbage'); // dropped
    port.postMessage({ protocol: 'mezzo-rpc/1', kind: 'call', id: 'x' }); // no usable id: dropped
    return {
      staleVersion: await ask(call(1, { version: '0.0.0-stale', method: 'getToken', params: { session: 1, args: [] } })),
      unknownMethod: await ask(call(2, { method: 'evaluate', params: {} })),
      noSuchSession: await ask(call(3, { method: 'getToken', params: { session: 999, args: [] } })),
      notAttached: await ask(call(4, { method: 'getToken', params: { session: 1, args: [] } })),
      badArgs: await ask(call(5, { method: 'attach', params: { options: 'x' } })),
      badParams: await ask(call(6, { method: 'hello', params: 42 })),
      forgedPageLock: await ask(call(7, { method: 'watch', params: { pageLock: 'not-a-page-lock' } })),
      // The access token and proofs of a session this port never attached to.
      resourceHeaders: await ask(call(8, { method: 'resourceHeaders', params: { session: 1, args: ['GET', 'https://api.example/'] } })),
      dpopProof: await ask(call(9, { method: 'dpopProof', params: { session: 1, args: ['GET', 'https://api.example/'] } })),
    };
  }, version);
  assert.deepEqual(replies, {
    staleVersion: 'runtime_unavailable',
    unknownMethod: 'invalid_argument',
    noSuchSession: 'invalid_argument',
    notAttached: 'invalid_argument',
    badArgs: 'invalid_argument',
    badParams: 'invalid_argument',
    forgedPageLock: 'invalid_argument',
    resourceHeaders: 'invalid_argument',
    dpopProof: 'invalid_argument',
  });
  for (const t of tabs) {
    assert.equal(await state(t), 'signed-in');
    assert.deepEqual((await getTokens(t, 2)).map((a) => a.slice(0, 6)), ['token:']);
  }
});

test('logout in one tab signs every tab out; only that tab navigates', async () => {
  const urls = tabs.slice(1).map((t) => t.url());
  await logOut(tabs[0], shared.origin, idp);
  for (const [i, t] of tabs.slice(1).entries()) {
    await t.waitForSelector('#status[data-state="signed-out"]', { timeout: 5000 });
    assert.equal(t.url(), urls[i], 'the other tabs stay where they are');
    assert.match(await t.textContent('#events'), /session expired: login_required/);
    assert.deepEqual(await getTokens(t, 2), ['error:login_required']);
  }
});

test('a killed worker: the pages notice at once, say runtime_exited, and a fresh worker serves them', async () => {
  await signIn(tabs[0], shared.origin, idp);
  for (const t of tabs) await t.waitForSelector('#status[data-state="signed-in"]', { timeout: 5000 });
  const cdp = await b.browser.newBrowserCDPSession();
  const workers = (await cdp.send('Target.getTargets')).targetInfos.filter((t) => t.type === 'shared_worker' && t.url.startsWith(shared.origin));
  assert.equal(workers.length, 1, 'one shared worker for the origin, however many tabs');
  await workerWatch.release(workers[0].targetId);
  await cdp.send('Target.closeTarget', { targetId: workers[0].targetId });
  for (const t of tabs) {
    await t.waitForSelector('#status[data-state="signed-out"]', { timeout: 5000 });
    assert.match(await t.textContent('#events'), /session expired: runtime_exited/);
    assert.deepEqual(await getTokens(t, 3), ['error:login_required'], 'later calls reach a fresh, signed-out worker');
  }
  await signIn(tabs[1], shared.origin, idp);
  await tabs[2].waitForSelector('#status[data-state="signed-in"]', { timeout: 5000 });
  const after = (await cdp.send('Target.getTargets')).targetInfos.filter((t) => t.type === 'shared_worker' && t.url.startsWith(shared.origin));
  assert.equal(after.length, 1);
  assert.notEqual(after[0].targetId, workers[0].targetId, 'a new worker');
  await cdp.detach();
});

test('a reload of the only tab keeps the session (the worker\'s extendedLifetime), with no token request', async () => {
  await Promise.all([tabs[0].close(), tabs[2].close()]);
  const [last] = tabs = [tabs[1]];
  assert.equal(await state(last), 'signed-in');
  await idp.resetStats();
  await last.reload();
  await last.waitForSelector('#status:is([data-state="signed-in"], [data-state="signed-out"])');
  assert.equal(await state(last), 'signed-in', 'Chromium keeps the worker through the reload');
  assert.equal(await tokenRequests(idp), 0);
});

test('the refresh token and the raw ID token never enter the page: absent from its heap after a login and a renewal, present in the worker', async () => {
  const page = await open(stampede.origin);
  // A second tab keeps the worker this test watches alive while the first
  // is at the provider's form: on a busy machine the form can take longer
  // than a worker without tabs lives (extendedLifetime is the reload test's).
  const keeper = await open(stampede.origin);
  const cdp = await b.browser.newBrowserCDPSession();
  const worker = await workerSession(cdp, stampede.origin);
  await worker.send('Network.enable');
  await signIn(page, stampede.origin, idpShort);
  const [login] = await tokenReplies(worker, idpShort, 'authorization_code', 1);
  await page.waitForFunction(() => document.querySelector('#events').textContent.includes('token renewed'), null, { timeout: SHORT_TTL * 3000 });
  await tokenReplies(worker, idpShort, 'refresh_token', 1);

  const session = await b.context.newCDPSession(page);
  const current = await page.evaluate(async () => {
    const config = await (await fetch('/config.json')).json();
    const c = await mezzo.createClient(config);
    const t = await c.getToken(); // the page's cached access token
    c.close();
    return t;
  });
  const heap = await heapSnapshot(session);
  // Every secret issued until now (renewals go on meanwhile, every 2 s).
  const renewals = await tokenReplies(worker, idpShort, 'refresh_token', 1);
  const secrets = [['the raw ID token', login.id_token], ['the login refresh token', login.refresh_token],
    ...renewals.map((r, i) => [`refresh token ${i + 1}`, r.refresh_token])];
  for (const [what, v] of secrets) assert.ok(typeof v === 'string' && v.length > 20, `${what} was issued`);
  assert.ok(heap.includes(current), 'the page holds its access token (the search works)');
  for (const [what, v] of secrets) assert.equal(heap.includes(v), false, `${what} is in the page's heap`);
  const latest = renewals.at(-1).refresh_token;
  assert.deepEqual(await searchMemories((m, p) => session.send(m, p), latest), { memories: 0, found: false }, 'the page has no module memory at all');
  await session.detach();
  // In the worker the session lives in Go's linear memory, which a heap
  // snapshot leaves out (an ArrayBuffer): search the memory itself, for the
  // latest refresh token (or the one before it, when a renewal has just
  // been read from the network but not yet installed).
  const held = [];
  for (const r of renewals.slice(-2)) held.push(await searchMemories(worker.send, r.refresh_token));
  assert.ok(held.some((h) => h.memories === 1 && h.found), `the worker holds the current refresh token: ${JSON.stringify(held)}`);
  await worker.detach();
  await cdp.detach();
  await Promise.all([page.close(), keeper.close()]);
});

test('3 tabs x 300 concurrent getToken() with an expired token make exactly 1 token request', async () => {
  const pages = [await open(stampede.origin)];
  if (await state(pages[0]) === 'signed-out') await signIn(pages[0], stampede.origin, idpShort); // the worker may have kept the last test's session
  pages.push(await open(stampede.origin), await open(stampede.origin));
  for (const p of pages) assert.equal(await state(p), 'signed-in');
  // The token is renewed after half its life (every 2 s here, by the
  // worker's own timer too); fire every call just after that moment, in all
  // three tabs at once, while the page caches are stale. The count starts
  // half a second before that moment, after the forced refresh that set
  // it: so it holds the one renewal, whoever makes it. A machine too
  // loaded to start the count in time gets the round again (3 at most).
  let answers; let forced; let counted; let inTime = false;
  for (let round = 0; round < 3 && !inTime; round++) {
    let expiresAt;
    ({ expiresAt, forced } = await pages[0].evaluate(async () => {
      const config = await (await fetch('/config.json')).json();
      const client = await mezzo.createClient(config);
      const seen = new Promise((r) => { client.on('tokenRefreshed', r); });
      const t = await client.getToken({ forceRefresh: true }); // a fresh token, so its renewal time is known
      const d = await seen;
      client.close();
      return { expiresAt: d.expiresAt, forced: `token:${t.length}:${t.slice(-8)}` };
    }));
    const at = expiresAt - (SHORT_TTL * 1000) / 2 + 20;
    const calls = Promise.all(pages.map((p) => getTokens(p, 300, at)));
    await new Promise((r) => { setTimeout(r, Math.max(0, at - 500 - Date.now())); });
    await idpShort.resetStats();
    inTime = Date.now() < at - 100;
    answers = await calls;
    counted = await tokenRequests(idpShort);
  }
  assert.ok(inTime, 'the count started before the renewal moment in one of 3 rounds');
  for (const a of answers) assert.equal(a.length, 1, `one answer per tab: ${a}`);
  assert.equal(new Set(answers.flat()).size, 1, 'the same renewed token in every tab');
  assert.ok(answers[0][0].startsWith('token:'));
  assert.notEqual(answers[0][0], forced, 'the renewed token, not the forced one');
  assert.equal(counted, 1, 'exactly one refresh for 900 calls in 3 tabs');
  stampedeTabs = pages;
});

test('a refresh token refused (invalid_grant) ends the session in every tab, once', async () => {
  const cdp = await b.browser.newBrowserCDPSession();
  const worker = await workerSession(cdp, stampede.origin);
  await worker.send('Network.enable');
  // Redeem the worker's refresh token behind its back: the provider then
  // refuses it at the worker's next renewal.
  const [reply] = await tokenReplies(worker, idpShort, 'refresh_token', 1);
  const stolen = await redeemRefreshToken((await idpShort.discovery()).token_endpoint, idpShort.clientId, reply.refresh_token);
  assert.equal(stolen.status, 200);
  for (const t of stampedeTabs) await t.waitForSelector('#status[data-state="signed-out"]', { timeout: SHORT_TTL * 3000 });
  await new Promise((r) => { setTimeout(r, SHORT_TTL * 1000); }); // time for a second, wrong, report
  for (const t of stampedeTabs) {
    const expired = await t.$$eval('#events li', (lis) => lis.map((li) => li.textContent).filter((x) => x.includes('session expired')));
    assert.equal(expired.length, 1, `one sessionExpired per tab: ${expired}`);
    assert.match(expired[0], /login_required/);
  }
  await worker.detach();
  await cdp.detach();
  await Promise.all(stampedeTabs.map((p) => p.close()));
});

test('the dedicated-Worker host: login, renewal with rotation, logout', async () => {
  const page = await open(dedicated.origin);
  assert.equal(await page.getAttribute('#status', 'data-runtime'), 'worker');
  await idpShort.resetStats();
  await signIn(page, dedicated.origin, idpShort);
  await page.waitForFunction(() => document.querySelector('#events').textContent.includes('token renewed'), null, { timeout: SHORT_TTL * 3000 });
  const stats = await idpShort.stats();
  assert.equal(stats.authCodeRequests, 1);
  assert.ok(stats.refreshRequests >= 1, 'renewed in the worker');
  assert.deepEqual((await getTokens(page, 5)).map((a) => a.slice(0, 6)), ['token:']);
  await page.reload(); // a dedicated worker lives and dies with its page
  await page.waitForSelector('#status[data-state="signed-out"]');
  await signIn(page, dedicated.origin, idpShort);
  await logOut(page, dedicated.origin, idpShort);
  assert.deepEqual(await getTokens(page, 2), ['error:login_required']);
  await page.close();
});

test('no CSP violation and no uncaught error in any tab or shared worker', async () => {
  for (const p of b.context.pages()) {
    if (p.url().startsWith('http://127.0.0.1')) assert.deepEqual(await cspViolations(p), [], p.url());
  }
  assert.deepEqual(errors, []);
});
