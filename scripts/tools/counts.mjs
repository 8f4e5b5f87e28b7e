// `make counts`: the counts the README quotes, computed from the tests
// themselves so the two cannot drift apart. Prints readable lines, then the
// same as one JSON object (with --json: the JSON alone).
//
//   tests per node suite, the browser suites and the package suite: each suite file is imported
//     in a child process whose `node:test` is a recorder, so its test()
//     calls are listed, not run (the suites need `make build` for this);
//   the secrets suite's failure paths, failure kinds, returnTo cases and
//     distinct values: from its titles and case tables (test/lib/secrets-cases.mjs);
//   fuzz targets: `go test -list` in pkce/, checked against the `func Fuzz`
//     declarations; seeds and corpus files: the FuzzX/seed#N and corpus
//     subtests of `go test -run '^Fuzz' -v ./pkce`, and the files under
//     pkce/testdata/fuzz (each file must have run as a subtest).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

// ---- child mode: list the tests of one suite file without running them ----
if (process.argv[2] === '--list') {
  const recorder = `data:text/javascript,${encodeURIComponent(`
    const titles = globalThis.__countsTitles = [];
    const noop = () => {};
    export function test(name, opts, fn) {
      if (typeof name !== 'string') throw new Error('counts.mjs: a test without a title');
      if (opts?.skip || opts?.todo) throw new Error('counts.mjs: a skipped test: ' + name);
      titles.push(name);
    }
    test.skip = test.todo = test.only = () => { throw new Error('counts.mjs: test.skip/todo/only is not counted'); };
    export const it = test;
    export function describe() { throw new Error('counts.mjs: describe() is not supported'); }
    export const before = noop, after = noop, beforeEach = noop, afterEach = noop;
    export default test;
  `)}`;
  register(`data:text/javascript,${encodeURIComponent(`
    export async function resolve(specifier, context, next) {
      return specifier === 'node:test' ? { url: ${JSON.stringify(recorder)}, shortCircuit: true } : next(specifier, context);
    }
  `)}`);
  await import(pathToFileURL(path.resolve(process.argv[3])).href);
  process.stdout.write(JSON.stringify(globalThis.__countsTitles ?? []));
  process.exit(0); // suites may hold servers open at top level
}

const fail = (msg) => { console.error(`counts: ${msg}`); process.exit(1); };

/** titles lists the test titles of suite file (relative to the repository). */
function titles(file) {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--list', file], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out);
}

const suites = (dir) => readdirSync(path.join(repo, dir)).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => `${dir}/${f}`);

const nodeSuites = {};
const titlesBySuite = {};
for (const file of suites('scripts/test/node')) {
  const name = path.basename(file, '.test.mjs');
  titlesBySuite[name] = titles(file);
  nodeSuites[name] = titlesBySuite[name].length;
}
const browserSuites = {};
for (const file of suites('scripts/test/browser')) browserSuites[path.basename(file, '.test.mjs')] = titles(file).length;
const packageTests = suites('scripts/test/package').reduce((n, file) => n + titles(file).length, 0);

// ---- the secrets suite ----
const cases = await import('../test/lib/secrets-cases.mjs');
const secretsTitles = titlesBySuite.secrets ?? fail('no secrets suite');
const failurePaths = secretsTitles.filter((t) => t.startsWith(cases.FAILURE_PATH_TITLE)).length;
const wholeSession = secretsTitles.filter((t) => t.startsWith(cases.WHOLE_SESSION_TITLE)).length;
const secrets = {
  failurePaths,
  wholeSessionCases: wholeSession,
  failureKinds: cases.transactionCases.filter(([, code]) => code !== null).length,
  transactionCases: cases.transactionCases.length,
  returnToRefused: cases.foreignReturnTo.length + cases.foreignLogoutReturnTo.length,
  returnToRefusedAtLogin: cases.foreignReturnTo.length,
  returnToRefusedAtLogout: cases.foreignLogoutReturnTo.length,
  returnToKept: cases.sameOriginReturnTo.length,
  logins: cases.LOGINS,
  distinctValues: cases.DISTINCT_VALUES,
};

// ---- fuzzing ----
const go = process.env.GO ?? 'go';
const declared = readdirSync(path.join(repo, 'pkce')).filter((f) => f.endsWith('_test.go'))
  .flatMap((f) => [...readFileSync(path.join(repo, 'pkce', f), 'utf8').matchAll(/^func (Fuzz\w*)\(/gm)].map((m) => m[1])).sort();
const listed = execFileSync(go, ['test', '-list', '^Fuzz', './pkce'], { cwd: repo, encoding: 'utf8' })
  .split('\n').filter((l) => l.startsWith('Fuzz')).sort();
if (declared.length === 0 || JSON.stringify(declared) !== JSON.stringify(listed)) {
  fail(`fuzz targets declared (${declared.join(', ')}) and listed by go test -list (${listed.join(', ')}) differ`);
}
const verbose = execFileSync(go, ['test', '-count=1', '-run', '^Fuzz', '-v', './pkce'], { cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20 });
const subtests = [...verbose.matchAll(/^\s*--- PASS: (Fuzz\w+)\/(\S+) /gm)].map((m) => [m[1], m[2]]);
const seeds = subtests.filter(([, name]) => /^seed#\d+$/.test(name)).length;
const corpusRun = subtests.filter(([, name]) => !/^seed#\d+$/.test(name)).length;
const corpusDir = path.join(repo, 'pkce/testdata/fuzz');
const corpusFiles = readdirSync(corpusDir).reduce((n, d) => n + readdirSync(path.join(corpusDir, d)).length, 0);
if (corpusRun !== corpusFiles) fail(`${corpusFiles} corpus files under pkce/testdata/fuzz, but ${corpusRun} corpus subtests ran`);
const fuzz = { targets: listed.length, targetNames: listed, seeds, corpusFiles, inputs: seeds + corpusFiles };

// ---- Go tests: Test and Example functions, then with their subtests ----
/** goTests counts the passing tests of pkgs: top level, and with every (nested) subtest. */
function goTests(pkgs, env = {}, exec = []) {
  const out = execFileSync(go, ['test', '-count=1', '-v', '-run', '^(Test|Example)', ...exec, ...pkgs],
    { cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, ...env } });
  if (/^\s*--- (FAIL|SKIP)/m.test(out)) fail(`go test ${pkgs.join(' ')}: a test failed or was skipped`);
  const lines = [...out.matchAll(/^(\s*)--- PASS: /gm)];
  return { tests: lines.filter((m) => m[1] === '').length, withRows: lines.length };
}
const goSuites = {
  pkce: goTests(['./pkce/...']),
  checks: goTests(['./checks/...']),
  jsbridge: goTests(['./jsbridge/...'], { GOOS: 'js', GOARCH: 'wasm' }, ['-exec', path.join(repo, 'scripts/test/wasm/go_js_wasm_exec')]),
};

const counts = {
  go: goSuites,
  nodeSuites,
  nodeTests: Object.values(nodeSuites).reduce((a, b) => a + b, 0),
  browserSuites,
  browserTests: Object.values(browserSuites).reduce((a, b) => a + b, 0),
  packageTests,
  secrets,
  fuzz,
};

if (!process.argv.includes('--json')) {
  for (const [name, g] of Object.entries(goSuites)) console.log(`go ${name}: ${g.tests} tests, ${g.withRows} with their table rows`);
  for (const [name, n] of Object.entries(nodeSuites)) console.log(`node suite ${name}: ${n} tests`);
  for (const [name, n] of Object.entries(browserSuites)) console.log(`browser suite ${name}: ${n} tests`);
  console.log(`package suite: ${packageTests} tests`);
  console.log(`secrets: ${secrets.failurePaths} failure paths plus ${secrets.wholeSessionCases} whole-session case`);
  console.log(`secrets: the transaction removed on success and on ${secrets.failureKinds} kinds of failure`);
  console.log(`secrets: returnTo to another origin refused in ${secrets.returnToRefused} cases (${secrets.returnToRefusedAtLogin} at login, ${secrets.returnToRefusedAtLogout} at logout); ${secrets.returnToKept} same-origin cases kept`);
  console.log(`secrets: ${secrets.logins} logins, ${secrets.distinctValues} distinct states, nonces and verifiers`);
  console.log(`fuzz: ${fuzz.targets} targets; ${fuzz.inputs} inputs replayed by go test (${fuzz.seeds} seeds + ${fuzz.corpusFiles} corpus files)`);
}
console.log(JSON.stringify(counts, null, process.argv.includes('--json') ? 2 : 0));
