// What a server checks of a DPoP proof (RFC 9449 §4.3), written once for
// the two servers here that take proofs: the dev provider's resource
// (./resource.mjs) and the hostile test provider's token endpoint and
// resources (../../test/provider/provider.mjs). Node's crypto only; the
// client side (proofs made and signed) is ../../test/lib/dpop-lib.mjs, an
// independent implementation on purpose.
import { createHash, createPublicKey, verify } from 'node:crypto';

/** DPOP_ALGS are the proof algorithms accepted (RFC 9449 §4.3 (5)), announced in a DPoP challenge's algs (§7.1). */
export const DPOP_ALGS = ['ES256'];

/** PROOF_REASONS name each way verifyProof refuses a proof, as ProofError.reason. */
export const PROOF_REASONS = [
  'proof_missing', 'proof_multiple', 'proof_malformed', 'proof_typ', 'proof_alg', 'proof_jwk',
  'proof_signature', 'proof_claims', 'proof_replay', 'proof_htm', 'proof_htu', 'proof_iat',
  'use_dpop_nonce', 'proof_ath',
];

// A JWK's private members (RFC 7518 §6.2.2, §6.3.2, §6.4.1): a proof's key must have none (RFC 9449 §4.3 (7)).
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

// A jti's least length: 12 characters, so a client that cut its jti's
// randomness (RFC 9449 §4.2 asks for at least 96 bits) is caught.
const MIN_JTI_LENGTH = 12;

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const sha256 = (s) => createHash('sha256').update(s).digest();

/** jwkThumbprint is the RFC 7638 §3 thumbprint of a P-256 public key: SHA-256 of its required members in lexicographic order. */
export const jwkThumbprint = ({ crv, kty, x, y }) => b64u(sha256(JSON.stringify({ crv, kty, x, y })));

/** accessTokenHash is a proof's ath for token: base64url(SHA-256(ASCII(token))) (RFC 9449 §4.2). */
export const accessTokenHash = (token) => b64u(sha256(token));

/** ProofError is a refused proof: reason is one of PROOF_REASONS, message says why in words. */
export class ProofError extends Error {
  constructor(reason, description) {
    super(description);
    this.reason = reason;
  }
}

/** htuTarget is a URI as §4.3 (9) compares it: normalized (RFC 3986 §6), without query and fragment; null when it is no URL. */
function htuTarget(uri) {
  try {
    const u = new URL(uri);
    u.search = '';
    u.hash = '';
    return u.href;
  } catch {
    return null;
  }
}

/**
 * verifyProof checks the DPoP headers of one request (headers: the values
 * received, one per DPoP header line) as RFC 9449 §4.3 says, for a request
 * of htm to htu (the request's URI; its query and fragment are ignored),
 * and returns {header, claims, jkt}, or throws the ProofError of the first
 * rule broken.
 *
 *   remember(jti, iat) → whether jti is new (§11.1): the caller's replay cache
 *   now                   the server's clock, in seconds
 *   iatWindow             how far iat may be from now, either way (§4.3 (11))
 *   nonceValid(nonce)     when the server requires a nonce (§4.3 (10), §8, §9)
 *   accessToken           the token the request presents, which ath must hash (§4.3 (12))
 *
 * Whether jkt is the key the token or code is bound to is the caller's.
 */
export function verifyProof(headers, { htm, htu, remember, now, iatWindow, nonceValid, accessToken }) {
  if (headers.length === 0) throw new ProofError('proof_missing', 'no DPoP proof'); // §7.1: a DPoP-bound token needs its proof
  if (headers.length > 1) throw new ProofError('proof_multiple', 'more than one DPoP header'); // §4.3 (1)

  // §4.3 (2): a single well-formed JWT.
  const parts = headers[0].split('.');
  let header; let claims;
  try {
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw new Error('not a compact JWS');
    header = JSON.parse(Buffer.from(parts[0], 'base64url'));
    claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
    if (!header || typeof header !== 'object' || !claims || typeof claims !== 'object') throw new Error('not JSON objects');
  } catch (e) {
    throw new ProofError('proof_malformed', `the DPoP proof is not a well-formed JWT: ${e.message}`);
  }
  if (header.typ !== 'dpop+jwt') throw new ProofError('proof_typ', 'typ must be dpop+jwt'); // §4.3 (4)
  if (!DPOP_ALGS.includes(header.alg)) throw new ProofError('proof_alg', `alg must be one of ${DPOP_ALGS.join(' ')}`); // §4.3 (5)
  const { jwk } = header;
  // §4.3 (7): a public key, and one that fits alg (ES256: P-256).
  if (!jwk || typeof jwk !== 'object' || jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') {
    throw new ProofError('proof_jwk', 'jwk must be a P-256 public key');
  }
  if (PRIVATE_JWK_MEMBERS.some((m) => m in jwk)) throw new ProofError('proof_jwk', 'jwk must not contain a private key');
  // §4.3 (6): the signature verifies with the jwk's key.
  let good = false;
  try {
    const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' });
    good = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'));
  } catch { good = false; }
  if (!good) throw new ProofError('proof_signature', 'the signature does not verify with jwk');
  // §4.3 (3): the claims §4.2 requires, ath too when an access token comes with the proof.
  const { jti, iat, nonce } = claims;
  if (typeof jti !== 'string' || jti.length < MIN_JTI_LENGTH || typeof claims.htm !== 'string' || typeof claims.htu !== 'string'
    || !Number.isFinite(iat) || (accessToken !== undefined && typeof claims.ath !== 'string')) {
    throw new ProofError('proof_claims', `jti (${MIN_JTI_LENGTH} characters at least), htm, htu and iat are required${accessToken !== undefined ? ', and ath' : ''}`);
  }
  if (!remember(jti, iat)) throw new ProofError('proof_replay', 'jti already used'); // §11.1: a proof is used once
  if (claims.htm !== htm) throw new ProofError('proof_htm', 'htm does not match the request method'); // §4.3 (8)
  // §4.3 (9): htu is the request's URI, ignoring query and fragment (compared after URL normalization).
  if (htuTarget(claims.htu) !== htuTarget(htu)) throw new ProofError('proof_htu', 'htu does not match the request URI');
  if (Math.abs(now - iat) > iatWindow) throw new ProofError('proof_iat', 'iat is outside the acceptable window'); // §4.3 (11)
  // §4.3 (10), §8, §9: the nonce this server provided.
  if (nonceValid && (typeof nonce !== 'string' || !nonceValid(nonce))) {
    throw new ProofError('use_dpop_nonce', nonce === undefined ? 'a DPoP nonce is required' : 'the DPoP nonce is not current');
  }
  if (accessToken !== undefined && claims.ath !== accessTokenHash(accessToken)) throw new ProofError('proof_ath', 'ath does not match the access token'); // §4.3 (12)
  return { header, claims, jkt: jwkThumbprint(jwk) };
}
