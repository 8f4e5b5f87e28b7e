// The README's figures are checked, not trusted: every count in "Tested
// guarantees" against `make counts` (scripts/tools/counts.mjs, which reads
// the suites themselves), the size budget against scripts/build/size.sh, and
// the "Benchmarks" section against what scripts/bench/results.json renders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { render, splice, RESULTS, README } from '../../bench/readme.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const readme = readFileSync(README, 'utf8');

/** n as the README writes numbers: digits grouped by a space from 1 000 on. */
const n = (v) => (v >= 1000 ? String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ' ') : String(v));

/** row returns the cells of the "Tested guarantees" row whose group starts with label. */
function row(label) {
  const section = readme.slice(readme.indexOf('## Tested guarantees'), readme.indexOf('\n## ', readme.indexOf('## Tested guarantees') + 1));
  const lines = section.split('\n').filter((l) => l.startsWith(`| ${label}`));
  assert.equal(lines.length, 1, `README "Tested guarantees" has ${lines.length} rows for ${label}`);
  return lines[0].split(' | ').map((c) => c.replace(/^\| |\s\|$/g, ''));
}

test('every count in "Tested guarantees" is the one make counts computes from the suites', () => {
  const c = JSON.parse(execFileSync(process.execPath, [path.join(repo, 'scripts/tools/counts.mjs'), '--json'], { cwd: repo, encoding: 'utf8', maxBuffer: 16 << 20 }));
  const s = c.secrets;
  const f = c.fuzz;
  const goRows = (g) => `${g.tests} tests, ${g.withRows} with their table rows`;
  const table = [
    ['Core (`pkce/`)', goRows(c.go.pkce), []],
    ['Fuzzing', `${f.targets} targets`, [`replays the ${f.seeds} seeds and the ${n(f.corpusFiles)} committed corpus files`, `(${n(f.inputs)} inputs)`]],
    ['JS boundary', goRows(c.go.jsbridge), []],
    ['Repo-wide checks', goRows(c.go.checks), []],
    ['JS API against the real provider', String(c.nodeSuites.api), []],
    ['Loaders', String(c.nodeSuites['loader-classic'] + c.nodeSuites['loader-esm']), []],
    ['Callback rule', String(c.nodeSuites['callback-rule']), []],
    ['Bundles', String(c.nodeSuites.bundles), []],
    ['RPC layer', String(c.nodeSuites.rpc), []],
    ['Hostile provider', String(c.nodeSuites.hostile), []],
    ['Intermezzo profile', String(c.nodeSuites.intermezzo), []],
    ['Faults', String(c.nodeSuites.faults), []],
    ['Secrets and bad input', String(c.nodeSuites.secrets), [
      `across ${s.failurePaths} failure paths and ${s.wholeSessionCases === 1 ? 'a whole session' : `${s.wholeSessionCases} whole sessions`}`,
      `on ${s.failureKinds} kinds of failure`,
      `refused (${s.returnToRefused} cases`,
      `${n(s.logins)} logins give ${n(s.distinctValues)} distinct`,
    ]],
    ['Soak', String(c.nodeSuites.soak), []],
    ['DPoP (node)', String(c.nodeSuites.dpop), []],
    ['DPoP dev provider', String(c.nodeSuites['dpop-provider']), []],
    ['Browser', String(c.browserTests - c.browserSuites.silent - c.browserSuites.dpop - c.browserSuites.trust), []],
    ['Trust boundary', String(c.browserSuites.trust), []],
    ['Silent and popup sign-in', String(c.browserSuites.silent), []],
    ['DPoP in the browser', String(c.browserSuites.dpop), []],
    ['npm package', String(c.packageTests), []],
  ];
  for (const [label, cases, phrases] of table) {
    const [, count, what] = row(label);
    assert.ok(count === cases || count.startsWith(`${cases}:`), `README row "${label}" says "${count}", the suites have ${cases}`);
    for (const p of phrases) assert.ok(`${count} ${what}`.includes(p), `README row "${label}" should say "${p}" (make counts)`);
  }
});

test('the size budget the README names is the one make size enforces', () => {
  const budget = Number(readFileSync(path.join(repo, 'scripts/build/size.sh'), 'utf8').match(/MEZZO_BROTLI_BUDGET:-(\d+)/)[1]);
  assert.ok(Number.isInteger(budget) && budget > 0, 'size.sh has a numeric default budget');
  assert.ok(readme.includes(`exceeds ${n(budget)} bytes after brotli`), `README "Make targets" should name the budget: exceeds ${n(budget)} bytes after brotli`);
});

test('the README "Benchmarks" figures are what scripts/bench/results.json renders', () => {
  const results = JSON.parse(readFileSync(RESULTS, 'utf8'));
  assert.ok(/^[0-9a-f]{12}$/.test(results.environment.mezzoCommit), `results.json names the commit it measured, clean: ${results.environment.mezzoCommit}`);
  assert.equal(splice(readme, render(results)), readme, 'README "Benchmarks" differs from scripts/bench/results.json: run node scripts/bench/readme.mjs');
});
