// mezzo loader — written once, wrapped by scripts/build-loaders.mjs into
// mezzo.js (classic script: globalThis.mezzo) and mezzo.mjs (ES module).
// The wrapper supplies `base`, the URL of the folder the loader came from.
//
// The Go module (wasm/) calls globalThis.__mezzoReady(api) while it starts,
// with api = { version, createClient(options, emit): Promise<handle> }. A
// handle's methods mirror the Client below; Go rejects with plain objects
// {code, description, status?} and reports events through
// emit(type, detail, secret), where secret ({accessToken, expiresAt,
// refreshAt}, on tokenRefreshed only) feeds this file's token cache and is
// never handed to listeners.

const EVENTS = ['tokenRefreshed', 'sessionExpired', 'error'];
const OPTION_KEYS_JS_ONLY = ['wasmUrl'];

/** MezzoError is every failure: a stable code, plain-words description, HTTP status when there was one. */
class MezzoError extends Error {
  constructor(code, description, status) {
    super(description ? `${code}: ${description}` : code);
    this.name = 'MezzoError';
    this.code = code;
    this.description = description || '';
    if (status !== undefined) this.status = status;
  }
}

/** toMezzoError turns whatever was thrown or rejected into a MezzoError. */
function toMezzoError(e) {
  if (e instanceof MezzoError) return e;
  if (e && typeof e === 'object' && typeof e.code === 'string' && !(e instanceof Error)) {
    return new MezzoError(e.code, e.description, e.status);
  }
  if (e instanceof Error && /Go program has already exited/.test(e.message)) {
    runtime = null; // start afresh on the next createClient
    return new MezzoError('runtime_exited', 'the mezzo module stopped; create a new client');
  }
  return new MezzoError('internal_error', e instanceof Error ? e.message : String(e));
}

let runtime = null; // Promise<api>: one Go runtime per page
let compiled = null; // Promise<WebAssembly.Module> from preload()
let memory = null; // the running module's WebAssembly.Memory, for runtimeStats()
let goStats = null; // the running module's stats(), for runtimeStats()

/**
 * mark puts a named moment of the start-up on the page's performance
 * timeline (DevTools, RUM tools and `make bench` read them): mezzo:compiled
 * when the module is compiled, mezzo:started when the Go program is ready.
 */
function mark(name) {
  try { globalThis.performance?.mark?.(name); } catch { /* no timeline here */ }
}

function resolveUrl(url, name) {
  return new URL(url || name, base).href;
}

async function fetchBytesOrResponse(url) {
  if (url.startsWith('file:')) {
    // Node: fetch cannot read files.
    const { readFile } = await import('node:fs/promises');
    return readFile(new URL(url));
  }
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) throw new MezzoError('load_failed', `fetching ${url} failed`, res.status);
  return res;
}

/** compile fetches and compiles the module, streaming when served as application/wasm. */
async function compile(url) {
  const src = await fetchBytesOrResponse(url);
  if (typeof Response !== 'undefined' && src instanceof Response) {
    const type = src.headers.get('content-type') || '';
    if (WebAssembly.compileStreaming && type.split(';')[0].trim() === 'application/wasm') {
      return WebAssembly.compileStreaming(src);
    }
    return WebAssembly.compile(await src.arrayBuffer());
  }
  return WebAssembly.compile(src);
}

/** preload starts fetching and compiling the module early; createClient reuses the result. */
function preload(wasmUrl) {
  if (!compiled) {
    compiled = compile(resolveUrl(wasmUrl, 'mezzo.wasm')).then((module) => {
      mark('mezzo:compiled');
      return module;
    }, (e) => {
      compiled = null; // a failed load can be retried
      throw toMezzoError(e);
    });
  }
  return compiled;
}

async function loadGoRuntime() {
  if (typeof globalThis.Go !== 'function') {
    await import(resolveUrl(undefined, 'wasm_exec.js'));
    if (typeof globalThis.Go !== 'function') throw new MezzoError('load_failed', 'wasm_exec.js did not define Go');
  }
}

/** start runs the Go program once and resolves with the API it registers. */
function start(wasmUrl) {
  if (runtime) return runtime;
  runtime = (async () => {
    const [module] = await Promise.all([preload(wasmUrl), loadGoRuntime()]);
    const go = new globalThis.Go();
    const instance = await WebAssembly.instantiate(module, go.importObject);
    memory = instance.exports.mem || null;
    return new Promise((resolve, reject) => {
      globalThis.__mezzoReady = (api) => { goStats = api.stats; mark('mezzo:started'); resolve(api); };
      const exited = go.run(instance); // settles only when the program exits
      delete globalThis.__mezzoReady;
      exited.then(
        () => { runtime = null; goStats = null; reject(new MezzoError('load_failed', 'the mezzo module exited while starting')); },
        (e) => { runtime = null; goStats = null; reject(toMezzoError(e)); },
      );
    });
  })().catch((e) => {
    runtime = null; // a failed load can be retried
    compiled = null;
    throw toMezzoError(e);
  });
  return runtime;
}

/** wrap builds the public Client around a Go handle. */
function wrap(handle, listeners) {
  // The token cache: while Date.now() < refreshAt, getToken answers here
  // without entering Go. `resolved` is one settled Promise per token, so the
  // hot path allocates nothing.
  let cache = null; // {accessToken, refreshAt, resolved}
  let pending = null; // the Go call shared by concurrent non-forced callers
  let pendingForced = null;
  let closed = false;
  const closedError = () => new MezzoError('client_closed', 'this client was closed; create a new one');

  const setCache = (t) => {
    cache = t && t.accessToken ? { accessToken: t.accessToken, refreshAt: t.refreshAt, resolved: Promise.resolve(t.accessToken) } : null;
  };
  const clearCache = () => { cache = null; };
  listeners.onSecret = setCache;
  listeners.onExpired = clearCache;

  // call runs a Go method that returns a Promise, after the closed check.
  const call = (method, ...args) => Promise.resolve().then(() => {
    if (closed) throw closedError();
    return handle[method](...args);
  });

  const callGo = (force) => {
    const p = call('getToken', force)
      .then((t) => { setCache(t); return t.accessToken; }, (e) => {
        const err = toMezzoError(e);
        if (err.code === 'login_required') clearCache();
        throw err;
      });
    return p;
  };

  const client = {
    getToken(opts) {
      const force = !!(opts && opts.forceRefresh);
      if (!force && cache !== null && Date.now() < cache.refreshAt) return cache.resolved; // hot path: no Go
      if (force) {
        if (!pendingForced) pendingForced = callGo(true).finally(() => { pendingForced = null; });
        return pendingForced;
      }
      if (!pending) pending = callGo(false).finally(() => { pending = null; });
      return pending;
    },
    login(opts) {
      return call('login', opts).then(() => undefined, (e) => { throw toMezzoError(e); });
    },
    isRedirectCallback(url) {
      if (closed) return false;
      try { return handle.isRedirectCallback(url) === true; } catch { return false; }
    },
    handleRedirectCallback(url) {
      return call('handleRedirectCallback', url).catch((e) => { throw toMezzoError(e); });
    },
    isAuthenticated() {
      if (closed) return false;
      try { return handle.isAuthenticated() === true; } catch { return false; }
    },
    getUser() {
      if (closed) return null;
      try { return handle.getUser() ?? null; } catch { return null; }
    },
    getUserinfo() {
      return call('getUserinfo').catch((e) => { throw toMezzoError(e); });
    },
    logout(opts) {
      clearCache();
      return call('logout', opts).then(() => undefined, (e) => { throw toMezzoError(e); });
    },
    close() {
      // Forgets the tokens and stops renewal without any network request
      // or navigation (for an app that unmounts); later calls reject with
      // client_closed.
      if (closed) return;
      closed = true;
      clearCache();
      for (const k of EVENTS) listeners[k].clear();
      try { handle.close(); } catch { /* already gone with the runtime */ }
    },
    async fetch(input, init) {
      const token = await client.getToken();
      const headers = new Headers((init && init.headers) || (input instanceof Request ? input.headers : undefined));
      headers.set('Authorization', `Bearer ${token}`);
      return globalThis.fetch(input, { ...init, headers });
    },
    on(event, listener) {
      if (!EVENTS.includes(event)) throw new MezzoError('invalid_argument', `unknown event ${JSON.stringify(event)}; use one of ${EVENTS.join(', ')}`);
      if (typeof listener !== 'function') throw new MezzoError('invalid_argument', 'listener must be a function');
      listeners[event].add(listener);
      return () => { listeners[event].delete(listener); };
    },
  };
  return client;
}

/**
 * runtimeStats reports the module's linear memory (it only grows) and its
 * Go heap (which falls back after each collection), or null before it starts.
 */
function runtimeStats() {
  if (!memory) return null;
  let go = {};
  try { go = goStats ? goStats() : {}; } catch { /* the runtime has exited */ }
  return { wasmMemoryBytes: memory.buffer.byteLength, ...go };
}

/** createClient loads the module (once per page) and returns a Client. */
async function createClient(options) {
  if (!options || typeof options !== 'object') throw new MezzoError('invalid_config', 'options must be an object');
  if (typeof options.clientId !== 'string' || typeof options.redirectUri !== 'string') {
    throw new MezzoError('invalid_config', 'clientId and redirectUri are required strings');
  }
  const api = await start(options.wasmUrl);
  const goOptions = { ...options };
  for (const k of OPTION_KEYS_JS_ONLY) delete goOptions[k];

  const listeners = { tokenRefreshed: new Set(), sessionExpired: new Set(), error: new Set(), onSecret: null, onExpired: null };
  const emit = (type, detail, secret) => {
    if (type === 'tokenRefreshed' && listeners.onSecret) listeners.onSecret(secret);
    if (type === 'sessionExpired' && listeners.onExpired) listeners.onExpired();
    for (const l of listeners[type] || []) {
      // A throwing listener must not break the others or mezzo: report it
      // as an uncaught error on its own.
      try { l(detail); } catch (e) { queueMicrotask(() => { throw e; }); }
    }
  };
  let handle;
  try {
    handle = await api.createClient(goOptions, emit);
  } catch (e) {
    throw toMezzoError(e);
  }
  if (!handle) throw new MezzoError('internal_error', 'the module returned no client');
  return wrap(handle, listeners);
}
