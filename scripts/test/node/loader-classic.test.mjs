// The classic loader (web/dist/mezzo.js) in node: a module served with
// another content type is compiled from its bytes, and preload() shares
// its compiled module with createClient; then, on fresh copies with a stub
// Go program, the tests shared with the ES module (stubbedLoaderTests).
// See loader-esm.test.mjs for the rest; each file is its own process, so
// each starts with nothing loaded.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadMezzo } from '../lib/browser-env.mjs';
import { createRequire } from 'node:module';
import { startWasmServer, spyCompile, clientOptions, stubbedLoaderTests } from '../lib/loader-lib.mjs';

const mezzo = loadMezzo();
const server = await startWasmServer();
const calls = spyCompile();
after(() => server.close());
const wasmUrl = `${server.origin}/octet/mezzo.wasm`;

test('a module served as application/octet-stream is compiled from its bytes', async () => {
  const module = await mezzo.preload(wasmUrl);
  assert.ok(module instanceof WebAssembly.Module);
  assert.deepEqual(calls, { streaming: 0, bytes: 1 });
  assert.equal(mezzo.runtimeStats(), null, 'preload compiles but does not start');
});

test('createClient reuses the preloaded module', async () => {
  const client = await mezzo.createClient(clientOptions({ wasmUrl }));
  await client.ready;
  assert.equal(client.isAuthenticated(), false);
  assert.equal(server.hits('/octet/mezzo.wasm'), 1, 'fetched once');
  assert.deepEqual(calls, { streaming: 0, bytes: 1 }, 'compiled once');
  assert.ok(mezzo.runtimeStats().wasmMemoryBytes > 0);
  client.close();
});

// A fresh copy of mezzo.js, as a page that has loaded nothing gets.
const require = createRequire(import.meta.url);
const classicPath = require.resolve('../../../web/dist/mezzo.js');
stubbedLoaderTests(() => {
  delete require.cache[classicPath];
  return require(classicPath);
}, server);

// ---- the return page of a silent or popup sign-in (issue 12) ----

/**
 * asPage runs fn with the globals of a window named name at href whose
 * parent records what it is posted and, with confirms, answers a response
 * as an app's page with that attempt pending does (the ack, from itself,
 * on the page's origin).
 */
async function asPage({ name, href, parent = true, confirms = true }, fn) {
  const saved = { href: globalThis.location.href, origin: globalThis.location.origin };
  const posted = [];
  const listeners = new Set();
  globalThis.window = globalThis;
  globalThis.document = {};
  globalThis.name = name;
  globalThis.location.href = href;
  globalThis.location.origin = new URL(href).origin;
  globalThis.addEventListener = (type, l) => { if (type === 'message') listeners.add(l); };
  globalThis.removeEventListener = (type, l) => { listeners.delete(l); };
  if (parent) {
    globalThis.parent = {
      postMessage: (m, origin) => {
        posted.push({ m, origin });
        const ack = { source: globalThis.parent, origin, data: { type: 'mezzo:authorization-ack', id: m.id } };
        if (confirms) setTimeout(() => { for (const l of [...listeners]) l(ack); }, 10);
      },
    };
  }
  try {
    return await fn(posted, listeners);
  } finally {
    for (const k of ['window', 'document', 'name', 'parent', 'addEventListener', 'removeEventListener']) delete globalThis[k];
    globalThis.location.href = saved.href;
    globalThis.location.origin = saved.origin;
  }
}

const ATTEMPT = 'mezzo-embed:0123456789abcdef0123456789abcdef';
const pending = (p) => Promise.race([p.then(() => 'settled', () => 'settled'), new Promise((r) => { setTimeout(() => r('pending'), 300); })]);

test('a return page (the marker in its window name, a response in its URL) posts its URL to its parent on its own origin, and starts nothing: createClient never settles, no module fetched', async () => {
  const href = 'http://127.0.0.1:8080/silent-callback?code=c1&state=s1&iss=x';
  await asPage({ name: ATTEMPT, href }, async (posted) => {
    const { loadFreshMezzo } = await import('../lib/common.mjs');
    const fresh = loadFreshMezzo();
    assert.deepEqual(posted, [{ m: { type: 'mezzo:authorization-response', id: ATTEMPT.slice('mezzo-embed:'.length), url: href }, origin: 'http://127.0.0.1:8080' }]);
    const before = server.hits(`/octet/r1.wasm`);
    assert.equal(await pending(fresh.createClient(clientOptions({ wasmUrl: `${server.origin}/octet/r1.wasm`, runtime: 'page' }))), 'pending');
    await new Promise((r) => { setTimeout(r, 100); });
    assert.equal(server.hits(`/octet/r1.wasm`), before, 'the module was not fetched');
    assert.equal(fresh.runtimeStats(), null, 'no runtime started');
  });
});

test('a window named with the marker whose parent does not confirm the attempt (a marker the app did not set; forged confirmations ignored) is not stalled: after a bounded wait it is an ordinary page, and no listener is left', async () => {
  const href = 'http://127.0.0.1:8080/silent-callback?code=c1&state=s1&iss=x';
  await asPage({ name: ATTEMPT, href, confirms: false }, async (posted, listeners) => {
    const { loadFreshMezzo } = await import('../lib/common.mjs');
    const fresh = loadFreshMezzo();
    assert.equal(posted.length, 1, 'it offered its URL, once');
    // Forged answers, none from the parent with this attempt's id: ignored.
    const id = ATTEMPT.slice('mezzo-embed:'.length);
    const forged = [
      { source: {}, origin: 'http://127.0.0.1:8080', data: { type: 'mezzo:authorization-ack', id } }, // another window
      { source: globalThis.parent, origin: 'http://evil.example', data: { type: 'mezzo:authorization-ack', id } }, // another origin
      { source: globalThis.parent, origin: 'http://127.0.0.1:8080', data: { type: 'mezzo:authorization-ack', id: `${id.slice(1)}0` } }, // another attempt
      { source: globalThis.parent, origin: 'http://127.0.0.1:8080', data: { type: 'mezzo:authorization-response', id } }, // another type
      { source: globalThis.parent, origin: 'http://127.0.0.1:8080', data: null },
    ];
    for (const e of forged) for (const l of [...listeners]) l(e);
    const started = Date.now();
    const client = await fresh.createClient(clientOptions({ runtime: 'page', wasmUrl }));
    const waited = Date.now() - started;
    assert.ok(waited < 3000, `createClient settled after ${waited} ms`);
    assert.equal(client.isAuthenticated(), false);
    assert.equal(listeners.size, 0, 'the wait for a confirmation is over');
    client.close();
  });
});

test('no marker, a malformed attempt id, no response in the URL, or no parent or opener: an ordinary page that posts nothing', async () => {
  const response = 'http://127.0.0.1:8080/silent-callback?code=c1&state=s1';
  const cases = [
    { name: '', href: response },
    { name: 'app-window', href: response },
    { name: 'mezzo-embed:', href: response },
    { name: 'mezzo-embed:0123', href: response },
    { name: `${ATTEMPT}0`, href: response },
    { name: ATTEMPT.toUpperCase().replace('MEZZO-EMBED:', 'mezzo-embed:'), href: response },
    { name: ATTEMPT, href: 'http://127.0.0.1:8080/silent-callback' },
    { name: ATTEMPT, href: 'http://127.0.0.1:8080/silent-callback?other=1#x=y' },
    { name: ATTEMPT, href: response, parent: false },
  ];
  const { loadFreshMezzo } = await import('../lib/common.mjs');
  for (const c of cases) {
    await asPage(c, async (posted) => {
      const fresh = loadFreshMezzo();
      assert.deepEqual(posted, [], JSON.stringify(c));
      const client = await fresh.createClient(clientOptions({ runtime: 'page', wasmUrl }));
      assert.equal(client.isAuthenticated(), false);
      client.close();
    });
  }
});
