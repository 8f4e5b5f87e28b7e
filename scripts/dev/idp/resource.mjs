// A protected resource on the dev provider's server, validating what it is
// sent as a real resource server would: DPoP-bound access tokens with their
// proofs (RFC 9449 §4.3, §7), unbound ones as Bearer tokens (RFC 6750).
// The access token is looked up in the provider itself
// (provider.AccessToken.find), so a revoked or expired token is refused.
//
//   GET|POST RESOURCE_PATH  ->  200 {sub, token_type, cnf: {jkt}|null, scope}
//
// Every refusal has a stable reason (REASONS), counted in stats() so tests
// can tell which check refused a request.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { DPOP_ALGS, PROOF_REASONS, ProofError, verifyProof } from './dpop-proof.mjs';

export const RESOURCE_PATH = '/api/resource/me';

/** IAT_WINDOW is how far (seconds) a proof's iat may be from the server's clock, either way (RFC 9449 §4.3 (11), §11.1). */
export const IAT_WINDOW = 60;

/** NONCE_STEP is how often (seconds) the resource's own DPoP nonce changes (RFC 9449 §9); a nonce is accepted for two steps. */
const NONCE_STEP = 60;

/** REASONS are the refusals' names, as counted in stats().resourceRefused: the proof's (PROOF_REASONS) and the token's. */
export const REASONS = [
  'no_authorization', 'multiple_authorization', 'unsupported_scheme', 'token_invalid',
  'bound_token_as_bearer', 'unbound_token_as_dpop',
  ...PROOF_REASONS, 'proof_key',
];

const b64u = (buf) => Buffer.from(buf).toString('base64url');

class Refusal extends Error {
  constructor(reason, { status = 401, scheme = 'DPoP', error, description, nonce } = {}) {
    super(description ?? reason);
    Object.assign(this, { reason, status, scheme, error, nonce });
  }
}

/** challenge is one WWW-Authenticate challenge (RFC 6750 §3, RFC 9449 §7.1): DPoP ones always name the accepted algs. */
function challenge(scheme, error, description) {
  const params = [];
  if (error) params.push(`error="${error}"`);
  if (description) params.push(`error_description="${description.replace(/["\\]/g, '')}"`);
  if (scheme === 'DPoP') params.push(`algs="${DPOP_ALGS.join(' ')}"`);
  return params.length ? `${scheme} ${params.join(', ')}` : scheme;
}

/**
 * createResource serves RESOURCE_PATH for provider. url is the resource's
 * public URL (the proof's htu must be it); allowedOrigins, the web origins
 * that may call it (CORS); requireNonce, whether proofs must carry the
 * resource's DPoP nonce (RFC 9449 §9); now(), the clock in milliseconds.
 */
export function createResource({ provider, url, allowedOrigins, requireNonce = false, now = () => Date.now() }) {
  const nonceSecret = randomBytes(32); // generated at start, never stored
  const seen = new Map(); // jti -> when it may be forgotten (s): the replay cache (RFC 9449 §11.1)
  let counts;
  let jtis; // every jti with a verified signature since the last reset, for stats
  const resetStats = () => {
    counts = { resourceRequests: 0, resourceAccepted: { DPoP: 0, Bearer: 0 }, resourceRefused: {}, resourceProofs: 0 };
    jtis = new Set();
  };
  resetStats();

  const nowSeconds = () => Math.floor(now() / 1000);
  const nonceAt = (step) => b64u(createHmac('sha256', nonceSecret).update(`dpop-nonce:${step}`).digest());
  const currentNonce = () => nonceAt(Math.floor(nowSeconds() / NONCE_STEP));
  const nonceValid = (nonce) => {
    const step = Math.floor(nowSeconds() / NONCE_STEP);
    return [step - 1, step].some((s) => {
      const want = Buffer.from(nonceAt(s));
      const got = Buffer.from(String(nonce));
      return got.length === want.length && timingSafeEqual(got, want);
    });
  };

  /** remember records jti in the replay cache until its proof is stale anyway, and says whether it was new. */
  function remember(jti, iat) {
    const t = nowSeconds();
    for (const [k, until] of seen) if (until < t) seen.delete(k);
    if (seen.has(jti)) return false;
    seen.set(jti, Math.max(t, iat) + IAT_WINDOW + 1);
    return true;
  }

  // RFC 9449 §4.3: the checks on a DPoP proof sent with accessToken, bound to jkt. Returns the nonce to send back, if any.
  function checkProof(req, accessToken, jkt) {
    let proof;
    try {
      proof = verifyProof(req.headersDistinct.dpop ?? [], {
        htm: req.method,
        htu: url,
        now: nowSeconds(),
        iatWindow: IAT_WINDOW,
        accessToken,
        nonceValid: requireNonce ? nonceValid : undefined,
        remember(jti, iat) { // a proof whose signature and claims hold: counted, then looked up in the replay cache
          counts.resourceProofs++;
          jtis.add(jti);
          return remember(jti, iat);
        },
      });
    } catch (e) {
      if (!(e instanceof ProofError)) throw e;
      if (e.reason === 'use_dpop_nonce') throw new Refusal(e.reason, { error: e.reason, description: e.message, nonce: currentNonce() });
      throw new Refusal(e.reason, { error: 'invalid_dpop_proof', description: e.message });
    }
    if (proof.jkt !== jkt) throw new Refusal('proof_key', { error: 'invalid_dpop_proof', description: 'the proof key is not the one the access token is bound to' }); // §4.3 (12)
    return requireNonce && proof.claims.nonce !== currentNonce() ? currentNonce() : undefined;
  }

  async function authorize(req) {
    const authorization = req.headersDistinct.authorization ?? [];
    // RFC 6750 §3.1: no authentication information, no error code; both schemes are offered.
    if (authorization.length === 0) throw new Refusal('no_authorization', { scheme: 'both' });
    if (authorization.length > 1) {
      throw new Refusal('multiple_authorization', { status: 400, scheme: 'Bearer', error: 'invalid_request', description: 'more than one Authorization header' });
    }
    // RFC 9110 §11.4: credentials = auth-scheme [ 1*SP token68 ]; the scheme is case-insensitive (§11.1).
    const m = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*) +([A-Za-z0-9._~+/-]+=*)$/.exec(authorization[0]);
    const scheme = m?.[1].toLowerCase();
    if (scheme !== 'dpop' && scheme !== 'bearer') throw new Refusal('unsupported_scheme', { scheme: 'both' });
    const presented = scheme === 'dpop' ? 'DPoP' : 'Bearer';
    const token = m[2];

    // RFC 6750 §3.1 / RFC 9449 §7.1: invalid_token when the provider does not know it, or it expired or was revoked.
    const at = await provider.AccessToken.find(token);
    if (!at || !at.isValid) throw new Refusal('token_invalid', { scheme: presented, error: 'invalid_token', description: 'the access token is not active' });

    if (presented === 'Bearer') {
      // RFC 9449 §7.2: a DPoP-bound token must not be accepted as a bearer token.
      if (at.jkt) throw new Refusal('bound_token_as_bearer', { scheme: 'DPoP', error: 'invalid_token', description: 'a DPoP-bound access token must be sent with the DPoP scheme' });
      return { body: { sub: at.accountId, token_type: 'Bearer', cnf: null, scope: at.scope ?? '' } };
    }
    // RFC 9449 §7.1: the DPoP scheme is for DPoP-bound tokens (cnf.jkt, §6).
    if (!at.jkt) throw new Refusal('unbound_token_as_dpop', { error: 'invalid_token', description: 'the access token is not DPoP-bound' });
    const nonce = checkProof(req, token, at.jkt);
    return { body: { sub: at.accountId, token_type: 'DPoP', cnf: { jkt: at.jkt }, scope: at.scope ?? '' }, nonce };
  }

  /** handle answers a request to RESOURCE_PATH. */
  async function handle(req, res) {
    const origin = req.headers.origin;
    const cors = origin && allowedOrigins.has(origin) ? { 'access-control-allow-origin': origin } : {};
    const headers = { vary: 'Origin', 'cache-control': 'no-store', ...cors };
    if (req.method === 'OPTIONS') { // a CORS preflight
      res.writeHead(204, {
        ...headers,
        ...(cors['access-control-allow-origin'] ? {
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': 'Authorization, DPoP, Content-Type',
          'access-control-max-age': '600',
        } : {}),
      }).end();
      return;
    }
    if (cors['access-control-allow-origin']) headers['access-control-expose-headers'] = 'DPoP-Nonce, WWW-Authenticate';
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.writeHead(405, { ...headers, allow: 'GET, POST, OPTIONS' }).end();
      return;
    }
    counts.resourceRequests++;
    try {
      const { body, nonce } = await authorize(req);
      counts.resourceAccepted[body.token_type]++;
      res.writeHead(200, { ...headers, 'content-type': 'application/json', ...(nonce ? { 'dpop-nonce': nonce } : {}) });
      res.end(JSON.stringify(body));
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      counts.resourceRefused[err.reason] = (counts.resourceRefused[err.reason] ?? 0) + 1;
      const www = err.scheme === 'both'
        ? [challenge('DPoP'), challenge('Bearer')]
        : challenge(err.scheme, err.error, err.message);
      res.writeHead(err.status, {
        ...headers,
        'www-authenticate': www,
        'content-type': 'application/json',
        ...(err.nonce ? { 'dpop-nonce': err.nonce } : {}),
      });
      res.end(JSON.stringify({ error: err.error ?? 'unauthorized', error_description: err.message, reason: err.reason }));
    }
  }

  return {
    handle,
    /** stats are the resource's counters; resourceDistinctProofs below resourceProofs means a jti was sent twice. */
    stats: () => ({ ...structuredClone(counts), resourceDistinctProofs: jtis.size }),
    resetStats,
  };
}
