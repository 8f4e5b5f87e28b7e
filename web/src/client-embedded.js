// client-embedded.js — a client's silent and popup sign-in (issue 12): the
// authorization request in a hidden iframe or a popup (embed.js), and its
// response checked and exchanged by the handle, where the session lives.
import { EMBED_MARKER, POPUP_TIMEOUT_S, SILENT_TIMEOUT_S, attemptId, awaitResponse, secondsOption } from './embed.js';
import { MezzoError, closedError, toMezzoError } from './errors.js';
import { Code, Option } from './names.js';

/**
 * embeddedSignIn gives a client loginSilently and loginWithPopup. Each
 * attempt has its own transaction, which the runtime keeps (the page never
 * holds its PKCE verifier or nonce, nor does sessionStorage: a pending
 * redirect login of this tab keeps its own), and its own window; the page
 * relays the response URL only. close() aborts the attempts under way. One silent attempt at a
 * time per client: concurrent callers share it. call(method, ...args) is
 * the client's call into the runtime, isClosed() whether it was closed.
 */
export function embeddedSignIn({ call, handle, options, redirectUri, isClosed }) {
  const silentRedirectUri = typeof options?.[Option.SilentRedirectURI] === 'string' ? options[Option.SilentRedirectURI] : redirectUri;
  const timeoutMs = (kind) => (kind === 'silent'
    ? secondsOption(options?.[Option.SilentTimeoutSeconds], SILENT_TIMEOUT_S)
    : secondsOption(options?.[Option.PopupTimeoutSeconds], POPUP_TIMEOUT_S));
  const attempts = new Set();
  let silentPending = null;

  const signIn = async (kind, opts, id, popup) => {
    try {
      if (typeof globalThis.document?.createElement !== 'function' || typeof globalThis.addEventListener !== 'function') {
        throw new MezzoError(Code.RuntimeUnavailable, `a ${kind} sign-in needs a page (an iframe or a popup window)`);
      }
      const { url } = await call('login', opts, kind);
      if (isClosed()) throw closedError();
      const state = new URL(url).searchParams.get('state');
      const wait = awaitResponse({ kind, url, id, state, popup, redirectUri: silentRedirectUri, timeoutMs: timeoutMs(kind) });
      attempts.add(wait);
      let response;
      try { response = await wait.promise; } finally { attempts.delete(wait); }
      if (isClosed()) throw closedError();
      // The runtime finds the attempt's transaction by the response's state.
      const r = await handle.handleRedirectCallback(response, null, kind);
      if (r.error) throw r.error;
      return { returnTo: r.returnTo };
    } catch (e) {
      if (popup) { try { popup.close(); } catch { /* gone */ } }
      throw toMezzoError(e);
    }
  };

  return {
    loginSilently(opts) {
      if (!silentPending) {
        silentPending = signIn('silent', opts, attemptId(), null).then(() => {}).finally(() => { silentPending = null; });
      }
      return silentPending;
    },
    loginWithPopup(opts) {
      // window.open first, before any await: browsers allow a popup only
      // within the user's gesture (the click that called this).
      let id;
      let popup = null;
      try {
        if (isClosed()) return Promise.reject(closedError());
        id = attemptId();
        popup = globalThis.open?.('about:blank', EMBED_MARKER + id, 'popup,width=500,height=650') ?? null;
      } catch { popup = null; }
      if (!popup) return Promise.reject(new MezzoError(Code.PopupBlocked, 'the browser did not open the sign-in window; call loginWithPopup() from a click'));
      return signIn('popup', opts, id, popup);
    },
    close() {
      for (const a of [...attempts]) a.abort(closedError());
    },
  };
}
