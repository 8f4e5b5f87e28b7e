// client.js — the public Client, in the page, around its runtime's handle
// (host-page.js in the page, host-remote.js in a worker; the same
// interface, jsbridge/api.go's methods). The handle touches nothing of a
// page: it returns what to do, and the client does it — it keeps the
// redirect's login transaction (redirect.js), navigates, cleans the
// address bar, and mirrors the session's state so that isAuthenticated(),
// getUser() and isRedirectCallback() answer synchronously.
import { isCallbackUrl } from './callback-url.js';
import { embeddedSignIn } from './client-embedded.js';
import { dpopResponse, resourceFetch, tokenOrigins } from './client-fetch.js';
import { moduleStart } from './client-start.js';
import { MezzoError, closedError, toMezzoError } from './errors.js';
import { Code, EVENTS, Option } from './names.js';
import { callbackUrl, cleanAddressBar, forgetCallback, saveTransaction, takeTransaction } from './redirect.js';
import { SIGNED_OUT } from './session.js';

const rethrow = (e) => { throw toMezzoError(e); };

/** optionsObject reads the optional options argument of a DPoP method. */
function optionsObject(opts) {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object') throw new MezzoError(Code.InvalidArgument, 'options must be an object');
  return opts;
}

/**
 * sessionMirror is the page's copy of the session: the runtime's last
 * snapshot {authenticated, claims, token}, and the token cache, while
 * Date.now() < refreshAt getToken answers from without entering Go. The
 * runtime's snapshots are its one source: Go sends one with every new
 * token, at sign-in, on every renewal, whoever asked. `resolved` is one
 * settled Promise per token, so the hot path allocates nothing.
 */
function sessionMirror() {
  let state = SIGNED_OUT;
  let cache = null; // {accessToken, refreshAt, resolved}
  return {
    get state() { return state; },
    get cache() { return cache; },
    apply(snapshot) {
      state = snapshot && snapshot.authenticated
        ? { authenticated: true, claims: snapshot.claims ?? null, token: snapshot.token ?? null }
        : SIGNED_OUT;
      const t = state.token;
      cache = t && t.accessToken ? { accessToken: t.accessToken, refreshAt: t.refreshAt, resolved: Promise.resolve(t.accessToken) } : null;
    },
    clearCache() { cache = null; },
  };
}

/**
 * newClient builds the public Client around the runtime's handle, which
 * createHandle(emit) makes, for the redirect URI redirectUri, on the host
 * runtime ('shared-worker', 'worker' or 'page', placed there as
 * placement's {reason, fallbacks} says), with the client's options (for
 * the silent and popup sign-in's). The runtime reports events
 * through emit(type, detail, state); the client's own reactions to them
 * (the mirror and the token cache) are code here, not listeners, so on()
 * cannot reach them.
 *
 * The handle answers state() before the module runs (a session that does
 * not exist yet is signed out); its protocol methods wait for
 * handle.ready() (client-start.js). The client resolves at once and starts
 * the module now when it is needed now (a redirect callback, a live
 * session), else in the background.
 */
export async function newClient(createHandle, redirectUri, runtime, options, placement) {
  const mirror = sessionMirror();
  let pending = null; // the Go call shared by concurrent non-forced getToken callers
  let pendingForced = null;
  let closed = false;
  const listeners = new Map(EVENTS.map((e) => [e, new Set()]));

  const emit = (type, detail, state) => {
    if (closed) return; // a renewal in flight at close() changes nothing
    if (state) mirror.apply(state);
    for (const l of listeners.get(type) ?? []) {
      // A throwing listener must not break the others or mezzo: report it
      // as an uncaught error on its own.
      try { l(detail); } catch (e) { queueMicrotask(() => { throw e; }); }
    }
  };

  const handle = await Promise.resolve().then(() => createHandle(emit)).catch(rethrow);
  if (!handle) throw new MezzoError(Code.InternalError, 'the module returned no client');
  mirror.apply(await Promise.resolve().then(() => handle.state()).catch(rethrow));

  // The page needs the module now when it is a redirect callback (the next
  // call is handleRedirectCallback) or has a session (a worker already
  // running it: this only joins it). A signed-out page starts it when the
  // page has painted and is idle, so that login() finds it ready.
  const start = moduleStart(handle);
  // (createClient took a callback's response out of the address bar
  // already: callbackUrl has it.)
  let onCallback = false;
  try { onCallback = isCallbackUrl(redirectUri, callbackUrl(redirectUri)); } catch { /* no location: not a callback */ }
  if (onCallback || mirror.state.authenticated) start.ready(); else start.soon();

  // call runs a handle method after the closed check and the module's
  // start; every error it rejects with is a MezzoError.
  const call = (method, ...args) => Promise.resolve().then(() => {
    if (closed) throw closedError();
    return start.whenReady();
  }).then(() => handle[method](...args)).catch(rethrow);

  // A renewal whose time passed while the machine slept or the tab's timers
  // were throttled is made as soon as the page can tell: when the tab is
  // shown again or the network is back (as the next getToken() would).
  // Its outcome arrives as events, like a timer's renewal.
  const wake = () => {
    const cache = mirror.cache;
    if (closed || cache === null || globalThis.document?.visibilityState === 'hidden') return;
    if (Date.now() >= cache.refreshAt) client.getToken().catch(() => {});
  };
  const wakeSources = [[globalThis.document, 'visibilitychange'], [globalThis, 'online']]
    .filter(([target]) => target && typeof target.addEventListener === 'function');
  for (const [target, type] of wakeSources) target.addEventListener(type, wake);

  const callGo = (force) => call('getToken', force).then((t) => t.accessToken, (err) => {
    if (err.code === Code.LoginRequired) mirror.clearCache();
    throw err;
  });
  const embedded = embeddedSignIn({ call, handle, options, redirectUri, isClosed: () => closed });

  const client = {
    runtime,
    // Why the runtime is there: 'requested' (options.runtime), 'preferred'
    // (auto's first choice) or 'fallback' (auto passed over the hosts in
    // runtimeFallbacks, each with the error that stopped it).
    runtimeReason: placement.reason,
    runtimeFallbacks: placement.fallbacks,
    /**
     * ready settles with the latest start of the module and the Go client
     * (its options checked, discovery done): it resolves once they run,
     * and rejects with their typed error. Reading it starts nothing: the
     * background start, or the first call, does; after a failure the next
     * call starts afresh, and ready then follows that start.
     */
    get ready() {
      return start.promise;
    },
    getToken(opts) {
      const force = !!(opts && opts.forceRefresh);
      const cache = mirror.cache;
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
        saveTransaction(transaction);
        globalThis.location.assign(url);
      }).catch(rethrow);
    },
    loginSilently: (opts) => embedded.loginSilently(opts),
    loginWithPopup: (opts) => embedded.loginWithPopup(opts),
    isRedirectCallback(url) {
      if (closed) return false;
      try { return isCallbackUrl(redirectUri, callbackUrl(redirectUri, url)); } catch { return false; }
    },
    handleRedirectCallback(url) {
      return Promise.resolve().then(() => {
        if (closed) throw closedError();
        if (url !== undefined && url !== null && typeof url !== 'string') throw new MezzoError(Code.InvalidArgument, 'url must be a string');
        // The page's own callback: the one it arrived with (createClient
        // took it out of the address bar), else what the address bar holds
        // now, which leaves it at once, success or not.
        const target = callbackUrl(redirectUri, url);
        cleanAddressBar(redirectUri);
        // The module first: the transaction is taken (and removed) only
        // when the call can run, so a failed load leaves it, and the
        // page's callback, for the retry.
        return Promise.resolve(start.whenReady()).then(() => {
          forgetCallback(redirectUri);
          return handle.handleRedirectCallback(target, takeTransaction());
        });
      }).then((r) => {
        if (r.error) throw r.error;
        return { returnTo: r.returnTo };
      }).catch(rethrow);
    },
    isAuthenticated() {
      return !closed && mirror.state.authenticated;
    },
    getUser() {
      if (closed || !mirror.state.claims) return null;
      return structuredClone(mirror.state.claims); // the caller's own copy, as each call made one before
    },
    getUserinfo: () => call('getUserinfo'),
    logout(opts) {
      mirror.clearCache();
      return call('logout', opts).then((r) => {
        mirror.apply(SIGNED_OUT); // the runtime forgot the session before answering
        if (r && r.url) globalThis.location.assign(r.url);
      }).catch(rethrow);
    },
    close() {
      // Forgets the tokens and stops renewal without any network request
      // or navigation (for an app that unmounts); later calls reject with
      // client_closed.
      if (closed) return;
      closed = true;
      start.close();
      embedded.close();
      mirror.apply(SIGNED_OUT);
      for (const set of listeners.values()) set.clear();
      for (const [target, type] of wakeSources) target.removeEventListener(type, wake);
      try { handle.close(); } catch { /* already gone with the runtime */ }
    },
    fetch: resourceFetch({ call, getToken: () => client.getToken(), dpop: options?.[Option.DPoP] === true, origins: tokenOrigins(options) }),
    // (call rejects with MezzoErrors, and what the checks throw is one.)
    createDpopProof(method, url, opts) {
      return Promise.resolve().then(() => call('dpopProof', method, url, optionsObject(opts).accessToken ?? null));
    },
    handleDpopResponse(url, response, opts) {
      return Promise.resolve().then(() => {
        if (!response || typeof response.status !== 'number' || typeof response.headers?.get !== 'function') {
          throw new MezzoError(Code.InvalidArgument, 'response must be a Response');
        }
        return call('resourceResponse', url, dpopResponse(response), optionsObject(opts).retried === true);
      });
    },
    getDpopThumbprint: () => call('dpopThumbprint'),
    on(event, listener) {
      const set = listeners.get(event);
      if (!set) throw new MezzoError(Code.InvalidArgument, `unknown event ${JSON.stringify(event)}; use one of ${EVENTS.join(', ')}`);
      if (typeof listener !== 'function') throw new MezzoError(Code.InvalidArgument, 'listener must be a function');
      set.add(listener);
      return () => { set.delete(listener); };
    },
  };
  // silentRestore: a page that starts with no session (and is no
  // callback) tries a silent sign-in at once, which starts the module at
  // once; the outcome arrives as events (tokenRefreshed), and
  // loginSilently() called meanwhile joins it.
  if (options?.[Option.SilentRestore] === true && !onCallback && !mirror.state.authenticated) {
    client.loginSilently().catch(() => { /* signed out stays signed out */ });
  }
  return client;
}
