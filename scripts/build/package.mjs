// `make package`: the npm package, as a tarball (npm pack), from the built
// web/dist/, the React binding (web/react/) and the manifest
// (web/npm/package.json, whose "files" says what ships).
//
//   node scripts/build/package.mjs <dist> <version> <outdir>
//
// Stages the package in <outdir>/npm/ and writes <outdir>/<name>-<version>.tgz;
// prints the tarball's path. The staged manifest is web/npm/package.json
// with "version" set to <version> (scripts/build/version.sh: the same value
// the module and the loaders carry).
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [dist, version, outdir] = process.argv.slice(2).map((a, i) => (i === 1 ? a : path.resolve(a)));
if (!dist || !version || !outdir) throw new Error('usage: node scripts/build/package.mjs <dist> <version> <outdir>');

// Where each shipped file comes from: the package's root is flat, so that
// mezzo.mjs finds mezzo.wasm, the worker and Go's glue next to itself
// (new URL('./…', import.meta.url)) and react.mjs finds mezzo.mjs.
export const SOURCES = {
  'mezzo.mjs': path.join(dist, 'mezzo.mjs'),
  'mezzo.d.mts': path.join(dist, 'mezzo.d.mts'),
  'mezzo.js': path.join(dist, 'mezzo.js'),
  'mezzo.d.ts': path.join(dist, 'mezzo.d.ts'),
  'mezzo-worker.js': path.join(dist, 'mezzo-worker.js'),
  'mezzo.wasm': path.join(dist, 'mezzo.wasm'),
  'wasm_exec.js': path.join(dist, 'wasm_exec.js'),
  'react.mjs': path.join(repo, 'web/react/mezzo-react.mjs'),
  'react.d.mts': path.join(repo, 'web/react/mezzo-react.d.ts'),
  'README.md': path.join(repo, 'web/npm/README.md'),
};

const manifest = JSON.parse(readFileSync(path.join(repo, 'web/npm/package.json'), 'utf8'));
const shipped = Object.keys(SOURCES).filter((f) => f !== 'README.md'); // npm adds README.md and package.json itself
const listed = [...manifest.files].sort();
if (JSON.stringify(listed) !== JSON.stringify([...shipped].sort())) {
  throw new Error(`web/npm/package.json "files" (${listed.join(', ')}) is not what package.mjs ships (${shipped.sort().join(', ')})`);
}

const stage = path.join(outdir, 'npm');
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
// The bundles ship without their source maps (web/dist/ has them, for a
// site that serves mezzo itself): an app's bundler makes its own.
const MAPPED = ['mezzo.mjs', 'mezzo.js', 'mezzo-worker.js'];
for (const [name, src] of Object.entries(SOURCES)) {
  if (!existsSync(src)) throw new Error(`${src} is missing: run make build`);
  if (MAPPED.includes(name)) {
    const text = readFileSync(src, 'utf8');
    const unmapped = text.replace(/\n\/\/# sourceMappingURL=[^\n]*\n?$/, '\n');
    if (unmapped === text) throw new Error(`${src} names no source map: is it built by scripts/build/build-loaders.mjs?`);
    writeFileSync(path.join(stage, name), unmapped);
  } else {
    copyFileSync(src, path.join(stage, name));
  }
}
writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify({ ...manifest, version }, null, 2)}\n`);
const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', outdir], { cwd: stage, encoding: 'utf8' }));
console.log(path.join(outdir, packed.filename));
