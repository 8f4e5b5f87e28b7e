// host-worker.js — the runtime half in a SharedWorker (one per origin and
// mezzo version, shared by every tab) or a dedicated Worker (one per page):
// what mezzo-worker.js runs (entries/worker.js). It starts the module with
// runtime.js (fetch and compile here, streaming; load wasm_exec.js; run Go)
// as the page host does. Each connected page gets an rpcServer on its port:
//
//   hello({wasmUrl})             → {lock, marks}: checks that wasmUrl is
//                                  the module this worker runs, the one
//                                  its name carries (worker-identity.js),
//                                  but does not start it (see ready);
//                                  invalid_config otherwise; lock is the Web
//                                  Lock this worker holds while it lives,
//                                  marks the start-up marks made so far
//                                  (later ones come as 'mark' events)
//   watch({pageLock})            → null: pageLock is the Web Lock the page
//                                  holds while it lives; once the worker
//                                  gets it, the page is gone and its port
//                                  is dropped. A call of its own, sent once
//                                  the page holds the lock, so that taking
//                                  it (tens of ms while a page loads) is
//                                  not on the way to the page's first answer
//   attach({options})            → {session, state}: (with options.dpop,
//                                  once the worker's DPoP key is made:
//                                  dpop_key_unavailable otherwise) the session for
//                                  options — one per distinct configuration
//                                  (sessionKey), shared by every page that
//                                  attaches with equal options — and its
//                                  state, answered without the module: a
//                                  session whose Go client is not made yet
//                                  is signed out
//   ready({session})             → null once the module runs and the
//                                  session's Go client is made (options
//                                  checked, discovery done); its typed
//                                  error otherwise, and the next call
//                                  tries again
//   logout and RUNTIME_METHODS (names.js, from api/names.json: login,
//   handleRedirectCallback, getToken, getUserinfo, dpopProof,
//   resourceHeaders, resourceResponse, dpopThumbprint)
//                ({session, args}) → the Go handle's method applied to args,
//                                  after ready;
//                                  logout with forgetDpopKey then drops the
//                                  session's Go client and forgets its
//                                  DPoP key (forgetDevice)
//   detach({session})            → this page no longer listens to session
//
// A session's events ('session' events: {session, type, detail, state}) go
// to every port attached to it. After a logout the signed-out state goes to
// every other port as sessionExpired (login_required), so every tab's
// mirror follows; the caller's page applies it itself and navigates. What
// crosses a port is what the Go handle returns: the access token, its
// expiry and the ID token's claims, never the refresh token or the raw ID
// token (the end-session URL of a logout carries id_token_hint).

import { resolveUrl } from './assets.js';
import { dpopKey, forgetDevice } from './dpop-keys.js';
import { MezzoError } from './errors.js';
import { PAGE_LOCK_PREFIX, holdLock, whenGone } from './locks.js';
import { marksSoFar, onMark } from './marks.js';
import { Code, Event, LogoutOption, Option, RUNTIME_METHODS } from './names.js';
import { rpcIsPlainObject, rpcServer } from './rpc.js';
import { newGoClient, start } from './runtime.js';
import { SIGNED_OUT, sessionKey } from './session.js';
import { VERSION } from './version.js';
import { checkWorkerModule, namedModule } from './worker-identity.js';

/** lockHeld resolves with the name of the lock this worker holds for good (null without Web Locks); see serveRuntime. */
let lockHeld = null;
// The module this worker runs, for its life: the one its name says
// (worker-identity.js), or the reason it serves no page.
let pinned = null; // {url} or {refused: MezzoError}

const sessions = new Map(); // sessionKey → session
// id → session: { id, options, handle (null until made), opening, ports: Map<ctx, attachments> }
const sessionsById = new Map();
let nextSession = 1;
const servers = new Set(); // every connected page's rpcServer, for the start-up marks

const badArgument = (description) => new MezzoError(Code.InvalidArgument, description);

/** broadcast sends one session event to the ports attached to s, but skip. */
function broadcast(s, type, detail, state, skip) {
  for (const ctx of s.ports.keys()) {
    if (ctx !== skip) ctx.emit('session', { session: s.id, type, detail, state });
  }
}

/** sessionFor returns the session for options, made on first ask; its Go client is made by openSession. */
function sessionFor(options) {
  const key = sessionKey(options);
  let s = sessions.get(key);
  if (!s) {
    s = { id: nextSession++, key, options, handle: null, opening: null, ports: new Map() };
    sessions.set(key, s);
    sessionsById.set(s.id, s);
  }
  return s;
}

/**
 * openSession starts the worker's module (once per worker) and makes the
 * session's Go client (once per session). A failure (a module that does
 * not load, options Go refuses, a failed discovery) keeps nothing: the
 * next call tries again, with the same module.
 */
function openSession(s) {
  if (s.handle) return Promise.resolve(s.handle);
  if (!s.opening) {
    s.opening = (async () => {
      const api = await start(pinned.url);
      const h = await newGoClient(api, s.options, (type, detail, state) => broadcast(s, type, detail, state, null));
      s.handle = h;
      return h;
    })().finally(() => {
      s.opening = null;
      forgetIfIdle(s); // a failed start of a session every page has left
    });
  }
  return s.opening;
}

/**
 * forgetIfIdle drops a session no page is attached to and whose Go client
 * was never made: it holds nothing. A session with a Go client stays, for
 * the next page (a reload, a new tab).
 */
function forgetIfIdle(s) {
  if (s.ports.size > 0 || s.handle || s.opening) return;
  sessions.delete(s.key);
  sessionsById.delete(s.id);
}

/**
 * watchPage requests the lock a page holds while it lives (pageLock in
 * loader.js): it is granted when the page is gone, and then gone() runs.
 * A name without the prefix (a forged or stale page) is refused
 * (invalid_argument); false without Web Locks.
 */
function watchPage(name, gone) {
  if (typeof name !== 'string' || !name.startsWith(PAGE_LOCK_PREFIX) || name.length > 128) {
    throw badArgument('pageLock must be the name of a page lock of this mezzo version');
  }
  return whenGone(name, gone); // no Web Locks here: the port stays
}

/** serve answers one page on port. */
function serve(port) {
  let greeted = false; // whether this page said hello, for this worker's module
  let watched = false; // whether the page's lock is watched (once per port)
  /** attached returns the session params names, if this port attached to it. */
  const attached = (params, ctx) => {
    const s = sessionsById.get(params?.session);
    if (!s || !s.ports.has(ctx)) throw badArgument(`no session ${JSON.stringify(params?.session)} is attached on this port`);
    return s;
  };
  const method = (name, after) => async (params, ctx) => {
    const s = attached(params, ctx);
    const args = params.args ?? [];
    if (!Array.isArray(args) || args.length > 4) throw badArgument(`the args of ${name} must be an array of at most 4`);
    const handle = await openSession(s);
    const result = await handle[name](...args);
    if (after) after(s, ctx, result);
    return result;
  };
  const logout = method('logout', (s, ctx) => {
    broadcast(s, Event.SessionExpired, { code: Code.LoginRequired, description: 'signed out in another tab' }, SIGNED_OUT, ctx);
  });
  const server = rpcServer(port, {
    version: VERSION,
    handlers: {
      async hello(params, ctx) {
        // A page joins only the worker of the module it asked for (its
        // name says which); the module starts when a page needs it (ready,
        // or a call), not here: a signed-out page answers without it
        // (issue 15).
        if (pinned.refused) throw pinned.refused;
        if (params?.wasmUrl !== pinned.url) {
          throw new MezzoError(Code.InvalidConfig, `this mezzo worker runs ${pinned.url}, not ${JSON.stringify(params?.wasmUrl)}: a page that names another module gets a worker of its own`);
        }
        greeted = true;
        return { lock: await lockHeld, marks: marksSoFar() };
      },
      watch(params, ctx) {
        if (watched || port === globalThis) return null; // once per port; a dedicated worker dies with its page
        // The page is gone: detach it from every session (the sessions
        // stay, for the next page), stop serving and close its port.
        watched = watchPage(params?.pageLock, () => {
          for (const s of [...sessionsById.values()]) {
            s.ports.delete(ctx);
            forgetIfIdle(s);
          }
          server.close();
          servers.delete(server);
          port.close();
        });
        return null;
      },
      async attach(params, ctx) {
        if (!greeted) throw badArgument('call hello first');
        if (!rpcIsPlainObject(params?.options)) throw new MezzoError(Code.InvalidConfig, 'options must be an object');
        // No key, no client (issue 13): the page learns it from createClient.
        // The worker's key for these options is made now, once (dpopKey).
        if (params.options[Option.DPoP] === true) await dpopKey(params.options);
        const s = sessionFor(params.options);
        s.ports.set(ctx, (s.ports.get(ctx) ?? 0) + 1);
        return { session: s.id, state: s.handle ? s.handle.state() : SIGNED_OUT };
      },
      async ready(params, ctx) {
        await openSession(attached(params, ctx));
        return null;
      },
      detach(params, ctx) {
        const s = attached(params, ctx);
        const n = s.ports.get(ctx) - 1;
        if (n > 0) s.ports.set(ctx, n); else s.ports.delete(ctx);
        // A session with a Go client stays: the next page to attach (a
        // reload, a new tab) finds it signed in.
        forgetIfIdle(s);
        return null;
      },
      ...Object.fromEntries(RUNTIME_METHODS.map((name) => [name, method(name)])),
      async logout(params, ctx) {
        const r = await logout(params, ctx);
        if (params.args?.[0]?.[LogoutOption.ForgetDpopKey] === true) {
          const s = attached(params, ctx);
          forgetDevice(s.options, () => { const h = s.handle; s.handle = null; h?.close(); });
        }
        return r;
      },
    },
  });
  servers.add(server);
}

/**
 * pinnedModule is the module a worker named name runs: the URL its name
 * carries, if a worker runtime may run it (worker-identity.js), else the
 * error every page's hello gets.
 */
function pinnedModule(name) {
  const url = namedModule(name);
  if (url === null) return { refused: new MezzoError(Code.InvalidConfig, 'this worker was not started by mezzo\'s loader (its name names no module)') };
  try {
    checkWorkerModule(url, globalThis.location.origin, resolveUrl(undefined, 'mezzo.wasm'), 'the module this worker is named for');
  } catch (e) {
    return { refused: e };
  }
  return { url };
}

/**
 * serveRuntime makes this worker the runtime: it takes the lock it holds
 * for as long as it lives (pages request it to learn of its death), and
 * serves every page that connects (a SharedWorker) or its one page (a
 * dedicated Worker, whose scope is the port). Called once, by the entry.
 */
export function serveRuntime() {
  pinned = pinnedModule(globalThis.name);
  lockHeld = holdLock(`mezzo-runtime@${VERSION}/${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`);
  onMark((name) => { for (const s of servers) s.emit('mark', { name }); });
  if (typeof globalThis.SharedWorkerGlobalScope === 'function' && globalThis instanceof globalThis.SharedWorkerGlobalScope) {
    globalThis.addEventListener('connect', (e) => serve(e.ports[0]));
  } else {
    serve(globalThis); // a dedicated Worker: its scope is the port
  }
}
