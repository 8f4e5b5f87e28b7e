// host-remote.js — the page's side of a worker runtime (runtime
// 'shared-worker' or 'worker'): the connection to the worker, over rpc.js,
// and the handle of one client's session there (host-worker.js answers).
import { resolveUrl } from './assets.js';
import { MezzoError } from './errors.js';
import { pageLock, whenGone } from './locks.js';
import { mark } from './marks.js';
import { Code, Event, EVENTS, RUNTIME_METHODS } from './names.js';
import { rpcClient } from './rpc.js';
import { SIGNED_OUT } from './session.js';
import { trustedScriptUrl } from './trusted-types.js';
import { VERSION } from './version.js';
import { workerName } from './worker-identity.js';

const connections = new Map(); // `${host} ${workerUrl} ${moduleUrl}` → Promise<connection>: the page's live one per worker

/**
 * connection returns the page's connection to the worker runtime on host
 * ('shared-worker' or 'worker') at workerUrl that runs the module at
 * moduleUrl (its name says which: worker-identity.js), starting the worker
 * when there is none or the last one died. A worker that cannot start
 * rejects runtime_unavailable.
 *
 * A connection is { call(method, params), listen(session, emit),
 * unlisten(session, emit), onDead(hook), dead }. The worker's events for a
 * session go to every emit listening to it. When the worker dies — its Web
 * Lock is released, or a call finds it gone — every pending call rejects,
 * every listener gets sessionExpired (runtime_exited) with the signed-out
 * state, and the next connection() starts a fresh worker.
 */
function connection(host, workerUrl, moduleUrl) {
  const key = `${host} ${workerUrl} ${moduleUrl}`;
  if (!connections.has(key)) {
    const started = connect(host, workerUrl, moduleUrl);
    connections.set(key, started);
    started.catch(() => { if (connections.get(key) === started) connections.delete(key); });
    started.then((c) => c.onDead(() => { if (connections.get(key) === started) connections.delete(key); }), () => {});
  }
  return connections.get(key);
}

async function connect(host, workerUrl, moduleUrl) {
  const unavailable = (why) => new MezzoError(Code.RuntimeUnavailable, `the ${host} runtime cannot start: ${why}`);
  let worker;
  try {
    // Under Trusted Types the script URL is mezzo's policy's (this page's
    // origin, or where mezzo's files are).
    const origins = () => [globalThis.location?.origin, new URL(resolveUrl(undefined, 'mezzo-worker.js')).origin];
    const script = trustedScriptUrl(workerUrl, origins);
    worker = host === 'shared-worker'
      ? new globalThis.SharedWorker(script, { name: workerName(moduleUrl), extendedLifetime: true })
      : new globalThis.Worker(script, { name: workerName(moduleUrl) });
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
  // Every call has rpc.js's default timeout, which outlasts pkce.CallTimeout
  // (60 s, the bound of every call in Go), so Go's own timeout answers first.
  const rpc = rpcClient(port, {
    version: VERSION,
    onEvent(name, data) {
      if (name === 'mark' && typeof data?.name === 'string' && data.name.startsWith('mezzo:')) mark(data.name);
      if (name === 'session' && data && typeof data.type === 'string' && EVENTS.includes(data.type)) {
        for (const emit of [...(listeners.get(data.session) ?? [])]) emit(data.type, data.detail, data.state);
      }
    },
    onDead(err) {
      conn.dead = true;
      const detail = { code: Code.RuntimeExited, description: err.description };
      for (const set of listeners.values()) for (const emit of [...set]) emit(Event.SessionExpired, detail, SIGNED_OUT);
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
    hello = await rpc.call('hello', { wasmUrl: moduleUrl });
  } catch (e) {
    rpc.dead();
    if (e.code === Code.RuntimeExited || e.code === Code.RuntimeUnavailable || e.code === Code.Timeout) throw unavailable(e.description);
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
  if (typeof hello.lock === 'string') whenGone(hello.lock, () => { rpc.dead('the mezzo worker stopped'); });
  return conn;
}

/**
 * remoteHandle attaches to the worker's session for options and returns a
 * handle with the Go handle's methods (see jsbridge/api.go), each a call
 * over the connection. When the worker dies, the handle attaches anew at
 * once (a fresh worker, a signed-out session), so the tab follows what
 * happens there; a call the death interrupted rejects login_required.
 */
export async function remoteHandle(host, workerUrl, moduleUrl, options, emit) {
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
      if (e.code === Code.RuntimeExited) throw new MezzoError(Code.LoginRequired, 'the mezzo runtime stopped; sign in again');
      throw e;
    }
  };
  return {
    // The worker starts the module and the session's Go client on the
    // first of these calls (see host-worker.js); ready() asks for that alone.
    ready: () => invoke('ready', []).then(() => {}),
    ...Object.fromEntries(RUNTIME_METHODS.map((name) => [name, (...args) => invoke(name, args)])),
    logout: (opts) => invoke('logout', [opts]),
    state: () => state, // attach answered it: no second round trip
    close() {
      closed = true;
      conn.unlisten(session, emit);
      if (!conn.dead) conn.call('detach', { session }).catch(() => {});
    },
  };
}
