// DPoP (RFC 9449) for the hostile test provider: what an authorization or
// resource server checks of a proof (§4.3), and the JWK thumbprint
// (RFC 7638) it binds tokens to. Node's crypto only.
import { createPublicKey, verify } from 'node:crypto';
import { thumbprint, ath } from '../lib/dpop-lib.mjs';

export { thumbprint, ath };

const decode = (s) => JSON.parse(Buffer.from(s, 'base64url').toString());

/** decodeProof returns a proof's header and claims, unchecked (for tests that read them). */
export function decodeProof(proof) {
  const [h, c] = String(proof).split('.');
  return { header: decode(h), claims: decode(c) };
}

/**
 * checkProof checks one DPoP header value as RFC 9449 §4.3 says, for a
 * request of htm to htu, and returns {jkt, claims}, or {error} naming the
 * first rule broken. seen is the set of jti values already used (the
 * proof's is added); accessToken, when the request presents one, must
 * match ath; nonce, when the server requires one, the proof's.
 */
export function checkProof(value, { htm, htu, seen, accessToken, nonce, now = Math.floor(Date.now() / 1000) }) {
  if (typeof value !== 'string' || value.includes(',')) return { error: 'not exactly one DPoP header' }; // §4.3 (1)
  const parts = value.split('.');
  if (parts.length !== 3) return { error: 'not a JWS' }; // §4.3 (2)
  let header; let claims;
  try { header = decode(parts[0]); claims = decode(parts[1]); } catch { return { error: 'not JSON' }; }
  if (header.typ !== 'dpop+jwt') return { error: 'typ is not dpop+jwt' }; // §4.3 (4)
  if (header.alg !== 'ES256') return { error: 'alg is not ES256' }; // §4.3 (5): asymmetric, and the one we accept
  const jwk = header.jwk;
  if (!jwk || jwk.kty !== 'EC' || jwk.crv !== 'P-256' || 'd' in jwk) return { error: 'jwk is no public P-256 key' }; // §4.3 (7)
  let key;
  try { key = createPublicKey({ key: jwk, format: 'jwk' }); } catch { return { error: 'jwk is no key' }; }
  const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'));
  if (!ok) return { error: 'bad signature' }; // §4.3 (6)
  if (claims.htm !== htm) return { error: 'htm' }; // §4.3 (8)
  if (claims.htu !== htu) return { error: 'htu' }; // §4.3 (9)
  if (typeof claims.jti !== 'string' || claims.jti.length < 12) return { error: 'jti' }; // §4.2
  if (seen.has(claims.jti)) return { error: 'jti reused' }; // §11.1
  if (typeof claims.iat !== 'number' || Math.abs(claims.iat - now) > 300) return { error: 'iat' }; // §4.3 (11)
  if (nonce !== undefined && nonce !== null && claims.nonce !== nonce) return { error: 'use_dpop_nonce' }; // §4.3 (10), §8
  if (accessToken !== undefined && claims.ath !== ath(accessToken)) return { error: 'ath' }; // §4.3 (12)
  seen.add(claims.jti);
  return { jkt: thumbprint(jwk), claims };
}
