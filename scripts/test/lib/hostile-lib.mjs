// Shared setup for the suites that drive mezzo's JS API (web/dist/mezzo.js,
// in node) against the hostile test provider (../provider/).
import { APP, resetBrowser, traffic, loadMezzo } from './browser-env.mjs';
import { clientEnv } from './common.mjs';
import { startTestProvider } from '../provider/provider.mjs';
import { IDBFactory } from 'fake-indexeddb';

export const REDIRECT = `${APP}/callback`;
export { APP, traffic };
export { rejects, sleep, until } from './common.mjs';

/**
 * hostileSetup starts a provider and returns a clientEnv for it (see
 * common.mjs) with env.tp; call env.reset() before each test and
 * env.stop() after all.
 */
export async function hostileSetup(opts) {
  const tp = await startTestProvider(opts);
  const env = clientEnv(loadMezzo(), tp, { redirectUri: REDIRECT });
  env.tp = tp;
  env.reset = () => {
    env.closeClients();
    tp.reset();
    resetBrowser(`${APP}/`);
    traffic.length = 0;
  };
  env.stop = () => tp.stop();
  return env;
}

/** bearerUses lists the access tokens sent to the provider after index from. */
export function bearerUses(tp, from = 0) {
  return tp.requests.slice(from).map((r) => r.authorization).filter(Boolean);
}

/**
 * emptyIndexedDB gives node an empty IndexedDB, as a browser has, and
 * returns it: a test can then plant records there, as an injected script
 * could, and show that mezzo stores nothing and reads nothing there.
 */
export function emptyIndexedDB() {
  globalThis.indexedDB = new IDBFactory();
  return globalThis.indexedDB;
}

/** storedRecords lists every record of an IndexedDB database: [{store, key, value}]. */
export async function storedRecords(factory, name) {
  const req = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
  const db = await req(factory.open(name));
  try {
    const out = [];
    for (const store of db.objectStoreNames) {
      const os = db.transaction(store).objectStore(store);
      const [keys, values] = [await req(os.getAllKeys()), await req(os.getAll())];
      keys.forEach((key, i) => out.push({ store, key, value: values[i] }));
    }
    return out;
  } finally {
    db.close();
  }
}
