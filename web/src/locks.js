// locks.js — Web Locks as liveness signals between pages and the
// SharedWorker: each holds a lock for as long as it lives, and whoever
// requests the same name gets it only when the holder is gone.
import { VERSION } from './version.js';

/** PAGE_LOCK_PREFIX names the lock each page holds while it lives; the worker accepts only names with it. */
export const PAGE_LOCK_PREFIX = `mezzo-page@${VERSION}/`;

/**
 * holdLock takes the Web Lock name and holds it for as long as this
 * context (page or worker) lives; it resolves with the name once held, or
 * null without Web Locks. Whoever requests the same name gets it only when
 * this context is gone: that is how a page learns of its worker's death,
 * and a worker of a page's.
 */
export function holdLock(name) {
  return new Promise((resolve) => {
    const locks = globalThis.navigator?.locks;
    if (!locks?.request) { resolve(null); return; }
    locks.request(name, () => {
      resolve(name);
      return new Promise(() => {}); // held until this context is gone
    }).catch(() => resolve(null));
  });
}

let pageLockHeld = null; // Promise<string|null>, once per page

/**
 * pageLock resolves with the name of a Web Lock this page holds until it
 * is gone (closed, reloaded, crashed), or null without Web Locks. A shared
 * worker told the name requests the same lock, which it gets only then,
 * and drops the page's port: ports do not pile up over reloads.
 */
export function pageLock() {
  if (!pageLockHeld) {
    pageLockHeld = globalThis.crypto?.randomUUID ? holdLock(PAGE_LOCK_PREFIX + globalThis.crypto.randomUUID()) : Promise.resolve(null);
  }
  return pageLockHeld;
}

/** whenGone calls gone once the holder of the lock name is gone; false without Web Locks. */
export function whenGone(name, gone) {
  const locks = globalThis.navigator?.locks;
  if (!locks?.request) return false;
  locks.request(name, () => { gone(); }).catch(() => {});
  return true;
}
