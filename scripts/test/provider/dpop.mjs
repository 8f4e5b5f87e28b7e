// DPoP (RFC 9449) for the hostile test provider: the dev provider's proof
// check (../../dev/idp/dpop-proof.mjs), with this provider's replay set,
// nonce and clock, and proofs decoded for tests that read them.
import { verifyProof, ProofError } from '../../dev/idp/dpop-proof.mjs';

// How far (seconds) a proof's iat may be from this provider's clock (RFC 9449 §4.3 (11)).
const IAT_WINDOW = 300;

const decode = (s) => JSON.parse(Buffer.from(s, 'base64url').toString());

/** decodeProof returns a proof's header and claims, unchecked (for tests that read them). */
export function decodeProof(proof) {
  const [h, c] = String(proof).split('.');
  return { header: decode(h), claims: decode(c) };
}

/**
 * checkProof checks a request's DPoP headers (node's req.headersDistinct.dpop:
 * one value per header line) as RFC 9449 §4.3 says, for a request of htm to htu,
 * and returns {jkt, claims}, or {error} naming the first rule broken (a
 * ProofError reason). seen is the set of jti values already used (the
 * proof's is added, §11.1); accessToken, when the request presents one,
 * must match ath; nonce, when the server requires one, the proof's.
 */
export function checkProof(headers = [], { htm, htu, seen, accessToken, nonce, now = Math.floor(Date.now() / 1000) }) {
  try {
    const { claims, jkt } = verifyProof(headers, {
      htm,
      htu,
      now,
      iatWindow: IAT_WINDOW,
      accessToken,
      remember(jti) {
        if (seen.has(jti)) return false;
        seen.add(jti);
        return true;
      },
      nonceValid: nonce === undefined || nonce === null ? undefined : (n) => n === nonce,
    });
    return { jkt, claims };
  } catch (e) {
    if (e instanceof ProofError) return { error: e.reason };
    throw e;
  }
}
