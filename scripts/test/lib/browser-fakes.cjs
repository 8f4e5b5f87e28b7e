// The browser globals mezzo's Go side uses, for node: sessionStorage,
// location and history. Shared by browser-env.mjs (the node suites) and
// ../wasm/wasm-test-env.cjs (GOOS=js go test), which node loads with
// --require, hence CommonJS.
'use strict';

class MemoryStorage {
  #m = new Map();
  get length() { return this.#m.size; }
  key(i) { return [...this.#m.keys()][i] ?? null; }
  getItem(k) { return this.#m.has(String(k)) ? this.#m.get(String(k)) : null; }
  setItem(k, v) { this.#m.set(String(k), String(v)); }
  removeItem(k) { this.#m.delete(String(k)); }
  clear() { this.#m.clear(); }
  entries() { return [...this.#m]; }
}

/**
 * installBrowserFakes sets globalThis.sessionStorage (empty), location
 * (at href; assign() records its URLs in location.assigned) and history
 * (replaceState() moves location.href and records its URLs in
 * history.replaced).
 */
function installBrowserFakes(href) {
  globalThis.sessionStorage = new MemoryStorage();
  globalThis.location = {
    href,
    assigned: [],
    assign(url) { this.assigned.push(String(url)); },
  };
  globalThis.history = {
    state: null,
    replaced: [],
    replaceState(state, _title, url) {
      this.state = state;
      this.replaced.push(String(url));
      globalThis.location.href = new URL(url, globalThis.location.href).href;
    },
  };
}

module.exports = { MemoryStorage, installBrowserFakes };
