// mezzo loader — written once, wrapped by scripts/build/build-loaders.mjs
// (with rpc.js) into mezzo.js (classic script: globalThis.mezzo) and
// mezzo.mjs (ES module), and (with rpc.js and worker.js) into
// mezzo-worker.js, the worker script. The wrapper supplies `base`, the URL
// of the file the code came from, ASSETS, where the module and scripts are
// by default (see resolveUrl), and VERSION, mezzo's version (the Go
// module's main.version).
//
// Two halves. The runtime half (load, compile, start Go) runs wherever the
// runtime is hosted: in a SharedWorker every tab of the origin shares, in a
// dedicated Worker, or in the page itself (createClient's `runtime`
// option). The page half (newClient) always runs in the page; it talks to
// the Go handle directly (page host) or over rpc.js to worker.js (worker
// hosts), through the same handle interface.
//
// The Go module (wasm/) calls globalThis.__mezzoReady(api) while it starts,
// with api = { version, createClient(options, emit): Promise<handle>,
// stats() }; the hook exists only until then (see run()). The handle (see
// jsbridge/api.go) touches nothing of a page: it returns what to do, and
// the page half below does it — it keeps the login transaction in
// sessionStorage and hands it over, navigates, cleans the address bar, and
// mirrors the session's state so that isAuthenticated(), getUser() and
// isRedirectCallback() answer synchronously. Go rejects with plain objects
// {code, description, status?} and reports events through
// emit(type, detail, state), where state (the new snapshot {authenticated,
// claims, token}, on tokenRefreshed and sessionExpired) feeds the mirror
// and the token cache and is never handed to listeners.

const EVENTS = ['tokenRefreshed', 'sessionExpired', 'error'];
// The one sessionStorage key mezzo ever writes: the pending login
// transaction, between login() and the callback. No token goes there.
const TRANSACTION_KEY = 'mezzo.transaction';
// How long the Go program may take, once instantiated, to hand over its API.
// It normally does so within go.run itself, in tens of milliseconds; a
// program that blocks before registering fails the start with load_failed
// instead of leaving createClient waiting forever.
const START_TIMEOUT_MS = 10000;
// Where the runtime may run (createClient's `runtime` option); auto picks
// the first of the others this page can start.
const RUNTIMES = ['auto', 'shared-worker', 'worker', 'page'];
// How long a call to a worker runtime may take: more than pkce.CallTimeout
// (60 s), which bounds every call in Go, so Go's own timeout answers first.
const REMOTE_CALL_TIMEOUT_MS = 65000;
// How long a signed-out page's background start waits for the frame it
// starts after (see startSoon), when the page gets none (hidden).
const FRAME_FALLBACK_MS = 1000;

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
const marked = []; // the start-up marks made so far, in order
const markHooks = []; // called with each new mark (the worker forwards them to its pages)

/**
 * mark puts a named moment of the start-up on the page's performance
 * timeline (DevTools, RUM tools and `make bench` read them): mezzo:compiled
 * when the module is compiled, mezzo:started when the Go program is ready.
 */
function mark(name) {
  if (marked.includes(name)) return; // once per page (or worker)
  marked.push(name);
  try { globalThis.performance?.mark?.(name); } catch { /* no timeline here */ }
  for (const hook of markHooks) hook(name);
}

/**
 * resolveUrl is url against this script's location, or when there is none
 * where the build says the file name is (ASSETS: in the ES module, the URL
 * a bundler rewrote), else name next to this script.
 */
function resolveUrl(url, name) {
  return new URL(url || ASSETS[name] || name, base).href;
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
    // (Bundlers leave this import alone: it never runs in a browser.)
    const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
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
    const url = resolveUrl(undefined, 'wasm_exec.js');
    // A classic worker loads scripts with importScripts; a page (or node) imports.
    // A bundler must not follow it: the URL is known only at run time.
    if (typeof globalThis.importScripts === 'function') globalThis.importScripts(url); else await import(/* webpackIgnore: true */ /* @vite-ignore */ url);
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

// ---- DPoP keys (issue 13, RFC 9449), the runtime half's ----
// With options.dpop the runtime (the worker, or the page host) holds one
// ECDSA P-256 key pair per issuer and client, made with WebCrypto: the
// private key is non-extractable (it can sign, it can never be read, not
// even by this code), and the pair is kept in IndexedDB (the one secret
// mezzo stores) so that it outlives the runtime. Go signs every proof with
// it through crypto.subtle.sign (jsbridge/dpop.go) and never sees the
// private key. A key that cannot be made, stored or loaded fails the
// client with dpop_key_unavailable: never a silent downgrade to Bearer.
const DPOP_DB = 'mezzo-dpop';
const DPOP_STORE = 'keys';
const DPOP_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' }; // ES256 (RFC 7518 §3.4)

/** dpopKeyName names the key of options' client: one per issuer (or authorization endpoint) and client id. */
function dpopKeyName(options) {
  return JSON.stringify([String(options.issuer ?? options.authorizationEndpoint ?? ''), String(options.clientId ?? '')]);
}

/** idb turns an IDBRequest (or a transaction's completion) into a Promise. */
function idb(request, done = 'success') {
  return new Promise((resolve, reject) => {
    request.addEventListener(done, () => resolve(request.result), { once: true });
    request.addEventListener('error', () => reject(request.error), { once: true });
    request.addEventListener('abort', () => reject(request.error ?? new Error('aborted')), { once: true });
  });
}

/** openKeyDb opens (and on first use creates) the key database; the caller closes it. */
async function openKeyDb() {
  const factory = globalThis.indexedDB;
  if (!factory?.open) throw new Error('no IndexedDB here');
  const open = factory.open(DPOP_DB, 1);
  open.addEventListener('upgradeneeded', () => { open.result.createObjectStore(DPOP_STORE); }, { once: true });
  return idb(open);
}

/** usableKey reports whether a stored record is a key pair this runtime can sign with, the private half unreadable. */
function usableKey(r) {
  const k = r?.privateKey;
  return typeof CryptoKey === 'function' && k instanceof CryptoKey && r.publicKey instanceof CryptoKey
    && k.type === 'private' && k.extractable === false && k.usages.includes('sign')
    && k.algorithm?.name === DPOP_ALGORITHM.name && k.algorithm?.namedCurve === DPOP_ALGORITHM.namedCurve;
}

/**
 * loadDpopKey returns the stored key pair of name, making and storing one
 * when there is none (or what is stored is unusable). Two runtimes that
 * start at once each make a pair, but one readwrite transaction keeps the
 * first stored, and both use that one.
 */
async function loadDpopKey(name) {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('no WebCrypto here');
  const db = await openKeyDb();
  try {
    let pair = await idb(db.transaction(DPOP_STORE, 'readonly').objectStore(DPOP_STORE).get(name));
    if (!usableKey(pair)) {
      // extractable false: the private key can never leave WebCrypto (the
      // public one always can). Made outside the transaction, which would
      // commit while it waits.
      const made = await subtle.generateKey(DPOP_ALGORITHM, false, ['sign', 'verify']);
      const tx = db.transaction(DPOP_STORE, 'readwrite');
      const store = tx.objectStore(DPOP_STORE);
      const current = await idb(store.get(name));
      pair = usableKey(current) ? current : { privateKey: made.privateKey, publicKey: made.publicKey, created: Date.now() };
      if (pair !== current) store.put(pair, name);
      await idb(tx, 'complete');
    }
    const { kty, crv, x, y } = await subtle.exportKey('jwk', pair.publicKey);
    return { privateKey: pair.privateKey, jwk: { kty, crv, x, y } };
  } finally {
    db.close();
  }
}

/**
 * dpopKey returns options' DPoP key from the store, made on first use. It
 * is read for each Go client (a few ms; the read that createClient makes to
 * fail early serves the first one, see newGoClient), not kept by the
 * runtime, so a key deleted meanwhile (another tab's forgetDpopKey, cleared
 * site data) is never brought back by a later client.
 */
async function dpopKey(options) {
  try {
    return await loadDpopKey(dpopKeyName(options));
  } catch (e) {
    throw new MezzoError('dpop_key_unavailable', `options.dpop is on, but no DPoP key could be made or stored: ${e?.message ?? e}`);
  }
}

/**
 * forgetDevice runs after a logout with forgetDpopKey ("forget this
 * device"): reset() drops the session's Go client, whose key is fixed, so
 * that the next sign-in makes a new one, then options' stored key is
 * deleted. The session has ended either way; a key that cannot be deleted
 * rejects dpop_key_unavailable.
 */
async function forgetDevice(options, reset) {
  reset();
  try {
    const db = await openKeyDb();
    try {
      const tx = db.transaction(DPOP_STORE, 'readwrite');
      tx.objectStore(DPOP_STORE).delete(dpopKeyName(options));
      await idb(tx, 'complete');
    } finally {
      db.close();
    }
  } catch (e) {
    throw new MezzoError('dpop_key_unavailable', `signed out, but the DPoP key could not be deleted: ${e?.message ?? e}`);
  }
}

/**
 * RUNTIME_METHODS are the Go handle's methods (jsbridge/api.go's table)
 * that a runtime host passes on as they are: the page host (pageHandle)
 * and the SharedWorker (worker.js) build their tables from this one list.
 * Each host writes the rest itself: logout (forgetDpopKey), state and
 * close. wasm/seam_test.go checks the list against Go's table.
 */
const RUNTIME_METHODS = Object.freeze([
  'login', 'handleRedirectCallback', 'getToken', 'getUserinfo',
  'dpopProof', 'resourceHeaders', 'resourceResponse', 'dpopThumbprint',
]);

/**
 * newGoClient makes the Go client of options on api, with its DPoP key when
 * options.dpop is on: loaded, the one the caller read just before for it
 * (preloaded, used once), else read now.
 */
async function newGoClient(api, options, emit, preloaded) {
  const key = options.dpop === true ? preloaded ?? await dpopKey(options) : undefined;
  const h = await api.createClient(options, emit, key);
  if (!h) throw new MezzoError('internal_error', 'the module returned no client');
  return h;
}

// ---- isRedirectCallback's rule, the JS twin of Go's pkce.Client.IsCallback ----
// The page answers isRedirectCallback() synchronously on every host, so the
// rule runs here too, parsing as Go's net/url does (whatever parses there,
// and only that, parses here): same scheme, host and escaped path as the
// redirect URI, and a response parameter (code, error or state) in the query
// or the fragment. scripts/test/lib/callback-urls.json is one table of URLs
// that both versions must answer as it says (wasm/callback_test.go for Go,
// scripts/test/node/callback-rule.test.mjs here), so they cannot drift.

const isHex = (c) => /^[0-9a-fA-F]$/.test(c);
const isAlnum = (c) => /^[A-Za-z0-9]$/.test(c);

/** goShouldEscape is net/url's shouldEscape for the modes used here. */
function goShouldEscape(c, mode) {
  if (isAlnum(c)) return false;
  if (mode === 'host' && "!$&'()*+,;=:[]<>\"".includes(c)) return false;
  if ('-_.~'.includes(c)) return false;
  if ('$&+,/:;=?@'.includes(c)) {
    if (mode === 'path') return c === '?';
    if (mode === 'fragment') return false;
    if (mode === 'query') return true;
  }
  if (mode === 'fragment' && "!()*".includes(c)) return false;
  return true;
}

/** goUnescape is net/url's unescape over a byte string; null where Go fails. */
function goUnescape(s, mode) {
  let out = '';
  for (let i = 0; i < s.length;) {
    const c = s[i];
    if (c === '%') {
      if (i + 2 >= s.length || !isHex(s[i + 1]) || !isHex(s[i + 2])) return null;
      if (mode === 'host' && parseInt(s[i + 1], 16) < 8 && s.slice(i, i + 3) !== '%25') return null;
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 3;
      continue;
    }
    if (mode === 'host' && c.charCodeAt(0) < 0x80 && goShouldEscape(c, 'host')) return null;
    out += c === '+' && mode === 'query' ? ' ' : c;
    i++;
  }
  return out;
}

function goEscape(s, mode) {
  let out = '';
  for (const c of s) out += goShouldEscape(c, mode) ? `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}` : c;
  return out;
}

/** goEscapedPath is url.URL.EscapedPath of a URL whose raw path is p (already known to unescape). */
function goEscapedPath(p, path) {
  const valid = [...p].every((c) => "!$&'()*+,;=:@[]%".includes(c) || !goShouldEscape(c, 'path'));
  if (valid) return p;
  return path === '*' ? '*' : goEscape(path, 'path');
}

/** goHost is net/url's parseHost (an IPv6 literal checked by its shape only); null where Go fails. */
function goHost(scheme, host) {
  const validPort = (p) => /^(:[0-9]*)?$/.test(p);
  const open = host.lastIndexOf('[');
  if (open > 0) return null;
  if (open === 0) {
    const close = host.lastIndexOf(']');
    if (close < 0 || !validPort(host.slice(close + 1))) return null;
    const name = host.slice(1, close);
    if (!/^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/.test(name)) return null;
    return `[${name}]${host.slice(close + 1)}`;
  }
  const first = host.indexOf(':');
  if (first >= 0) {
    const strict = scheme === 'http' || scheme === 'https'; // Go refuses a second colon there
    if (!validPort(host.slice(strict ? first : host.lastIndexOf(':')))) return null;
  }
  return goUnescape(host, 'host');
}

/** goParse is url.Parse, reduced to what IsCallback reads; null where Go fails. */
function goParse(raw) {
  // Go works on bytes: UTF-8, one char per byte.
  const s = String.fromCharCode(...new TextEncoder().encode(raw));
  if (/[\x00-\x1f\x7f]/.test(s)) return null;
  const hash = s.indexOf('#');
  let rest = hash < 0 ? s : s.slice(0, hash);
  const fragment = hash < 0 ? '' : goUnescape(s.slice(hash + 1), 'fragment');
  if (fragment === null) return null;
  if (rest === '*') return { scheme: '', host: '', path: '*', query: '', fragment };
  let scheme = '';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(rest);
  if (m) {
    scheme = m[1].toLowerCase();
    rest = rest.slice(m[0].length);
  } else if (rest[0] === ':') {
    return null; // missing protocol scheme
  }
  let query = '';
  if (rest.endsWith('?') && rest.split('?').length === 2) {
    rest = rest.slice(0, -1);
  } else if (rest.includes('?')) {
    query = rest.slice(rest.indexOf('?') + 1);
    rest = rest.slice(0, rest.indexOf('?'));
  }
  if (!rest.startsWith('/')) return scheme ? { scheme, host: '', path: '', query, fragment } : null;
  let host = '';
  if (rest.startsWith('//') && (scheme || !rest.startsWith('///'))) {
    const slash = rest.indexOf('/', 2);
    let authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    rest = slash < 0 ? '' : rest.slice(slash);
    const at = authority.lastIndexOf('@');
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      if (![...userinfo].every((c) => isAlnum(c) || "-._:~!$&'()*+,;=%@".includes(c))) return null;
      if (goUnescape(userinfo, 'user') === null) return null;
      authority = authority.slice(at + 1);
    }
    host = goHost(scheme, authority);
    if (host === null) return null;
  }
  const path = goUnescape(rest, 'path');
  if (path === null) return null;
  return { scheme, host, path: goEscapedPath(rest, path), query, fragment };
}

/** goHasResponseParams is hasResponseParams: url.ParseQuery(raw) has code, error or state. */
function goHasResponseParams(raw) {
  for (const pair of raw.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    const key = goUnescape(eq < 0 ? pair : pair.slice(0, eq), 'query');
    const value = goUnescape(eq < 0 ? '' : pair.slice(eq + 1), 'query');
    if (key === null || value === null) continue;
    if (key === 'code' || key === 'error' || key === 'state') return true;
  }
  return false;
}

/** isCallbackUrl is pkce.Client.IsCallback: whether url is an authorization response for redirectUri. */
function isCallbackUrl(redirectUri, url) {
  if (typeof url !== 'string') return false;
  const u = goParse(url);
  const r = goParse(redirectUri);
  if (!u || !r || u.scheme !== r.scheme || u.host !== r.host || u.path !== r.path) return false;
  return goHasResponseParams(u.query) || goHasResponseParams(u.fragment);
}

/** takeTransaction reads and removes this tab's pending login transaction: consumed on first use, whatever follows. */
function takeTransaction() {
  try {
    const tx = globalThis.sessionStorage.getItem(TRANSACTION_KEY);
    globalThis.sessionStorage.removeItem(TRANSACTION_KEY);
    return typeof tx === 'string' ? tx : null;
  } catch {
    return null; // no storage: no pending login
  }
}

/** replaceUrl changes the address bar without navigating or adding a history entry, keeping the history state. */
function replaceUrl(url) {
  try { globalThis.history.replaceState(globalThis.history.state, '', url); } catch { /* no history here */ }
}

const SIGNED_OUT = Object.freeze({ authenticated: false, claims: null, token: null });

// ---- silent and popup sign-in (issue 12) ----
// loginSilently() loads the authorization request, with prompt=none, in a
// hidden iframe; loginWithPopup() in a popup window. The provider returns
// to silentRedirectUri inside it, a page of the app's origin that loads
// mezzo.js (or mezzo.mjs). The parent names the iframe or popup window
// EMBED_MARKER + a fresh attempt id (window.name, which the browser keeps
// across the navigations inside one iframe, and inside a popup that keeps
// its opener). The return page's loader, when it is evaluated, recognises
// the marker and an authorization response in its URL, posts
// { type: RESPONSE_MESSAGE, id, url } to its parent (iframe) or opener
// (popup) with targetOrigin its own origin, and does nothing else: it
// never starts the module, and createClient() there never settles, so the
// app's code stops at it. The parent accepts the message only as
// acceptResponse says, then hands the URL and the attempt's own
// transaction (kept here in memory, never in sessionStorage) to the
// handle, which checks and exchanges it where the session lives.
const EMBED_MARKER = 'mezzo-embed:';
const RESPONSE_MESSAGE = 'mezzo:authorization-response';
const ATTEMPT_ID = /^[0-9a-f]{32}$/;
const SILENT_TIMEOUT_S = 10; // silentTimeoutSeconds' default
const POPUP_TIMEOUT_S = 300; // popupTimeoutSeconds' default: time for the user to sign in
const POPUP_POLL_MS = 250; // how often a popup is checked for having been closed
const MAX_RESPONSE_URL = 16384;

/** attemptId is 128 random bits in hex: the name of one attempt's iframe or popup. */
function attemptId() {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** responseParams is the authorization response of url as Go reads it: the query's, else the fragment's (null when url has none). */
function responseParams(url) {
  const u = goParse(url);
  if (!u) return null;
  const raw = goHasResponseParams(u.query) ? u.query : goHasResponseParams(u.fragment) ? u.fragment : null;
  if (raw === null) return null;
  try { return new URLSearchParams(raw); } catch { return null; }
}

/**
 * handOverResponse runs once, when the loader is evaluated in a page: if
 * this page is the return page of a silent or popup attempt (its window
 * name carries the marker and its URL an authorization response) it posts
 * the URL to its parent or opener, on its own origin only, and returns
 * true. Anything else returns false and changes nothing.
 */
function handOverResponse() {
  try {
    const w = globalThis.window;
    if (!w || w !== globalThis || typeof w.document === 'undefined' || typeof w.name !== 'string') return false;
    if (!w.name.startsWith(EMBED_MARKER)) return false;
    const id = w.name.slice(EMBED_MARKER.length);
    const url = w.location.href;
    if (!ATTEMPT_ID.test(id) || responseParams(url) === null) return false;
    const target = w.parent && w.parent !== w ? w.parent : w.opener;
    if (!target) return false;
    target.postMessage({ type: RESPONSE_MESSAGE, id, url }, w.location.origin);
    return true;
  } catch {
    return false;
  }
}

const isReturnPage = handOverResponse();

/**
 * acceptResponse is the parent's rule for a message from an attempt's
 * window: it must come from that window object (event.source: our iframe's
 * contentWindow, our popup), from our own origin, be { type, id, url } with
 * this attempt's id, and url must be an authorization response for
 * silentRedirectUri whose one state is this attempt's (RFC 6749 §10.12).
 * Anything else is ignored, and never reaches the code exchange. (The
 * handle checks the response again against the transaction: state, iss,
 * then the code exchange with PKCE, the ID token and its nonce.)
 */
function acceptResponse(event, attempt) {
  if (!event || event.source !== attempt.source || attempt.source == null) return false;
  if (event.origin !== globalThis.location?.origin) return false;
  const d = event.data;
  if (!d || typeof d !== 'object' || Object.getPrototypeOf(d) !== Object.prototype) return false;
  if (d.type !== RESPONSE_MESSAGE || d.id !== attempt.id || typeof d.url !== 'string' || d.url.length > MAX_RESPONSE_URL) return false;
  if (!isCallbackUrl(attempt.redirectUri, d.url)) return false;
  const params = responseParams(d.url);
  const states = params ? params.getAll('state') : [];
  return states.length === 1 && states[0] === attempt.state;
}

/**
 * awaitResponse opens one attempt's window — a hidden iframe (kind
 * 'silent') or the popup already opened in the user's gesture — at url,
 * and resolves with the response URL that acceptResponse accepts first.
 * It rejects with timeout after timeoutMs, with popup_closed when the user
 * closes the popup (checked every POPUP_POLL_MS), or with what abort(err)
 * is given. Whatever the outcome, once: the iframe is removed, the popup
 * closed, the listener and every timer removed.
 */
function awaitResponse({ kind, url, id, state, redirectUri, timeoutMs, popup }) {
  let finish = () => {};
  const promise = new Promise((resolve, reject) => {
    const attempt = { id, state, redirectUri, source: null };
    let iframe = null;
    let timer = null;
    let poll = null;
    let done = false;
    const onMessage = (e) => {
      if (!done && acceptResponse(e, attempt)) finish(null, e.data.url);
    };
    finish = (err, value) => {
      if (done) return;
      done = true;
      globalThis.removeEventListener('message', onMessage);
      clearTimeout(timer);
      clearInterval(poll);
      if (iframe) iframe.remove();
      if (popup) { try { popup.close(); } catch { /* gone */ } }
      if (err) reject(err); else resolve(value);
    };
    try {
      globalThis.addEventListener('message', onMessage);
      if (kind === 'silent') {
        const doc = globalThis.document;
        iframe = doc.createElement('iframe');
        iframe.name = EMBED_MARKER + id; // before insertion: the window is created with this name
        iframe.hidden = true;
        iframe.tabIndex = -1;
        iframe.title = 'mezzo silent sign-in';
        iframe.setAttribute('aria-hidden', 'true');
        iframe.src = url;
        (doc.body ?? doc.documentElement).appendChild(iframe);
        attempt.source = iframe.contentWindow;
      } else {
        attempt.source = popup;
        popup.location.replace(url);
        poll = setInterval(() => {
          if (popup.closed) finish(new MezzoError('popup_closed', 'the sign-in window was closed before the provider answered'));
        }, POPUP_POLL_MS);
      }
      timer = setTimeout(() => {
        finish(new MezzoError('timeout', `the provider did not answer the ${kind} sign-in within ${timeoutMs / 1000} s`));
      }, timeoutMs);
    } catch (e) {
      finish(toMezzoError(e));
    }
  });
  return { promise, abort: (err) => finish(err) };
}

/** secondsOption reads a timeout option in seconds (Go checks its type when the module starts), else the default. */
function secondsOption(v, fallback) {
  return (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback) * 1000;
}

/**
 * startSoon runs fn once the page has painted and is otherwise idle, and
 * returns a function that cancels it. This is how a signed-out page starts
 * the module in the background: it must not compete with the app's own
 * first paint (issue 15). In a visible page it waits for the next frame
 * (requestAnimationFrame runs just before a paint, so what it schedules
 * runs after it; or FRAME_FALLBACK_MS, for a page hidden meanwhile), then
 * posts a task of the lowest priority
 * (scheduler.postTask, 'background'), or a plain timer where there is no
 * scheduler. A hidden page (a background tab, node) paints nothing: it
 * goes straight to the second step. A call that needs the module does not
 * wait for this: it starts the module at once and cancels what is left.
 */
function startSoon(fn) {
  let cancel = () => {};
  let done = false;
  const run = () => { if (!done) { done = true; fn(); } };
  const lowPriority = () => {
    const scheduler = globalThis.scheduler;
    if (typeof scheduler?.postTask === 'function' && typeof AbortController === 'function') {
      const abort = new AbortController();
      scheduler.postTask(run, { priority: 'background', signal: abort.signal }).catch(() => { /* cancelled */ });
      cancel = () => abort.abort();
      return;
    }
    const timer = setTimeout(run, 0);
    cancel = () => clearTimeout(timer);
  };
  const doc = globalThis.document;
  if (doc && doc.visibilityState === 'visible' && typeof globalThis.requestAnimationFrame === 'function') {
    // A page hidden before its frame gets no frame until it is shown: the
    // timer starts the module anyway, later.
    let frame = 0;
    let timer = 0;
    const next = () => {
      globalThis.cancelAnimationFrame(frame);
      clearTimeout(timer);
      lowPriority();
    };
    frame = globalThis.requestAnimationFrame(next);
    timer = setTimeout(next, FRAME_FALLBACK_MS);
    cancel = () => { globalThis.cancelAnimationFrame(frame); clearTimeout(timer); };
  } else {
    lowPriority();
  }
  return () => { done = true; cancel(); };
}

/**
 * newClient builds the public Client around the runtime's handle, which
 * createHandle(emit) makes, for the redirect URI redirectUri, on the host
 * runtime ('shared-worker', 'worker' or 'page'), with the client's
 * options (for the silent and popup sign-in's). The runtime
 * reports events through emit(type, detail, state); the page half's own
 * reactions to them (the mirror and the token cache) are code here, not
 * listeners, so on() cannot reach them.
 *
 * The handle answers state() before the module runs (a session that does
 * not exist yet is signed out); its protocol methods wait for
 * handle.ready(), which starts the module and the Go client (validation,
 * discovery) once, and again after a failure. The client resolves at once
 * and starts the module now when it is needed now (a redirect callback, a
 * live session), else in the background (startSoon).
 */
async function newClient(createHandle, redirectUri, runtime, options) {
  // The token cache: while Date.now() < refreshAt, getToken answers here
  // without entering Go. The runtime's snapshots are its one source: Go
  // sends one with every new token, at sign-in, on every renewal, whoever
  // asked. `resolved` is one settled Promise per token, so the hot path
  // allocates nothing.
  let cache = null; // {accessToken, refreshAt, resolved}
  let mirror = SIGNED_OUT; // the session's last snapshot: {authenticated, claims, token}
  let pending = null; // the Go call shared by concurrent non-forced callers
  let pendingForced = null;
  let closed = false;
  const listeners = new Map(EVENTS.map((e) => [e, new Set()]));
  const closedError = () => new MezzoError('client_closed', 'this client was closed; create a new one');

  const setCache = (t) => {
    cache = t && t.accessToken ? { accessToken: t.accessToken, refreshAt: t.refreshAt, resolved: Promise.resolve(t.accessToken) } : null;
  };
  const clearCache = () => { cache = null; };
  // apply takes a snapshot of the session: the mirror and the cache follow it.
  const apply = (state) => {
    mirror = state && state.authenticated ? { authenticated: true, claims: state.claims ?? null, token: state.token ?? null } : SIGNED_OUT;
    setCache(mirror.token);
  };

  const emit = (type, detail, state) => {
    if (closed) return; // a renewal in flight at close() changes nothing
    if (state) apply(state);
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
  try { apply(await handle.state()); } catch (e) { throw toMezzoError(e); }

  // ready starts the module and the Go client, or joins the start under
  // way; after a failure the next call starts afresh (the handle forgets a
  // failed start). The first success on this page is the mezzo:module-ready
  // mark: from then on a protocol call runs at once. Whoever starts it
  // first, the background start is then no longer needed.
  //
  // client.ready is the promise of the latest start (`attempt`), and
  // before the first one (the background start still scheduled) a promise
  // that follows the first (`firstAttempt`): reading it never changes when
  // the module starts. close() rejects a firstAttempt still waiting, so
  // nothing waits forever.
  let cancelBackground = null;
  let moduleReady = false; // once ready() succeeded, calls need not ask again
  let attempt = null; // Promise<void> of the latest start
  let starting = false; // whether attempt is still running
  let firstAttempt = null; // {promise, resolve, reject} while client.ready waits for the first start
  const ready = () => {
    if (cancelBackground) { cancelBackground(); cancelBackground = null; }
    if (closed) return Promise.reject(closedError());
    if (starting) return attempt;
    starting = true;
    attempt = Promise.resolve().then(() => handle.ready()).then(() => {
      starting = false;
      moduleReady = true;
      mark('mezzo:module-ready');
    }, (e) => {
      starting = false;
      throw toMezzoError(e);
    });
    attempt.catch(() => { /* reported by client.ready and by each call */ });
    if (firstAttempt) {
      firstAttempt.resolve(attempt);
      firstAttempt = null;
    }
    return attempt;
  };
  // The page needs the module now when it is a redirect callback (the next
  // call is handleRedirectCallback) or has a session (a worker already
  // running it: this only joins it). A signed-out page starts it when the
  // page has painted and is idle, so that login() finds it ready.
  let onCallback = false;
  try { onCallback = isCallbackUrl(redirectUri, globalThis.location?.href); } catch { /* no location: not a callback */ }
  if (onCallback || mirror.authenticated) {
    ready();
  } else {
    cancelBackground = startSoon(() => {
      cancelBackground = null;
      ready();
    });
  }

  // whenReady is ready() until it has succeeded once: a call before that
  // starts the module at once (not waiting for the background start) and
  // rejects with the start's typed error (load_failed, invalid_config, a
  // discovery error), as client.ready does. (The handle's methods also
  // wait for its start themselves: a worker that died is started afresh.)
  const whenReady = () => (moduleReady ? undefined : ready());

  // call runs a Go method that returns a Promise, after the closed check.
  const call = (method, ...args) => Promise.resolve().then(() => {
    if (closed) throw closedError();
    return whenReady();
  }).then(() => handle[method](...args));

  // A renewal whose time passed while the machine slept or the tab's timers
  // were throttled is made as soon as the page can tell: when the tab is
  // shown again or the network is back (as the next getToken() would).
  // Its outcome arrives as events, like a timer's renewal.
  const wake = () => {
    if (closed || cache === null || globalThis.document?.visibilityState === 'hidden') return;
    if (Date.now() >= cache.refreshAt) client.getToken().catch(() => {});
  };
  const wakeSources = [[globalThis.document, 'visibilitychange'], [globalThis, 'online']]
    .filter(([target]) => target && typeof target.addEventListener === 'function');
  for (const [target, type] of wakeSources) target.addEventListener(type, wake);

  const callGo = (force) => call('getToken', force).then((t) => t.accessToken, (e) => {
    const err = toMezzoError(e);
    if (err.code === 'login_required') clearCache();
    throw err;
  });

  // Silent and popup sign-in: each attempt has its own transaction, held
  // here in memory only (never sessionStorage: a pending redirect login of
  // this tab keeps its own), and its own window; close() aborts those under
  // way. One silent attempt at a time per client: concurrent callers share
  // it.
  const silentRedirectUri = typeof options?.silentRedirectUri === 'string' ? options.silentRedirectUri : redirectUri;
  const attempts = new Set();
  let silentPending = null;
  const embeddedLogin = async (kind, opts, id, popup) => {
    try {
      if (typeof globalThis.document?.createElement !== 'function' || typeof globalThis.addEventListener !== 'function') {
        throw new MezzoError('runtime_unavailable', `a ${kind} sign-in needs a page (an iframe or a popup window)`);
      }
      const { url, transaction } = await call('login', opts, kind);
      if (closed) throw closedError();
      const state = new URL(url).searchParams.get('state');
      const wait = awaitResponse({
        kind, url, id, state, popup, redirectUri: silentRedirectUri,
        timeoutMs: kind === 'silent' ? secondsOption(options?.silentTimeoutSeconds, SILENT_TIMEOUT_S) : secondsOption(options?.popupTimeoutSeconds, POPUP_TIMEOUT_S),
      });
      attempts.add(wait);
      let response;
      try { response = await wait.promise; } finally { attempts.delete(wait); }
      if (closed) throw closedError();
      const r = await handle.handleRedirectCallback(response, transaction, null); // no address bar to clean
      if (r.error) throw r.error;
      return { returnTo: r.returnTo };
    } catch (e) {
      if (popup) { try { popup.close(); } catch { /* gone */ } }
      throw toMezzoError(e);
    }
  };

  // DPoP (issue 13): client.fetch asks the runtime for the headers of each
  // request, and tells it of a DPoP-Nonce in the answer.
  const dpop = options?.dpop === true;
  const dpopOptions = (opts) => {
    if (opts === undefined || opts === null) return {};
    if (typeof opts !== 'object') throw new MezzoError('invalid_argument', 'options must be an object');
    return opts;
  };
  // dpopResponse is what the runtime reads of a response: its status and
  // the headers the page can see (Go picks DPoP-Nonce and WWW-Authenticate).
  const dpopResponse = (res) => ({ status: res.status, headers: Object.fromEntries(res.headers.entries()) });
  // sendWithProof sends request with the runtime's headers for it; it
  // resolves null when the server asks for it once more with a new nonce
  // (the runtime says so, and after a retry rejects dpop_nonce_failed).
  const sendWithProof = async (request, retried) => {
    const auth = await call('resourceHeaders', request.method, request.url).catch((e) => { throw toMezzoError(e); });
    const headers = new Headers(request.headers);
    headers.set('Authorization', auth.authorization);
    headers.set('DPoP', auth.dpop);
    const res = await globalThis.fetch(new Request(request, { headers }));
    // Only a DPoP-Nonce changes anything (RFC 9449 §8.2, §9): without one
    // the answer is the app's, and costs no call to the runtime.
    if (!res.headers.has('dpop-nonce')) return res;
    const again = await call('resourceResponse', request.url, dpopResponse(res), retried).catch((e) => { throw toMezzoError(e); });
    return again ? null : res;
  };

  const client = {
    runtime,
    /**
     * ready settles with the latest start of the module and the Go client
     * (its options checked, discovery done): it resolves once they run,
     * and rejects with their typed error. Reading it starts nothing: the
     * background start, or the first call, does; after a failure the next
     * call starts afresh, and ready then follows that start.
     */
    get ready() {
      if (closed) {
        const p = Promise.reject(closedError());
        p.catch(() => {});
        return p;
      }
      if (attempt) return attempt;
      if (!firstAttempt) {
        let resolve; let reject;
        const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
        promise.catch(() => { /* handled: an app that never reads it is not told twice */ });
        firstAttempt = { promise, resolve, reject };
      }
      return firstAttempt.promise;
    },
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
      return call('login', opts).then(({ url, transaction }) => {
        globalThis.sessionStorage.setItem(TRANSACTION_KEY, transaction);
        globalThis.location.assign(url);
      }).catch((e) => { throw toMezzoError(e); });
    },
    loginSilently(opts) {
      if (!silentPending) {
        silentPending = embeddedLogin('silent', opts, attemptId(), null).then(() => {}).finally(() => { silentPending = null; });
      }
      return silentPending;
    },
    loginWithPopup(opts) {
      // window.open first, before any await: browsers allow a popup only
      // within the user's gesture (the click that called this).
      let id;
      let popup = null;
      try {
        if (closed) return Promise.reject(closedError());
        id = attemptId();
        popup = globalThis.open?.('about:blank', EMBED_MARKER + id, 'popup,width=500,height=650') ?? null;
      } catch { popup = null; }
      if (!popup) return Promise.reject(new MezzoError('popup_blocked', 'the browser did not open the sign-in window; call loginWithPopup() from a click'));
      return embeddedLogin('popup', opts, id, popup);
    },
    isRedirectCallback(url) {
      if (closed) return false;
      try { return isCallbackUrl(redirectUri, url ?? globalThis.location.href); } catch { return false; }
    },
    handleRedirectCallback(url) {
      return Promise.resolve().then(() => {
        if (closed) throw closedError();
        if (url !== undefined && url !== null && typeof url !== 'string') throw new MezzoError('invalid_argument', 'url must be a string');
        const href = globalThis.location.href;
        // The module first: the transaction is taken (and removed) only
        // when the call can run, so a failed load leaves it for the retry.
        return Promise.resolve(whenReady()).then(() => handle.handleRedirectCallback(url ?? href, takeTransaction(), href));
      }).then((r) => {
        if (r.cleanUrl) replaceUrl(r.cleanUrl); // success or not, the code must not linger in the address bar
        if (r.error) throw r.error;
        return { returnTo: r.returnTo };
      }).catch((e) => { throw toMezzoError(e); });
    },
    isAuthenticated() {
      return !closed && mirror.authenticated;
    },
    getUser() {
      if (closed || !mirror.claims) return null;
      return structuredClone(mirror.claims); // the caller's own copy, as each call made one before
    },
    getUserinfo() {
      return call('getUserinfo').catch((e) => { throw toMezzoError(e); });
    },
    logout(opts) {
      clearCache();
      return call('logout', opts).then((r) => {
        apply(SIGNED_OUT); // the runtime forgot the session before answering
        if (r && r.url) globalThis.location.assign(r.url);
      }).catch((e) => {
        const err = toMezzoError(e);
        if (err.code === 'dpop_key_unavailable') apply(SIGNED_OUT); // signed out; only the key's deletion failed
        throw err;
      });
    },
    close() {
      // Forgets the tokens and stops renewal without any network request
      // or navigation (for an app that unmounts); later calls reject with
      // client_closed.
      if (closed) return;
      closed = true;
      if (cancelBackground) { cancelBackground(); cancelBackground = null; }
      for (const a of [...attempts]) a.abort(closedError());
      if (firstAttempt) { firstAttempt.reject(closedError()); firstAttempt = null; }
      apply(SIGNED_OUT);
      for (const set of listeners.values()) set.clear();
      for (const [target, type] of wakeSources) target.removeEventListener(type, wake);
      try { handle.close(); } catch { /* already gone with the runtime */ }
    },
    async fetch(input, init) {
      if (!dpop) {
        const token = await client.getToken();
        const headers = new Headers((init && init.headers) || (input instanceof Request ? input.headers : undefined));
        headers.set('Authorization', `Bearer ${token}`); // RFC 6750 §2.1
        return globalThis.fetch(input, { ...init, headers });
      }
      // RFC 9449 §7.1: the DPoP scheme and a fresh proof for this method and
      // URL, bound to the token (ath), from the runtime. A nonce challenge
      // (§9) is answered once, with the request kept for it (its body too).
      const request = new Request(input, init);
      const first = await sendWithProof(request.clone(), false);
      return first ?? sendWithProof(request, true);
    },
    createDpopProof(method, url, opts) {
      return Promise.resolve().then(() => call('dpopProof', method, url, dpopOptions(opts).accessToken ?? null))
        .catch((e) => { throw toMezzoError(e); });
    },
    handleDpopResponse(url, response, opts) {
      return Promise.resolve().then(() => {
        if (!response || typeof response.status !== 'number' || typeof response.headers?.get !== 'function') {
          throw new MezzoError('invalid_argument', 'response must be a Response');
        }
        return call('resourceResponse', url, dpopResponse(response), dpopOptions(opts).retried === true);
      }).catch((e) => { throw toMezzoError(e); });
    },
    getDpopThumbprint() {
      return call('dpopThumbprint').catch((e) => { throw toMezzoError(e); });
    },
    on(event, listener) {
      const set = listeners.get(event);
      if (!set) throw new MezzoError('invalid_argument', `unknown event ${JSON.stringify(event)}; use one of ${EVENTS.join(', ')}`);
      if (typeof listener !== 'function') throw new MezzoError('invalid_argument', 'listener must be a function');
      set.add(listener);
      return () => { set.delete(listener); };
    },
  };
  // silentRestore: a page that starts with no session (and is no
  // callback) tries a silent sign-in at once, which starts the module at
  // once; the outcome arrives as events (tokenRefreshed), and
  // loginSilently() called meanwhile joins it.
  if (options?.silentRestore === true && !onCallback && !mirror.authenticated) {
    client.loginSilently().catch(() => { /* signed out stays signed out */ });
  }
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

/** sessionKey is the worker's name for the session of options: tabs with equal options share one. */
function sessionKey(options) {
  const canonical = (v) => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
    return v;
  };
  // The loader's own options choose where the runtime runs, not the session.
  const { runtime: _r, workerUrl: _w, wasmUrl: _m, ...rest } = options;
  return JSON.stringify(canonical(rest));
}

/** canStart reports whether this page can try to start a runtime on host. */
function canStart(host) {
  const page = typeof document !== 'undefined'; // a page (not node, not a worker)
  if (host === 'shared-worker') return page && typeof globalThis.SharedWorker === 'function';
  if (host === 'worker') return page && typeof globalThis.Worker === 'function';
  return true;
}

const connections = new Map(); // `${host} ${workerUrl}` → Promise<connection>: the page's live one per worker

/**
 * connection returns the page's connection to the worker runtime on host
 * ('shared-worker' or 'worker') at workerUrl, starting the worker (and in
 * it the module at moduleUrl) when there is none or the last one died. A
 * worker that cannot start rejects runtime_unavailable.
 *
 * A connection is { call(method, params), listen(session, emit),
 * unlisten(session, emit), dead }. The worker's events for a session go to
 * every emit listening to it. When the worker dies — its Web Lock is
 * released, or a call finds it gone — every pending call rejects,
 * every listener gets sessionExpired (runtime_exited) with the signed-out
 * state, and the next connection() starts a fresh worker.
 */
// PAGE_LOCK_PREFIX names the Web Lock each page holds while it lives (see
// pageLock); worker.js accepts only names with it.
const PAGE_LOCK_PREFIX = `mezzo-page@${VERSION}/`;
let pageLockHeld = null; // Promise<string|null>, once per page

/**
 * pageLock resolves with the name of a Web Lock this page holds until it
 * is gone (closed, reloaded, crashed), or null without Web Locks. A shared
 * worker told the name requests the same lock, which it gets only then,
 * and drops the page's port: ports do not pile up over reloads.
 */
function pageLock() {
  if (!pageLockHeld) {
    pageLockHeld = globalThis.crypto?.randomUUID ? holdLock(PAGE_LOCK_PREFIX + globalThis.crypto.randomUUID()) : Promise.resolve(null);
  }
  return pageLockHeld;
}

/**
 * holdLock takes the Web Lock name and holds it for as long as this
 * context (page or worker) lives; it resolves with the name once held, or
 * null without Web Locks. Whoever requests the same name gets it only when
 * this context is gone: that is how a page learns of its worker's death,
 * and a worker of a page's.
 */
function holdLock(name) {
  return new Promise((resolve) => {
    const locks = globalThis.navigator?.locks;
    if (!locks?.request) { resolve(null); return; }
    locks.request(name, () => {
      resolve(name);
      return new Promise(() => {}); // held until this context is gone
    }).catch(() => resolve(null));
  });
}

function connection(host, workerUrl, moduleUrl) {
  const key = `${host} ${workerUrl}`;
  if (!connections.has(key)) {
    const started = connect(host, workerUrl, moduleUrl);
    connections.set(key, started);
    started.catch(() => { if (connections.get(key) === started) connections.delete(key); });
    started.then((c) => c.onDead(() => { if (connections.get(key) === started) connections.delete(key); }), () => {});
  }
  return connections.get(key);
}

async function connect(host, workerUrl, moduleUrl) {
  const unavailable = (why) => new MezzoError('runtime_unavailable', `the ${host} runtime cannot start: ${why}`);
  let worker;
  try {
    worker = host === 'shared-worker'
      ? new globalThis.SharedWorker(workerUrl, { name: `mezzo@${VERSION}`, extendedLifetime: true })
      : new globalThis.Worker(workerUrl, { name: `mezzo@${VERSION}` });
  } catch (e) {
    throw unavailable(e instanceof Error ? e.message : String(e));
  }
  const port = host === 'shared-worker' ? worker.port : worker;
  const listeners = new Map(); // session → Set<emit>
  const deadHooks = [];
  const conn = {
    dead: false,
    call: (method, params) => rpc.call(method, params),
    listen(session, emit) {
      if (!listeners.has(session)) listeners.set(session, new Set());
      listeners.get(session).add(emit);
    },
    unlisten(session, emit) {
      listeners.get(session)?.delete(emit);
      if (listeners.get(session)?.size === 0) listeners.delete(session);
    },
    onDead(hook) { if (conn.dead) hook(); else deadHooks.push(hook); },
  };
  let ready = false;
  const rpc = rpcClient(port, {
    version: VERSION,
    timeoutMs: REMOTE_CALL_TIMEOUT_MS,
    onEvent(name, data) {
      if (name === 'mark' && typeof data?.name === 'string' && data.name.startsWith('mezzo:')) mark(data.name);
      if (name === 'session' && data && typeof data.type === 'string' && EVENTS.includes(data.type)) {
        for (const emit of [...(listeners.get(data.session) ?? [])]) emit(data.type, data.detail, data.state);
      }
    },
    onDead(err) {
      conn.dead = true;
      const detail = { code: 'runtime_exited', description: err.description };
      for (const set of listeners.values()) for (const emit of [...set]) emit('sessionExpired', detail, SIGNED_OUT);
      listeners.clear();
      for (const hook of deadHooks.splice(0)) hook();
      if (host === 'worker') worker.terminate();
    },
  });
  // Until the worker answers, an error event means its script did not load
  // (missing, refused by the page's CSP, a syntax error).
  worker.addEventListener('error', () => { if (!ready) rpc.dead('the worker script failed to load'); });
  let hello;
  try {
    hello = await rpc.call('hello', { wasmUrl: moduleUrl }, { timeoutMs: RPC_DEFAULT_TIMEOUT_MS });
  } catch (e) {
    rpc.dead();
    if (e.code === 'runtime_exited' || e.code === 'runtime_unavailable' || e.code === 'timeout') throw unavailable(e.description);
    throw e; // the worker runs, but refused this page: invalid_config (another wasmUrl)
  }
  ready = true;
  for (const name of hello.marks ?? []) mark(name);
  // The shared worker learns of this page's end through the page's lock
  // (pageLock), told once the page holds it; a dedicated worker dies with
  // its page.
  if (host === 'shared-worker') {
    pageLock().then((lock) => (lock ? rpc.call('watch', { pageLock: lock }) : null)).catch(() => { /* a dead worker: nothing to watch */ });
  }
  // The worker holds its lock for as long as it lives: this request is
  // granted when it dies, whatever killed it.
  if (typeof hello.lock === 'string' && globalThis.navigator?.locks?.request) {
    globalThis.navigator.locks.request(hello.lock, () => { rpc.dead('the mezzo worker stopped'); })
      .catch(() => {});
  }
  return conn;
}

/**
 * pageHandle is the handle of a client whose runtime runs in the page: the
 * Go handle for options, made on first need. Until then the client has no
 * session (a Go client starts signed out), so state() answers without the
 * module. ready() starts the module at url and makes the Go client (Go
 * checks the options, discovery runs) once; a failed start is forgotten,
 * so the next call tries again. Every other method waits for ready().
 */
function pageHandle(url, options, emit, dpopKeyRead) {
  let goHandle = null;
  let opening = null;
  let preloaded = dpopKeyRead; // createClient's read of the DPoP key, for the first Go client only
  let closed = false;
  const ready = () => {
    if (goHandle) return Promise.resolve(goHandle);
    if (!opening) {
      opening = (async () => {
        // A page runs one module: another client may have claimed another
        // URL since this one was made (moduleUrlFor says so, typed).
        const api = await start(moduleUrlFor(url, 'invalid_config', 'options.wasmUrl'));
        const key = preloaded;
        preloaded = undefined;
        const h = await newGoClient(api, options, emit, key);
        if (closed) { h.close(); throw new MezzoError('client_closed', 'this client was closed; create a new one'); }
        goHandle = h;
        return h;
      })().finally(() => { opening = null; });
    }
    return opening;
  };
  const method = (name) => (...args) => ready().then((h) => h[name](...args));
  return {
    ready: () => ready().then(() => {}),
    ...Object.fromEntries(RUNTIME_METHODS.map((name) => [name, method(name)])),
    async logout(opts) {
      const r = await (await ready()).logout(opts);
      if (opts?.forgetDpopKey === true) {
        await forgetDevice(options, () => { const h = goHandle; goHandle = null; preloaded = undefined; h?.close(); });
      }
      return r;
    },
    state: () => (goHandle ? goHandle.state() : SIGNED_OUT),
    close() {
      closed = true;
      goHandle?.close();
    },
  };
}

/**
 * remoteHandle attaches to the worker's session for options and returns a
 * handle with the Go handle's methods (see jsbridge/api.go), each a call
 * over the connection. When the worker dies, the handle attaches anew at
 * once (a fresh worker, a signed-out session), so the tab follows what
 * happens there; a call the death interrupted rejects login_required.
 */
async function remoteHandle(host, workerUrl, moduleUrl, options, emit) {
  let conn = null;
  let session = null;
  let state = SIGNED_OUT; // the session's state when attached
  let closed = false;
  let attaching = null;
  const attach = async () => {
    const c = await connection(host, workerUrl, moduleUrl);
    const r = await c.call('attach', { options });
    if (closed) {
      c.call('detach', { session: r.session }).catch(() => {});
      return;
    }
    c.listen(r.session, emit);
    conn = c;
    session = r.session;
    state = r.state ?? SIGNED_OUT;
    c.onDead(() => { if (!closed) ensure().catch(() => {}); });
  };
  const ensure = () => {
    if (!conn.dead) return Promise.resolve();
    if (!attaching) attaching = attach().finally(() => { attaching = null; });
    return attaching;
  };
  await attach();
  const invoke = async (method, args) => {
    await ensure();
    try {
      return await conn.call(method, { session, args });
    } catch (e) {
      if (e.code === 'runtime_exited') throw new MezzoError('login_required', 'the mezzo runtime stopped; sign in again');
      throw e;
    }
  };
  return {
    // The worker starts the module and the session's Go client on the
    // first of these calls (see worker.js); ready() asks for that alone.
    ready: () => invoke('ready', []).then(() => {}),
    login: (opts, mode) => invoke('login', mode === undefined ? [opts] : [opts, mode]),
    handleRedirectCallback: (url, transaction, href) => invoke('handleRedirectCallback', [url, transaction, href]),
    getToken: (force) => invoke('getToken', [force]),
    logout: (opts) => invoke('logout', [opts]),
    getUserinfo: () => invoke('getUserinfo', []),
    dpopProof: (method, url, accessToken) => invoke('dpopProof', [method, url, accessToken]),
    resourceHeaders: (method, url) => invoke('resourceHeaders', [method, url]),
    resourceResponse: (url, response, retried) => invoke('resourceResponse', [url, response, retried]),
    dpopThumbprint: () => invoke('dpopThumbprint', []),
    state: () => state, // attach answered it: no second round trip
    close() {
      closed = true;
      conn.unlisten(session, emit);
      if (!conn.dead) conn.call('detach', { session }).catch(() => {});
    },
  };
}

/**
 * createClient returns a Client as soon as its host can answer truthfully,
 * before the module has started (issue 15): a runtime that has not started
 * holds no session, so a signed-out page answers isAuthenticated() and
 * getUser() at once; a running shared worker answers from its session. The
 * module starts at once on a redirect callback and with a live session,
 * else in the background; calls that need it wait for it (see newClient).
 *
 * The options go to Go as they are: Go checks every one of them (types,
 * required fields, unknown keys) with one message each, when the module
 * starts — client.ready and the first call that needs the module reject
 * with its invalid_config, as does a failed discovery with its code. The
 * loader checks only what it needs itself, at once: that options is an
 * object (it reads fields from it, and sends it to a worker), its own
 * options — runtime, workerUrl, wasmUrl — and reads redirectUri for
 * isRedirectCallback().
 */
async function createClient(options) {
  // The return page of a silent or popup attempt has handed its URL over
  // (handOverResponse): it starts nothing, and the app's code stops here.
  if (isReturnPage) return new Promise(() => {});
  // A transport rule, not one of Go's option rules: there must be an
  // object to read runtime from and to send to a worker (Go refuses
  // anything else as well, with the same code).
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new MezzoError('invalid_config', 'options must be an object');
  const client = await clientOnHost(options);
  mark('mezzo:ready'); // the first client of the page can answer
  return client;
}

async function clientOnHost(options) {
  const runtime = options.runtime ?? 'auto';
  if (!RUNTIMES.includes(runtime)) throw new MezzoError('invalid_config', `options.runtime must be one of ${RUNTIMES.join(', ')}`);
  const redirectUri = options.redirectUri;
  const hosts = runtime === 'auto' ? ['shared-worker', 'worker', 'page'].filter(canStart) : [runtime];
  for (const host of hosts) {
    if (host === 'page') {
      // The page's one module is claimed now, so that another wasmUrl is
      // refused at once, as when it was loaded at once.
      const url = moduleUrlFor(options.wasmUrl, 'invalid_config', 'options.wasmUrl');
      if (!compiled) moduleUrl = url;
      const key = options.dpop === true ? await dpopKey(options) : undefined; // no key, no client (it waits for no module)
      return newClient((emit) => pageHandle(url, options, emit, key), redirectUri, host, options);
    }
    if (!canStart(host)) throw new MezzoError('runtime_unavailable', `the ${host} runtime cannot start here: no ${host === 'worker' ? 'Worker' : 'SharedWorker'} in this page`);
    const wasmUrl = options.wasmUrl;
    if (wasmUrl !== undefined && wasmUrl !== null && typeof wasmUrl !== 'string') throw new MezzoError('invalid_config', 'options.wasmUrl must be a string');
    const workerUrl = options.workerUrl;
    if (workerUrl !== undefined && workerUrl !== null && typeof workerUrl !== 'string') throw new MezzoError('invalid_config', 'options.workerUrl must be a string');
    let urls;
    try {
      urls = [resolveUrl(workerUrl, 'mezzo-worker.js'), resolveUrl(wasmUrl, 'mezzo.wasm')];
    } catch {
      throw new MezzoError('invalid_config', 'options.workerUrl or options.wasmUrl is not a URL');
    }
    try {
      return await newClient((emit) => remoteHandle(host, ...urls, options, emit), redirectUri, host, options);
    } catch (e) {
      if (runtime === 'auto' && e.code === 'runtime_unavailable') continue; // the next host
      throw e;
    }
  }
  throw new MezzoError('runtime_unavailable', 'no runtime host can start here');
}
