// The browser globals mezzo needs, for node: location, history and
// sessionStorage (node already has fetch, crypto, timers and
// AbortController), plus a tap on fetch that records every request the
// client makes. Import this before loading web/dist/mezzo.js.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

export class MemoryStorage {
  #m = new Map();
  get length() { return this.#m.size; }
  key(i) { return [...this.#m.keys()][i] ?? null; }
  getItem(k) { return this.#m.has(String(k)) ? this.#m.get(String(k)) : null; }
  setItem(k, v) { this.#m.set(String(k), String(v)); }
  removeItem(k) { this.#m.delete(String(k)); }
  clear() { this.#m.clear(); }
  entries() { return [...this.#m]; }
}

export const APP = 'http://127.0.0.1:8080';

export function resetBrowser(href = `${APP}/`) {
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

/** requests made through globalThis.fetch: {url, method, form, status, reply} */
export const traffic = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init = {}) => {
  const entry = { url: String(input), method: init.method ?? 'GET', form: null, status: 0, reply: null };
  if (typeof init.body === 'string') entry.form = new URLSearchParams(init.body);
  traffic.push(entry);
  const res = await realFetch(input, init);
  entry.status = res.status;
  // Read a copy of the body before the client sees the response, so the
  // log is complete by the time the client's call settles.
  entry.reply = await res.clone().json().catch(() => null);
  return res;
};

export function loadMezzo() {
  const dist = new URL('../../../web/dist/mezzo.js', import.meta.url);
  if (!existsSync(dist)) throw new Error('web/dist/mezzo.js is missing: run `make build` first');
  return createRequire(import.meta.url)(dist.pathname);
}

resetBrowser();
