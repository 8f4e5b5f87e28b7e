// What a library adds to a Vite production build of a minimal app, and the
// installed size of mezzo's npm package: `make size` prints mezzo's,
// `make bench` has the row for every library.
//
//   node scripts/tools/app-size.mjs <mezzo tarball>     mezzo's figures
//   node scripts/tools/app-size.mjs <tarball> --all     every library's, as JSON
//
// The app is the package suite's (scripts/test/package/app/: Vite pinned
// by its lock file), installed once in .cache/app-size/; each library is
// installed there from its tarball or the registry at the version
// scripts/package.json pins. A minimal app for a library creates a client
// and reads whether it is signed in; what the library adds is that build's
// bytes (every emitted file: scripts, the module, the worker) minus those
// of the same app without the library. Brotli as the bench's download sizes (bench/build.mjs: quality 11, a 16 MiB window, as `brotli -q 11`).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotli as compress, LIBS } from '../bench/build.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WORK = path.join(repo, '.cache/app-size');
const APP = path.join(repo, 'scripts/test/package/app');
const pinned = JSON.parse(readFileSync(path.join(repo, 'scripts/package.json'), 'utf8')).devDependencies;

// Each library's minimal app: make a client, ask whether it is signed in.
const CONFIG = "{ clientId: 'app', redirectUri: location.origin + '/', issuer: 'https://id.example.com' }";
export const APPS = {
  none: "document.body.textContent = 'signed out';",
  mezzo: `import { createClient } from '@mezzo-auth/mezzo';
const client = await createClient(${CONFIG});
document.body.textContent = client.isAuthenticated() ? 'signed in' : 'signed out';`,
  auth0: `import { createAuth0Client } from '@auth0/auth0-spa-js';
const client = await createAuth0Client({ domain: 'id.example.com', clientId: 'app', authorizationParams: { redirect_uri: location.origin + '/' } });
document.body.textContent = (await client.isAuthenticated()) ? 'signed in' : 'signed out';`,
  oidc: `import { UserManager } from 'oidc-client-ts';
const manager = new UserManager({ authority: 'https://id.example.com', client_id: 'app', redirect_uri: location.origin + '/' });
document.body.textContent = (await manager.getUser()) ? 'signed in' : 'signed out';`,
};

function sh(cmd, args, cwd) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300000 });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** prepare installs the app and the libraries in WORK (again only when the lock file or the tarball changed). */
function prepare(tarball) {
  const lock = readFileSync(path.join(APP, 'package-lock.json'), 'utf8');
  const stamp = `${lock.length}:${tarball}:${existsSync(tarball) ? readFileSync(tarball).length : 0}`;
  const stampFile = path.join(WORK, '.stamp');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) cpSync(path.join(APP, f), path.join(WORK, f));
  // npm install, not npm ci: see scripts/test/package/package.test.mjs.
  sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], WORK);
  sh('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', tarball,
    `@auth0/auth0-spa-js@${pinned['@auth0/auth0-spa-js']}`, `oidc-client-ts@${pinned['oidc-client-ts']}`], WORK);
  writeFileSync(stampFile, stamp);
}

/** build builds the minimal app of lib and returns the raw and brotli bytes of everything it emitted. */
function build(lib) {
  const root = path.join(WORK, 'apps', lib);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  writeFileSync(path.join(root, 'index.html'), '<!doctype html>\n<title>app</title>\n<script type="module" src="./main.js"></script>\n');
  writeFileSync(path.join(root, 'main.js'), `${APPS[lib]}\n`);
  sh(path.join(WORK, 'node_modules/.bin/vite'), ['build', root, '--outDir', 'dist', '--logLevel', 'warn'], WORK);
  const out = path.join(root, 'dist');
  let raw = 0; let brotli = 0;
  for (const f of readdirSync(out, { recursive: true, withFileTypes: true }).filter((d) => d.isFile())) {
    const body = readFileSync(path.join(f.parentPath ?? f.path, f.name));
    raw += body.length;
    brotli += compress(body).length;
  }
  return { raw, brotli };
}

/** installedSize is the bytes of mezzo's package as npm unpacks it. */
function installedSize() {
  const dir = path.join(WORK, 'node_modules/@mezzo-auth/mezzo');
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile())
    .reduce((n, d) => n + readFileSync(path.join(d.parentPath ?? d.path, d.name)).length, 0);
}

/** appSizes measures what each of libs adds to the minimal Vite app; mezzo from tarball. */
export function appSizes(tarball, libs = LIBS) {
  prepare(path.resolve(tarball));
  const base = build('none');
  const adds = {};
  for (const lib of libs) {
    const b = build(lib);
    adds[lib] = { raw: b.raw - base.raw, brotli: b.brotli - base.brotli };
  }
  return { tarballBytes: readFileSync(tarball).length, installedBytes: installedSize(), adds };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [tarball, flag] = process.argv.slice(2);
  if (!tarball || !existsSync(tarball)) throw new Error('usage: node scripts/tools/app-size.mjs <mezzo tarball> [--all]');
  const r = appSizes(tarball, flag === '--all' ? LIBS : ['mezzo']);
  if (flag === '--all') {
    console.log(JSON.stringify(r));
  } else {
    console.log(`npm package: ${r.tarballBytes} bytes packed, ${r.installedBytes} bytes installed`);
    console.log(`a Vite production build of a minimal app grows by ${r.adds.mezzo.raw} bytes raw, ${r.adds.mezzo.brotli} after brotli (make bench: the peers' figures)`);
  }
}
