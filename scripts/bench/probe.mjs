// What the bench reads from Chromium itself over CDP (the DevTools
// protocol), for the rows a page cannot measure about itself: main-thread
// time, the memory of pages and workers, and V8's histograms. See README.md
// beside this file for why each method was chosen.

/**
 * mainThreadMs is the page's main-thread task time so far, from CDP
 * Performance.getMetrics (Performance.enable first): TaskDuration minus
 * DevToolsCommandDuration (the harness's own commands), and ScriptDuration
 * alone for reference. Seconds in CDP, milliseconds here.
 */
export async function mainThreadMs(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  return { taskMs: ((m.TaskDuration ?? 0) - (m.DevToolsCommandDuration ?? 0)) * 1000, scriptMs: (m.ScriptDuration ?? 0) * 1000 };
}

/**
 * realmMemory measures one JavaScript realm (a page or a worker) through
 * send(method, params): a forced GC, then the V8 isolate's used heap and
 * the bytes of every WebAssembly.Memory alive in it (found with
 * Runtime.queryObjects, so no library has to report its own). The isolate
 * id lets the caller count a shared isolate once.
 */
export async function realmMemory(send) {
  await send('HeapProfiler.collectGarbage');
  const { usedSize } = await send('Runtime.getHeapUsage');
  const { id: isolate } = await send('Runtime.getIsolateId');
  const proto = await send('Runtime.evaluate', { expression: 'WebAssembly.Memory.prototype', objectGroup: 'bench' });
  const found = await send('Runtime.queryObjects', { prototypeObjectId: proto.result.objectId, objectGroup: 'bench' });
  const sum = await send('Runtime.callFunctionOn', {
    objectId: found.objects.objectId,
    functionDeclaration: 'function () { return this.reduce((n, m) => n + m.buffer.byteLength, 0); }',
    returnByValue: true,
  });
  await send('Runtime.releaseObjectGroup', { objectGroup: 'bench' }).catch(() => {});
  return { isolate, jsHeapBytes: usedSize, wasmBytes: sum.result.value };
}

/**
 * viaTarget turns a CDP session that attached to a target without
 * flattening (Target.attachToTarget flatten:false, or setAutoAttach) into
 * a send(method, params) for that target, over Target.sendMessageToTarget.
 */
export function viaTarget(session, sessionId) {
  let next = 0;
  const pending = new Map();
  const onMessage = (ev) => {
    if (ev.sessionId !== sessionId) return;
    const msg = JSON.parse(ev.message);
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
    else p.resolve(msg.result);
  };
  session.on('Target.receivedMessageFromTarget', onMessage);
  const send = (method, params = {}) => new Promise((resolve, reject) => {
    const id = ++next;
    pending.set(id, { resolve, reject, method });
    session.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
  });
  send.close = () => session.off('Target.receivedMessageFromTarget', onMessage);
  return send;
}

/**
 * dedicatedWorkers lists the workers a page started (dedicated workers: auth0-spa-js's
 * token worker, mezzo's runtime on the 'worker' host) by auto-attaching a
 * page CDP session to them; resolves [{url, send}] (call detach after).
 */
export async function dedicatedWorkers(pageCdp) {
  const found = [];
  const onAttach = (ev) => { if (ev.targetInfo.type === 'worker') found.push({ url: ev.targetInfo.url, sessionId: ev.sessionId }); };
  pageCdp.on('Target.attachedToTarget', onAttach);
  await pageCdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  await new Promise((r) => { setTimeout(r, 200); }); // the attach events of existing workers
  pageCdp.off('Target.attachedToTarget', onAttach);
  return found.map((w) => ({ url: w.url, send: viaTarget(pageCdp, w.sessionId) }));
}

/**
 * sharedWorkers lists the shared workers of origin (mezzo's runtime on the
 * 'shared-worker' host) from a browser CDP session; resolves [{url, send,
 * detach}].
 */
export async function sharedWorkers(browserCdp, origin) {
  const { targetInfos } = await browserCdp.send('Target.getTargets');
  const out = [];
  for (const t of targetInfos.filter((x) => x.type === 'shared_worker' && x.url.startsWith(`${origin}/`))) {
    const { sessionId } = await browserCdp.send('Target.attachToTarget', { targetId: t.targetId, flatten: false });
    const send = viaTarget(browserCdp, sessionId);
    out.push({ url: t.url, send, detach: async () => { send.close(); await browserCdp.send('Target.detachFromTarget', { sessionId }).catch(() => {}); } });
  }
  return out;
}

/**
 * closeSharedWorkers ends every shared worker of origin (CDP
 * Target.closeTarget terminates a shared worker as chrome://inspect's
 * "terminate" does); resolves how many there were.
 */
export async function closeSharedWorkers(browserCdp, origin) {
  const { targetInfos } = await browserCdp.send('Target.getTargets');
  const workers = targetInfos.filter((x) => x.type === 'shared_worker' && x.url.startsWith(`${origin}/`));
  for (const t of workers) await browserCdp.send('Target.closeTarget', { targetId: t.targetId });
  return workers.length;
}

/**
 * histogram reads one of Chromium's histograms (browser-wide, all
 * processes) as {bucketLow: count}. Renderer and worker histograms reach the
 * browser process only when it collects them: loading chrome://histograms
 * in syncPage makes it do so first.
 */
export async function histogram(browserCdp, syncPage, name) {
  await syncPage.goto('chrome://histograms/');
  try {
    const { histogram: h } = await browserCdp.send('Browser.getHistogram', { name });
    return Object.fromEntries(h.buckets.map((b) => [b.low, b.count]));
  } catch (e) {
    if (/Cannot find histogram/.test(e.message)) return {};
    throw e;
  }
}

/** histogramDelta is after − before, bucket by bucket, zeros left out. */
export function histogramDelta(before, after) {
  const out = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}
