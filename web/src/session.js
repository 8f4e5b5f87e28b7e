// session.js — what page and runtime share about a session: its signed-out
// snapshot, and the name under which a SharedWorker keeps it.
import { HOST_OPTIONS } from './names.js';

/** SIGNED_OUT is the snapshot of a session without a user: {authenticated, claims, token}. */
export const SIGNED_OUT = Object.freeze({ authenticated: false, claims: null, token: null });

/** sessionKey is the worker's name for the session of options: tabs with equal options share one. */
export function sessionKey(options) {
  const canonical = (v) => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
    return v;
  };
  // The loader's own options choose where the runtime runs, not the session.
  const rest = Object.fromEntries(Object.entries(options).filter(([k]) => !HOST_OPTIONS.includes(k)));
  return JSON.stringify(canonical(rest));
}
