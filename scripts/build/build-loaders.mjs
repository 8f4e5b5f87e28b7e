// Wraps web/src/ into the loaders and the worker script:
//   mezzo.js        — loader.js + rpc.js as a classic script; <script src=".../mezzo.js">
//                     defines globalThis.mezzo (and module.exports when node require()s it);
//   mezzo.mjs       — the same as an ES module exporting createClient, MezzoError, preload
//                     and runtimeStats;
//   mezzo-worker.js — Go's wasm_exec.js (unmodified, first) + loader.js + rpc.js +
//                     worker.js as a classic worker script: the runtime half, the
//                     same code the page host runs, serving pages. With Go's glue
//                     inside, a worker fetches one script, wherever a bundler put it.
// Each gets `base` (where it came from), ASSETS (where its files are when
// no option says otherwise) and VERSION (mezzo's version, as the Go
// module's main.version: the Makefile passes the same value to both).
// The ES module names its files with literal `new URL('./…',
// import.meta.url)` expressions, the form Vite and webpack 5 recognise:
// a bundle then emits the module, the worker and Go's glue as assets and
// rewrites the URLs. The classic scripts find them next to themselves.
// Usage: node scripts/build/build-loaders.mjs <outdir> [version]
// (<outdir> must already hold wasm_exec.js.)
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.resolve(process.argv[2] ?? path.join(repo, 'web/dist'));
const version = process.argv[3] ?? 'dev';
// rpc.js checks versions against this form; a build must not make one it refuses.
if (!/^[\x21-\x7e]{1,64}$/.test(version)) throw new Error(`version ${JSON.stringify(version)}: 1 to 64 printable characters, no spaces`);
const src = (name) => readFileSync(path.join(repo, 'web/src', name), 'utf8');
const page = `${src('loader.js')}\n${src('rpc.js')}`;
const header = '// Generated from web/src/ by scripts/build/build-loaders.mjs — do not edit.\n';
const versionLine = `const VERSION = ${JSON.stringify(version)};`;
const wasmExec = readFileSync(path.join(out, 'wasm_exec.js'), 'utf8');
const nearby = 'const ASSETS = {}; // next to this script (resolveUrl)';

const classic = `${header}(function () {
'use strict';
// Where this script came from: the page's <script> element, or node's file.
const base = (typeof document !== 'undefined' && document.currentScript && document.currentScript.src)
  || (typeof __filename === 'string' ? require('node:url').pathToFileURL(__filename).href : undefined)
  || (typeof location !== 'undefined' ? location.href : undefined);
${nearby}
${versionLine}
${page}
const mezzo = Object.freeze({ createClient, MezzoError, preload, runtimeStats });
globalThis.mezzo = mezzo;
if (typeof module === 'object' && module && module.exports) module.exports = mezzo;
})();
`;

const esm = `${header}const base = import.meta.url;
// Literal, so that bundlers emit these files and rewrite the URLs.
const ASSETS = {
  'mezzo.wasm': new URL('./mezzo.wasm', import.meta.url).href,
  'mezzo-worker.js': new URL('./mezzo-worker.js', import.meta.url).href,
  'wasm_exec.js': new URL('./wasm_exec.js', import.meta.url).href,
};
${versionLine}
${page}
export { createClient, MezzoError, preload, runtimeStats };
export default Object.freeze({ createClient, MezzoError, preload, runtimeStats });
`;

const worker = `${header}${wasmExec}
(function () {
'use strict';
const base = self.location.href;
${nearby}
${versionLine}
${page}
${src('worker.js')}
})();
`;

mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'mezzo.js'), classic);
writeFileSync(path.join(out, 'mezzo.mjs'), esm);
writeFileSync(path.join(out, 'mezzo-worker.js'), worker);
