// Wraps web/src/loader.js into the two loaders:
//   mezzo.js  — a classic script; <script src=".../mezzo.js"> defines globalThis.mezzo
//               (and module.exports when node require()s it);
//   mezzo.mjs — an ES module exporting createClient, MezzoError, preload and runtimeStats.
// Usage: node scripts/build/build-loaders.mjs <outdir>
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.resolve(process.argv[2] ?? path.join(repo, 'web/dist'));
const body = readFileSync(path.join(repo, 'web/src/loader.js'), 'utf8');
const header = '// Generated from web/src/loader.js by scripts/build/build-loaders.mjs — do not edit.\n';

const classic = `${header}(function () {
'use strict';
// Where this script came from: the page's <script> element, or node's file.
const base = (typeof document !== 'undefined' && document.currentScript && document.currentScript.src)
  || (typeof __filename === 'string' ? require('node:url').pathToFileURL(__filename).href : undefined)
  || (typeof location !== 'undefined' ? location.href : undefined);
${body}
const mezzo = Object.freeze({ createClient, MezzoError, preload, runtimeStats });
globalThis.mezzo = mezzo;
if (typeof module === 'object' && module && module.exports) module.exports = mezzo;
})();
`;

const esm = `${header}const base = import.meta.url;
${body}
export { createClient, MezzoError, preload, runtimeStats };
export default Object.freeze({ createClient, MezzoError, preload, runtimeStats });
`;

mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'mezzo.js'), classic);
writeFileSync(path.join(out, 'mezzo.mjs'), esm);
