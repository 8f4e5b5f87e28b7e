// Shared setup for the suites that drive mezzo's JS API (web/dist/mezzo.js,
// in node) against the hostile test provider (../provider/).
import assert from 'node:assert/strict';
import { APP, resetBrowser, traffic, loadMezzo } from './browser-env.mjs';
import { startTestProvider } from '../provider/provider.mjs';

export const REDIRECT = `${APP}/callback`;
export { APP, traffic };

/** hostileSetup starts a provider; call reset() before each test and stop() after all. */
export async function hostileSetup(opts) {
  const mezzo = loadMezzo();
  const tp = await startTestProvider(opts);
  const clients = [];
  const env = {
    mezzo,
    tp,
    /** newClient creates a client for tp; closed again by reset(). */
    async newClient(extra = {}) {
      const client = await mezzo.createClient({ issuer: tp.issuer, clientId: tp.clientId, redirectUri: REDIRECT, ...extra });
      clients.push(client);
      return client;
    },
    /** callback runs login() and returns the provider's redirect back (not yet handled). */
    async callback(client, opts) {
      await client.login(opts);
      return tp.authorize(location.assigned.at(-1));
    },
    async signIn(client, opts) {
      const cb = await env.callback(client, opts);
      location.href = cb;
      return client.handleRedirectCallback();
    },
    reset() {
      for (const c of clients.splice(0)) c.close();
      tp.reset();
      resetBrowser(`${APP}/`);
      traffic.length = 0;
    },
    stop: () => tp.stop(),
  };
  return env;
}

/** rejects asserts that promise rejects with a MezzoError of code. */
export async function rejects(promise, code) {
  let err;
  await assert.rejects(promise, (e) => {
    assert.equal(e.name, 'MezzoError', String(e));
    assert.equal(e.code, code, `${e.code}: ${e.description}`);
    assert.equal(typeof e.description, 'string');
    err = e;
    return true;
  });
  return err;
}

/** bearerUses lists the access tokens sent to the provider after index from. */
export function bearerUses(tp, from = 0) {
  return tp.requests.slice(from).map((r) => r.authorization).filter(Boolean);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
