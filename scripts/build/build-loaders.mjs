// Wraps web/src/ into the loaders and the worker script:
//   mezzo.js        — loader.js + rpc.js as a classic script; <script src=".../mezzo.js">
//                     defines globalThis.mezzo (and module.exports when node require()s it);
//   mezzo.mjs       — the same as an ES module exporting createClient, MezzoError, preload
//                     and runtimeStats;
//   mezzo-worker.js — loader.js + rpc.js + worker.js as a classic worker script: the
//                     runtime half, the same code the page host runs, serving pages.
// Each gets `base` (where it came from) and VERSION (mezzo's version, as the
// Go module's main.version: the Makefile passes the same value to both).
// Usage: node scripts/build/build-loaders.mjs <outdir> [version]
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

const classic = `${header}(function () {
'use strict';
// Where this script came from: the page's <script> element, or node's file.
const base = (typeof document !== 'undefined' && document.currentScript && document.currentScript.src)
  || (typeof __filename === 'string' ? require('node:url').pathToFileURL(__filename).href : undefined)
  || (typeof location !== 'undefined' ? location.href : undefined);
${versionLine}
${page}
const mezzo = Object.freeze({ createClient, MezzoError, preload, runtimeStats });
globalThis.mezzo = mezzo;
if (typeof module === 'object' && module && module.exports) module.exports = mezzo;
})();
`;

const esm = `${header}const base = import.meta.url;
${versionLine}
${page}
export { createClient, MezzoError, preload, runtimeStats };
export default Object.freeze({ createClient, MezzoError, preload, runtimeStats });
`;

const worker = `${header}(function () {
'use strict';
const base = self.location.href;
${versionLine}
${page}
${src('worker.js')}
})();
`;

mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'mezzo.js'), classic);
writeFileSync(path.join(out, 'mezzo.mjs'), esm);
writeFileSync(path.join(out, 'mezzo-worker.js'), worker);
