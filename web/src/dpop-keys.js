// dpop-keys.js — the runtime half's DPoP keys (RFC 9449).
//
// With options.dpop the runtime (the worker, or the page host) holds one
// ECDSA P-256 key pair per issuer and client, made with WebCrypto: the
// private key is non-extractable (it can sign, it can never be read, not
// even by this code), and the pair is kept in IndexedDB (the one secret
// mezzo stores) so that it outlives the runtime. Go signs every proof with
// it through crypto.subtle.sign (jsbridge/dpop.go) and never sees the
// private key. A key that cannot be made, stored or loaded fails the
// client with dpop_key_unavailable: never a silent downgrade to Bearer.
import { MezzoError } from './errors.js';
import { Code, Option } from './names.js';

const DPOP_DB = 'mezzo-dpop';
const DPOP_STORE = 'keys';
const DPOP_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' }; // ES256 (RFC 7518 §3.4)

/** dpopKeyName names the key of options' client: one per issuer (or authorization endpoint) and client id. */
function dpopKeyName(options) {
  return JSON.stringify([String(options[Option.Issuer] ?? options[Option.AuthorizationEndpoint] ?? ''), String(options[Option.ClientID] ?? '')]);
}

/** idb turns an IDBRequest (or a transaction's completion) into a Promise. */
function idb(request, done = 'success') {
  return new Promise((resolve, reject) => {
    request.addEventListener(done, () => resolve(request.result), { once: true });
    request.addEventListener('error', () => reject(request.error), { once: true });
    request.addEventListener('abort', () => reject(request.error ?? new Error('aborted')), { once: true });
  });
}

/** openKeyDb opens (and on first use creates) the key database; the caller closes it. */
async function openKeyDb() {
  const factory = globalThis.indexedDB;
  if (!factory?.open) throw new Error('no IndexedDB here');
  const open = factory.open(DPOP_DB, 1);
  open.addEventListener('upgradeneeded', () => { open.result.createObjectStore(DPOP_STORE); }, { once: true });
  return idb(open);
}

/** usableKey reports whether a stored record is a key pair this runtime can sign with, the private half unreadable. */
function usableKey(r) {
  const k = r?.privateKey;
  return typeof CryptoKey === 'function' && k instanceof CryptoKey && r.publicKey instanceof CryptoKey
    && k.type === 'private' && k.extractable === false && k.usages.includes('sign')
    && k.algorithm?.name === DPOP_ALGORITHM.name && k.algorithm?.namedCurve === DPOP_ALGORITHM.namedCurve;
}

/**
 * loadDpopKey returns the stored key pair of name, making and storing one
 * when there is none (or what is stored is unusable). Two runtimes that
 * start at once each make a pair, but one readwrite transaction keeps the
 * first stored, and both use that one.
 */
async function loadDpopKey(name) {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('no WebCrypto here');
  const db = await openKeyDb();
  try {
    let pair = await idb(db.transaction(DPOP_STORE, 'readonly').objectStore(DPOP_STORE).get(name));
    if (!usableKey(pair)) {
      // extractable false: the private key can never leave WebCrypto (the
      // public one always can). Made outside the transaction, which would
      // commit while it waits.
      const made = await subtle.generateKey(DPOP_ALGORITHM, false, ['sign', 'verify']);
      const tx = db.transaction(DPOP_STORE, 'readwrite');
      const store = tx.objectStore(DPOP_STORE);
      const current = await idb(store.get(name));
      pair = usableKey(current) ? current : { privateKey: made.privateKey, publicKey: made.publicKey, created: Date.now() };
      if (pair !== current) store.put(pair, name);
      await idb(tx, 'complete');
    }
    const { kty, crv, x, y } = await subtle.exportKey('jwk', pair.publicKey);
    return { privateKey: pair.privateKey, jwk: { kty, crv, x, y } };
  } finally {
    db.close();
  }
}

/**
 * dpopKey returns options' DPoP key from the store, made on first use. It
 * is read for each Go client (a few ms; the read that createClient makes to
 * fail early serves the first one, see newGoClient), not kept by the
 * runtime, so a key deleted meanwhile (another tab's forgetDpopKey, cleared
 * site data) is never brought back by a later client.
 */
export async function dpopKey(options) {
  try {
    return await loadDpopKey(dpopKeyName(options));
  } catch (e) {
    throw new MezzoError(Code.DPoPKeyUnavailable, `options.${Option.DPoP} is on, but no DPoP key could be made or stored: ${e?.message ?? e}`);
  }
}

/**
 * forgetDevice runs after a logout with forgetDpopKey ("forget this
 * device"): reset() drops the session's Go client, whose key is fixed, so
 * that the next sign-in makes a new one, then options' stored key is
 * deleted. The session has ended either way; a key that cannot be deleted
 * rejects dpop_key_unavailable.
 */
export async function forgetDevice(options, reset) {
  reset();
  try {
    const db = await openKeyDb();
    try {
      const tx = db.transaction(DPOP_STORE, 'readwrite');
      tx.objectStore(DPOP_STORE).delete(dpopKeyName(options));
      await idb(tx, 'complete');
    } finally {
      db.close();
    }
  } catch (e) {
    throw new MezzoError(Code.DPoPKeyUnavailable, `signed out, but the DPoP key could not be deleted: ${e?.message ?? e}`);
  }
}
