// The in-page bench driver: the same file for every library, loaded after
// the library's own scripts (all `defer`, so in order). It never touches a
// library directly, only the adapter its entry file puts on
// window.benchLib. Results go to window.__bench for the harness to read;
// the calls the harness makes are on window.__benchApi. Not counted in any
// library's size.
(() => {
  'use strict';
  const cfg = JSON.parse(document.querySelector('meta[name="bench-config"]').content);
  const B = { state: 'loading' };
  window.__bench = B;
  const lib = window.benchLib;
  const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });
  const errText = (e) => (e && (e.stack || e.message)) || String(e);

  // The popup row: a button the harness clicks (window.open needs a user
  // gesture); its outcome goes to B.popup.
  if (cfg.variant === 'popup' && lib && lib.loginWithPopup) {
    const button = document.createElement('button');
    button.id = 'bench-popup';
    button.textContent = 'Sign in with popup';
    button.addEventListener('click', () => {
      const t0 = performance.now();
      B.popup = null;
      lib.loginWithPopup().then(async () => {
        B.popup = { ms: performance.now() - t0, authenticated: await lib.isAuthenticated() };
      }, (e) => { B.popup = { error: errText(e) }; });
    });
    document.body.append(button);
  }

  async function main() {
    if (!lib) throw new Error('the library entry did not load (window.benchLib missing)');
    const authenticated = await lib.start(cfg);
    // Load to ready: navigation start is performance.now() === 0.
    B.readyAt = performance.now();
    B.authenticatedAtStart = authenticated;
    // Where the library runs (mezzo: client.runtime, 'page' before it had
    // one; the peers run in the page).
    B.runtime = lib.runtime ? lib.runtime() : 'page';
    // Module ready: when the first protocol call could run. mezzo answers
    // before its module has started (client.ready resolves later); the
    // peers can run one as soon as they answer.
    if (lib.moduleReady) await lib.moduleReady();
    B.moduleReadyAt = lib.moduleReady ? performance.now() : B.readyAt;
    // mezzo's start-up moments (web/src/loader.js puts them on the timeline).
    B.marks = Object.fromEntries(['mezzo:ready', 'mezzo:compiled', 'mezzo:started', 'mezzo:module-ready']
      .map((n) => [n, performance.getEntriesByName(n)[0]?.startTime ?? null]));
    // What the page fetched before it was ready, for results.json (a
    // transferSize of 0 means it came from the HTTP cache).
    B.resources = performance.getEntriesByType('resource')
      .filter((e) => e.name.startsWith(location.origin))
      .map((e) => ({ path: new URL(e.name).pathname, start: e.startTime, end: e.responseEnd, transferSize: e.transferSize }));
    if (lib.isCallback()) {
      const t0 = performance.now();
      await lib.callback();
      const t1 = performance.now();
      if (!(await lib.isAuthenticated())) throw new Error('not authenticated after the callback');
      B.loginEnd = Date.now();
      B.loginStart = Number(sessionStorage.getItem('bench.loginStart')) || null;
      sessionStorage.removeItem('bench.loginStart');
      // The callback's span on the wall clock: the harness matches it with
      // the requests its proxy timed (a library's worker makes requests
      // that this page's Resource Timing never lists).
      B.callback = { total: t1 - t0, epochStart: performance.timeOrigin + t0, epochEnd: performance.timeOrigin + t1 };
      if (lib.afterCallback) await lib.afterCallback();
    }
    B.state = 'ready';
  }
  // The harness can await this instead of polling (the main-thread phase:
  // a poll is itself main-thread work).
  window.__benchDone = main().catch((e) => { B.state = 'error'; B.error = errText(e); });

  window.__benchApi = {
    // Starts a login; the page navigates away. The start time survives the
    // navigation in sessionStorage (same origin, same tab).
    login() {
      sessionStorage.setItem('bench.loginStart', String(Date.now()));
      Promise.resolve().then(() => lib.login()).catch((e) => { B.loginError = errText(e); });
    },

    // getToken with a valid cached token: batches of awaited calls, each at
    // least minMs long (the clock is read every `chunk` calls, as
    // performance.now() is coarse), reported as nanoseconds per call.
    async tokenLoop({ batches, minMs, chunk }) {
      const first = await lib.getToken();
      if (typeof first !== 'string' || !first) throw new Error('getToken returned no token');
      for (let i = 0; i < chunk; i++) await lib.getToken(); // warm-up
      const out = [];
      for (let b = 0; b < batches; b++) {
        let calls = 0; let last;
        const t0 = performance.now();
        let t1 = t0;
        while (t1 - t0 < minMs) {
          for (let i = 0; i < chunk; i++) last = await lib.getToken();
          calls += chunk;
          t1 = performance.now();
        }
        if (last !== first) throw new Error('the token changed during the loop: it was not served from the cache');
        out.push({ nsPerCall: ((t1 - t0) * 1e6) / calls, calls, ms: t1 - t0 });
        await sleep(0); // let timers and GC breathe between batches
      }
      return out;
    },

    // n concurrent calls the moment the token needs renewal. Where the
    // library has a renewal moment (renewalDueAt), wait for it; the last
    // stretch is a busy wait, so no timer of the library's own (mezzo's
    // proactive renewal) can run first: the burst meets a token that needs
    // renewal, as after a frozen or busy tab, and starts the renewal itself.
    async stampede(n) {
      const due = lib.renewalDueAt();
      if (due !== null) {
        const wait = due - Date.now() - 300;
        if (wait > 30000) throw new Error(`renewal due in ${wait} ms: too far`);
        if (wait > 0) await sleep(wait);
        while (Date.now() < due + 5) { /* busy wait: see above */ }
      }
      const t0 = performance.now();
      const calls = Array.from({ length: n }, () => lib.renewingGetToken());
      const settled = await Promise.allSettled(calls);
      const ms = performance.now() - t0;
      const ok = settled.filter((s) => s.status === 'fulfilled' && typeof s.value === 'string' && s.value);
      const bad = settled.filter((s) => s.status === 'rejected');
      return {
        ms,
        fulfilled: ok.length,
        rejected: bad.length,
        distinctTokens: new Set(ok.map((s) => s.value)).size,
        firstError: bad.length ? String(bad[0].reason?.message ?? bad[0].reason).slice(0, 200) : null,
        waitedForRenewal: due !== null,
      };
    },

    // n forced renewals one after another (memory under churn).
    async refreshCycles(n) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await lib.forceRefresh();
      return { ms: performance.now() - t0 };
    },

    // The dpop phase (pages of the 'dpop' variant have the calls below;
    // renewals run on the plain pages too, for the cost without DPoP).
    // n forced renewals one after another, each timed; each must bring a
    // new token.
    async renewals(n) {
      const ms = []; const tokens = new Set();
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        tokens.add(await lib.forceRefresh());
        ms.push(performance.now() - t0);
      }
      if (tokens.size !== n) throw new Error(`${n} forced renewals gave ${tokens.size} distinct tokens`);
      return ms;
    },

    // One DPoP proof as the library's API makes it for an app (for a GET of
    // url, with the current access token): batches of awaited calls, each
    // at least minMs long, in microseconds per proof; the first proof is
    // decoded and returned for the harness to check.
    async dpopProofs({ url, batches, minMs }) {
      const make = await lib.dpopProofMaker(url);
      const first = await make();
      const part = (i) => JSON.parse(atob(first.split('.')[i].replace(/-/g, '+').replace(/_/g, '/')));
      const proof = { header: part(0), payload: part(1) };
      for (let i = 0; i < 20; i++) await make(); // warm-up
      const out = [];
      for (let b = 0; b < batches; b++) {
        let calls = 0;
        const t0 = performance.now();
        let t1 = t0;
        while (t1 - t0 < minMs) {
          await make();
          calls++;
          t1 = performance.now();
        }
        out.push({ usPerCall: ((t1 - t0) * 1e3) / calls, calls, ms: t1 - t0 });
        await sleep(0);
      }
      return { batches: out, proof };
    },

    // n authenticated GETs of url with a DPoP proof, one after another, each
    // timed until its body is read; every one must answer 200.
    async dpopFetches({ url, n }) {
      const ms = []; let body = null;
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const res = await lib.dpopFetch(url);
        const text = await res.text();
        ms.push(performance.now() - t0);
        if (res.status !== 200) throw new Error(`the resource answered ${res.status} (${res.headers.get('www-authenticate') ?? 'no WWW-Authenticate'}): ${text.slice(0, 200)}`);
        body = text;
      }
      return { ms, body };
    },

    dpopAvailable: () => Boolean(lib.dpopAvailable && lib.dpopAvailable()),
    tokenType: () => (lib.tokenType ? lib.tokenType() : null),

    state: () => ({ ...B }),
  };
})();
