// embed.js — the windows of a silent or popup sign-in (issue 12), page only.
//
// loginSilently() loads the authorization request, with prompt=none, in a
// hidden iframe; loginWithPopup() in a popup window. The provider returns
// to silentRedirectUri inside it, a page of the app's origin that loads
// mezzo.js (or mezzo.mjs). The parent names the iframe or popup window
// EMBED_MARKER + a fresh attempt id (window.name, which the browser keeps
// across the navigations inside one iframe, and inside a popup that keeps
// its opener). The return page's loader, when it is evaluated, recognises
// the marker and an authorization response in its URL, posts
// { type: RESPONSE_MESSAGE, id, url } to its parent (iframe) or opener
// (popup) with targetOrigin its own origin, and does nothing else: it
// never starts the module, and createClient() there never settles, so the
// app's code stops at it (once the parent confirms the attempt is its own).
// The parent accepts the message only as acceptResponse says, then hands
// the URL to the handle, which checks it against the attempt's own
// transaction and exchanges the code where the session lives, and where
// that transaction is kept (client-embedded.js; never in the page).
import { isCallbackUrl, responseParams } from './callback-url.js';
import { MezzoError, toMezzoError } from './errors.js';
import { Code } from './names.js';

export const EMBED_MARKER = 'mezzo-embed:';
const RESPONSE_MESSAGE = 'mezzo:authorization-response';
const RESPONSE_ACK = 'mezzo:authorization-ack'; // the parent's answer: the attempt is its own
const ACK_TIMEOUT_MS = 2000; // how long a window named with the marker waits for that answer
const NOT_RETURN_PAGE = Promise.resolve(false);
const ATTEMPT_ID = /^[0-9a-f]{32}$/;
export const SILENT_TIMEOUT_S = 10; // silentTimeoutSeconds' default
export const POPUP_TIMEOUT_S = 300; // popupTimeoutSeconds' default: time for the user to sign in
const POPUP_POLL_MS = 250; // how often a popup is checked for having been closed
const MAX_RESPONSE_URL = 16384;

/** attemptId is 128 random bits in hex: the name of one attempt's iframe or popup. */
export function attemptId() {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * handOverResponse runs once, when the loader is evaluated in a page: if
 * this page may be the return page of a silent or popup attempt (its window
 * name carries the marker and its URL an authorization response) it posts
 * the URL to its parent or opener, on its own origin only, and resolves
 * true once that window confirms the attempt is its own (RESPONSE_ACK for
 * this id, from that window, on this origin). A marker this app did not set
 * (a page that named the window so, and has no attempt pending) gets no
 * confirmation: after ACK_TIMEOUT_MS the page goes on as an ordinary page
 * (false), and nothing else waits on it. Anything else resolves false at
 * once and changes nothing.
 */
function handOverResponse() {
  try {
    const w = globalThis.window;
    if (!w || w !== globalThis || typeof w.document === 'undefined' || typeof w.name !== 'string') return NOT_RETURN_PAGE;
    if (!w.name.startsWith(EMBED_MARKER)) return NOT_RETURN_PAGE;
    const id = w.name.slice(EMBED_MARKER.length);
    const url = w.location.href;
    if (!ATTEMPT_ID.test(id) || responseParams(url) === null) return NOT_RETURN_PAGE;
    const target = w.parent && w.parent !== w ? w.parent : w.opener;
    if (!target || typeof w.addEventListener !== 'function') return NOT_RETURN_PAGE;
    const origin = w.location.origin;
    const confirmed = new Promise((resolve) => {
      let timer = null;
      const onMessage = (e) => {
        const d = e?.data;
        if (e?.source !== target || e.origin !== origin || !d || d.type !== RESPONSE_ACK || d.id !== id) return;
        done(true);
      };
      const done = (value) => {
        w.removeEventListener('message', onMessage);
        clearTimeout(timer);
        resolve(value);
      };
      w.addEventListener('message', onMessage);
      timer = setTimeout(() => done(false), ACK_TIMEOUT_MS);
    });
    target.postMessage({ type: RESPONSE_MESSAGE, id, url }, origin);
    return confirmed;
  } catch {
    return NOT_RETURN_PAGE;
  }
}

/** isReturnPage resolves whether this page is a confirmed return page, which hands its URL over and starts nothing. */
export const isReturnPage = handOverResponse();

/**
 * acceptResponse is the parent's rule for a message from an attempt's
 * window: it must come from that window object (event.source: our iframe's
 * contentWindow, our popup), from our own origin, be { type, id, url } with
 * this attempt's id, and url must be an authorization response for
 * silentRedirectUri whose one state is this attempt's (RFC 6749 §10.12).
 * Anything else is ignored, and never reaches the code exchange. (The
 * handle checks the response again against the transaction: state, iss,
 * then the code exchange with PKCE, the ID token and its nonce.)
 */
function acceptResponse(event, attempt) {
  if (!event || event.source !== attempt.source || attempt.source == null) return false;
  if (event.origin !== globalThis.location?.origin) return false;
  const d = event.data;
  if (!d || typeof d !== 'object' || Object.getPrototypeOf(d) !== Object.prototype) return false;
  if (d.type !== RESPONSE_MESSAGE || d.id !== attempt.id || typeof d.url !== 'string' || d.url.length > MAX_RESPONSE_URL) return false;
  if (!isCallbackUrl(attempt.redirectUri, d.url)) return false;
  const params = responseParams(d.url);
  const states = params ? params.getAll('state') : [];
  return states.length === 1 && states[0] === attempt.state;
}

/**
 * awaitResponse opens one attempt's window — a hidden iframe (kind
 * 'silent') or the popup already opened in the user's gesture — at url,
 * and resolves with the response URL that acceptResponse accepts first.
 * It rejects with timeout after timeoutMs, with popup_closed when the user
 * closes the popup (checked every POPUP_POLL_MS), or with what abort(err)
 * is given. Whatever the outcome, once: the iframe is removed, the popup
 * closed, the listener and every timer removed.
 */
export function awaitResponse({ kind, url, id, state, redirectUri, timeoutMs, popup }) {
  let finish = () => {};
  const promise = new Promise((resolve, reject) => {
    const attempt = { id, state, redirectUri, source: null };
    let iframe = null;
    let timer = null;
    let poll = null;
    let done = false;
    const onMessage = (e) => {
      if (done || !acceptResponse(e, attempt)) return;
      // The return page waits for this before it stops as one (handOverResponse).
      try { e.source.postMessage({ type: RESPONSE_ACK, id }, globalThis.location.origin); } catch { /* gone */ }
      finish(null, e.data.url);
    };
    finish = (err, value) => {
      if (done) return;
      done = true;
      globalThis.removeEventListener('message', onMessage);
      clearTimeout(timer);
      clearInterval(poll);
      if (iframe) iframe.remove();
      if (popup) { try { popup.close(); } catch { /* gone */ } }
      if (err) reject(err); else resolve(value);
    };
    try {
      globalThis.addEventListener('message', onMessage);
      if (kind === 'silent') {
        const doc = globalThis.document;
        iframe = doc.createElement('iframe');
        iframe.name = EMBED_MARKER + id; // before insertion: the window is created with this name
        iframe.hidden = true;
        iframe.tabIndex = -1;
        iframe.title = 'mezzo silent sign-in';
        iframe.setAttribute('aria-hidden', 'true');
        iframe.src = url;
        (doc.body ?? doc.documentElement).appendChild(iframe);
        attempt.source = iframe.contentWindow;
      } else {
        attempt.source = popup;
        popup.location.replace(url);
        poll = setInterval(() => {
          if (popup.closed) finish(new MezzoError(Code.PopupClosed, 'the sign-in window was closed before the provider answered'));
        }, POPUP_POLL_MS);
      }
      timer = setTimeout(() => {
        finish(new MezzoError(Code.Timeout, `the provider did not answer the ${kind} sign-in within ${timeoutMs / 1000} s`));
      }, timeoutMs);
    } catch (e) {
      finish(toMezzoError(e));
    }
  });
  return { promise, abort: (err) => finish(err) };
}

/** secondsOption reads a timeout option in seconds (Go checks its type when the module starts), else the default. */
export function secondsOption(v, fallback) {
  return (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback) * 1000;
}
