// What `make build` ships from web/src (scripts/build/build-loaders.mjs):
// three bundles, one per target, each minified with a source map beside it,
// each carrying only the code it runs — the worker script none of the
// page's. Read by name, from each bundle's source map (the files it was
// built from, and the original names of its minified identifiers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

const dist = new URL('../../../web/dist/', import.meta.url);
const BUNDLES = ['mezzo.js', 'mezzo.mjs', 'mezzo-worker.js'];

/** bundle reads web/dist/<name> and its source map. */
function bundle(name) {
  const file = new URL(name, dist);
  assert.ok(existsSync(file), `web/dist/${name} is missing: run make build`);
  const code = readFileSync(file, 'utf8');
  const map = JSON.parse(readFileSync(new URL(`${name}.map`, dist), 'utf8'));
  return { code, map, sources: map.sources.map((s) => s.replace(/^(\.\.\/)+src\//, '')) };
}

// The page's modules (web/src) and functions, which the worker never runs.
const PAGE_MODULES = ['callback-url.js', 'client.js', 'client-embedded.js', 'client-fetch.js', 'client-start.js',
  'create-client.js', 'embed.js', 'host-page.js', 'host-remote.js', 'redirect.js', 'start-soon.js'];
const PAGE_FUNCTIONS = ['newClient', 'createClient', 'clientOnHost', 'isCallbackUrl', 'goParse', 'responseParams',
  'handOverResponse', 'acceptResponse', 'awaitResponse', 'embeddedSignIn', 'resourceFetch', 'moduleStart',
  'startSoon', 'takeTransaction', 'replaceUrl', 'pageHandle', 'remoteHandle'];
// The runtime half's, which the worker runs: proof that names are read at all.
const RUNTIME_FUNCTIONS = ['serveRuntime', 'rpcServer', 'newGoClient', 'checkWorkerModule', 'dpopKey', 'holdLock'];

for (const name of BUNDLES) {
  test(`${name} is minified, with a source map beside it that holds its sources`, () => {
    const { code, map, sources } = bundle(name);
    assert.ok(code.trimEnd().endsWith(`//# sourceMappingURL=${name}.map`), 'it names its source map');
    assert.equal(map.version, 3);
    assert.equal(map.sourcesContent.length, map.sources.length, 'each source carried in the map');
    assert.ok(sources.every((s) => !s.startsWith('.')), `every source is web/src's: ${sources.join(', ')}`);
    // Minified: web/src's code in a few very long lines (the worker's
    // starts with Go's wasm_exec.js, unmodified, whose lines are not).
    const own = name === 'mezzo-worker.js' ? code.slice(code.lastIndexOf('\n', code.indexOf('(()=>{'))) : code;
    const lines = own.split('\n').filter((l) => l.trim() !== '');
    assert.ok(lines.length <= 6, `${lines.length} lines: not minified`);
    assert.ok(own.length > 10000, 'the bundle has its code');
    assert.doesNotMatch(own, /\n\s{2,}\S/, 'no indented lines: whitespace minified');
    assert.match(code, /^\/\/ mezzo \S+\. Bundled from web\/src\//, 'it says its version first');
  });
}

test('the worker script holds none of the page-only code, and the page bundles hold it', () => {
  const worker = bundle('mezzo-worker.js');
  for (const m of PAGE_MODULES) assert.ok(!worker.sources.includes(m), `mezzo-worker.js is built from ${m}`);
  for (const f of PAGE_FUNCTIONS) assert.ok(!worker.map.names.includes(f), `mezzo-worker.js holds ${f}`);
  for (const f of RUNTIME_FUNCTIONS) assert.ok(worker.map.names.includes(f), `mezzo-worker.js lacks ${f}, which it runs`);
  for (const name of ['mezzo.js', 'mezzo.mjs']) {
    const page = bundle(name);
    for (const m of PAGE_MODULES) assert.ok(page.sources.includes(m), `${name} lacks ${m}`);
    for (const f of PAGE_FUNCTIONS) assert.ok(page.map.names.includes(f), `${name} lacks ${f}`);
    assert.ok(!page.sources.includes('host-worker.js') && !page.map.names.includes('serveRuntime'), `${name} holds the worker's server`);
  }
});

test('the one import of a run-time URL keeps the comments that tell bundlers to leave it alone', () => {
  for (const name of BUNDLES) {
    const { code } = bundle(name);
    const imports = [...code.matchAll(/\bimport\(([^)"'`]*)\)/g)].map((m) => m[1]);
    assert.deepEqual(imports.map((a) => a.replace(/\s*\w+$/, '')), ['/* webpackIgnore: true */ /* @vite-ignore */'], `${name}: ${imports.join(' | ')}`);
  }
});

test('each source map points at the code it maps, after the comments the build puts back too', async () => {
  const { mappedTokens } = await import('../../build/source-map.mjs');
  for (const name of BUNDLES) {
    const { code, map } = bundle(name);
    let checked = 0;
    const wrong = [];
    for (const { generated, original } of mappedTokens(code, map, 6)) {
      if (generated !== 'typeof' && original !== 'typeof') continue; // a keyword minifiers keep
      checked++;
      if (generated !== original) wrong.push(`${generated} ← ${original}`);
    }
    assert.ok(checked > 20, `${name}: ${checked} typeof mappings read`);
    assert.deepEqual(wrong, [], name);
  }
});
