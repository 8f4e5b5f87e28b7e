// host-page.js — the runtime in the page itself (runtime 'page', or 'auto'
// where no worker can start, as in node): the Go handle, made on first
// need, behind the same interface as a worker's (host-remote.js).
import { forgetDevice } from './dpop-keys.js';
import { closedError } from './errors.js';
import { Code, LogoutOption, Option, RUNTIME_METHODS } from './names.js';
import { moduleUrlFor, newGoClient, start } from './runtime.js';
import { SIGNED_OUT } from './session.js';

/**
 * pageHandle is the handle of a client whose runtime runs in the page: the
 * Go handle for options, made on first need. Until then the client has no
 * session (a Go client starts signed out), so state() answers without the
 * module. ready() starts the module at url and makes the Go client (Go
 * checks the options, discovery runs) once; a failed start is forgotten,
 * so the next call tries again. Every other method waits for ready().
 */
export function pageHandle(url, options, emit) {
  let goHandle = null;
  let opening = null;
  let closed = false;
  const ready = () => {
    if (goHandle) return Promise.resolve(goHandle);
    if (!opening) {
      opening = (async () => {
        // A page runs one module: another client may have claimed another
        // URL since this one was made (moduleUrlFor says so, typed).
        const api = await start(moduleUrlFor(url, Code.InvalidConfig, `options.${Option.WasmURL}`));
        const h = await newGoClient(api, options, emit);
        if (closed) { h.close(); throw closedError(); }
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
      if (opts?.[LogoutOption.ForgetDpopKey] === true) {
        forgetDevice(options, () => { const h = goHandle; goHandle = null; h?.close(); });
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
