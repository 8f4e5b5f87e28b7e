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

test('a failed load is load_failed with its status, starts nothing, and the next call retries', async () => {
  await assert.rejects(esm.createClient(clientOptions({ wasmUrl: `${server.origin}/gone/mezzo.wasm` })), (e) => {
    assert.ok(e instanceof esm.MezzoError);
    assert.equal(e.code, 'load_failed');
    assert.equal(e.status, 404);
    return true;
  });
  assert.equal(esm.runtimeStats(), null, 'no runtime after a failed load');
  assert.equal(calls.streaming + calls.bytes, 0, 'nothing compiled');

  const client = await esm.createClient(clientOptions({ wasmUrl: `${server.origin}/wasm/mezzo.wasm` }));
  assert.equal(client.isAuthenticated(), false);
  assert.equal(server.hits('/gone/mezzo.wasm'), 1);
  assert.equal(server.hits('/wasm/mezzo.wasm'), 1);
  assert.deepEqual(calls, { streaming: 1, bytes: 0 }, 'an application/wasm response is compiled while it streams');
  assert.ok(esm.runtimeStats().wasmMemoryBytes > 0);
  client.close();
});

test('one Go runtime per page: more clients fetch, compile and start nothing again', async () => {
  const clients = await Promise.all([
    esm.createClient(clientOptions({ wasmUrl: `${server.origin}/wasm/mezzo.wasm` })),
    esm.createClient(clientOptions()),
    esm.createClient(clientOptions({ clientId: 'another' })),
  ]);
  assert.equal(server.hits('/wasm/mezzo.wasm'), 1);
  assert.deepEqual(calls, { streaming: 1, bytes: 0 });
  assert.equal(new Set(clients).size, 3, 'each call has its own client');
  for (const c of clients) c.close();
});

test('start-up moments are on the performance timeline, once each, in order', () => {
  const [compiled, ...moreCompiled] = performance.getEntriesByName('mezzo:compiled');
  const [started, ...moreStarted] = performance.getEntriesByName('mezzo:started');
  assert.ok(compiled && started);
  assert.deepEqual([moreCompiled.length, moreStarted.length], [0, 0]);
  assert.ok(compiled.startTime <= started.startTime);
});

test("options are Go's to check: the caller gets Go's code and message", async (t) => {
  const callback = 'http://127.0.0.1:8080/callback';
  for (const [name, options, description] of [
    ['no options', null, 'clientId is required'],
    ['not an object', 'spa', 'options must be an object'],
    ['no clientId', { redirectUri: callback }, 'clientId is required'],
    ['no redirectUri', { clientId: 'spa' }, 'redirectUri is required'],
    ['clientId not a string', { clientId: 7, redirectUri: callback }, 'options.clientId must be a string'],
    ['redirectUri not a string', { clientId: 'spa', redirectUri: ['x'] }, 'options.redirectUri must be a string'],
  ]) {
    await t.test(name, async () => {
      await assert.rejects(esm.createClient(options), (e) => {
        assert.ok(e instanceof esm.MezzoError);
        assert.deepEqual([e.code, e.description], ['invalid_config', description]);
        return true;
      });
    });
  }
});

let copies = 0;
stubbedLoaderTests(() => import(`../../../web/dist/mezzo.mjs?copy=${++copies}`), server);
