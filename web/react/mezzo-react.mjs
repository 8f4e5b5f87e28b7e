// mezzo's React binding: <MezzoProvider options={…}> and useMezzo(). Shipped
// in the npm package as `@mezzo-auth/mezzo/react`, next to mezzo.mjs, which
// it imports; React is a peer dependency and nothing else is used. No JSX,
// so that the file runs as it is shipped.
//
// What it does, in order:
//  - makes one client per provider and options (createClient), kept across
//    React's strict-mode unmount/remount of the same tree, and closed when
//    the provider really goes away (see acquire/release);
//  - on a redirect callback page, handles the callback once per client —
//    strict mode's double effects do not make a second token request —
//    and hands the result to onRedirectCallback (default: replace the
//    address with returnTo);
//  - re-renders on every session event (a renewal, a sign-in or sign-out in
//    another tab of the same runtime, an expiry), reading the client's
//    synchronous state: isAuthenticated(), getUser().
import { createContext, createElement, useContext, useEffect, useMemo, useState } from 'react';
import { createClient } from './mezzo.mjs';

const EVENTS = ['tokenRefreshed', 'sessionExpired', 'error'];

// React's strict mode mounts, unmounts and mounts again: an effect's
// cleanup must not close a client the next mount is about to use. A client
// is shared by the mounts of one options key and closed only when no mount
// has held it for a whole task.
const entries = new Map(); // options key → { promise, holders, closeTimer }

function acquire(key, options) {
  let e = entries.get(key);
  if (!e) {
    e = { promise: createClient(options), holders: 0, closeTimer: null, callback: null };
    entries.set(key, e);
    e.promise.catch(() => { if (entries.get(key) === e && e.holders === 0) entries.delete(key); });
  }
  clearTimeout(e.closeTimer);
  e.closeTimer = null;
  e.holders++;
  return e;
}

function release(key, e) {
  e.holders--;
  if (e.holders > 0) return;
  e.closeTimer = setTimeout(() => {
    if (e.holders > 0 || entries.get(key) !== e) return;
    entries.delete(key);
    e.promise.then((c) => c.close(), () => {});
  }, 0);
}

/** handleCallbackOnce runs client.handleRedirectCallback() once per client however many effects ask. */
function handleCallbackOnce(e, client) {
  if (!e.callback) e.callback = client.handleRedirectCallback();
  return e.callback;
}

const MezzoContext = createContext(null);

const defaultOnRedirect = (result) => {
  if (result && typeof result.returnTo === 'string') globalThis.history?.replaceState(null, '', result.returnTo);
};

/**
 * MezzoProvider makes the client for options and provides it to useMezzo().
 * Props: options (createClient's), onRedirectCallback(result) (default:
 * history.replaceState to result.returnTo), children.
 */
export function MezzoProvider({ options, onRedirectCallback = defaultOnRedirect, children }) {
  const key = useMemo(() => JSON.stringify(options), [options]);
  // The client of this key, for calls made before it exists: they wait.
  const pending = useMemo(() => {
    let resolve;
    const promise = new Promise((r) => { resolve = r; });
    promise.catch(() => {});
    return { promise, resolve };
  }, [key]);
  const [state, setState] = useState({ client: null, pending, isLoading: true, isAuthenticated: false, user: null, error: null });

  useEffect(() => {
    let live = true;
    const unsubscribe = [];
    const e = acquire(key, options);
    pending.resolve(e.promise);
    const read = (client, error = null) => {
      if (live) setState({ client, pending, isLoading: false, isAuthenticated: client.isAuthenticated(), user: client.getUser(), error });
    };
    e.promise.then(async (client) => {
      if (!live) return;
      for (const name of EVENTS) {
        unsubscribe.push(client.on(name, (detail) => read(client, name === 'error' || name === 'sessionExpired' ? detail : null)));
      }
      let error = null;
      if (client.isRedirectCallback()) {
        try {
          const result = await handleCallbackOnce(e, client);
          if (live) onRedirectCallback(result);
        } catch (err) {
          error = err;
        }
      }
      read(client, error);
    }, (error) => {
      if (live) setState({ client: null, pending, isLoading: false, isAuthenticated: false, user: null, error });
    });
    return () => {
      live = false;
      for (const u of unsubscribe) u();
      release(key, e);
    };
    // options are read through key: a new object with equal content keeps the client.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  return createElement(MezzoContext.Provider, { value: state }, children);
}

/**
 * useMezzo is the session of the nearest MezzoProvider: isLoading,
 * isAuthenticated, user (the ID token's claims), error (the last failure:
 * createClient's, the callback's, or a session event's), the calls
 * getToken, fetch, login, loginSilently, loginWithPopup and logout, and the client
 * itself (null while loading). A call made while loading waits for the
 * client, and rejects with createClient's MezzoError if it failed.
 */
export function useMezzo() {
  const state = useContext(MezzoContext);
  if (state === null) throw new Error('useMezzo() must be called inside <MezzoProvider>');
  return useMemo(() => {
    const withClient = (f) => (...args) => state.pending.promise.then((client) => f(client, ...args));
    return {
      isLoading: state.isLoading,
      isAuthenticated: state.isAuthenticated,
      user: state.user,
      error: state.error,
      client: state.client,
      getToken: withClient((c, opts) => c.getToken(opts)),
      fetch: withClient((c, input, init) => c.fetch(input, init)),
      login: withClient((c, opts) => c.login(opts)),
      loginSilently: withClient((c, opts) => c.loginSilently(opts)),
      // The popup must open in the click's own task: with the client at
      // hand the call is made at once, not after a promise.
      loginWithPopup: (opts) => (state.client ? state.client.loginWithPopup(opts) : withClient((c, o) => c.loginWithPopup(o))(opts)),
      logout: withClient((c, opts) => c.logout(opts)),
    };
  }, [state]);
}
