// worker.js — the entry of mezzo-worker.js, the runtime half in a
// SharedWorker (one per origin and mezzo version, shared by every tab) or
// a dedicated Worker (one per page). The build concatenates it after
// loader.js and rpc.js, whose runtime half (start(): fetch and compile the
// module here, streaming; load wasm_exec.js; run Go) it uses as the page
// host does. Each connected page gets an rpcServer on its port:
//
//   hello({wasmUrl, pageLock})   → {lock, marks}: starts the module once;
//                                  lock is the Web Lock this worker holds
//                                  while it lives, marks the start-up marks
//                                  made so far (later ones come as 'mark'
//                                  events); pageLock, the Web Lock the page
//                                  holds while it lives: once the worker
//                                  gets it, the page is gone and its port
//                                  is dropped (see dropPage)
//   attach({options})            → {session}: the session for options —
//                                  one Go client per distinct configuration
//                                  (sessionKey), shared by every page that
//                                  attaches with equal options
//   login, handleRedirectCallback, getToken, logout, getUserinfo, state
//                ({session, args}) → the Go handle's method applied to args
//   detach({session})            → this page no longer listens to session
//
// A session's events ('session' events: {session, type, detail, state}) go
// to every port attached to it. After a logout the signed-out state goes to
// every other port as sessionExpired (login_required), so every tab's
// mirror follows; the caller's page applies it itself and navigates. What
// crosses a port is what the Go handle returns: the access token, its
// expiry and the ID token's claims, never the refresh token or the raw ID
// token (the end-session URL of a logout carries id_token_hint).

const workerLock = `mezzo-runtime@${VERSION}/${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;

/** lockHeld resolves with the lock's name once this worker holds it for good (null without Web Locks). */
const lockHeld = holdLock(workerLock);

const sessions = new Map(); // sessionKey → Promise<session>
const sessionsById = new Map(); // id → session: { id, handle, ports: Map<ctx, attachments> }
let nextSession = 1;
const servers = new Set(); // every connected page's rpcServer, for the start-up marks

markHooks.push((name) => { for (const s of servers) s.emit('mark', { name }); });

const badArgument = (description) => new MezzoError('invalid_argument', description);

/** broadcast sends one session event to the ports attached to s, but skip. */
function broadcast(s, type, detail, state, skip) {
  for (const ctx of s.ports.keys()) {
    if (ctx !== skip) ctx.emit('session', { session: s.id, type, detail, state });
  }
}

/** openSession returns the session for options, creating its Go client once. */
function openSession(moduleUrl, options) {
  const key = sessionKey(options);
  if (!sessions.has(key)) {
    const opened = (async () => {
      const api = await start(moduleUrl);
      const s = { id: nextSession++, handle: null, ports: new Map() };
      s.handle = await api.createClient(options, (type, detail, state) => broadcast(s, type, detail, state, null));
      if (!s.handle) throw new MezzoError('internal_error', 'the module returned no client');
      sessionsById.set(s.id, s);
      return s;
    })();
    sessions.set(key, opened);
    opened.catch(() => { if (sessions.get(key) === opened) sessions.delete(key); }); // bad options: nothing kept
  }
  return sessions.get(key);
}

/**
 * watchPage requests the lock a page holds while it lives (pageLock in
 * loader.js): it is granted when the page is gone, and then gone() runs.
 * Names without the prefix (a forged or stale page) are not watched.
 */
function watchPage(name, gone) {
  const locks = globalThis.navigator?.locks;
  if (typeof name !== 'string' || !name.startsWith(PAGE_LOCK_PREFIX) || name.length > 128 || !locks?.request) return false;
  locks.request(name, () => { gone(); }).catch(() => {});
  return true;
}

/** serve answers one page on port. */
function serve(port) {
  let pageModule = null; // the module this page asked for in hello
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
    if (!Array.isArray(args) || args.length > 3) throw badArgument(`the args of ${name} must be an array of at most 3`);
    const result = await s.handle[name](...args);
    if (after) after(s, ctx, result);
    return result;
  };
  const server = rpcServer(port, {
    version: VERSION,
    handlers: {
      async hello(params, ctx) {
        const url = moduleUrlFor(params?.wasmUrl, 'invalid_config', 'options.wasmUrl');
        await start(url);
        pageModule = url;
        if (!watched && port !== globalThis) {
          // The page is gone: detach it from every session (the sessions
          // stay, for the next page), stop serving and close its port.
          watched = watchPage(params?.pageLock, () => {
            for (const s of sessionsById.values()) s.ports.delete(ctx);
            server.close();
            servers.delete(server);
            port.close();
          });
        }
        return { lock: await lockHeld, marks: [...marked] };
      },
      async attach(params, ctx) {
        if (pageModule === null) throw badArgument('call hello first');
        if (!rpcIsPlainObject(params?.options)) throw new MezzoError('invalid_config', 'options must be an object');
        const s = await openSession(pageModule, params.options);
        s.ports.set(ctx, (s.ports.get(ctx) ?? 0) + 1);
        return { session: s.id };
      },
      detach(params, ctx) {
        const s = attached(params, ctx);
        const n = s.ports.get(ctx) - 1;
        if (n > 0) s.ports.set(ctx, n); else s.ports.delete(ctx);
        // The session itself stays: the next page to attach (a reload, a
        // new tab) finds it signed in.
        return null;
      },
      login: method('login'),
      handleRedirectCallback: method('handleRedirectCallback'),
      getToken: method('getToken'),
      logout: method('logout', (s, ctx) => {
        broadcast(s, 'sessionExpired', { code: 'login_required', description: 'signed out in another tab' }, SIGNED_OUT, ctx);
      }),
      getUserinfo: method('getUserinfo'),
      state: method('state'),
    },
  });
  servers.add(server);
}

if (typeof globalThis.SharedWorkerGlobalScope === 'function' && globalThis instanceof globalThis.SharedWorkerGlobalScope) {
  globalThis.addEventListener('connect', (e) => serve(e.ports[0]));
} else {
  serve(globalThis); // a dedicated Worker: its scope is the port
}
