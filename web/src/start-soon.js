// start-soon.js — running work once the page has painted and is idle
// (issue 15): how a signed-out page starts the module in the background.

// How long a background start waits for the frame it starts after, when
// the page gets none (hidden).
const FRAME_FALLBACK_MS = 1000;

/**
 * startSoon runs fn once the page has painted and is otherwise idle, and
 * returns a function that cancels it. This is how a signed-out page starts
 * the module in the background: it must not compete with the app's own
 * first paint (issue 15). In a visible page it waits for the next frame
 * (requestAnimationFrame runs just before a paint, so what it schedules
 * runs after it; or FRAME_FALLBACK_MS, for a page hidden meanwhile), then
 * posts a task of the lowest priority
 * (scheduler.postTask, 'background'), or a plain timer where there is no
 * scheduler. A hidden page (a background tab, node) paints nothing: it
 * goes straight to the second step. A call that needs the module does not
 * wait for this: it starts the module at once and cancels what is left.
 */
export function startSoon(fn) {
  let cancel = () => {};
  let done = false;
  const run = () => { if (!done) { done = true; fn(); } };
  const lowPriority = () => {
    const scheduler = globalThis.scheduler;
    if (typeof scheduler?.postTask === 'function' && typeof AbortController === 'function') {
      const abort = new AbortController();
      scheduler.postTask(run, { priority: 'background', signal: abort.signal }).catch(() => { /* cancelled */ });
      cancel = () => abort.abort();
      return;
    }
    const timer = setTimeout(run, 0);
    cancel = () => clearTimeout(timer);
  };
  const doc = globalThis.document;
  if (doc && doc.visibilityState === 'visible' && typeof globalThis.requestAnimationFrame === 'function') {
    // A page hidden before its frame gets no frame until it is shown: the
    // timer starts the module anyway, later.
    let frame = 0;
    let timer = 0;
    const next = () => {
      globalThis.cancelAnimationFrame(frame);
      clearTimeout(timer);
      lowPriority();
    };
    frame = globalThis.requestAnimationFrame(next);
    timer = setTimeout(next, FRAME_FALLBACK_MS);
    cancel = () => { globalThis.cancelAnimationFrame(frame); clearTimeout(timer); };
  } else {
    lowPriority();
  }
  return () => { done = true; cancel(); };
}
