// redirect.js — what a redirect sign-in leaves in the page between login()
// and the callback, and the address bar when the page comes back with the
// provider's response. Page only.
import { isCallbackUrl, stripResponse } from './callback-url.js';

// The one sessionStorage key mezzo ever writes: the pending login
// transaction, between login() and the callback. No token goes there.
const TRANSACTION_KEY = 'mezzo.transaction';

/** saveTransaction keeps this tab's pending login transaction until the callback. */
export function saveTransaction(transaction) {
  globalThis.sessionStorage.setItem(TRANSACTION_KEY, transaction);
}

/** takeTransaction reads and removes this tab's pending login transaction: consumed on first use, whatever follows. */
export function takeTransaction() {
  try {
    const tx = globalThis.sessionStorage.getItem(TRANSACTION_KEY);
    globalThis.sessionStorage.removeItem(TRANSACTION_KEY);
    return typeof tx === 'string' ? tx : null;
  } catch {
    return null; // no storage: no pending login
  }
}

const arrived = new Map(); // redirectUri → {callback, cleaned}: the callback URL this page arrived with, and what the address bar became

/** locationHref is the address bar's URL, or null where there is none. */
function locationHref() {
  try { return globalThis.location.href; } catch { return null; }
}

/**
 * claimCallback runs first thing in createClient, before any await: when
 * the page is an authorization response for redirectUri, it keeps the URL
 * for handleRedirectCallback (arrivedCallback) and takes the response out
 * of the address bar at once, so that the code and state do not reach the
 * Referer of what the page loads meanwhile (mezzo's module among them).
 */
export function claimCallback(redirectUri) {
  if (typeof redirectUri !== 'string' || arrivedCallback(redirectUri) !== null) return;
  const href = locationHref();
  if (!isCallbackUrl(redirectUri, href)) return;
  const cleaned = stripResponse(href);
  replaceUrl(cleaned);
  arrived.set(redirectUri, { callback: href, cleaned: locationHref() ?? cleaned });
}

/**
 * arrivedCallback is the callback URL this page arrived with for
 * redirectUri, not yet handled, or null: once the page has moved on from
 * where claimCallback left it (a navigation, another callback), it is
 * forgotten.
 */
function arrivedCallback(redirectUri) {
  const a = arrived.get(redirectUri);
  if (!a) return null;
  if (locationHref() !== a.cleaned) {
    arrived.delete(redirectUri);
    return null;
  }
  return a.callback;
}

/**
 * callbackUrl is the URL an app means by url on this page: the callback it
 * arrived with when url is absent or the address bar's (cleaned) URL, since
 * an app may pass location.href, read after createClient took the
 * response out of it; else url itself.
 */
export function callbackUrl(redirectUri, url) {
  const arrivedWith = arrivedCallback(redirectUri);
  if (arrivedWith !== null && (url === undefined || url === null || url === locationHref())) return arrivedWith;
  return url ?? locationHref();
}

/** forgetCallback marks the page's callback for redirectUri handled. */
export function forgetCallback(redirectUri) {
  arrived.delete(redirectUri);
}

/** cleanAddressBar takes an authorization response for redirectUri out of the address bar, if it holds one. */
export function cleanAddressBar(redirectUri) {
  const href = locationHref();
  if (isCallbackUrl(redirectUri, href)) replaceUrl(stripResponse(href));
}

/** replaceUrl changes the address bar without navigating or adding a history entry, keeping the history state. */
function replaceUrl(url) {
  try { globalThis.history.replaceState(globalThis.history.state, '', url); } catch { /* no history here */ }
}
