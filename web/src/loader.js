// mezzo loader — written once, wrapped by scripts/build/build-loaders.mjs into
// mezzo.js (classic script: globalThis.mezzo) and mezzo.mjs (ES module).
// The wrapper supplies `base`, the URL of the folder the loader came from.
//
// The Go module (wasm/) calls globalThis.__mezzoReady(api) while it starts,
// with api = { version, createClient(options, emit): Promise<handle>,
// stats() }; the hook exists only until then (see run()). A
// handle's methods mirror the Client below; Go rejects with plain objects
// {code, description, status?} and reports events through
// emit(type, detail, secret), where secret ({accessToken, expiresAt,
// refreshAt}, on tokenRefreshed only) feeds this file's token cache and is
// never handed to listeners.

const EVENTS = ['tokenRefreshed', 'sessionExpired', 'error'];
// How long the Go program may take, once instantiated, to hand over its API.
// It normally does so within go.run itself, in tens of milliseconds; a
// program that blocks before registering fails the start with load_failed
// instead of leaving createClient waiting forever.
const START_TIMEOUT_MS = 10000;

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

/** toMezzoError turns whatever was thrown or rejected into a MezzoError; it changes nothing else. */
function toMezzoError(e) {
  if (e instanceof MezzoError) return e;
  if (e && typeof e === 'object' && typeof e.code === 'string' && !(e instanceof Error)) {
    return new MezzoError(e.code, e.description, e.status);
  }
  if (e instanceof Error && /Go program has already exited/.test(e.message)) {
    // start() forgot the runtime when it exited; the next createClient starts afresh.
    return new MezzoError('runtime_exited', 'the mezzo module stopped; create a new client');
  }
  return new MezzoError('internal_error', e instanceof Error ? e.message : String(e));
}

let runtime = null; // Promise<api>: one Go runtime per page
let compiled = null; // Promise<WebAssembly.Module>, fetched from moduleUrl
let moduleUrl = null; // where the page's one module comes from, once asked for
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

/**
 * moduleUrlFor is where the module for wasmUrl comes from. A page runs one
 * module: once one is asked for, no wasmUrl means that one, and another
 * URL is an error (code) rather than silently ignored.
 */
function moduleUrlFor(wasmUrl, code, what) {
  if (wasmUrl === undefined || wasmUrl === null) return moduleUrl ?? resolveUrl(undefined, 'mezzo.wasm');
  if (typeof wasmUrl !== 'string') throw new MezzoError(code, `${what} must be a string`);
  let url;
  try { url = resolveUrl(wasmUrl, 'mezzo.wasm'); } catch { throw new MezzoError(code, `${what} is not a URL`); }
  if (moduleUrl !== null && url !== moduleUrl) {
    throw new MezzoError(code, `${what} is ${url}, but this page already loads mezzo from ${moduleUrl}; a page runs one module`);
  }
  return url;
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

/** load fetches and compiles the module at url once per page. */
function load(url) {
  if (!compiled) {
    moduleUrl = url;
    compiled = compile(url).then((module) => {
      mark('mezzo:compiled');
      return module;
    }, (e) => {
      compiled = null; // a failed load can be retried, from anywhere
      moduleUrl = null;
      throw toMezzoError(e);
    });
  }
  return compiled;
}

/** preload starts fetching and compiling the module early; createClient reuses the result. */
function preload(wasmUrl) {
  try {
    return load(moduleUrlFor(wasmUrl, 'invalid_argument', 'wasmUrl'));
  } catch (e) {
    return Promise.reject(e);
  }
}

async function loadGoRuntime() {
  if (typeof globalThis.Go !== 'function') {
    await import(resolveUrl(undefined, 'wasm_exec.js'));
    if (typeof globalThis.Go !== 'function') throw new MezzoError('load_failed', 'wasm_exec.js did not define Go');
  }
}

/**
 * run starts the Go program and resolves with the API it hands to
 * globalThis.__mezzoReady. The hook exists only while the program starts:
 * it removes itself when called, and when START_TIMEOUT_MS pass first.
 * onExit runs when the program exits, whenever that is.
 */
function run(go, instance, onExit) {
  return new Promise((resolve, reject) => {
    let timer = null;
    const done = () => {
      clearTimeout(timer);
      if (globalThis.__mezzoReady === ready) delete globalThis.__mezzoReady;
    };
    const ready = (api) => {
      done();
      goStats = api?.stats ?? null;
      mark('mezzo:started');
      resolve(api);
    };
    globalThis.__mezzoReady = ready;
    timer = setTimeout(() => {
      done();
      reject(new MezzoError('load_failed', `the mezzo module did not start within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    go.run(instance).then( // settles only when the program exits
      () => { done(); onExit(); reject(new MezzoError('load_failed', 'the mezzo module exited while starting')); },
      (e) => { done(); onExit(); reject(toMezzoError(e)); },
    );
  });
}

/** start runs the Go program once and resolves with the API it registers. */
function start(url) {
  if (runtime) return runtime;
  const started = (async () => {
    const [module] = await Promise.all([load(url), loadGoRuntime()]);
    const go = new globalThis.Go();
    const instance = await WebAssembly.instantiate(module, go.importObject);
    memory = instance.exports.mem || null;
    return run(go, instance, () => {
      if (runtime !== started) return; // an abandoned start's program, exiting late
      runtime = null; // the next createClient starts afresh
      goStats = null;
    });
  })().catch((e) => {
    if (runtime === started) { // a failed start can be retried
      runtime = null;
      compiled = null;
      moduleUrl = null;
      memory = null;
      goStats = null;
    }
    throw toMezzoError(e);
  });
  runtime = started;
  return started;
}

/**
 * newClient builds the public Client around the Go handle that
 * createHandle(emit) makes. Go reports events through emit(type, detail,
 * secret); the loader's own reactions to them (the token cache) are code
 * here, not listeners, so on() cannot reach them.
 */
async function newClient(createHandle) {
  // The token cache: while Date.now() < refreshAt, getToken answers here
  // without entering Go. tokenRefreshed's secret is its one source: Go
  // sends it for every new token, at sign-in, on every renewal, whoever
  // asked. `resolved` is one settled Promise per token, so the hot path
  // allocates nothing.
  let cache = null; // {accessToken, refreshAt, resolved}
  let pending = null; // the Go call shared by concurrent non-forced callers
  let pendingForced = null;
  let closed = false;
  const listeners = new Map(EVENTS.map((e) => [e, new Set()]));
  const closedError = () => new MezzoError('client_closed', 'this client was closed; create a new one');

  const setCache = (t) => {
    cache = t && t.accessToken ? { accessToken: t.accessToken, refreshAt: t.refreshAt, resolved: Promise.resolve(t.accessToken) } : null;
  };
  const clearCache = () => { cache = null; };

  const emit = (type, detail, secret) => {
    if (closed) return; // a renewal in flight at close() changes nothing
    if (type === 'tokenRefreshed') setCache(secret);
    if (type === 'sessionExpired') clearCache();
    for (const l of listeners.get(type) ?? []) {
      // A throwing listener must not break the others or mezzo: report it
      // as an uncaught error on its own.
      try { l(detail); } catch (e) { queueMicrotask(() => { throw e; }); }
    }
  };

  let handle;
  try {
    handle = await createHandle(emit);
  } catch (e) {
    throw toMezzoError(e);
  }
  if (!handle) throw new MezzoError('internal_error', 'the module returned no client');

  // call runs a Go method that returns a Promise, after the closed check.
  const call = (method, ...args) => Promise.resolve().then(() => {
    if (closed) throw closedError();
    return handle[method](...args);
  });

  const callGo = (force) => call('getToken', force).then((t) => t.accessToken, (e) => {
    const err = toMezzoError(e);
    if (err.code === 'login_required') clearCache();
    throw err;
  });

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
      for (const set of listeners.values()) set.clear();
      try { handle.close(); } catch { /* already gone with the runtime */ }
    },
    async fetch(input, init) {
      const token = await client.getToken();
      const headers = new Headers((init && init.headers) || (input instanceof Request ? input.headers : undefined));
      headers.set('Authorization', `Bearer ${token}`);
      return globalThis.fetch(input, { ...init, headers });
    },
    on(event, listener) {
      const set = listeners.get(event);
      if (!set) throw new MezzoError('invalid_argument', `unknown event ${JSON.stringify(event)}; use one of ${EVENTS.join(', ')}`);
      if (typeof listener !== 'function') throw new MezzoError('invalid_argument', 'listener must be a function');
      set.add(listener);
      return () => { set.delete(listener); };
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

/**
 * createClient loads the module (once per page) and returns a Client. The
 * options go to Go as they are: Go checks every one of them (types,
 * required fields, unknown keys) with one message each. The loader reads
 * only its own, wasmUrl.
 */
async function createClient(options) {
  const api = await start(moduleUrlFor(options?.wasmUrl, 'invalid_config', 'options.wasmUrl'));
  return newClient((emit) => api.createClient(options, emit));
}
