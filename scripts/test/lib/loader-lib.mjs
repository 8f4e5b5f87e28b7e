// Shared by the loader suites: a server for web/dist/mezzo.wasm that can
// serve it under several content types or not at all, counting requests,
// spies on the WebAssembly compile calls the loaders make, and the loader
// tests that run against a stand-in for the Go program (stubbedLoaderTests).
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';

const wasm = readFileSync(new URL('../../../web/dist/mezzo.wasm', import.meta.url));
// The smallest valid module: what a stub Go program "runs".
const emptyWasm = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/**
 * startWasmServer serves the module at /wasm/ as application/wasm, at
 * /octet/ as application/octet-stream, an empty module at any path under
 * /stub/, and answers 404 at /gone/. hits counts requests by path.
 */
export async function startWasmServer() {
  const hits = new Map();
  const server = http.createServer((req, res) => {
    hits.set(req.url, (hits.get(req.url) ?? 0) + 1);
    if (req.url.startsWith('/stub/')) {
      res.writeHead(200, { 'content-type': 'application/wasm', 'content-length': emptyWasm.length }).end(emptyWasm);
      return;
    }
    const type = { '/wasm/mezzo.wasm': 'application/wasm', '/octet/mezzo.wasm': 'application/octet-stream' }[req.url];
    if (!type) { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'); return; }
    res.writeHead(200, { 'content-type': type, 'content-length': wasm.length }).end(wasm);
  });
  await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, hits: (path) => hits.get(path) ?? 0, close: () => new Promise((r) => { server.close(r); }) };
}

/**
 * spyCompile counts the WebAssembly.compileStreaming and WebAssembly.compile
 * calls made for mezzo.wasm (node's own fetch compiles a wasm module of its
 * own, which is not counted).
 */
export function spyCompile() {
  const calls = { streaming: 0, bytes: 0 };
  const { compileStreaming, compile } = WebAssembly;
  const ours = (src) => (src?.url ?? '').endsWith('/mezzo.wasm') || src?.byteLength === wasm.length;
  WebAssembly.compileStreaming = async (src, ...rest) => {
    const res = await src;
    if (ours(res)) calls.streaming++;
    return compileStreaming.call(WebAssembly, res, ...rest);
  };
  WebAssembly.compile = (src, ...rest) => {
    if (ours(src)) calls.bytes++;
    return compile.call(WebAssembly, src, ...rest);
  };
  return calls;
}

/** options for a client that needs no network at creation: explicit loopback endpoints. */
export function clientOptions(extra = {}) {
  const idp = 'http://127.0.0.1:9';
  return {
    clientId: 'loader-test',
    redirectUri: 'http://127.0.0.1:8080/callback',
    issuer: idp,
    authorizationEndpoint: `${idp}/authorize`,
    tokenEndpoint: `${idp}/token`,
    jwksUri: `${idp}/jwks`,
    ...extra,
  };
}

/** signedOut is the snapshot a handle's state() gives without a session (jsbridge/api.go). */
const signedOut = () => ({ authenticated: false, claims: null, token: null });

/**
 * stubGo puts a stand-in for wasm_exec.js's Go class on globalThis until
 * restore(). Its program registers the API through globalThis.__mezzoReady
 * as `register` says: 'now' (inside go.run, as mezzo does), 'later' (after
 * go.run has returned) or 'never' (blocked before registering). Each client
 * it creates gets handle(emit), and every run can be ended with exit().
 */
export function stubGo({ register = 'now', handle = () => ({ state: signedOut, close() {} }) } = {}) {
  const saved = globalThis.Go;
  const stub = {
    runs: 0,
    handles: 0,
    running: null, // resolves when go.run is called
    exit: () => {},
    restore() {
      if (saved === undefined) delete globalThis.Go; else globalThis.Go = saved;
      delete globalThis.__mezzoApi;
    },
  };
  let markRunning;
  stub.running = new Promise((r) => { markRunning = r; });
  const api = {
    version: 'stub',
    stats: () => ({}),
    createClient: async (options, emit) => { stub.handles++; return handle(emit, options); },
  };
  // As jsbridge.Register: through the hook if there is one, else on a global.
  const hand = () => {
    if (typeof globalThis.__mezzoReady === 'function') globalThis.__mezzoReady(api);
    else globalThis.__mezzoApi = api;
  };
  globalThis.Go = class {
    constructor() { this.importObject = {}; }

    run() {
      stub.runs++;
      if (register === 'now') hand();
      if (register === 'later') setImmediate(hand);
      markRunning();
      return new Promise((resolve) => { stub.exit = resolve; });
    }
  };
  return stub;
}

/**
 * fakeTimers replaces setTimeout and clearTimeout until restore(): timers
 * only fire when fire() says so, and pending shows those not yet fired or
 * cleared, with their delays.
 */
export function fakeTimers() {
  const real = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
  const pending = new Map();
  let next = 1;
  globalThis.setTimeout = (fn, ms, ...args) => { pending.set(next, { fn: () => fn(...args), ms }); return next++; };
  globalThis.clearTimeout = (id) => { pending.delete(id); };
  return {
    pending,
    fire() { for (const [id, t] of [...pending]) { pending.delete(id); t.fn(); } },
    restore() { Object.assign(globalThis, real); },
  };
}

/** isMezzoError returns an assert.rejects/throws check for a MezzoError with this code. */
function isMezzoError(mezzo, code, description) {
  return (e) => {
    assert.ok(e instanceof mezzo.MezzoError, `${e}`);
    assert.equal(e.code, code, `${e.code}: ${e.description}`);
    if (description) assert.match(e.description, description);
    return true;
  };
}

/**
 * stubbedLoaderTests registers the loader tests that run against stubGo,
 * each on a loader fresh from loadFresh() (a page that has loaded nothing),
 * with modules served by server under /stub/.
 */
export function stubbedLoaderTests(loadFresh, server) {
  const stubUrl = (name = 'a') => `${server.origin}/stub/${name}.wasm`;

  // withStub runs fn(mezzo, stub) on a fresh loader with a stub Go program,
  // and restores globalThis.Go whatever happens.
  const withStub = (script, fn) => async () => {
    const stub = stubGo(script);
    try {
      await fn(await loadFresh(), stub);
    } finally {
      stub.restore();
    }
  };

  test('start: the ready hook removes itself, and leaves no timer behind', withStub({}, async (mezzo, stub) => {
    await mezzo.preload(stubUrl()); // fetched with real timers; nothing below fetches
    const timers = fakeTimers();
    try {
      const client = await mezzo.createClient(clientOptions({ wasmUrl: stubUrl() }));
      assert.equal(stub.runs, 0, 'a signed-out page has not started the module yet');
      assert.deepEqual([...timers.pending.values()].map((t) => t.ms), [0], 'only its background start is scheduled');
      const ready = client.ready;
      assert.equal(stub.runs, 0, 'reading client.ready starts nothing');
      timers.fire(); // the background start
      await ready;
      assert.equal(stub.runs, 1);
      assert.equal('__mezzoReady' in globalThis, false, 'the hook is gone once called');
      assert.equal(timers.pending.size, 0, 'the start timeout is cleared once ready, and the background start is no longer needed');
      client.close();

      const idle = await mezzo.createClient(clientOptions({ wasmUrl: stubUrl() }));
      assert.equal(timers.pending.size, 1, 'a background start is scheduled');
      const waiting = idle.ready;
      idle.close();
      assert.equal(timers.pending.size, 0, 'close() cancels it');
      await assert.rejects(waiting, isMezzoError(mezzo, 'client_closed'), 'and client.ready, which waited for it, does not hang');
      assert.equal(stub.handles, 1, 'and the closed client made no Go client');
    } finally {
      timers.restore();
    }
  }));

  test('start: a program that registers after go.run has returned is still heard', { timeout: 5000 }, withStub({ register: 'later' }, async (mezzo, stub) => {
    const client = await mezzo.createClient(clientOptions({ wasmUrl: stubUrl() }));
    await client.ready;
    assert.equal(stub.runs, 1);
    assert.deepEqual(['__mezzoReady' in globalThis, '__mezzoApi' in globalThis], [false, false], 'the API came through the hook, which is gone');
    client.close();
  }));

  test('start: a program that never registers fails client.ready and every waiting call with load_failed, leaves no hook, and the next call starts afresh', withStub({ register: 'never' }, async (mezzo, stub) => {
    await mezzo.preload(stubUrl());
    const timers = fakeTimers();
    let client; let waiting;
    try {
      client = await mezzo.createClient(clientOptions({ wasmUrl: stubUrl() }));
      waiting = [client.ready, client.login(), client.getToken()];
      await stub.running;
      assert.equal(timers.pending.size, 1, 'a start timeout is running (and no background start: the calls started it)');
      const [{ ms }] = timers.pending.values();
      assert.ok(ms >= 1000 && ms <= 60000, `a start timeout of ${ms} ms`);
      timers.fire();
    } finally {
      timers.restore();
    }
    for (const p of waiting) await assert.rejects(p, isMezzoError(mezzo, 'load_failed', /did not start within/));
    assert.equal(stub.runs, 1, 'one start for all of them');
    assert.equal('__mezzoReady' in globalThis, false, 'no hook left behind');
    assert.equal(mezzo.runtimeStats(), null, 'no runtime');

    await assert.rejects(client.ready, isMezzoError(mezzo, 'load_failed'), 'client.ready stays the failed start until a call tries again');
    const retry = stubGo({ register: 'now', handle: () => ({ state: signedOut, close() {}, getToken: async () => { throw { code: 'login_required', description: 'no session' }; } }) });
    try {
      await assert.rejects(client.getToken(), isMezzoError(mezzo, 'login_required'), 'the next call reaches Go');
      await client.ready;
      assert.equal(retry.runs, 1, 'the same client\'s next call started a program of its own, and client.ready follows it');
      assert.equal(client.isAuthenticated(), false);
      client.close();
    } finally {
      retry.restore();
    }
  }));

  test('runtime: where there is no worker (node), auto runs in the page; a forced worker host is runtime_unavailable, never a silent fallback', withStub({}, async (mezzo, stub) => {
    const client = await mezzo.createClient(clientOptions({ wasmUrl: stubUrl() }));
    assert.equal(client.runtime, 'page');
    const forced = await mezzo.createClient(clientOptions({ runtime: 'page' }));
    assert.equal(forced.runtime, 'page');
    for (const runtime of ['shared-worker', 'worker']) {
      await assert.rejects(mezzo.createClient(clientOptions({ runtime })), isMezzoError(mezzo, 'runtime_unavailable', new RegExp(runtime)), runtime);
    }
    for (const runtime of ['service-worker', 7, '']) {
      await assert.rejects(mezzo.createClient(clientOptions({ runtime })), isMezzoError(mezzo, 'invalid_config', /options\.runtime must be one of auto, shared-worker, worker, page/), String(runtime));
    }
    await Promise.all([client.ready, forced.ready]);
    assert.equal(stub.handles, 2, 'no refused client reached the runtime');
    client.close();
    forced.close();
  }));

  test('wasmUrl: another URL than the page\'s module is an error, never silently ignored', withStub({}, async (mezzo, stub) => {
    const client = await mezzo.createClient(clientOptions({ wasmUrl: stubUrl('first') }));
    await assert.rejects(mezzo.createClient(clientOptions({ wasmUrl: stubUrl('second') })),
      isMezzoError(mezzo, 'invalid_config', /options\.wasmUrl is .*second\.wasm, but this page already loads mezzo from .*first\.wasm/));
    await assert.rejects(mezzo.preload(stubUrl('second')), isMezzoError(mezzo, 'invalid_argument', /wasmUrl is .*second\.wasm/));
    await assert.rejects(mezzo.createClient(clientOptions({ wasmUrl: 42 })), isMezzoError(mezzo, 'invalid_config', /options\.wasmUrl must be a string/));
    assert.equal(server.hits('/stub/second.wasm'), 0, 'the other module was never fetched');
    const same = await mezzo.createClient(clientOptions({ wasmUrl: stubUrl('first') }));
    const unsaid = await mezzo.createClient(clientOptions());
    await Promise.all([client, same, unsaid].map((c) => c.ready));
    assert.equal(stub.runs, 1, 'the same URL, or none, shares the page\'s module');
    for (const c of [client, same, unsaid]) c.close();
  }));

  test('an error that says the program exited changes nothing; the program exiting does', withStub({
    handle: () => ({ getToken: async () => { throw new Error('Go program has already exited'); }, state: signedOut, close() {} }),
  }, async (mezzo, stub) => {
    const client = await mezzo.createClient(clientOptions({ wasmUrl: stubUrl() }));
    await assert.rejects(client.getToken(), isMezzoError(mezzo, 'runtime_exited'));
    await (await mezzo.createClient(clientOptions())).ready;
    assert.equal(stub.runs, 1, 'turning the error into runtime_exited did not drop the running program');

    stub.exit();
    await new Promise(setImmediate);
    await (await mezzo.createClient(clientOptions())).ready;
    assert.equal(stub.runs, 2, 'after the program exited, the next client starts it afresh');
  }));

  // A Go handle whose getToken makes a new token each call and, as Go does,
  // sends it in tokenRefreshed's snapshot before resolving with it.
  const renewingHandle = (calls) => (emit) => ({
    async getToken() {
      calls.push('getToken');
      const t = { accessToken: `token-${calls.length}`, expiresAt: Date.now() + 120000, refreshAt: Date.now() + 60000 };
      emit('tokenRefreshed', { expiresAt: t.expiresAt, scope: 'openid' }, { authenticated: true, claims: { sub: 'u' }, token: t });
      return t;
    },
    state: signedOut,
    close() {},
    emit,
  });

  test('one token-cache update per renewal: the token cached when tokenRefreshed fires is the one getToken keeps', async () => {
    const calls = [];
    await withStub({ handle: renewingHandle(calls) }, async (mezzo) => {
      const client = await mezzo.createClient(clientOptions({ wasmUrl: stubUrl() }));
      const answers = new Set(); // the cached answers getToken gave: one per cache update
      client.on('tokenRefreshed', () => { answers.add(client.getToken()); });
      const renewals = 3;
      for (let i = 1; i <= renewals; i++) {
        assert.equal(await client.getToken({ forceRefresh: true }), `token-${i}`);
        answers.add(client.getToken());
        answers.add(client.getToken());
        assert.equal(await client.getToken(), `token-${i}`);
      }
      assert.equal(calls.length, renewals, 'cached tokens were served without entering Go');
      assert.equal(answers.size, renewals, `the cache was updated ${answers.size} times for ${renewals} renewals`);
      client.close();
    })();
  });

  test('a renewal due while the tab slept is made when the tab is shown or the network is back, and close() removes those listeners', async () => {
    const calls = [];
    const saved = { document: globalThis.document, add: globalThis.addEventListener, remove: globalThis.removeEventListener };
    const live = new Set(); // the listeners mezzo holds on the page's targets
    const spied = (target, name) => {
      const add = target.addEventListener.bind(target);
      const remove = target.removeEventListener.bind(target);
      target.addEventListener = (type, fn, o) => { live.add(`${name}:${type}`); add(type, fn, o); };
      target.removeEventListener = (type, fn, o) => { live.delete(`${name}:${type}`); remove(type, fn, o); };
      return target;
    };
    const doc = spied(new EventTarget(), 'document');
    doc.visibilityState = 'visible';
    const win = spied(new EventTarget(), 'window');
    globalThis.document = doc;
    globalThis.addEventListener = win.addEventListener.bind(win);
    globalThis.removeEventListener = win.removeEventListener.bind(win);
    let now = Date.now();
    const realNow = Date.now;
    Date.now = () => now;
    try {
      await withStub({ handle: renewingHandle(calls) }, async (mezzo) => {
        const client = await mezzo.createClient(clientOptions({ wasmUrl: stubUrl() }));
        assert.deepEqual([...live].sort(), ['document:visibilitychange', 'window:online']);
        await client.getToken(); // signed in: token-1, refreshAt = now + 60 s
        const settle = () => new Promise(setImmediate);
        const cases = [
          ['shown before the renewal time: nothing', 30000, () => doc.dispatchEvent(new Event('visibilitychange')), 1],
          ['hidden past the renewal time: nothing yet', 70000, () => { doc.visibilityState = 'hidden'; doc.dispatchEvent(new Event('visibilitychange')); }, 1],
          ['shown past the renewal time: one renewal', 70000, () => { doc.visibilityState = 'visible'; doc.dispatchEvent(new Event('visibilitychange')); }, 2],
          ['online past the next renewal time: one renewal', 140000, () => win.dispatchEvent(new Event('online')), 3],
        ];
        for (const [name, at, fire, want] of cases) {
          now = realNow() + at;
          fire();
          await settle();
          assert.equal(calls.length, want, name);
        }
        client.close();
        assert.deepEqual([...live], [], 'close() removes both listeners');
        now += 120000;
        doc.dispatchEvent(new Event('visibilitychange'));
        win.dispatchEvent(new Event('online'));
        await settle();
        assert.equal(calls.length, 3, 'after close() neither event reaches Go');
      })();
    } finally {
      Date.now = realNow;
      if (saved.document === undefined) delete globalThis.document; else globalThis.document = saved.document;
      if (saved.add === undefined) delete globalThis.addEventListener; else globalThis.addEventListener = saved.add;
      if (saved.remove === undefined) delete globalThis.removeEventListener; else globalThis.removeEventListener = saved.remove;
    }
  });

  test('internal hooks are no listeners: on() cannot reach them, and close() silences them too', async () => {
    const calls = [];
    let handle;
    await withStub({ handle: (emit) => { handle = renewingHandle(calls)(emit); return handle; } }, async (mezzo) => {
      const client = await mezzo.createClient(clientOptions({ wasmUrl: stubUrl() }));
      for (const name of ['onSecret', 'onExpired', 'constructor', '__proto__', 'toString']) {
        assert.throws(() => client.on(name, () => {}), isMezzoError(mezzo, 'invalid_argument', /unknown event/), name);
      }
      const heard = [];
      client.on('tokenRefreshed', (d) => heard.push(d));
      await client.getToken();
      assert.equal(heard.length, 1);
      assert.equal('accessToken' in heard[0], false, 'listeners never see the token');

      client.close();
      handle.emit('tokenRefreshed', { expiresAt: Date.now() + 120000, scope: 'openid' },
        { authenticated: true, claims: { sub: 'u' }, token: { accessToken: 'late', expiresAt: Date.now() + 120000, refreshAt: Date.now() + 60000 } });
      assert.equal(heard.length, 1, 'no listener hears a late event');
      await assert.rejects(client.getToken(), isMezzoError(mezzo, 'client_closed'), 'a late event refills no cache');
    })();
  });
}
