// The ES module loader (web/dist/mezzo.mjs) in node: its exports, a failed
// load and its retry, streaming compilation of an application/wasm
// response, one Go runtime however many clients, the start-up marks, and
// Go's own messages for bad options; then, on fresh copies with a stub Go
// program, the tests shared with the classic loader (stubbedLoaderTests).
// The classic loader's paths are in loader-classic.test.mjs: each file is
// its own process, so each starts from a page that has loaded nothing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadMezzo } from '../lib/browser-env.mjs';
import { within } from '../lib/common.mjs';
import { startWasmServer, spyCompile, clientOptions, stubbedLoaderTests } from '../lib/loader-lib.mjs';
import * as esm from '../../../web/dist/mezzo.mjs';

const server = await startWasmServer();
const calls = spyCompile();
after(() => server.close());

test('the ES module and the classic script export the same API', () => {
  const classic = loadMezzo();
  const names = ['MezzoError', 'createClient', 'preload', 'runtimeStats'];
  assert.deepEqual(Object.keys(classic).sort(), names);
  assert.deepEqual(Object.keys(esm).filter((k) => k !== 'default').sort(), names);
  assert.deepEqual(Object.keys(esm.default).sort(), names);
  assert.ok(Object.isFrozen(esm.default));
});

test('a failed load: the client answers before it, client.ready and every waiting call are load_failed with its status, and each call retries', async () => {
  const gone = `${server.origin}/gone/mezzo.wasm`;
  const client = await esm.createClient(clientOptions({ wasmUrl: gone }));
  assert.deepEqual([client.isAuthenticated(), client.getUser()], [false, null], 'a signed-out page answers without the module');
  const loadFailed = (e) => {
    assert.ok(e instanceof esm.MezzoError);
    assert.deepEqual([e.code, e.status], ['load_failed', 404], `${e.code}: ${e.description}`);
    return true;
  };
  await within(assert.rejects(client.ready, loadFailed), 5000, 'client.ready');
  assert.equal(server.hits('/gone/mezzo.wasm'), 1);
  const waiting = [client.login(), client.getToken(), client.getUserinfo(), client.logout(), client.handleRedirectCallback('http://127.0.0.1:8080/callback?code=c&state=s')];
  await within(Promise.all(waiting.map((p) => assert.rejects(p, loadFailed))), 5000, 'the waiting calls');
  assert.equal(server.hits('/gone/mezzo.wasm'), 2, 'the calls made after the failure tried again, once for all of them');
  await within(assert.rejects(client.getToken(), loadFailed), 5000, 'the next call');
  assert.equal(server.hits('/gone/mezzo.wasm'), 3, 'and so does the next call');
  client.close();
  assert.equal(esm.runtimeStats(), null, 'no runtime after a failed load');
  assert.equal(calls.streaming + calls.bytes, 0, 'nothing compiled');

  const working = await esm.createClient(clientOptions({ wasmUrl: `${server.origin}/wasm/mezzo.wasm` }));
  await working.ready;
  assert.equal(working.isAuthenticated(), false);
  assert.equal(server.hits('/wasm/mezzo.wasm'), 1);
  assert.deepEqual(calls, { streaming: 1, bytes: 0 }, 'an application/wasm response is compiled while it streams');
  assert.ok(esm.runtimeStats().wasmMemoryBytes > 0);
  working.close();
});

test('one Go runtime per page: more clients fetch, compile and start nothing again', async () => {
  const clients = await Promise.all([
    esm.createClient(clientOptions({ wasmUrl: `${server.origin}/wasm/mezzo.wasm` })),
    esm.createClient(clientOptions()),
    esm.createClient(clientOptions({ clientId: 'another' })),
  ]);
  await Promise.all(clients.map((c) => c.ready));
  assert.equal(server.hits('/wasm/mezzo.wasm'), 1);
  assert.deepEqual(calls, { streaming: 1, bytes: 0 });
  assert.equal(new Set(clients).size, 3, 'each call has its own client');
  for (const c of clients) c.close();
});

test('start-up moments are on the performance timeline, once each, in order: the client ready before the module', () => {
  const once = (name) => {
    const entries = performance.getEntriesByName(name);
    assert.equal(entries.length, 1, `${name} once`);
    return entries[0].startTime;
  };
  const [ready, compiled, started, moduleReady] = ['mezzo:ready', 'mezzo:compiled', 'mezzo:started', 'mezzo:module-ready'].map(once);
  assert.ok(ready <= compiled, 'the first client answered before the module was compiled');
  assert.ok(compiled <= started && started <= moduleReady);
});

test("options are Go's to check: client.ready and the first call get Go's code and message", async (t) => {
  const callback = 'http://127.0.0.1:8080/callback';
  for (const [name, options, description] of [
    ['no clientId', { redirectUri: callback }, 'clientId is required'],
    ['no redirectUri', { clientId: 'spa' }, 'redirectUri is required'],
    ['clientId not a string', { clientId: 7, redirectUri: callback }, 'options.clientId must be a string'],
    ['redirectUri not a string', { clientId: 'spa', redirectUri: ['x'] }, 'options.redirectUri must be a string'],
  ]) {
    await t.test(name, async () => {
      const invalid = (e) => {
        assert.ok(e instanceof esm.MezzoError);
        assert.deepEqual([e.code, e.description], ['invalid_config', description]);
        return true;
      };
      const client = await esm.createClient(options);
      await assert.rejects(client.ready, invalid);
      await assert.rejects(client.login(), invalid, 'the first protocol call');
      client.close();
    });
  }
  // The loader reads fields of options and sends it to a worker: something
  // else is refused at once, with the same code.
  for (const [name, options] of [['no options', undefined], ['null', null], ['not an object', 'spa']]) {
    await t.test(name, async () => {
      await assert.rejects(esm.createClient(options), (e) => {
        assert.deepEqual([e.code, e.description], ['invalid_config', 'options must be an object']);
        return true;
      });
    });
  }
});

let copies = 0;
stubbedLoaderTests(() => import(`../../../web/dist/mezzo.mjs?copy=${++copies}`), server);
