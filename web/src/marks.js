// marks.js — named moments of the start-up on the performance timeline
// (DevTools, RUM tools and `make bench` read them): mezzo:compiled when the
// module is compiled, mezzo:started when the Go program is ready,
// mezzo:ready and mezzo:module-ready for the page's first client.

const marked = []; // the marks made so far, in order
const hooks = []; // called with each new mark (the worker forwards them to its pages)

/** mark puts name on the timeline, once per page (or worker). */
export function mark(name) {
  if (marked.includes(name)) return;
  marked.push(name);
  try { globalThis.performance?.mark?.(name); } catch { /* no timeline here */ }
  for (const hook of hooks) hook(name);
}

/** marksSoFar are the marks made so far, in order. */
export function marksSoFar() {
  return [...marked];
}

/** onMark calls hook with every later mark. */
export function onMark(hook) {
  hooks.push(hook);
}
