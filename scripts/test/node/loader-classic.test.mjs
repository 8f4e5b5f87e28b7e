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
