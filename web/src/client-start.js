// client-start.js — when a client's module and Go client start (issue 15):
// at once when the page needs them (a redirect callback, a live session),
// else in the background once the page has painted; and client.ready.
import { closedError, toMezzoError } from './errors.js';
import { mark } from './marks.js';
import { startSoon } from './start-soon.js';

/**
 * moduleStart drives handle.ready(), which starts the module and the Go
 * client (validation, discovery) once, and again after a failure: the
 * handle forgets a failed start.
 *
 * ready() starts it, or joins the start under way. The first success on
 * this page is the mezzo:module-ready mark: from then on a protocol call
 * runs at once. Whoever starts it first, the background start (soon()) is
 * then no longer needed.
 *
 * whenReady() is ready() until it has succeeded once: a call before that
 * starts the module at once (not waiting for the background start) and
 * rejects with the start's typed error (load_failed, invalid_config, a
 * discovery error), as client.ready does. (The handle's methods also wait
 * for its start themselves: a worker that died is started afresh.)
 *
 * promise is client.ready: the promise of the latest start (`attempt`),
 * and before the first one (the background start still scheduled) a
 * promise that follows the first (`firstAttempt`): reading it never changes
 * when the module starts. close() rejects a firstAttempt still waiting, so
 * nothing waits forever.
 */
export function moduleStart(handle) {
  let closed = false;
  let cancelBackground = null;
  let moduleReady = false; // once ready() succeeded, calls need not ask again
  let attempt = null; // Promise<void> of the latest start
  let starting = false; // whether attempt is still running
  let firstAttempt = null; // {promise, resolve, reject} while client.ready waits for the first start
  const cancelSoon = () => {
    if (cancelBackground) { cancelBackground(); cancelBackground = null; }
  };
  const ready = () => {
    cancelSoon();
    if (closed) return Promise.reject(closedError());
    if (starting) return attempt;
    starting = true;
    attempt = Promise.resolve().then(() => handle.ready()).then(() => {
      starting = false;
      moduleReady = true;
      mark('mezzo:module-ready');
    }, (e) => {
      starting = false;
      throw toMezzoError(e);
    });
    attempt.catch(() => { /* reported by client.ready and by each call */ });
    if (firstAttempt) {
      firstAttempt.resolve(attempt);
      firstAttempt = null;
    }
    return attempt;
  };
  return {
    ready,
    whenReady: () => (moduleReady ? undefined : ready()),
    /** soon starts the module once the page has painted and is idle (startSoon). */
    soon() {
      cancelBackground = startSoon(() => {
        cancelBackground = null;
        ready();
      });
    },
    get promise() {
      if (closed) {
        const p = Promise.reject(closedError());
        p.catch(() => {});
        return p;
      }
      if (attempt) return attempt;
      if (!firstAttempt) {
        let resolve; let reject;
        const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
        promise.catch(() => { /* handled: an app that never reads it is not told twice */ });
        firstAttempt = { promise, resolve, reject };
      }
      return firstAttempt.promise;
    },
    close() {
      closed = true;
      cancelSoon();
      if (firstAttempt) { firstAttempt.reject(closedError()); firstAttempt = null; }
    },
  };
}
