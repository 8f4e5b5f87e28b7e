// Turns the raw measurements of one run into metric rows, and writes them
// as results.json, results.md (a Markdown table) and ratios.svg (a
// hand-written log-scale bar chart of mezzo / peer). Every number here
// comes from the measurements passed in; nothing is assumed.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { LIBS, LIB_NAMES } from './build.mjs';

const PEERS = ['auth0', 'oidc'];

/** summary of numeric samples: median, min, max, n. */
export function summarize(samples) {
  const s = samples.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

// A cell: a sampled value {median,min,max,n,samples}, a single value
// {value}, or {value: null, reason}.
const sampled = (samples) => {
  const sum = summarize(samples);
  return sum ? { value: sum.median, ...sum, samples } : { value: null, reason: 'not measured', samples };
};
const single = (value) => (typeof value === 'number' ? { value } : { value: null, reason: 'not measured' });
const na = (reason) => ({ value: null, reason });
// A yes/no per sample (unit 'share'): the share of yes, shown as yes/no.
const share = (flags) => (flags.length ? { value: flags.filter(Boolean).length / flags.length, yes: flags.filter(Boolean).length, n: flags.length } : na('not measured'));
const hosts = (samples) => [...new Set(samples.map((x) => x.runtime ?? 'page'))].join(', ');

/** rows builds the table's rows from the raw measurements. */
export function buildRows(raw) {
  const rows = [];
  const row = (id, label, unit, cells, note) => rows.push({ id, label, unit, cells, ...(note ? { note } : {}) });
  const perLib = (fn) => Object.fromEntries(LIBS.map((lib) => [lib, fn(lib)]));

  for (const k of ['raw', 'gzip', 'brotli']) {
    row(`size.${k}`, `Download size, ${k}`, 'bytes', perLib((lib) => single(raw.sizes[lib][k])));
  }
  // What each library adds to a Vite production build of a minimal app
  // (scripts/tools/app-size.mjs): every emitted file, mezzo's from its npm
  // tarball (its module, worker and Go's glue for the page host included).
  for (const k of ['raw', 'brotli']) {
    row(`size.vite.${k}`, `Vite production build of a minimal app: what the library adds, ${k}`, 'bytes',
      perLib((lib) => (raw.appSizes ? single(raw.appSizes.adds[lib][k]) : na('not measured'))));
  }
  const visits = { cold: 'cold (fresh profile)', warm: 'warm (2nd visit)', hot: 'warm (3rd visit)' };
  for (const [k, label] of Object.entries(visits)) {
    row(`load.${k}`, `Load to ready, ${label}`, 'ms', perLib((lib) => sampled(raw.load[k][lib])));
  }
  // Ready is when the client answers; module ready when a protocol call
  // (login, a callback, a renewal) could run: for mezzo, client.ready,
  // whose module starts in the background on a signed-out page; the peers
  // can run one as soon as they answer.
  for (const [k, label] of Object.entries(visits)) {
    row(`load.${k}.module`, `Load to module ready, ${label}`, 'ms', perLib((lib) => sampled(raw.loadModule?.[k]?.[lib] ?? [])));
  }
  // Where mezzo's load time goes, from its performance marks: the module
  // fetched and compiled, then instantiated and the Go program started.
  for (const k of ['cold', 'warm']) {
    const at = (name) => (raw.loadMarks?.[k]?.mezzo ?? []).map((m) => m?.[name] ?? null);
    const phases = { compiled: 'module fetched and compiled', started: 'Go program started' };
    for (const [mark, what] of Object.entries(phases)) {
      row(`load.${k}.${mark}`, `Load, ${visits[k].split(' (')[0]}: ${what} at`, 'ms',
        perLib((lib) => (lib === 'mezzo' ? sampled(at(`mezzo:${mark}`)) : na('no WebAssembly'))));
    }
  }
  row('getToken', 'getToken(), valid cached token', 'ns/call', perLib((lib) => sampled(raw.getToken[lib].map((b) => b.nsPerCall))));
  const storm = (lib, f) => (raw.stampede[lib] ?? []).map(f);
  row('stampede.requests', `Stampede: token requests for ${raw.config.stampedeCalls} concurrent calls`, 'requests',
    perLib((lib) => sampled(storm(lib, (s) => s.requests))));
  row('stampede.ms', 'Stampede: time until all calls settle', 'ms', perLib((lib) => sampled(storm(lib, (s) => s.ms))));
  row('stampede.rejected', 'Stampede: calls rejected', 'calls', perLib((lib) => sampled(storm(lib, (s) => s.rejected))));
  row('login', 'Login round trip (through the provider form)', 'ms',
    perLib((lib) => sampled(raw.login[lib].map((l) => l.ms))));
  row('login.runtimeAlive', 'Login: the callback page found the runtime already started', 'share',
    perLib((lib) => (lib === 'mezzo' ? share(raw.login[lib].map((l) => l.runtimeAlive === true)) : na('no runtime to keep'))));
  row('callback.total', 'Callback: handleRedirectCallback total', 'ms',
    perLib((lib) => sampled(raw.login[lib].map((l) => l.callback.total))));
  // The network figures come from the bench proxy's timing of each request
  // (run.mjs, callbackNetwork), the same for a library that fetches from
  // the page and one that fetches from a worker (auth0-spa-js, mezzo's
  // runtime host), which the page's Resource Timing does not see.
  row('callback.network', 'Callback: network wait (token + JWKS requests)', 'ms',
    perLib((lib) => sampled(raw.login[lib].map((l) => l.callback.union))));
  row('callback.local', 'Callback: local processing (total − network)', 'ms',
    perLib((lib) => sampled(raw.login[lib].map((l) => l.callback.total - l.callback.union))));
  const dur = (l, suffix) => {
    const hits = l.callback.entries.filter((e) => e.url.endsWith(suffix));
    return hits.length ? hits.reduce((n, e) => n + e.duration, 0) : null; // none: not made (e.g. idTokenSignature "tls")
  };
  row('callback.exchange', 'Callback: code exchange request', 'ms',
    perLib((lib) => sampled(raw.login[lib].map((l) => dur(l, '/oauth/token')))));
  row('callback.jwks', 'Callback: JWKS request (for the signature check)', 'ms',
    perLib((lib) => (lib === 'mezzo' ? sampled(raw.login[lib].map((l) => dur(l, '/jwks.json')))
      : na('no signature check, no keys fetched'))));

  // Where the local time goes, from the request intervals: before the
  // first request; between the requests, while none is in flight (mezzo
  // fetches the JWKS alongside the code exchange, so usually nil); after
  // the last reply.
  const phase = (l, which) => {
    const reqs = l.callback.entries.filter((e) => e.url.endsWith('/oauth/token') || e.url.endsWith('/jwks.json'))
      .sort((a, b) => a.start - b.start);
    if (!reqs.length) return null;
    if (which === 'before') return reqs[0].start;
    let end = reqs[0].end;
    let idle = 0;
    for (const r of reqs.slice(1)) {
      if (r.start > end) idle += r.start - end;
      end = Math.max(end, r.end);
    }
    return which === 'mid' ? idle : l.callback.total - end;
  };
  const phaseCells = (which) => perLib((lib) => {
    if (which === 'mid' && lib !== 'mezzo') return na('one request');
    return sampled(raw.login[lib].map((l) => phase(l, which)));
  });
  row('callback.local.before', 'Callback local: before the first request', 'ms', phaseCells('before'));
  row('callback.local.mid', 'Callback local: between the requests, none in flight', 'ms', phaseCells('mid'));
  row('callback.local.after', 'Callback local: after the last reply', 'ms', phaseCells('after'));

  row('refresh.ms', `Forced refresh, one after another (mean of ${raw.config.refreshCycles})`, 'ms',
    perLib((lib) => single(raw.memory[lib] ? raw.memory[lib].refreshMs / raw.config.refreshCycles : null)));
  const last = raw.config.refreshCycles; // BENCH_REFRESH_CYCLES, 1000 by default
  const mem = (lib, cycles, k) => raw.memory[lib]?.checkpoints.find((c) => c.cycles === cycles)?.[k] ?? null;
  for (const [cycles, label] of [['start', 'at start'], [0, 'after login'], [100, 'after 100 refreshes'], [last, `after ${last} refreshes`]]) {
    row(`memory.wasm.${cycles}`, `WebAssembly memory ${label}`, 'bytes',
      perLib((lib) => (lib === 'mezzo' ? single(mem(lib, cycles, 'wasmBytes')) : na('no WebAssembly'))));
  }
  for (const [cycles, label] of [['start', 'at start'], [last, `after ${last} refreshes`]]) {
    row(`memory.total.${cycles}`, `JS heap + WebAssembly memory ${label}`, 'bytes',
      perLib((lib) => single(mem(lib, cycles, 'jsHeapBytes') === null ? null : mem(lib, cycles, 'jsHeapBytes') + (mem(lib, cycles, 'wasmBytes') ?? 0))));
  }
  // ---- one session per browser (issue 11): second tab, reload, main
  // thread, open tabs, code cache. README.md beside this file says how.
  // timeIfAuthenticated: the samples' times (what(x)) when every sample
  // ended authenticated, else n/a saying how many did not (failed(bad, n)).
  const timeIfAuthenticated = (s, what, failed) => {
    if (!s.length) return na('not measured');
    const bad = s.filter((x) => !x.authenticated).length;
    return bad === 0 ? sampled(s.map(what)) : na(failed(bad, s.length));
  };
  const tab2 = (lib) => raw.secondTab?.[lib] ?? [];
  row('tab2.ms', 'Second tab ready, another tab signed in (mezzo: ready and authenticated)', 'ms', perLib((lib) => {
    const s = tab2(lib);
    // The peers start signed out in a new tab: their time is to answer at all.
    if (lib !== 'mezzo' && s.length) return sampled(s.map((x) => x.readyAt));
    return timeIfAuthenticated(s, (x) => x.readyAt, (bad, n) => `not authenticated in ${bad} of ${n} second tabs; runtime: ${hosts(s)}`);
  }));
  row('tab2.authenticated', 'Second tab authenticated when ready', 'share', perLib((lib) => share(tab2(lib).map((x) => x.authenticated))));
  const reload = (lib) => raw.reload?.[lib] ?? [];
  row('reload.ms', 'Reload to authenticated, one tab', 'ms', perLib((lib) => timeIfAuthenticated(reload(lib), (x) => x.readyAt,
    (bad, n) => `not authenticated after ${bad} of ${n} reloads; runtime: ${hosts(reload(lib))}`)));
  row('reload.authenticated', 'Reload: authenticated when ready', 'share', perLib((lib) => share(reload(lib).map((x) => x.authenticated))));
  const silent = (lib) => raw.silent?.[lib] ?? [];
  row('silent.ms', 'Reload to authenticated when no tab kept the session (silent sign-in)', 'ms', perLib((lib) => timeIfAuthenticated(silent(lib), (x) => x.readyAt,
    (bad, n) => `not authenticated without navigating in ${bad} of ${n} starts`)));
  row('silent.authenticated', 'Silent sign-in: authenticated, the page never navigated', 'share', perLib((lib) => share(silent(lib).map((x) => x.authenticated))));
  row('popup.ms', 'Popup login round trip (the provider form filled in the popup)', 'ms', perLib((lib) => (lib === 'auth0'
    ? na('its popup answers with web_message from its domain, which the bench proxy cannot front')
    : timeIfAuthenticated(raw.popup?.[lib] ?? [], (x) => x.ms, (bad, n) => `not authenticated after ${bad} of ${n} popups`))));
  for (const [k, label] of [['cold', 'first visit (empty caches)'], ['warm', 'later visits']]) {
    row(`mainthread.${k}`, `Main-thread time during load, ${label}`, 'ms',
      perLib((lib) => sampled((raw.mainThread?.[k]?.[lib] ?? []).map((x) => x.taskMs))));
  }
  row('memory.tabs', `Memory of ${raw.config.tabs} open tabs (JS heaps + WebAssembly memory, workers included)`, 'bytes',
    perLib((lib) => single(raw.tabsMemory?.[lib] ? raw.tabsMemory[lib].jsHeapBytes + raw.tabsMemory[lib].wasmBytes : null)));
  // One set of rows per host mezzo compiled in (run.mjs, measureCodeCache).
  for (const [host, where] of [['shared-worker', 'in the shared worker'], ['page', 'in the page (runtime: \'page\')']]) {
    const cache = (visit) => raw.codeCache?.[host]?.[visit] ?? [];
    const cacheCell = (visit) => {
      const s = cache(visit);
      if (!s.length) return na('not measured');
      const looked = s.filter((x) => Object.keys(x.caching).length);
      if (!looked.length) return na('Chromium looked up no cached code (no V8.WasmCodeCaching sample)');
      return share(looked.map((x) => (x.caching['1'] ?? 0) > 0));
    };
    const id = host === 'page' ? 'codecache.page' : 'codecache';
    row(`${id}.stored`, `WebAssembly code cache, module compiled ${where}: V8 stored code during the 1st visit`, 'share',
      perLib((lib) => (lib !== 'mezzo' ? na('no WebAssembly') : cache('warm').length ? share(cache('warm').map((x) => x.serializedBefore > 0)) : na('not measured'))));
    for (const [k, label] of [['warm', '2nd visit'], ['hot', '3rd visit']]) {
      row(`${id}.${k}`, `WebAssembly code cache hit, module compiled ${where}, ${label}`, 'share', perLib((lib) => (lib === 'mezzo' ? cacheCell(k) : na('no WebAssembly'))));
    }
  }

  // ---- DPoP (issue 13): run.mjs, measureDpop. Each sample is one run's
  // median (renewals, fetches) or one run's batch (proofs).
  const dpopRuns = (lib) => raw.dpop?.runs?.[lib] ?? [];
  const dpopCell = (lib, f) => (raw.dpop?.unavailable?.[lib] ? na(raw.dpop.unavailable[lib]) : sampled(dpopRuns(lib).map(f)));
  row('dpop.renewal', 'DPoP: forced renewal (refresh-token grant with a proof)', 'ms', perLib((lib) => dpopCell(lib, (x) => x.renewal)));
  row('dpop.renewal.bearer', 'DPoP: the same renewal without DPoP (Bearer)', 'ms', perLib((lib) => dpopCell(lib, (x) => x.renewalBearer)));
  // Paired within a run (same run, back to back), so that slow stretches cancel.
  row('dpop.renewal.cost', 'DPoP: what it adds to a renewal (with − without, per run)', 'ms', perLib((lib) => dpopCell(lib, (x) => x.renewal - x.renewalBearer)));
  row('dpop.proof', 'DPoP: one proof for an app\'s request (key lookup + signing)', 'µs/call', perLib((lib) => dpopCell(lib, (x) => x.proofUs)));
  row('dpop.fetch', 'DPoP: authenticated fetch of a DPoP-protected resource', 'ms', perLib((lib) => dpopCell(lib, (x) => x.fetch)));

  for (const r of rows) {
    r.ratios = {};
    for (const p of PEERS) {
      const m = r.cells.mezzo.value; const v = r.cells[p].value;
      r.ratios[p] = r.unit !== 'share' && typeof m === 'number' && typeof v === 'number' && v > 0 && m > 0 ? m / v : null;
    }
  }
  return rows;
}

// ---- formatting ----

const group = (n, digits = 0) => n.toFixed(digits).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
function fmt(v, unit) {
  if (unit === 'bytes') return v >= 1024 * 1024 ? `${(v / 1048576).toFixed(2)} MiB` : `${(v / 1024).toFixed(1)} KiB`;
  if (unit === 'ms') return v >= 100 ? group(v, 0) : v.toFixed(1);
  if (unit === 'ns/call') return group(v, 0);
  if (unit === 'µs/call') return v >= 100 ? group(v, 0) : v.toFixed(1);
  return group(v, Number.isInteger(v) ? 0 : 1);
}
const unitSuffix = { ms: ' ms', 'ns/call': ' ns', 'µs/call': ' µs', requests: '', calls: '', bytes: '' };

function cellText(c, unit) {
  if (c.value === null) return `n/a (${c.reason})`;
  if (unit === 'share') return `${c.yes === c.n ? 'yes' : c.yes === 0 ? 'no' : 'partly'} (${c.yes} of ${c.n})`;
  const main = `${fmt(c.value, unit)}${unitSuffix[unit] ?? ''}`;
  if (c.n && c.n > 1 && c.min !== c.max) return `${main} (${fmt(c.min, unit)}–${fmt(c.max, unit)})`;
  return main;
}
const ratioText = (r) => {
  if (r === null) return '–';
  if (r >= 10) return `${group(r, r >= 100 ? 0 : 1)}×`;
  return `${r >= 1 ? r.toFixed(2) : r.toPrecision(2)}×`;
};

export function markdownTable(rows) {
  const head = `| metric | ${LIBS.map((l) => LIB_NAMES[l]).join(' | ')} | mezzo / auth0-spa-js | mezzo / oidc-client-ts |`;
  const sep = `|---|${LIBS.map(() => '---').join('|')}|---|---|`;
  const body = rows.map((r) => `| ${r.label} | ${LIBS.map((l) => cellText(r.cells[l], r.unit)).join(' | ')} | ${ratioText(r.ratios.auth0)} | ${ratioText(r.ratios.oidc)} |`);
  return [head, sep, ...body].join('\n');
}

// ---- SVG ----

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function ratiosSvg(rows, subtitle) {
  const shown = rows.filter((r) => r.ratios.auth0 !== null || r.ratios.oidc !== null);
  const all = shown.flatMap((r) => [r.ratios.auth0, r.ratios.oidc]).filter((x) => x !== null);
  // Whole decades either side of 1.0, with room left for the bar labels.
  const decades = Math.max(1, Math.ceil(Math.max(...all.map((x) => Math.abs(Math.log10(x))), 0) + 0.4));
  const W = 1100; const labelW = 430; const right = 40; const top = 96; const rowH = 40; const barH = 13;
  const plotW = W - labelW - right;
  const H = top + shown.length * rowH + 60;
  const x = (ratio) => labelW + ((Math.log10(ratio) + decades) / (2 * decades)) * plotW;
  const colors = { auth0: '#e8833a', oidc: '#3a7be8' };
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="13">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="20" y="28" font-size="18" font-weight="600">mezzo ÷ peer, median of each metric (log scale; lower is better for every metric)</text>`);
  out.push(`<text x="20" y="50" fill="#555" font-size="12">${esc(subtitle)}</text>`);
  out.push(`<text x="${x(1) - 8}" y="76" text-anchor="end" fill="#1a7f37">◀ mezzo better (&lt; 1)</text>`);
  out.push(`<text x="${x(1) + 8}" y="76" fill="#b42318">mezzo worse (&gt; 1) ▶</text>`);
  out.push(`<rect x="20" y="66" width="12" height="12" fill="${colors.auth0}"/><text x="38" y="77">vs auth0-spa-js</text>`);
  out.push(`<rect x="160" y="66" width="12" height="12" fill="${colors.oidc}"/><text x="178" y="77">vs oidc-client-ts</text>`);
  const bottom = top + shown.length * rowH;
  for (let d = -decades; d <= decades; d++) {
    const tx = x(10 ** d);
    out.push(`<line x1="${tx}" y1="${top - 8}" x2="${tx}" y2="${bottom}" stroke="${d === 0 ? '#111' : '#ddd'}" stroke-width="${d === 0 ? 2 : 1}"/>`);
    out.push(`<text x="${tx}" y="${bottom + 18}" text-anchor="middle" fill="#555">${d === 0 ? '1.0' : d < 0 ? `1/${10 ** -d}` : `${10 ** d}`}</text>`);
  }
  shown.forEach((r, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${labelW - 12}" y="${y + rowH / 2 + 4}" text-anchor="end">${esc(r.label)}</text>`);
    ['auth0', 'oidc'].forEach((p, j) => {
      const ratio = r.ratios[p];
      const by = y + 6 + j * (barH + 2);
      if (ratio === null) {
        out.push(`<text x="${x(1) + 6}" y="${by + barH - 2}" font-size="11" fill="#888">n/a</text>`);
        return;
      }
      const clamped = Math.min(Math.max(ratio, 10 ** -decades), 10 ** decades);
      const x0 = Math.min(x(1), x(clamped)); const w = Math.max(Math.abs(x(clamped) - x(1)), 1);
      out.push(`<rect x="${x0.toFixed(1)}" y="${by}" width="${w.toFixed(1)}" height="${barH}" fill="${colors[p]}"/>`);
      const tx = ratio >= 1 ? x(clamped) + 4 : x(clamped) - 4;
      out.push(`<text x="${tx.toFixed(1)}" y="${by + barH - 2}" font-size="11" text-anchor="${ratio >= 1 ? 'start' : 'end'}">${esc(ratioText(ratio))}</text>`);
    });
  });
  out.push(`<text x="20" y="${H - 14}" fill="#555" font-size="12">Rows without a bar have no comparable figure for that peer (see results.md).</text>`);
  out.push('</svg>');
  return out.join('\n');
}

/** writeReport writes the three files and returns the Markdown table. */
export function writeReport(outDir, results) {
  mkdirSync(outDir, { recursive: true });
  const table = markdownTable(results.rows);
  writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const env = results.environment;
  const md = [
    `# mezzo vs auth0-spa-js vs oidc-client-ts`,
    '',
    `${env.date} · ${env.runs} runs · ${env.cpu} (${env.cores} cores) · node ${env.node} · ${env.chromium} · mezzo ${env.mezzoCommit} · auth0-spa-js ${env.versions['@auth0/auth0-spa-js']} · oidc-client-ts ${env.versions['oidc-client-ts']} · oidc-provider ${env.versions['oidc-provider']}`,
    '',
    'Medians, with (min–max) over the runs; sizes and memory are single measurements. Ratios are mezzo ÷ peer (below 1: mezzo is smaller or faster).',
    '',
    table,
    '',
    '## Notes',
    '',
    ...results.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  writeFileSync(path.join(outDir, 'results.md'), md);
  writeFileSync(path.join(outDir, 'ratios.svg'), ratiosSvg(results.rows, `${env.date} · ${env.runs} runs · ${env.cpu} · ${env.chromium}`));
  return table;
}
