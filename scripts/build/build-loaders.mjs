// Bundles web/src/ (ES modules) with esbuild into the three files a site
// serves, one entry each (web/src/entries/), each with only the code it runs,
// minified, with a source map beside it:
//   mezzo.js        — the classic script; <script src=".../mezzo.js"> defines
//                     globalThis.mezzo (and module.exports when node require()s it);
//   mezzo.mjs       — the ES module exporting createClient, MezzoError, preload
//                     and runtimeStats;
//   mezzo-worker.js — Go's wasm_exec.js (unmodified, first) and the runtime half
//                     as a classic worker script, serving pages: no page-only code.
// Every bundle carries VERSION (web/src/version.js, bundled with the version
// given here: the Makefile passes the same value to the Go module's
// main.version) and starts with a comment naming it.
// Usage: node scripts/build/build-loaders.mjs <outdir> [version]
// (<outdir> must already hold wasm_exec.js.)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { decodeVlq, encodeVlq } from './source-map.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.resolve(process.argv[2] ?? path.join(repo, 'web/dist'));
const version = process.argv[3] ?? 'dev';
// rpc.js checks versions against this form; a build must not make one it refuses.
if (!/^[\x21-\x7e]{1,64}$/.test(version)) throw new Error(`version ${JSON.stringify(version)}: 1 to 64 printable characters, no spaces`);
const entries = path.join(repo, 'web/src/entries');
const versionFile = path.join(repo, 'web/src/version.js');
const header = `// mezzo ${version}. Bundled from web/src/ by scripts/build/build-loaders.mjs — do not edit.`;

/** withVersion bundles web/src/version.js as the one line that says this build's version. */
const withVersion = {
  name: 'mezzo-version',
  setup(build) {
    build.onLoad({ filter: /[\\/]version\.js$/ }, (args) => (path.resolve(args.path) === versionFile
      ? { contents: `export const VERSION = ${JSON.stringify(version)};\n`, loader: 'js' }
      : undefined));
  },
};

const common = {
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  sourcesContent: true,
  legalComments: 'none',
  target: 'es2022',
  platform: 'browser',
  external: ['node:*'], // node's modules, imported only where node runs the loader
  plugins: [withVersion],
  logLevel: 'warning',
};

// The classic script is also what node require()s (the test suites): node's
// `module` is known only outside the bundle, which would take a free
// `module` for its own.
const classicFooter = "if (typeof module === 'object' && module && module.exports) module.exports = globalThis.mezzo;";

// The comments that tell an app's bundler to leave the loader's one import
// of a run-time URL (Go's glue, in runtime.js) alone. esbuild's minifier
// drops comments, so they are put back after it, and the source map's
// columns moved by as much (see keepImportComments).
const IMPORT_COMMENTS = '/* webpackIgnore: true */ /* @vite-ignore */ ';
const RUNTIME_IMPORT = /\bimport\((?=[A-Za-z_$][\w$]*\))/g;

/**
 * keepImportComments inserts IMPORT_COMMENTS into every import of a
 * run-time URL in code, and moves the generated columns of map's mappings
 * after each insertion on its line, so that the map still points where it
 * did. It fails unless it finds exactly want such imports.
 */
function keepImportComments(code, map, want, file) {
  const lineStarts = [0];
  for (let i = code.indexOf('\n'); i >= 0; i = code.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const inserts = [...code.matchAll(RUNTIME_IMPORT)].map((m) => {
    const at = m.index + m[0].length;
    let line = lineStarts.length - 1;
    while (lineStarts[line] > at) line--;
    return { at, line, column: at - lineStarts[line] };
  });
  if (inserts.length !== want) throw new Error(`${file}: ${inserts.length} imports of a run-time URL, expected ${want}`);
  const lines = map.mappings.split(';');
  for (const { line, column } of inserts) {
    let generated = 0;
    let moved = 0;
    lines[line] = lines[line].split(',').map((segment) => {
      if (segment === '') return segment;
      const fields = decodeVlq(segment);
      generated += fields[0];
      const column2 = generated >= column ? generated + IMPORT_COMMENTS.length : generated;
      fields[0] = column2 - moved;
      moved = column2;
      return encodeVlq(fields);
    }).join(',');
  }
  map.mappings = lines.join(';');
  let text = code;
  for (const { at } of [...inserts].reverse()) text = text.slice(0, at) + IMPORT_COMMENTS + text.slice(at);
  return text;
}

/** bundle builds one entry to outfile and outfile.map. */
async function bundle(entry, outfile, format, banner, footer = '') {
  const result = await esbuild.build({ ...common, entryPoints: [path.join(entries, entry)], format, outfile, banner: { js: banner }, footer: { js: footer }, write: false });
  const js = result.outputFiles.find((f) => f.path === outfile);
  const mapFile = result.outputFiles.find((f) => f.path === `${outfile}.map`);
  const map = JSON.parse(mapFile.text);
  const code = keepImportComments(js.text, map, 1, path.basename(outfile));
  writeFileSync(outfile, code);
  writeFileSync(`${outfile}.map`, JSON.stringify(map));
}

const wasmExec = readFileSync(path.join(out, 'wasm_exec.js'), 'utf8');
mkdirSync(out, { recursive: true });
await Promise.all([
  bundle('classic.js', path.join(out, 'mezzo.js'), 'iife', header, classicFooter),
  bundle('module.js', path.join(out, 'mezzo.mjs'), 'esm', header),
  // Go's glue first, unmodified: it defines globalThis.Go for the runtime.
  bundle('worker.js', path.join(out, 'mezzo-worker.js'), 'iife', `${header}\n${wasmExec}`),
]);
