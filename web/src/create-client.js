// create-client.js — createClient: which host runs the client's runtime
// (a SharedWorker, a dedicated Worker, or the page), and the Client on it.
import { resolveUrl } from './assets.js';
import { newClient } from './client.js';
import { dpopKey } from './dpop-keys.js';
import { isReturnPage } from './embed.js';
import { MezzoError } from './errors.js';
import { pageHandle } from './host-page.js';
import { remoteHandle } from './host-remote.js';
import { mark } from './marks.js';
import { Code, Option } from './names.js';
import { claimCallback } from './redirect.js';
import { claimModule, moduleUrlFor } from './runtime.js';
import { checkWorkerModule } from './worker-identity.js';

// Where the runtime may run (createClient's `runtime` option); auto picks
// the first of the others this page can start.
const RUNTIMES = ['auto', 'shared-worker', 'worker', 'page'];

/** canStart reports whether this page can try to start a runtime on host. */
function canStart(host) {
  const page = typeof document !== 'undefined'; // a page (not node, not a worker)
  if (host === 'shared-worker') return page && typeof globalThis.SharedWorker === 'function';
  if (host === 'worker') return page && typeof globalThis.Worker === 'function';
  return true;
}

/** missing is the error of a host this page has no constructor for. */
function missing(host) {
  return new MezzoError(Code.RuntimeUnavailable, `the ${host} runtime cannot start here: no ${host === 'worker' ? 'Worker' : 'SharedWorker'} in this page`);
}

/** urlOption reads one of the loader's URL options: a string or absent. */
function urlOption(options, name) {
  const v = options[name];
  if (v !== undefined && v !== null && typeof v !== 'string') throw new MezzoError(Code.InvalidConfig, `options.${name} must be a string`);
  return v;
}

/**
 * createClient returns a Client as soon as its host can answer truthfully,
 * before the module has started (issue 15): a runtime that has not started
 * holds no session, so a signed-out page answers isAuthenticated() and
 * getUser() at once; a running shared worker answers from its session. The
 * module starts at once on a redirect callback and with a live session,
 * else in the background; calls that need it wait for it (see client.js).
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
export async function createClient(options) {
  // A transport rule, not one of Go's option rules: there must be an
  // object to read runtime from and to send to a worker (Go refuses
  // anything else as well, with the same code).
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new MezzoError(Code.InvalidConfig, 'options must be an object');
  // First thing, before any await: a code in the address bar leaves it.
  claimCallback(options[Option.RedirectURI]);
  // The return page of a silent or popup attempt has handed its URL over
  // (embed.js): it starts nothing, and the app's code stops here. (An
  // ordinary page knows at once that it is none.)
  if (await isReturnPage) return new Promise(() => {});
  const client = await clientOnHost(options);
  mark('mezzo:ready'); // the first client of the page can answer
  return client;
}

/**
 * reportFallback tells the page that auto ran the runtime on a host after
 * others that could not start: a 'mezzo:runtime-fallback' event on the
 * global, whose detail is { runtime, fallbacks }, for a site's monitoring
 * (an app reads client.runtimeFallbacks).
 */
function reportFallback(runtime, fallbacks) {
  try {
    if (typeof globalThis.dispatchEvent === 'function' && typeof globalThis.CustomEvent === 'function') {
      globalThis.dispatchEvent(new globalThis.CustomEvent('mezzo:runtime-fallback', { detail: { runtime, fallbacks } }));
    }
  } catch { /* no one to tell */ }
}

async function clientOnHost(options) {
  const runtime = options[Option.Runtime] ?? 'auto';
  if (!RUNTIMES.includes(runtime)) throw new MezzoError(Code.InvalidConfig, `options.${Option.Runtime} must be one of ${RUNTIMES.join(', ')}`);
  const workerOnly = options[Option.WorkerOnly] === true;
  if (workerOnly && runtime === 'page') throw new MezzoError(Code.InvalidConfig, `options.${Option.Runtime} is "page", but options.${Option.WorkerOnly} forbids the page host`);
  const redirectUri = options[Option.RedirectURI];
  // The hosts auto passes over, each with why (client.runtimeFallbacks).
  const fallbacks = [];
  const skip = (host, e) => fallbacks.push(Object.freeze({ host, code: e.code, description: e.description }));
  const candidates = runtime === 'auto' ? ['shared-worker', 'worker', ...(workerOnly ? [] : ['page'])] : [runtime];
  const hosts = runtime === 'auto' ? candidates.filter((h) => {
    if (canStart(h)) return true;
    skip(h, missing(h));
    return false;
  }) : candidates;
  // The client on host, placed there as the hosts passed over say; a
  // fallback is reported once the client exists.
  const on = async (host, createHandle) => {
    const reason = runtime !== 'auto' ? 'requested' : fallbacks.length === 0 ? 'preferred' : 'fallback';
    const placement = { reason, fallbacks: Object.freeze([...fallbacks]) };
    const client = await newClient(createHandle, redirectUri, host, options, placement);
    if (reason === 'fallback') reportFallback(host, placement.fallbacks);
    return client;
  };
  for (const host of hosts) {
    if (host === 'page') {
      // The page's one module is claimed now, so that another wasmUrl is
      // refused at once, as when it was loaded at once.
      const url = moduleUrlFor(options[Option.WasmURL], Code.InvalidConfig, `options.${Option.WasmURL}`);
      claimModule(url);
      // No key, no client: the page's key is made now (it waits for no module).
      if (options[Option.DPoP] === true) await dpopKey(options);
      return on(host, (emit) => pageHandle(url, options, emit));
    }
    if (!canStart(host)) throw missing(host);
    const wasmUrl = urlOption(options, Option.WasmURL);
    const workerUrl = urlOption(options, Option.WorkerURL);
    let urls;
    try {
      urls = [resolveUrl(workerUrl, 'mezzo-worker.js'), resolveUrl(wasmUrl, 'mezzo.wasm')];
    } catch {
      throw new MezzoError(Code.InvalidConfig, `options.${Option.WorkerURL} or options.${Option.WasmURL} is not a URL`);
    }
    // A worker runtime may be shared: it runs only a module the site serves.
    checkWorkerModule(urls[1], globalThis.location?.origin, resolveUrl(undefined, 'mezzo.wasm'), `options.${Option.WasmURL}`);
    try {
      return await on(host, (emit) => remoteHandle(host, ...urls, options, emit));
    } catch (e) {
      if (runtime === 'auto' && e.code === Code.RuntimeUnavailable) { // the next host
        skip(host, e);
        continue;
      }
      throw e;
    }
  }
  throw new MezzoError(Code.RuntimeUnavailable, `no runtime host can start here${workerOnly ? ` (options.${Option.WorkerOnly} forbids the page host)` : ''}: ${fallbacks.map((f) => `${f.host}: ${f.description}`).join('; ')}`);
}
