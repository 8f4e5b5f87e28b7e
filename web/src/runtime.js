// runtime.js — the runtime half: fetch and compile mezzo.wasm, load Go's
// wasm_exec.js, run the Go program and make Go clients on it. It runs
// wherever the runtime is hosted: in a SharedWorker every tab of the
// origin shares, in a dedicated Worker, or in the page itself
// (host-worker.js, host-page.js).
//
// The Go module (wasm/) calls globalThis.__mezzoReady(api) while it
// starts, with api = { version, createClient(options, emit, dpopKey?):
// Promise<handle>, stats() }; the hook exists only until then (see run()).
// The handle (jsbridge/api.go) touches nothing of a page: it returns what
// to do, and the page half (client.js) does it. Go rejects with plain
// objects {code, description, status?} and reports events through
// emit(type, detail, state), where state is the session's new snapshot.
import { resolveUrl } from './assets.js';
import { dpopKey } from './dpop-keys.js';
import { MezzoError, toMezzoError } from './errors.js';
import { mark } from './marks.js';
import { Code, Option } from './names.js';

// How long the Go program may take, once instantiated, to hand over its API.
// It normally does so within go.run itself, in tens of milliseconds; a
// program that blocks before registering fails the start with load_failed
// instead of leaving createClient waiting forever.
const START_TIMEOUT_MS = 10000;

let runtime = null; // Promise<api>: one Go runtime per page (or worker)
let compiled = null; // Promise<WebAssembly.Module>, fetched from moduleUrl
let moduleUrl = null; // where the one module comes from, once asked for
let memory = null; // the running module's WebAssembly.Memory, for runtimeStats()
let goStats = null; // the running module's stats(), for runtimeStats()

/**
 * moduleUrlFor is where the module for wasmUrl comes from. A page runs one
 * module: once one is asked for, no wasmUrl means that one, and another
 * URL is an error (code) rather than silently ignored.
 */
export function moduleUrlFor(wasmUrl, code, what) {
  if (wasmUrl === undefined || wasmUrl === null) return moduleUrl ?? resolveUrl(undefined, 'mezzo.wasm');
  if (typeof wasmUrl !== 'string') throw new MezzoError(code, `${what} must be a string`);
  let url;
  try { url = resolveUrl(wasmUrl, 'mezzo.wasm'); } catch { throw new MezzoError(code, `${what} is not a URL`); }
  if (moduleUrl !== null && url !== moduleUrl) {
    throw new MezzoError(code, `${what} is ${url}, but this page already loads mezzo from ${moduleUrl}; a page runs one module`);
  }
  return url;
}

/** claimModule makes url the page's one module before it loads, so that another wasmUrl is refused at once. */
export function claimModule(url) {
  if (!compiled) moduleUrl = url;
}

async function fetchBytesOrResponse(url) {
  if (url.startsWith('file:')) {
    // Node: fetch cannot read files. (No import for a bundler to follow:
    // this never runs in a browser.)
    return globalThis.process.getBuiltinModule('node:fs/promises').readFile(new URL(url));
  }
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) throw new MezzoError(Code.LoadFailed, `fetching ${url} failed`, res.status);
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
      // A fetch that did not complete, bytes that are no module, a CSP
      // without 'wasm-unsafe-eval': the module could not be loaded.
      throw e instanceof MezzoError ? e : new MezzoError(Code.LoadFailed, `${url} could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
    });
  }
  return compiled;
}

/** preload starts fetching and compiling the module early; createClient reuses the result. */
export function preload(wasmUrl) {
  try {
    return load(moduleUrlFor(wasmUrl, Code.InvalidArgument, 'wasmUrl'));
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
    if (typeof globalThis.Go !== 'function') throw new MezzoError(Code.LoadFailed, 'wasm_exec.js did not define Go');
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
      reject(new MezzoError(Code.LoadFailed, `the mezzo module did not start within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    go.run(instance).then( // settles only when the program exits
      () => { done(); onExit(); reject(new MezzoError(Code.LoadFailed, 'the mezzo module exited while starting')); },
      (e) => { done(); onExit(); reject(toMezzoError(e)); },
    );
  });
}

/** start runs the Go program once and resolves with the API it registers. */
export function start(url) {
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
 * newGoClient makes the Go client of options on api, with this runtime's
 * DPoP key for it when options.dpop is on.
 */
export async function newGoClient(api, options, emit) {
  const key = options[Option.DPoP] === true ? await dpopKey(options) : undefined;
  const h = await api.createClient(options, emit, key);
  if (!h) throw new MezzoError(Code.InternalError, 'the module returned no client');
  return h;
}

/**
 * runtimeStats reports the module's linear memory (it only grows) and its
 * Go heap (which falls back after each collection), or null before it starts.
 */
export function runtimeStats() {
  if (!memory) return null;
  let go = {};
  try { go = goStats ? goStats() : {}; } catch { /* the runtime has exited */ }
  return { wasmMemoryBytes: memory.buffer.byteLength, ...go };
}
