// What each library's page downloads, built and compressed once per run:
// the bytes the size metric reports are the bytes the server sends.
//
//   mezzo           web/dist/mezzo.wasm + mezzo.js (loader) + mezzo-worker.js
//                   (the runtime worker, with Go's wasm_exec.js inside)
//                   + its glue (pages/mezzo.entry.js, minified like the others);
//                   what the default host (a SharedWorker) downloads

//   auth0-spa-js    esbuild bundle of pages/auth0.entry.js (+ the library)
//                   + auth0's token worker, self-hosted (see auth0.entry.js)
//   oidc-client-ts  esbuild bundle of pages/oidc-client-ts.entry.js (+ the library)
//
// Bundles: format iife, minify, platform browser, esbuild's defaults
// otherwise (legal comments kept at the end, as a site would ship them).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
const scripts = path.join(repo, 'scripts');
const dist = path.join(repo, 'web/dist');
const require = createRequire(path.join(scripts, 'package.json'));

export const LIBS = ['mezzo', 'auth0', 'oidc'];
export const LIB_NAMES = { mezzo: 'mezzo', auth0: 'auth0-spa-js', oidc: 'oidc-client-ts' };

const JS = 'text/javascript; charset=utf-8';
const TYPES = { '.wasm': 'application/wasm', '.js': JS, '.mjs': JS, '.ts': 'text/plain; charset=utf-8', '.mts': 'text/plain; charset=utf-8', '.map': 'application/json' };

/**
 * distFiles serves every file web/dist/ holds, under /dist/: the loaders,
 * the module, and whatever a build adds (the runtime worker,
 * mezzo-worker.js, once it exists), so a new host needs no change here.
 */
function distFiles() {
  const out = {};
  for (const name of readdirSync(dist)) {
    const file = path.join(dist, name);
    if (!statSync(file).isFile()) continue;
    out[`/dist/${name}`] = { body: readFileSync(file), type: TYPES[path.extname(name)] ?? 'application/octet-stream' };
  }
  return out;
}

export function gzipSize(buf) {
  return zlib.gzipSync(buf, { level: 9 }).length;
}

// Quality 11 and a 16 MiB window: what `brotli -q 11` (the CLI's
// defaults) and `make size` produce.
export function brotli(buf) {
  return zlib.brotliCompressSync(buf, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
    },
  });
}

// dpop: the build for the dpop phase's pages, with the entry's DPoP part
// (BENCH_DPOP); the counted build leaves it out (dead code, removed).
async function bundle(entry, { dpop = false } = {}) {
  const esbuild = require('esbuild');
  const out = await esbuild.build({
    entryPoints: [path.join(here, 'pages', entry)],
    absWorkingDir: scripts,
    bundle: true,
    format: 'iife',
    minify: true,
    platform: 'browser',
    define: { BENCH_DPOP: String(dpop) },
    write: false,
    logLevel: 'silent',
  });
  return Buffer.from(out.outputFiles[0].contents);
}

export function packageVersion(name) {
  return JSON.parse(readFileSync(path.join(scripts, 'node_modules', name, 'package.json'), 'utf8')).version;
}

/**
 * buildAssets bundles the entries, reads mezzo's dist files and compresses
 * everything. Resolves {assets: Map url -> {body, br, type}, sizes, heads}.
 */
export async function buildAssets() {
  const auth0Worker = path.join(scripts, 'node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.worker.production.js');
  const files = {
    ...distFiles(), // mezzo.wasm, mezzo.js, mezzo-worker.js, wasm_exec.js (the page host), ...
    '/b/mezzo.js': { body: await bundle('mezzo.entry.js'), type: JS },
    '/b/auth0.js': { body: await bundle('auth0.entry.js'), type: JS },
    '/b/auth0-worker.js': { body: readFileSync(auth0Worker), type: JS },
    '/b/oidc-client-ts.js': { body: await bundle('oidc-client-ts.entry.js'), type: JS },
    // The dpop phase's pages: the same entries with their DPoP part; not counted.
    '/b/mezzo-dpop.js': { body: await bundle('mezzo.entry.js', { dpop: true }), type: JS },
    '/b/auth0-dpop.js': { body: await bundle('auth0.entry.js', { dpop: true }), type: JS },
    '/b/oidc-client-ts-dpop.js': { body: await bundle('oidc-client-ts.entry.js', { dpop: true }), type: JS },
    '/bench.js': { body: readFileSync(path.join(here, 'pages/bench.js')), type: JS }, // the driver: not counted
  };
  const assets = new Map();
  for (const [url, f] of Object.entries(files)) assets.set(url, { ...f, br: brotli(f.body) });

  // What counts towards each library's download. mezzo on its default
  // host: the page loads mezzo.js, the worker mezzo-worker.js (Go's
  // wasm_exec.js is inside it) and the module; wasm_exec.js on its own is
  // only for the page host.
  const counted = {
    mezzo: ['/dist/mezzo.wasm', '/dist/mezzo.js', '/dist/mezzo-worker.js', '/b/mezzo.js'],
    auth0: ['/b/auth0.js', '/b/auth0-worker.js'],
    oidc: ['/b/oidc-client-ts.js'],
  };
  const sizes = {};
  for (const lib of LIBS) {
    const perFile = counted[lib].map((url) => {
      const a = assets.get(url);
      return { url, raw: a.body.length, gzip: gzipSize(a.body), brotli: a.br.length };
    });
    const sum = (k) => perFile.reduce((n, f) => n + f[k], 0);
    sizes[lib] = { files: perFile, raw: sum('raw'), gzip: sum('gzip'), brotli: sum('brotli') };
  }

  // Each library's tags in the shared page, after which /bench.js runs.
  const heads = {
    mezzo: [
      // As README shows: no <link rel="preload"> of the module, which the
      // SharedWorker host (the default) fetches and compiles itself.
      '<script src="/dist/mezzo.js" defer></script>',
      '<script src="/b/mezzo.js" defer></script>',
    ],
    auth0: ['<script src="/b/auth0.js" defer></script>'],
    oidc: ['<script src="/b/oidc-client-ts.js" defer></script>'],
  };
  // The dpop phase's pages (the scenario's variant 'dpop'): the same, with the DPoP builds.
  const dpopBundle = { mezzo: '/b/mezzo-dpop.js', auth0: '/b/auth0-dpop.js', oidc: '/b/oidc-client-ts-dpop.js' };
  const dpopHeads = Object.fromEntries(LIBS.map((lib) => [lib, heads[lib].map((t) => t.replace(/src="\/b\/[^"]+"/, `src="${dpopBundle[lib]}"`))]));
  return { assets, sizes, heads, dpopHeads };
}
