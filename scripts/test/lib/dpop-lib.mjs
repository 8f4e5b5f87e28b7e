// DPoP (RFC 9449) from the client's side, for node suites that play the
// client themselves: P-256 keys made with WebCrypto, proofs (§4.2) built
// and signed here, the key's RFC 7638 thumbprint, and PKCE (RFC 7636). An
// independent implementation, so a suite can check a server with it.
import { createHash, randomBytes, randomUUID } from 'node:crypto';

const { subtle } = globalThis.crypto;
const b64u = (buf) => Buffer.from(buf).toString('base64url');

/** thumbprint is the RFC 7638 §3.2 thumbprint of a P-256 public JWK: SHA-256 over {crv,kty,x,y}, in that order. */
export const thumbprint = ({ crv, kty, x, y }) => b64u(createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest());

/** ath is a proof's access-token hash: base64url(SHA-256(token)) (RFC 9449 §4.2). */
export const ath = (accessToken) => b64u(createHash('sha256').update(accessToken).digest());

/** dpopKey makes an ECDSA P-256 key pair; jwk is its public key, jkt its thumbprint. */
export async function dpopKey() {
  const { privateKey, publicKey } = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const { kty, crv, x, y } = await subtle.exportKey('jwk', publicKey);
  const jwk = { kty, crv, x, y };
  return { privateKey, jwk, jkt: thumbprint(jwk) };
}

/**
 * dpopProof is a DPoP proof JWT (RFC 9449 §4.2) for htm and htu signed with
 * key (ES256). accessToken adds its ath; nonce, the server's nonce. The
 * rest bends the proof for negative tests: header and claims are merged
 * over the defaults (a member set to undefined is dropped), and signWith
 * signs with another key than the one in the header.
 */
export async function dpopProof(key, { htm, htu, accessToken, nonce, header = {}, claims = {}, signWith = key } = {}) {
  const drop = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const h = drop({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk, ...header });
  const p = drop({
    jti: randomUUID(),
    htm,
    htu,
    iat: Math.floor(Date.now() / 1000),
    ...(accessToken !== undefined ? { ath: ath(accessToken) } : {}),
    ...(nonce !== undefined ? { nonce } : {}),
    ...claims,
  });
  const input = `${b64u(JSON.stringify(h))}.${b64u(JSON.stringify(p))}`;
  // WebCrypto's ECDSA signature is r||s, the JWS encoding (RFC 7518 §3.4).
  const sig = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, signWith.privateKey, Buffer.from(input));
  return `${input}.${b64u(sig)}`;
}

/** pkce is a fresh S256 verifier and challenge (RFC 7636 §4.1, §4.2). */
export function pkce() {
  const verifier = b64u(randomBytes(32));
  return { verifier, challenge: b64u(createHash('sha256').update(verifier).digest()) };
}
