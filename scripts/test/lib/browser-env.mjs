// The browser globals mezzo needs, for node: location, history and
// sessionStorage (node already has fetch, crypto, timers and
// AbortController), plus a tap on fetch that records every request the
// client makes. Import this before loading web/dist/mezzo.js.
import { MemoryStorage, installBrowserFakes } from './browser-fakes.cjs';

export { MemoryStorage };
export { loadMezzo } from './common.mjs';

export const APP = 'http://127.0.0.1:8080';

/** resetBrowser installs fresh globals: empty sessionStorage, location at href. */
export function resetBrowser(href = `${APP}/`) {
  installBrowserFakes(href);
}

/** requests made through globalThis.fetch: {url, method, form, status, reply} */
export const traffic = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init = {}) => {
  const entry = { url: input instanceof Request ? input.url : String(input), method: init.method ?? (input instanceof Request ? input.method : 'GET'), form: null, status: 0, reply: null };
  if (typeof init.body === 'string') entry.form = new URLSearchParams(init.body);
  traffic.push(entry);
  const res = await realFetch(input, init);
  entry.status = res.status;
  // Read a copy of the body before the client sees the response, so the
  // log is complete by the time the client's call settles.
  entry.reply = await res.clone().json().catch(() => null);
  return res;
};

resetBrowser();
