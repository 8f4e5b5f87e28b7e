// What the node suites share, with no side effects on import: bounded
// waits, the typed-rejection check, loading web/dist/mezzo.js (or a fresh
// copy of it), a client once ready, and one shape
// of "a signed-in client" whatever the provider (the dev provider of
// ../../dev/idp/ or the hostile one of ../provider/). The bench uses
// within() too. The browser globals mezzo needs come from browser-env.mjs.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** until polls cond every 10 ms for at most ms, and fails naming what (a string, or a function giving one) when it never holds. */
export async function until(cond, ms, what) {
  for (const end = Date.now() + ms; !cond(); await sleep(10)) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`);
  }
}

/**
 * within rejects with fail(message) (an Error by default) when promise has
 * not settled after ms, so a stuck call fails instead of hanging.
 */
export function within(promise, ms, what = 'the call', fail = (message) => new Error(message)) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(fail(`${what}: no answer within ${ms} ms`)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** loadMezzo returns the classic loader web/dist/mezzo.js, as node require()s it. */
export function loadMezzo() {
  const dist = new URL('../../../web/dist/mezzo.js', import.meta.url);
  if (!existsSync(dist)) throw new Error('web/dist/mezzo.js is missing: run `make build` first');
  return createRequire(import.meta.url)(dist.pathname);
}

/** rejects asserts that promise rejects with a MezzoError of code, and returns the error. */
export async function rejects(promise, code) {
  const { MezzoError } = loadMezzo();
  let err;
  await assert.rejects(promise, (e) => {
    assert.equal(e.name, 'MezzoError', String(e));
    assert.ok(e instanceof MezzoError, 'an instance of mezzo.MezzoError');
    assert.equal(e.code, code, `${e.code}: ${e.description}`);
    assert.equal(typeof e.description, 'string');
    err = e;
    return true;
  });
  return err;
}

/**
 * startedClient is createClient(options) followed by client.ready, as an
 * app that prefers to fail at start does: it resolves once the module runs
 * and the options and discovery are accepted, and rejects with their typed
 * error (closing the client). createClient alone resolves before that.
 */
export async function startedClient(mezzo, options) {
  const client = await mezzo.createClient(options);
  try {
    await client.ready;
  } catch (e) {
    client.close();
    throw e;
  }
  return client;
}

/**
 * failsToStart asserts what a page gets from options that cannot start
 * (bad options, a failed discovery): createClient still resolves, signed
 * out, before the module has checked anything; client.ready rejects with
 * code, and so does the first protocol call (login), which tries again.
 * onAttempt() runs after each of the two, to check what each did.
 */
export async function failsToStart(mezzo, options, code, onAttempt = () => {}) {
  const client = await mezzo.createClient(options);
  try {
    assert.deepEqual([client.isAuthenticated(), client.getUser()], [false, null], 'answered signed out');
    await rejects(within(client.ready, 30000, 'client.ready'), code);
    onAttempt('ready');
    await rejects(within(client.login(), 30000, 'login()'), code);
    onAttempt('login');
    assert.equal(client.isAuthenticated(), false);
  } finally {
    client.close();
  }
}

/**
 * loadFreshMezzo returns a new copy of web/dist/mezzo.js, as a page that
 * has loaded nothing gets it: its own module, runtime and marks (the
 * timeline's entries are the process's: clear them first to read its own).
 */
export function loadFreshMezzo() {
  const require = createRequire(import.meta.url);
  const path = require.resolve('../../../web/dist/mezzo.js');
  const cached = require.cache[path];
  delete require.cache[path];
  try {
    return require(path);
  } finally {
    if (cached) require.cache[path] = cached; else delete require.cache[path]; // loadMezzo() keeps its copy
  }
}

/** redeemRefreshToken posts a refresh-token grant to tokenEndpoint itself, as a public client, bypassing mezzo. */
export function redeemRefreshToken(tokenEndpoint, clientId, refreshToken) {
  return fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }),
  });
}

/**
 * clientEnv makes clients of mezzo for provider and signs them in. provider
 * has issuer, clientId and authorize(authorizeUrl), which plays the user at
 * the provider and returns its redirect back. Set env.onClient(client) to
 * see each new client, env.afterLogin() to run after each login() of a
 * sign-in (the transaction is then in sessionStorage).
 */
export function clientEnv(mezzo, provider, { redirectUri }) {
  const clients = [];
  const env = {
    mezzo,
    onClient: null,
    afterLogin: null,
    /** newClient creates a client for the provider, once ready (startedClient); closed again by closeClients(). */
    async newClient(extra = {}) {
      const client = await startedClient(mezzo, { issuer: provider.issuer, clientId: provider.clientId, redirectUri, ...extra });
      clients.push(client);
      env.onClient?.(client);
      return client;
    },
    /** callback runs login() and returns the provider's redirect back (not yet handled). */
    async callback(client, opts) {
      await client.login(opts);
      await env.afterLogin?.();
      return provider.authorize(location.assigned.at(-1));
    },
    /** signIn completes a login the way an app does: from location.href; returns handleRedirectCallback's result. */
    async signIn(client, opts) {
      location.href = await env.callback(client, opts);
      return client.handleRedirectCallback();
    },
    /** signedIn is a signed-in client: a new client (extra: its options), signed in, and its access token. */
    async signedIn(extra) {
      const client = await env.newClient(extra);
      await env.signIn(client);
      assert.equal(client.isAuthenticated(), true, 'signed in');
      return { client, token: await client.getToken() };
    },
    closeClients() { for (const c of clients.splice(0)) c.close(); },
  };
  return env;
}
