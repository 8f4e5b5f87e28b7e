// Launches Debian's chromium through playwright-core: never a downloaded
// browser. A fresh --user-data-dir per launch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

/** launch returns a persistent context on a new profile and a cleanup function. */
export async function launch(extraArgs = []) {
  const profile = mkdtempSync(path.join(tmpdir(), 'mezzo-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS, ...extraArgs],
    // The caller's own signal handlers close the browser (and remove the
    // profile); playwright's would kill chromium first and leave it behind.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  return {
    context,
    profile,
    close: async () => {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}

/**
 * launchBrowser starts chromium with a fresh (non-persistent) context: the
 * browser then also offers a browser-wide CDP session (Target.* sees shared
 * workers), which a persistent context does not.
 */
export async function launchBrowser(extraArgs = []) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...extraArgs],
    handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
  });
  const context = await browser.newContext();
  return { browser, context, close: () => browser.close() };
}

/**
 * workerSession attaches to the shared worker of origin through cdp (a
 * browser-wide CDP session) and returns { send(method, params), events,
 * detach() }: the worker's own CDP domains (Network, Runtime, …), whose
 * events collect in events. Playwright offers no session for a shared
 * worker, so the messages go through Target.sendMessageToTarget.
 */
export async function workerSession(cdp, origin) {
  const workers = (await cdp.send('Target.getTargets')).targetInfos.filter((t) => t.type === 'shared_worker' && t.url.startsWith(origin));
  if (workers.length !== 1) throw new Error(`${workers.length} shared workers for ${origin}`);
  return attachWorker(cdp, workers[0].targetId);
}

/** workerSessions is workerSession for every shared worker of origin, each with its name (self.name). */
export async function workerSessions(cdp, origin) {
  const workers = (await cdp.send('Target.getTargets')).targetInfos.filter((t) => t.type === 'shared_worker' && t.url.startsWith(origin));
  const out = [];
  for (const w of workers) {
    const session = await attachWorker(cdp, w.targetId);
    const { result } = await session.send('Runtime.evaluate', { expression: 'self.name', returnByValue: true });
    out.push({ ...session, name: result.value });
  }
  return out;
}

/** attachWorker attaches cdp to the worker targetId (see workerSession). */
async function attachWorker(cdp, targetId) {
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: false });
  let next = 1;
  const waiting = new Map();
  const events = [];
  const onMessage = (e) => {
    if (e.sessionId !== sessionId) return;
    const m = JSON.parse(e.message);
    if (m.id && waiting.has(m.id)) {
      const { resolve, reject } = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.error) reject(new Error(`${m.error.message} (${m.error.code})`)); else resolve(m.result);
    } else if (m.method) {
      events.push(m);
    }
  };
  cdp.on('Target.receivedMessageFromTarget', onMessage);
  return {
    targetId,
    events,
    send: (method, params = {}) => new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
    }),
    async detach() {
      cdp.off('Target.receivedMessageFromTarget', onMessage);
      await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => {});
    },
  };
}

/**
 * watchWorkerErrors records in errors every uncaught exception and console
 * error of every shared worker of origin that starts from now on (pages are
 * watchErrors' business): Playwright reports neither for shared workers, so
 * cdp (a browser-wide CDP session) attaches to each as it is discovered
 * (what it does before that, its first task, goes unseen). It returns
 * { release(targetId) }.
 */
export async function watchWorkerErrors(cdp, origin, errors) {
  const sessions = new Set();
  const byTarget = new Map();
  cdp.on('Target.targetCreated', async ({ targetInfo: t }) => {
    if (t.type !== 'shared_worker' || !t.url.startsWith(origin)) return;
    try {
      const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: t.targetId, flatten: false });
      sessions.add(sessionId);
      byTarget.set(t.targetId, sessionId);
      await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: 1, method: 'Runtime.enable' }) });
    } catch { /* gone already */ }
  });
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    if (!sessions.has(e.sessionId)) return;
    const m = JSON.parse(e.message);
    if (m.method === 'Runtime.exceptionThrown') errors.push(`worker exception: ${m.params.exceptionDetails.exception?.description ?? m.params.exceptionDetails.text}`);
    if (m.method === 'Runtime.consoleAPICalled' && m.params.type === 'error') errors.push(`worker console: ${m.params.args.map((a) => a.value ?? a.description).join(' ')}`);
  });
  await cdp.send('Target.setDiscoverTargets', { discover: true });
  return {
    /** release detaches from the worker targetId (a worker with a debugger attached outlives Target.closeTarget). */
    async release(targetId) {
      const sessionId = byTarget.get(targetId);
      if (!sessionId) return;
      byTarget.delete(targetId);
      sessions.delete(sessionId);
      await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => {});
    },
  };
}

/**
 * searchMemories finds, through a CDP send(method, params) of one context,
 * every live WebAssembly.Memory there (Runtime.queryObjects) and reports
 * how many there are and whether any holds the UTF-8 bytes of needle.
 */
export async function searchMemories(send, needle) {
  const { result: proto } = await send('Runtime.evaluate', { expression: 'WebAssembly.Memory.prototype' });
  const { objects } = await send('Runtime.queryObjects', { prototypeObjectId: proto.objectId });
  const { result } = await send('Runtime.callFunctionOn', {
    objectId: objects.objectId,
    returnByValue: true,
    arguments: [{ value: needle }],
    functionDeclaration: `function (needle) {
      const n = new TextEncoder().encode(needle);
      const holds = (m) => {
        const bytes = new Uint8Array(m.buffer);
        outer: for (let i = bytes.indexOf(n[0]); i >= 0; i = bytes.indexOf(n[0], i + 1)) {
          for (let j = 1; j < n.length; j++) if (bytes[i + j] !== n[j]) continue outer;
          return true;
        }
        return false;
      };
      return { memories: this.length, found: this.some(holds) };
    }`,
  });
  return result.value;
}

/**
 * tokenReplies waits until the worker (a workerSession with Network
 * enabled) has made at least n token requests of grantType to provider and
 * read their replies, and returns the parsed replies, in the order sent;
 * it fails after timeoutMs.
 * A reply counts once Network.getResponseBody gives it: on a loaded
 * machine the session has missed a request's loadingFinished event though
 * the worker had its reply and went on renewing (seen 4 times in full
 * runs), so the event alone is not waited for.
 */
export async function tokenReplies(worker, provider, grantType, n, timeoutMs) {
  const { token_endpoint: endpoint } = await provider.discovery();
  const toEndpoint = (e) => e.method === 'Network.requestWillBeSent' && e.params.request.url === endpoint;
  const finished = (id) => worker.events.some((f) => f.method === 'Network.loadingFinished' && f.params.requestId === id);
  const replies = new Map(); // requestId → parsed reply
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sent = worker.events.filter((e) => toEndpoint(e) && new URLSearchParams(e.params.request.postData ?? '').get('grant_type') === grantType);
    for (const { params: { requestId } } of sent) {
      if (replies.has(requestId)) continue;
      try {
        replies.set(requestId, JSON.parse((await worker.send('Network.getResponseBody', { requestId })).body));
      } catch { /* not read yet */ }
    }
    const got = sent.filter((e) => replies.has(e.params.requestId)).map((e) => replies.get(e.params.requestId));
    if (got.length >= n) return got;
    if (Date.now() > deadline) {
      // What the worker did send to the token endpoint, to tell a request
      // that never came from one the filter missed (no postData, no reply).
      const seen = worker.events.filter(toEndpoint)
        .map((e) => `${new URLSearchParams(e.params.request.postData ?? '').get('grant_type') ?? (e.params.request.hasPostData ? 'postData not given' : 'no body')}`
          + `${replies.has(e.params.requestId) ? '' : ' (no reply read)'}${finished(e.params.requestId) ? '' : ' (no loadingFinished)'}`);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${n} ${grantType} request(s) in the worker with their replies; it sent ${seen.length ? seen.join(', ') : 'none'} of ${worker.events.length} network events`);
    }
    await new Promise((r) => { setTimeout(r, 100); });
  }
}

/** heapSnapshot returns the text of a heap snapshot taken through session (a page's CDP session). */
export async function heapSnapshot(session) {
  const chunks = [];
  const onChunk = (e) => chunks.push(e.chunk);
  session.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  try {
    await session.send('HeapProfiler.enable');
    await session.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  } finally {
    session.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
  }
  return chunks.join('');
}

/**
 * watchErrors records in errors every uncaught error and console error of
 * every page of context while it is on origin (Chrome reports CSP
 * violations on the console too).
 */
export function watchErrors(context, origin, errors) {
  const watch = (page) => {
    page.on('pageerror', (e) => { if (page.url().startsWith(origin)) errors.push(`pageerror: ${e.message}`); });
    page.on('console', (m) => { if (m.type() === 'error' && page.url().startsWith(origin)) errors.push(`console: ${m.text()}`); });
  };
  context.pages().forEach(watch);
  context.on('page', watch);
}

/**
 * signIn signs the demo app on page in: from origin's start page through the
 * provider's login form (when the provider asks) back to a signed-in page.
 * With { reload: false } it starts from the signed-out page already open.
 */
export async function signIn(page, origin, idp, { reload = true } = {}) {
  if (reload) await page.goto(`${origin}/`);
  await page.waitForSelector('#status[data-state="signed-out"]');
  await page.click('#login');
  // The provider's form, or (with a provider session) straight back with a
  // code; never the start page itself, where the page still is.
  await page.waitForURL((u) => u.href.startsWith(idp.issuer) || u.searchParams.has('code'));
  if (page.url().startsWith(idp.issuer)) {
    await page.fill('input[name="login"]', idp.user.login);
    await page.fill('input[name="password"]', idp.user.password);
    await page.click('button[type="submit"]');
  }
  await page.waitForSelector('#status[data-state="signed-in"]', { timeout: 15000 });
}

/**
 * logOut logs the demo app on page out, through the provider's end-session
 * page, back to a signed-out page on origin.
 */
export async function logOut(page, origin, idp) {
  await page.click('#logout');
  await page.waitForURL((u) => u.href.startsWith(idp.issuer));
  const confirm = await page.waitForSelector('#confirm-logout', { timeout: 5000 }).catch(() => null);
  if (confirm) await confirm.click();
  await page.waitForURL((u) => u.href.startsWith(origin));
  await page.waitForSelector('#status[data-state="signed-out"]');
}

/**
 * recordCspViolations has every page of context record its
 * Content-Security-Policy violations before any page script runs (an init
 * script is injected by the browser, so the page's CSP does not apply to it).
 */
export function recordCspViolations(context) {
  return context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
}

/** cspViolations returns the violations page has recorded so far. */
export const cspViolations = (page) => page.evaluate(() => window.__cspViolations ?? []);

/**
 * openApp launches chromium (see launch) with the CSP recorder and opens a
 * page that collects in errors the uncaught errors and console errors it
 * raises while it shows appOrigin (the provider's pages are not the app's).
 */
export async function openApp(appOrigin) {
  const browser = await launch();
  await recordCspViolations(browser.context);
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => { if (page.url().startsWith(appOrigin)) errors.push(`pageerror: ${e.message}`); });
  page.on('console', (m) => {
    if (m.type() === 'error' && page.url().startsWith(appOrigin)) errors.push(`console: ${m.text()}`);
  });
  return { browser, page, errors };
}

/**
 * logTokenRequests routes every POST page makes to tokenEndpoint through
 * the test, which fetches the reply itself, logs it, then hands the same
 * bytes to the page; it returns the log: {form, dpop (the proof header or
 * null), status, reply, done}. The log is therefore complete before the
 * page can act on a reply, and never depends on chromium still holding a
 * response body for the inspector (it did not always, which emptied the
 * log on a loaded CI machine). Requests made by a worker are not seen.
 */
export async function logTokenRequests(page, tokenEndpoint) {
  const log = [];
  await page.route((u) => u.href.startsWith(tokenEndpoint), async (route) => {
    const req = route.request();
    if (req.method() !== 'POST') return route.continue();
    const entry = { form: new URLSearchParams(req.postData() ?? ''), dpop: req.headers().dpop ?? null, status: 0, reply: null, done: false };
    log.push(entry);
    try {
      const res = await route.fetch();
      const body = await res.body();
      entry.status = res.status();
      try { entry.reply = JSON.parse(body.toString('utf8')); } catch { entry.reply = null; }
      entry.done = true;
      await route.fulfill({ response: res, body });
    } catch {
      entry.done = true;
      await route.abort('failed').catch(() => {});
    }
    return undefined;
  });
  return log;
}
