// The npm package as a user meets it (`make test-package`): the tarball
// that `make package` packs is installed into a fresh project outside the
// source tree (scripts/test/package/app/, copied to a temporary folder,
// its dependencies installed at the versions its lock file pins), type-checked with tsc
// through the package's "exports", built with Vite (a React app on the
// binding, in StrictMode) and with webpack 5 (plain ES module), each with
// no configuration for mezzo; each build is served with the demo's
// headers (CSP included) and signed in, renewed and signed out in Debian's
// chromium against the dev provider.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemoServer } from '../../dev/demo-server.mjs';
import { startIdp } from '../../dev/idp/harness.mjs';
import { launchBrowser, recordCspViolations, cspViolations, signIn, logOut, CHROMIUM } from '../browser/browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const DIST = path.join(repo, 'web/dist');
// What the package ships, at its root (web/npm/package.json "files", plus
// what npm always adds).
const SHIPPED = ['README.md', 'package.json', 'mezzo.mjs', 'mezzo.d.mts', 'mezzo.js', 'mezzo.d.ts', 'mezzo-worker.js',
  'mezzo.wasm', 'wasm_exec.js', 'react.mjs', 'react.d.mts'];

let tarball; let app; let idp; let b; let vite; let webpack;
const consoleMessages = [];

/** run runs a command in the app folder, failing with its output. */
function run(cmd, args, env = {}, timeout = 240000) {
  try {
    return execFileSync(cmd, args, { cwd: app, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true', ...env } });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** files lists the files under dir, recursively, as paths relative to it. */
function files(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath ?? d.path, d.name)));
}

before(async () => {
  tarball = process.env.MEZZO_TARBALL;
  assert.ok(tarball && existsSync(tarball), `MEZZO_TARBALL (${tarball}) missing: run make test-package (it packs with make package)`);
  assert.ok(existsSync(CHROMIUM), `chromium missing at ${CHROMIUM}`);
  app = mkdtempSync(path.join(os.tmpdir(), 'mezzo-package-'));
  cpSync(path.join(here, 'app'), app, { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes(`${path.sep}dist`) });
  // npm install, not npm ci: the registry here lacks one of Vite's optional
  // (Windows-only) dependencies, which npm ci refuses; the lock file still
  // pins every version installed.
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error']);
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', tarball]);
  // React's development build: only it runs StrictMode's double effects
  // (and prints React's warnings), which the binding must survive.
  run(path.join(app, 'node_modules/.bin/vite'), ['build', '--mode', 'development', '--logLevel', 'warn'], { NODE_ENV: 'development' });
  run('node', ['build-webpack.mjs']);
  [vite, webpack] = await Promise.all([startDemoServer({ root: path.join(app, 'dist') }), startDemoServer({ root: path.join(app, 'dist-webpack') })]);
  idp = await startIdp({ accessTokenTtl: 600, redirectUris: [vite.redirectUri, webpack.redirectUri] });
  for (const s of [vite, webpack]) s.setConfig({ issuer: idp.issuer, clientId: idp.clientId, redirectUri: s.redirectUri });
  b = await launchBrowser();
  await recordCspViolations(b.context);
  // The apps' own console (the provider's pages are not ours to judge).
  const ours = (url) => [vite, webpack].some((s) => url.startsWith(`${s.origin}/`));
  b.context.on('page', (page) => {
    page.on('console', (m) => {
      if ((m.type() === 'warning' || m.type() === 'error') && ours(m.location().url || page.url())) consoleMessages.push(`${m.type()}: ${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => { if (ours(page.url())) consoleMessages.push(`pageerror: ${e.message}`); });
  });
});

after(async () => {
  await b?.close();
  await idp?.stop();
  await Promise.all([vite, webpack].map((s) => s?.close()));
  if (app) rmSync(app, { recursive: true, force: true });
});

test('the tarball holds exactly what a page needs: the module, loaders, worker, typings and binding; no sources, maps, tests or secrets', () => {
  const listed = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
  assert.deepEqual(listed.map((f) => f.replace(/^package\//, '')).sort(), [...SHIPPED].sort());
  const installed = path.join(app, 'node_modules/@mezzo-auth/mezzo');
  for (const f of SHIPPED.filter((n) => n !== 'mezzo.wasm')) {
    const text = readFileSync(path.join(installed, f), 'utf8');
    assert.doesNotMatch(text, /PRIVATE KEY|client_secret|sourceMappingURL/, `${f} carries a secret or a source map reference`);
  }
  assert.ok(readFileSync(path.join(installed, 'mezzo.wasm')).equals(readFileSync(path.join(DIST, 'mezzo.wasm'))), 'the built module, unchanged');
});

test('package.json: name, the version the module carries, an ES module package whose exports name the typings, and its side effects', () => {
  const pkg = JSON.parse(readFileSync(path.join(app, 'node_modules/@mezzo-auth/mezzo/package.json'), 'utf8'));
  const built = /^\/\/ mezzo (\S+)\. Bundled/.exec(readFileSync(path.join(DIST, 'mezzo-worker.js'), 'utf8'))[1];
  assert.equal(pkg.name, '@mezzo-auth/mezzo');
  assert.equal(pkg.version, built, 'one version for the package, the loaders and the module');
  assert.match(pkg.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, 'semver');
  assert.equal(pkg.type, 'module');
  assert.ok(pkg.license);
  assert.deepEqual(pkg.exports['.'], { types: './mezzo.d.mts', default: './mezzo.mjs' });
  assert.deepEqual(pkg.exports['./react'], { types: './react.d.mts', default: './react.mjs' });
  assert.equal(pkg.exports['./worker'], './mezzo-worker.js');
  assert.deepEqual(pkg.sideEffects, ['./mezzo.js', './mezzo-worker.js', './wasm_exec.js'], 'the classic scripts define globals; the ES modules have no side effects');
  assert.deepEqual(Object.keys(pkg.peerDependencies ?? {}), ['react'], 'React is the one (peer) dependency');
  assert.equal(pkg.dependencies, undefined);
});

test('tsc type-checks an app against the installed package through "exports" (main entry and the React binding)', () => {
  run(path.join(app, 'node_modules/.bin/tsc'), ['-p', '.']);
});

for (const [name, dir, server] of [['Vite', 'dist', () => vite], ['webpack 5', 'dist-webpack', () => webpack]]) {
  test(`${name}: the build holds the module exactly once, as an emitted asset (not inlined) served as application/wasm, beside the worker`, async () => {
    const out = path.join(app, dir);
    const wasm = files(out).filter((f) => readFileSync(path.join(out, f)).subarray(0, 4).equals(Buffer.from('\0asm')));
    assert.equal(wasm.length, 1, `one module in ${name}'s output, found ${wasm.join(', ')}`);
    assert.ok(wasm[0].endsWith('.wasm'));
    // application/wasm: what lets the worker compile it while it streams
    // (the worker's request is not the page's, so it is asked for here).
    const res = await fetch(`${server().origin}/${wasm[0].split(path.sep).join('/')}`, { method: 'HEAD' });
    assert.equal(res.headers.get('content-type'), 'application/wasm');
    for (const f of files(out).filter((x) => x.endsWith('.js'))) {
      assert.doesNotMatch(readFileSync(path.join(out, f), 'utf8'), /AGFzbQ/, `${f} inlines a module as base64`);
    }
    assert.equal(files(out).filter((f) => f.endsWith('.js') && readFileSync(path.join(out, f), 'utf8').includes('mezzo-runtime@')).length, 1, 'the worker script, once');
  });
}

/** tokenRequests is the provider's count of token requests so far. */
const tokenRequests = async () => (await idp.stats()).tokenRequests;

for (const [name, server] of [['Vite + React (StrictMode)', () => vite], ['webpack 5', () => webpack]]) {
  test(`${name}: sign in, renew and sign out in chromium; one code exchange, no CSP violation, no console warning`, async () => {
    const s = server();
    const page = await b.context.newPage();
    const before = await idp.stats();
    await signIn(page, s.origin, idp);
    const afterLogin = await idp.stats();
    assert.equal(afterLogin.authCodeRequests - before.authCodeRequests, 1, 'the callback is handled once (StrictMode runs effects twice)');
    assert.equal(await page.evaluate(() => location.search), '', 'code and state left the address bar');
    assert.equal(await page.getAttribute('#status', 'data-state'), 'signed-in');
    // A second handling (StrictMode's second effect) would find the
    // transaction gone and report missing_transaction.
    assert.deepEqual(await page.evaluate(() => window.__mezzoErrors ?? []), [], 'no error reported');
    const n = await tokenRequests();
    await page.click('#renew');
    await page.waitForSelector('#renewals:text("1")');
    assert.equal(await tokenRequests() - n, 1, 'one renewal, one token request');
    await logOut(page, s.origin, idp);
    assert.deepEqual(await cspViolations(page), []);
    await page.close();
    assert.deepEqual(consoleMessages, [], 'no warning or error in the console');
  });
}
