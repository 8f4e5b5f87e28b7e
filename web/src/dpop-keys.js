// dpop-keys.js — the runtime half's DPoP keys (RFC 9449).
//
// With options.dpop the runtime (the worker, or the page host) holds one
// ECDSA P-256 key pair per issuer and client, made with WebCrypto when the
// runtime first needs it: the private key is non-extractable (it can
// sign, it can never be read, not even by this code), and the pair is
// kept in this runtime's memory only, never stored: it lives as long as
// the runtime, as the tokens it binds do, so there is nothing in
// IndexedDB for a script to read, replace or plant. Go signs every proof
// with it through crypto.subtle.sign (jsbridge/dpop.go) and never sees
// the private key. A key that cannot be made fails the client with
// dpop_key_unavailable: never a silent downgrade to Bearer.
import { MezzoError } from './errors.js';
import { Code, Option } from './names.js';

const DPOP_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' }; // ES256 (RFC 7518 §3.4)

const keys = new Map(); // dpopKeyName → Promise<{privateKey, jwk}>: this runtime's

/** dpopKeyName names the key of options' client: one per issuer (or authorization endpoint) and client id. */
function dpopKeyName(options) {
  return JSON.stringify([String(options[Option.Issuer] ?? options[Option.AuthorizationEndpoint] ?? ''), String(options[Option.ClientID] ?? '')]);
}

/** makeKey makes a key pair whose private half never leaves WebCrypto, and reads its public JWK. */
async function makeKey() {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('no WebCrypto here');
  // extractable false: the private key can never leave WebCrypto (the
  // public one always can).
  const pair = await subtle.generateKey(DPOP_ALGORITHM, false, ['sign', 'verify']);
  const { kty, crv, x, y } = await subtle.exportKey('jwk', pair.publicKey);
  return { privateKey: pair.privateKey, jwk: { kty, crv, x, y } };
}

/**
 * dpopKey returns options' DPoP key, made on this runtime's first ask and
 * the same for every later client of the same issuer and client id until
 * forgetDevice. A key that could not be made is not remembered: the next
 * ask tries again.
 */
export function dpopKey(options) {
  const name = dpopKeyName(options);
  if (!keys.has(name)) {
    const made = makeKey().catch((e) => {
      if (keys.get(name) === made) keys.delete(name);
      throw new MezzoError(Code.DPoPKeyUnavailable, `options.${Option.DPoP} is on, but no DPoP key could be made: ${e?.message ?? e}`);
    });
    keys.set(name, made);
  }
  return keys.get(name);
}

/**
 * forgetDevice runs after a logout with forgetDpopKey ("forget this
 * device"): reset() drops the session's Go client, whose key is fixed, and
 * options' key is forgotten, so that the next sign-in makes a new one.
 */
export function forgetDevice(options, reset) {
  reset();
  keys.delete(dpopKeyName(options));
}
