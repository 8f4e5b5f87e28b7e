// rpc.js — the one RPC layer between the page half of mezzo and its runtime
// half (a SharedWorker, a dedicated Worker, or the page itself), written
// once: the page's connection to a worker (host-remote.js) and the worker's
// server (host-worker.js) both use it.
//
// Transport: `port` is anything with postMessage(data) and
// addEventListener('message' | 'messageerror', listener): a MessagePort (a
// SharedWorker's port, a MessageChannel end; start() is called when it
// exists), a dedicated Worker, or a worker's global scope. Such a port
// delivers only what its other end posts, and workers are same-origin;
// still, every event is checked before its message is read: one whose
// `source` is set and is not the port, or whose `origin` is set and is not
// `origin` (default location.origin), is dropped. The port stays the
// caller's: close() removes the listeners and never closes the port.
//
// Wire format, protocol RPC_PROTOCOL ('mezzo-rpc/1'), every message a plain
// object carrying { protocol, version, kind }:
//   { kind: 'call',   id, method, params }   client → server (page → runtime)
//   { kind: 'result', id, result }           server → client, answers call id
//   { kind: 'error',  id, error: { code, description, status? } }
//   { kind: 'event',  name, data }           server → client, unasked
// id is a positive safe integer chosen by the caller; method and event names
// match RPC_NAME; version is the sender's mezzo version (RPC_VERSION).
//
// rpcClient(port, { version, timeoutMs?, onEvent?, onDead?, onInvalid?, origin? })
//   → { call(method, params?, { timeoutMs? }?) → Promise, dead(description?),
//       close(), pendingCount() }
//   call posts a call and settles from the matching result or error reply.
//     params must be a plain object, an array or undefined, and plain data
//     (structured-cloneable); else the call rejects invalid_argument and
//     nothing is sent. An error reply becomes a MezzoError with its code,
//     description (cut at RPC_MAX_DESCRIPTION characters) and status; one of
//     another shape (code not of the RFC 6749 §5.2 form, description not a
//     string, status not an integer 0–999) becomes internal_error. Every call
//     times out: after timeoutMs (the call's, else the client's, default
//     RPC_DEFAULT_TIMEOUT_MS) it rejects with code timeout, naming the
//     method, and forgets the call; a late reply is then dropped. The
//     default outlasts pkce.CallTimeout, which bounds every call inside the
//     runtime, so a live runtime answers first, with its own typed error.
//   onEvent(name, data) receives event messages. A throwing onEvent is
//     reported as an uncaught error on its own; the client carries on.
//   Liveness: a runtime that is gone shows as a call that times out (after
//     65 s by default: too late for a page). The caller, which learns it
//     sooner (a Web Lock the runtime held is released, a Worker's error
//     event), calls dead(description): every pending call and every later
//     one rejects with runtime_exited, the listeners are removed, and
//     onDead(error) runs, once; the caller then makes a new client on a new
//     port.
//   close(): every pending call and every later one rejects with
//     client_closed, the listeners are removed, no timer is left.
//   pendingCount() is the number of calls waiting for a reply (each holds
//     one timer), for tests and diagnostics.
//
// rpcServer(port, { version, handlers, onInvalid?, origin? }) → { emit(name, data), close() }
//   handlers is an object of functions (params, ctx) → result or Promise,
//     called for a call whose method is an own property of handlers. ctx is
//     one frozen object per server, { port, emit }: it identifies the port
//     (a SharedWorker keeps one server per connected port, and per-port
//     state in a Map keyed by ctx or port) and lets a handler send events
//     to that port alone.
//   Answers: the handler's result; a thrown or rejected error with its
//     { code, description, status } when it is a MezzoError or a plain
//     object (the Go runtime's errors) with a code of the RFC 6749 §5.2
//     form, else internal_error with a description naming only the method
//     (never the error's own text); internal_error when the result cannot
//     be cloned; invalid_argument for an unknown method or params that are
//     not a plain object, an array or undefined; runtime_unavailable, naming
//     both versions, for a call from another mezzo version (no code of its
//     own: the page cannot use this runtime, as when a forced host cannot
//     start; the reply carries the caller's version so that the caller can
//     read it). A message of unknown shape, or without a usable id or
//     version, is dropped. Nothing a port sends throws out of the listener.
//   emit(name, data) posts an event and returns whether it was sent (false
//     after close(), for a bad name, or data that cannot be cloned).
//   close(): removes the listeners; replies of handlers still running are
//     dropped.
//
// This layer checks the envelope; params, results and event data are
// passed on as they came (plain data, by structured clone), and whoever
// uses them checks their shape, as a handler checks its params.
//
// A client and a server may share one port (calls both ways): each ignores
// the kinds that belong to the other. onInvalid(reason) is told, in a short
// fixed phrase, of every message dropped as invalid (for tests and
// diagnostics); it is never given the message.

import { MezzoError, closedError } from './errors.js';
import { Code } from './names.js';

export const RPC_PROTOCOL = 'mezzo-rpc/1';
export const RPC_DEFAULT_TIMEOUT_MS = 65000; // pkce.CallTimeout (60 s) and a margin: see rpcClient
const RPC_MAX_TIMEOUT_MS = 2147483647; // setTimeout's limit
export const RPC_MAX_DESCRIPTION = 1000;
const RPC_KINDS = ['call', 'result', 'error', 'event'];
/** Method and event names. */
const RPC_NAME = /^[A-Za-z][\w.:-]{0,63}$/;
/** mezzo versions: printable ASCII without spaces. */
const RPC_VERSION = /^[\x21-\x7e]{1,64}$/;
/** Error codes: the RFC 6749 §5.2 `error` form without spaces, as pkce.sanitizeCode keeps them. */
const RPC_CODE = /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/;

/** rpcIsPlainObject reports whether v is an object of Object.prototype or of no prototype. */
export function rpcIsPlainObject(v) {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** rpcParamsOk reports whether params may cross: a plain object, an array or undefined. */
function rpcParamsOk(params) {
  return params === undefined || Array.isArray(params) || rpcIsPlainObject(params);
}

/** rpcIsId reports whether id can name a call. */
function rpcIsId(id) {
  return Number.isSafeInteger(id) && id > 0;
}

/** rpcTimeoutOk reports whether ms is a usable timeout. */
function rpcTimeoutOk(ms) {
  return typeof ms === 'number' && ms > 0 && ms <= RPC_MAX_TIMEOUT_MS;
}

/** rpcCut bounds s to RPC_MAX_DESCRIPTION characters. */
function rpcCut(s) {
  return s.length > RPC_MAX_DESCRIPTION ? `${s.slice(0, RPC_MAX_DESCRIPTION)}…` : s;
}

/**
 * rpcErrorFields returns the { code, description, status? } of e, when e is
 * a MezzoError or a plain object (the Go runtime's errors) with a code of
 * the RFC 6749 §5.2 form, a string description (or none) and an integer
 * status 0–999 (or none); else null, as for other Errors, whose code and
 * message may be anything (node's ERR_*, a library's). It may throw (a
 * getter), so callers catch.
 */
function rpcErrorFields(e) {
  if (e === null || typeof e !== 'object') return null;
  if (e instanceof Error && !(e instanceof MezzoError)) return null;
  const { code, description, status } = e;
  if (typeof code !== 'string' || !RPC_CODE.test(code)) return null;
  if (description !== undefined && description !== null && typeof description !== 'string') return null;
  if (status !== undefined && !(Number.isInteger(status) && status >= 0 && status <= 999)) return null;
  const out = { code, description: rpcCut(description || '') };
  if (status !== undefined) out.status = status;
  return out;
}

/** rpcReport calls an optional hook, and keeps whatever it throws from the caller. */
function rpcReport(hook, ...args) {
  if (typeof hook !== 'function') return;
  try { hook(...args); } catch (e) { queueMicrotask(() => { throw e; }); }
}

/** rpcCheckOptions throws invalid_argument for options an rpcClient or rpcServer cannot work with. */
function rpcCheckOptions(port, options, what) {
  if (!port || typeof port.postMessage !== 'function' || typeof port.addEventListener !== 'function') {
    throw new MezzoError(Code.InvalidArgument, `${what}: port must have postMessage and addEventListener`);
  }
  if (!options || typeof options.version !== 'string' || !RPC_VERSION.test(options.version)) {
    throw new MezzoError(Code.InvalidArgument, `${what}: version must be a string of 1 to 64 printable characters`);
  }
  for (const hook of ['onEvent', 'onDead', 'onInvalid']) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') {
      throw new MezzoError(Code.InvalidArgument, `${what}: ${hook} must be a function`);
    }
  }
  if (options.origin !== undefined && typeof options.origin !== 'string') {
    throw new MezzoError(Code.InvalidArgument, `${what}: origin must be a string`);
  }
}

/**
 * rpcListen validates every message event on port and passes the message
 * (a plain object of RPC_PROTOCOL and a known kind) to onMessage; it drops
 * the rest, telling onInvalid why, and nothing escapes the listener. It
 * returns the function that removes the listeners.
 */
function rpcListen(port, options, onMessage) {
  const origin = options.origin !== undefined ? options.origin : globalThis.location?.origin;
  const invalid = (reason) => rpcReport(options.onInvalid, reason);
  const onMessageEvent = (ev) => {
    try {
      if (ev.source != null && ev.source !== port) return invalid('from another source');
      if (origin && typeof ev.origin === 'string' && ev.origin !== '' && ev.origin !== origin) return invalid('from another origin');
      const msg = ev.data;
      if (!rpcIsPlainObject(msg)) return invalid('not a plain object');
      if (msg.protocol !== RPC_PROTOCOL) return invalid('another protocol');
      if (!RPC_KINDS.includes(msg.kind)) return invalid('unknown kind');
      return onMessage(msg, invalid);
    } catch {
      return invalid('unreadable');
    }
  };
  const onError = () => invalid('cannot be deserialized');
  port.addEventListener('message', onMessageEvent);
  port.addEventListener('messageerror', onError);
  if (typeof port.start === 'function') port.start();
  return () => {
    port.removeEventListener('message', onMessageEvent);
    port.removeEventListener('messageerror', onError);
  };
}

/** rpcClient is the calling side: see the top of this file. */
export function rpcClient(port, options) {
  rpcCheckOptions(port, options, 'rpcClient');
  const { version, onEvent, onDead } = options;
  const timeoutMs = options.timeoutMs === undefined ? RPC_DEFAULT_TIMEOUT_MS : options.timeoutMs;
  if (!rpcTimeoutOk(timeoutMs)) throw new MezzoError(Code.InvalidArgument, `rpcClient: timeoutMs must be a number of milliseconds in (0, ${RPC_MAX_TIMEOUT_MS}]`);
  const pending = new Map(); // id → { method, resolve, reject, timer }
  let nextId = 1;
  let ended = null; // () => MezzoError: why every call now fails

  const settle = (id) => {
    const p = pending.get(id);
    pending.delete(id);
    clearTimeout(p.timer);
    return p;
  };

  const unlisten = rpcListen(port, options, (msg, invalid) => {
    if (msg.kind === 'call') return undefined; // a server's business, on a port both use
    if (msg.version !== version) return invalid('another version');
    if (msg.kind === 'event') {
      if (typeof msg.name !== 'string' || !RPC_NAME.test(msg.name)) return invalid('event without a name');
      if (onEvent) rpcReport(onEvent, msg.name, msg.data);
      return undefined;
    }
    if (!rpcIsId(msg.id)) return invalid('reply without an id');
    if (!pending.has(msg.id)) return invalid('reply to no pending call');
    if (msg.kind === 'result') {
      settle(msg.id).resolve(msg.result);
      return undefined;
    }
    const p = settle(msg.id);
    let f = null;
    try { f = rpcErrorFields(msg.error); } catch { f = null; }
    p.reject(f ? new MezzoError(f.code, f.description, f.status)
      : new MezzoError(Code.InternalError, `the runtime answered ${p.method} with a malformed error`));
    return undefined;
  });

  const end = (error) => {
    ended = error;
    unlisten();
    for (const id of [...pending.keys()]) settle(id).reject(error());
  };

  return {
    call(method, params, callOptions) {
      if (ended) return Promise.reject(ended());
      if (typeof method !== 'string' || !RPC_NAME.test(method)) {
        return Promise.reject(new MezzoError(Code.InvalidArgument, 'method must be a name of letters, digits and _.:-'));
      }
      if (!rpcParamsOk(params)) {
        return Promise.reject(new MezzoError(Code.InvalidArgument, `the params of ${method} must be a plain object, an array or undefined`));
      }
      const ms = callOptions?.timeoutMs === undefined ? timeoutMs : callOptions.timeoutMs;
      if (!rpcTimeoutOk(ms)) {
        return Promise.reject(new MezzoError(Code.InvalidArgument, `timeoutMs must be a number of milliseconds in (0, ${RPC_MAX_TIMEOUT_MS}]`));
      }
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new MezzoError(Code.Timeout, `the runtime did not answer ${method} within ${ms} ms`));
        }, ms);
        pending.set(id, { method, resolve, reject, timer });
        try {
          port.postMessage({ protocol: RPC_PROTOCOL, version, kind: 'call', id, method, params });
        } catch {
          settle(id);
          reject(new MezzoError(Code.InvalidArgument, `the params of ${method} cannot be sent: only plain data crosses`));
        }
      });
    },
    dead(description) {
      if (ended) return;
      const why = typeof description === 'string' && description ? rpcCut(description) : 'the mezzo runtime is gone';
      end(() => new MezzoError(Code.RuntimeExited, why));
      rpcReport(onDead, ended());
    },
    close() {
      if (ended) return;
      end(closedError);
    },
    pendingCount() {
      return pending.size;
    },
  };
}

/** rpcServer is the answering side: see the top of this file. */
export function rpcServer(port, options) {
  rpcCheckOptions(port, options, 'rpcServer');
  const { version, handlers } = options;
  if (handlers === null || typeof handlers !== 'object') throw new MezzoError(Code.InvalidArgument, 'rpcServer: handlers must be an object of functions');
  let closed = false;

  const post = (msg) => {
    if (closed) return false;
    try { port.postMessage(msg); return true; } catch { return false; }
  };
  const fail = (id, to, code, description) => post({ protocol: RPC_PROTOCOL, version: to, kind: 'error', id, error: { code, description } });
  const emit = (name, data) => typeof name === 'string' && RPC_NAME.test(name)
    && post({ protocol: RPC_PROTOCOL, version, kind: 'event', name, data });
  const ctx = Object.freeze({ port, emit });

  const unlisten = rpcListen(port, options, (msg, invalid) => {
    if (msg.kind !== 'call') return undefined; // a client's business, on a port both use
    const { id, method, params } = msg;
    if (!rpcIsId(id)) return invalid('call without an id');
    if (typeof msg.version !== 'string' || !RPC_VERSION.test(msg.version)) return invalid('call without a version');
    if (msg.version !== version) {
      invalid('another version');
      return fail(id, msg.version, Code.RuntimeUnavailable, `this mezzo runtime is version ${version}, the page is version ${msg.version}; reload the page`);
    }
    if (typeof method !== 'string' || !RPC_NAME.test(method)) return fail(id, version, Code.InvalidArgument, 'the method is not a name');
    if (!Object.hasOwn(handlers, method) || typeof handlers[method] !== 'function') {
      return fail(id, version, Code.InvalidArgument, `unknown method ${method}`);
    }
    if (!rpcParamsOk(params)) return fail(id, version, Code.InvalidArgument, `the params of ${method} must be a plain object, an array or undefined`);
    const handler = handlers[method];
    Promise.resolve().then(() => handler.call(handlers, params, ctx)).then((result) => {
      if (!post({ protocol: RPC_PROTOCOL, version, kind: 'result', id, result })) {
        fail(id, version, Code.InternalError, `the result of ${method} cannot be sent: only plain data crosses`);
      }
    }, (e) => {
      let f = null;
      try { f = rpcErrorFields(e); } catch { f = null; }
      if (f) post({ protocol: RPC_PROTOCOL, version, kind: 'error', id, error: f });
      else fail(id, version, Code.InternalError, `${method} failed in the runtime`);
    });
    return undefined;
  });

  return {
    emit,
    close() {
      if (closed) return;
      closed = true;
      unlisten();
    },
  };
}
