// The dev provider with DPoP (RFC 9449), driven without a browser: this
// suite plays the client (keys and proofs from ../lib/dpop-lib.mjs, made
// with WebCrypto) against oidc-provider's token endpoint and the
// DPoP-protected resource beside it (scripts/dev/idp/resource.mjs). It
// tests the test server: that tokens are really bound to the key, and that
// the resource refuses what RFC 9449 says it must, each for its reason.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startIdp } from '../../dev/idp/harness.mjs';
import { dpopKey, dpopProof, pkce, ath } from '../lib/dpop-lib.mjs';

const REDIRECT = 'http://127.0.0.1:8089/callback'; // never fetched: headlessLogin stops at it
const APP_ORIGIN = new URL(REDIRECT).origin;

let idp; let nonceIdp;
before(async () => {
  [idp, nonceIdp] = await Promise.all([
    startIdp({ redirectUris: [REDIRECT] }),
    startIdp({ redirectUris: [REDIRECT], dpopNonce: true }),
  ]);
  for (const p of [idp, nonceIdp]) p.endpoints = await p.discovery();
});
after(async () => { await Promise.all([idp?.stop(), nonceIdp?.stop()]); });

/** authorizeCode signs the demo user in (PKCE, and dpop_jkt when jkt is given) and returns the code and verifier. */
async function authorizeCode(provider, { jkt } = {}) {
  const { verifier, challenge } = pkce();
  const q = new URLSearchParams({
    client_id: provider.clientId, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid offline_access',
    state: 's', code_challenge: challenge, code_challenge_method: 'S256',
    ...(jkt ? { dpop_jkt: jkt } : {}),
  });
  const back = new URL(await provider.authorize(`${provider.endpoints.authorization_endpoint}?${q}`));
  const code = back.searchParams.get('code');
  assert.ok(code, `a code in ${back}`);
  return { code, verifier };
}

/** tokenRequest posts form to the token endpoint, with a fresh proof by key (and nonce) when key is given. */
async function tokenRequest(provider, form, { key, nonce, proof } = {}) {
  const htu = provider.endpoints.token_endpoint;
  const dpop = proof ?? (key ? await dpopProof(key, { htm: 'POST', htu, nonce }) : undefined);
  const res = await fetch(htu, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP_ORIGIN, ...(dpop ? { dpop } : {}) },
    body: new URLSearchParams({ client_id: provider.clientId, ...form }),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/**
 * signIn signs in and exchanges the code (with key's proofs when key is
 * given, retrying once on use_dpop_nonce as RFC 9449 §8 says); it returns
 * the token response, the number of token requests it took, and the nonce.
 */
async function signIn(provider, key) {
  const { code, verifier } = await authorizeCode(provider, { jkt: key?.jkt });
  const form = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT };
  let nonce;
  let res = await tokenRequest(provider, form, { key });
  let requests = 1;
  if (res.status === 400 && res.body.error === 'use_dpop_nonce') {
    nonce = res.headers.get('dpop-nonce');
    res = await tokenRequest(provider, form, { key, nonce });
    requests++;
  }
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { tokens: res.body, requests, nonce: res.headers.get('dpop-nonce') ?? nonce };
}

/** callResource calls the resource with scheme and token, and a fresh proof unless proof is given (null: none). */
async function callResource(provider, { scheme = 'DPoP', token, key, proof, method = 'GET', url = provider.resource, nonce } = {}) {
  const dpop = proof === undefined && key ? await dpopProof(key, { htm: method, htu: url, accessToken: token, nonce }) : proof;
  const res = await fetch(url, {
    method,
    headers: { origin: APP_ORIGIN, ...(token ? { authorization: `${scheme} ${token}` } : {}), ...(dpop ? { dpop } : {}) },
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** refused runs call and asserts the resource refused it with status, a challenge matching www, and exactly one refusal for reason. */
async function refused(provider, call, { status = 401, www, reason }) {
  const before = (await provider.stats()).resourceRefused;
  const res = await call();
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers.get('www-authenticate') ?? '', www);
  assert.equal(res.body.reason, reason, res.body.error_description);
  const after = (await provider.stats()).resourceRefused;
  assert.equal((after[reason] ?? 0) - (before[reason] ?? 0), 1, `one more ${reason} refusal`);
  assert.equal(Object.values(after).reduce((a, b) => a + b, 0) - Object.values(before).reduce((a, b) => a + b, 0), 1, 'one refusal in all');
  return res;
}

test('the code exchange with a proof gives a DPoP token bound to the key, which the resource accepts as DPoP', async () => {
  const key = await dpopKey();
  await idp.resetStats();
  const { tokens, requests } = await signIn(idp, key);
  assert.equal(tokens.token_type, 'DPoP');
  assert.equal(requests, 1, 'no nonce asked for');
  const res = await callResource(idp, { token: tokens.access_token, key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body, { sub: 'demo-user-1', token_type: 'DPoP', cnf: { jkt: key.jkt }, scope: tokens.scope });
  const stats = await idp.stats();
  assert.deepEqual(
    [stats.tokenDpopProofs, stats.tokenUseDpopNonce, stats.resourceRequests, stats.resourceAccepted, stats.resourceProofs, stats.resourceDistinctProofs],
    [1, 0, 1, { DPoP: 1, Bearer: 0 }, 1, 1],
  );
});

test('without a proof the provider issues a Bearer token as before, and the resource takes it only as Bearer', async () => {
  const { tokens } = await signIn(idp);
  assert.equal(tokens.token_type, 'Bearer');
  const res = await callResource(idp, { scheme: 'Bearer', token: tokens.access_token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body, { sub: 'demo-user-1', token_type: 'Bearer', cnf: null, scope: tokens.scope });
  // RFC 9449 §7.1: the DPoP scheme is for DPoP-bound tokens.
  const key = await dpopKey();
  await refused(idp, () => callResource(idp, { token: tokens.access_token, key }), { www: /^DPoP error="invalid_token"/, reason: 'unbound_token_as_dpop' });
});

test('the code of a request with dpop_jkt is exchanged only with a proof by that key (RFC 9449 §10)', async () => {
  const key = await dpopKey();
  const other = await dpopKey();
  for (const [name, proofKey] of [['no proof', undefined], ['another key', other]]) {
    const { code, verifier } = await authorizeCode(idp, { jkt: key.jkt });
    const res = await tokenRequest(idp, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT }, { key: proofKey });
    assert.equal(res.status, 400, name);
    assert.equal(res.body.error, 'invalid_grant', `${name}: ${res.body.error_description}`);
  }
});

test('with --dpop-nonce the token endpoint and the resource each ask for a nonce once, exposed to the app (RFC 9449 §8, §9)', async () => {
  const key = await dpopKey();
  await nonceIdp.resetStats();
  const { code, verifier } = await authorizeCode(nonceIdp, { jkt: key.jkt });
  const form = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT };

  const first = await tokenRequest(nonceIdp, form, { key });
  assert.equal(first.status, 400);
  assert.equal(first.body.error, 'use_dpop_nonce');
  const nonce = first.headers.get('dpop-nonce');
  assert.match(nonce ?? '', /^[A-Za-z0-9_-]{16,}$/, 'a DPoP-Nonce header');
  assert.equal(first.headers.get('access-control-allow-origin'), APP_ORIGIN, 'the app may read the reply');
  assert.match(first.headers.get('access-control-expose-headers') ?? '', /(^|,\s*)DPoP-Nonce(\s*,|$)/i, 'and its DPoP-Nonce');

  const second = await tokenRequest(nonceIdp, form, { key, nonce });
  assert.equal(second.status, 200, JSON.stringify(second.body));
  assert.equal(second.body.token_type, 'DPoP');
  let stats = await nonceIdp.stats();
  assert.deepEqual([stats.tokenRequests, stats.tokenDpopProofs, stats.tokenUseDpopNonce], [2, 2, 1], 'exactly one extra round trip');

  // The resource's nonce is its own (§9): the token endpoint's is not taken for it.
  const token = second.body.access_token;
  const asked = await refused(nonceIdp, () => callResource(nonceIdp, { token, key, nonce }), { www: /^DPoP error="use_dpop_nonce"/, reason: 'use_dpop_nonce' });
  const resourceNonce = asked.headers.get('dpop-nonce');
  assert.match(resourceNonce ?? '', /^[A-Za-z0-9_-]{16,}$/, 'a DPoP-Nonce header');
  assert.equal(asked.headers.get('access-control-allow-origin'), APP_ORIGIN);
  assert.match(asked.headers.get('access-control-expose-headers') ?? '', /DPoP-Nonce/);
  assert.match(asked.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/);
  await refused(nonceIdp, () => callResource(nonceIdp, { token, key }), { www: /^DPoP error="use_dpop_nonce"/, reason: 'use_dpop_nonce' });
  const ok = await callResource(nonceIdp, { token, key, nonce: resourceNonce });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual(ok.body.cnf, { jkt: key.jkt });
  stats = await nonceIdp.stats();
  assert.deepEqual([stats.resourceRequests, stats.resourceRefused, stats.resourceAccepted.DPoP], [3, { use_dpop_nonce: 2 }, 1]);

  // The refresh needs a nonce too; the one from the last reply does.
  const refresh = await tokenRequest(nonceIdp, { grant_type: 'refresh_token', refresh_token: second.body.refresh_token }, { key, nonce: second.headers.get('dpop-nonce') ?? nonce });
  assert.equal(refresh.status, 200, JSON.stringify(refresh.body));
  assert.equal(refresh.body.token_type, 'DPoP');
});

test('the preflights allow the DPoP request header, to the token endpoint and to the resource', async () => {
  for (const [name, url, method] of [['token endpoint', idp.endpoints.token_endpoint, 'POST'], ['resource', idp.resource, 'GET']]) {
    const res = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin: APP_ORIGIN, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type,dpop' },
    });
    assert.ok(res.status === 204 || res.status === 200, `${name}: ${res.status}`);
    assert.equal(res.headers.get('access-control-allow-origin'), APP_ORIGIN, name);
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/);
    for (const h of ['dpop', 'authorization', 'content-type']) assert.ok(allowed.includes(h), `${name} allows ${h}: ${allowed}`);
  }
  const stranger = await fetch(idp.resource, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:1', 'access-control-request-method': 'GET' } });
  assert.equal(stranger.headers.get('access-control-allow-origin'), null, 'an origin that is not the app\'s is not allowed');
});

/** rawGet sends a GET with a header given several times (fetch would join them into one). */
function rawGet(url, headers) {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: new Headers(Object.entries(res.headers).map(([k, v]) => [k, String(v)])), body: JSON.parse(data) }));
    }).on('error', reject);
  });
}

test('the resource refuses what RFC 9449 §4.3 and §7 say it must, each for its reason', async (t) => {
  const key = await dpopKey();
  const other = await dpopKey();
  const { tokens } = await signIn(idp, key);
  const token = tokens.access_token;
  const url = idp.resource;
  const proof = (opts = {}) => dpopProof(key, { htm: 'GET', htu: url, accessToken: token, ...opts });
  const dpopInvalid = /^DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="ES256"$/;
  const cases = [
    { name: 'no Authorization', call: () => callResource(idp, {}), www: /^DPoP algs="ES256", Bearer$/, reason: 'no_authorization' },
    { name: 'two Authorization headers (RFC 6750 §3.1)', call: async () => rawGet(url, { authorization: [`DPoP ${token}`, `DPoP ${token}`], dpop: await proof() }), status: 400, www: /^Bearer error="invalid_request"/, reason: 'multiple_authorization' },
    { name: 'an unknown scheme', call: () => callResource(idp, { scheme: 'Basic', token }), www: /^DPoP algs="ES256", Bearer$/, reason: 'unsupported_scheme' },
    { name: 'an unknown token, as Bearer', call: () => callResource(idp, { scheme: 'Bearer', token: 'not-a-token' }), www: /^Bearer error="invalid_token"/, reason: 'token_invalid' },
    { name: 'an unknown token, as DPoP', call: () => callResource(idp, { token: 'not-a-token', key }), www: /^DPoP error="invalid_token"/, reason: 'token_invalid' },
    { name: 'the DPoP-bound token as Bearer (§7.2)', call: () => callResource(idp, { scheme: 'Bearer', token }), www: /^DPoP error="invalid_token"/, reason: 'bound_token_as_bearer' },
    { name: 'the DPoP-bound token as Bearer, with a good proof (§7.2)', call: async () => callResource(idp, { scheme: 'Bearer', token, proof: await proof() }), www: /^DPoP error="invalid_token"/, reason: 'bound_token_as_bearer' },
    { name: 'no proof', call: () => callResource(idp, { token, proof: null }), www: dpopInvalid, reason: 'proof_missing' },
    { name: 'two DPoP headers (§4.3 (1))', call: async () => rawGet(url, { authorization: `DPoP ${token}`, dpop: [await proof(), await proof()] }), www: dpopInvalid, reason: 'proof_multiple' },
    { name: 'not a JWT (§4.3 (2))', call: () => callResource(idp, { token, proof: 'not.a-jwt' }), www: dpopInvalid, reason: 'proof_malformed' },
    { name: 'typ JWT (§4.3 (4))', call: async () => callResource(idp, { token, proof: await proof({ header: { typ: 'JWT' } }) }), www: dpopInvalid, reason: 'proof_typ' },
    { name: 'alg ES384 (§4.3 (5))', call: async () => callResource(idp, { token, proof: await proof({ header: { alg: 'ES384' } }) }), www: dpopInvalid, reason: 'proof_alg' },
    { name: 'no jwk (§4.3 (3))', call: async () => callResource(idp, { token, proof: await proof({ header: { jwk: undefined } }) }), www: dpopInvalid, reason: 'proof_jwk' },
    { name: 'a jwk with a private member (§4.3 (7))', call: async () => callResource(idp, { token, proof: await proof({ header: { jwk: { ...key.jwk, d: 'AAAA' } } }) }), www: dpopInvalid, reason: 'proof_jwk' },
    { name: 'signed by another key than its jwk (§4.3 (6))', call: async () => callResource(idp, { token, proof: await proof({ signWith: other }) }), www: dpopInvalid, reason: 'proof_signature' },
    { name: 'no jti (§4.3 (3))', call: async () => callResource(idp, { token, proof: await proof({ claims: { jti: undefined } }) }), www: dpopInvalid, reason: 'proof_claims' },
    { name: 'no ath (§4.3 (3))', call: async () => callResource(idp, { token, proof: await proof({ accessToken: undefined }) }), www: dpopInvalid, reason: 'proof_claims' },
    { name: 'the ath of another token (§4.3 (12))', call: async () => callResource(idp, { token, proof: await proof({ claims: { ath: ath(`${token}x`) } }) }), www: dpopInvalid, reason: 'proof_ath' },
    { name: 'htm POST on a GET (§4.3 (8))', call: async () => callResource(idp, { token, proof: await proof({ htm: 'POST' }) }), www: dpopInvalid, reason: 'proof_htm' },
    { name: 'the htu of another resource (§4.3 (9))', call: async () => callResource(idp, { token, proof: await proof({ htu: `${url}/other` }) }), www: dpopInvalid, reason: 'proof_htu' },
    { name: 'the htu of another origin (§4.3 (9))', call: async () => callResource(idp, { token, proof: await proof({ htu: url.replace('127.0.0.1', 'localhost') }) }), www: dpopInvalid, reason: 'proof_htu' },
    { name: 'iat ten minutes ago (§4.3 (11))', call: async () => callResource(idp, { token, proof: await proof({ claims: { iat: Math.floor(Date.now() / 1000) - 600 } }) }), www: dpopInvalid, reason: 'proof_iat' },
    { name: 'a good proof by another key (§4.3 (12))', call: () => callResource(idp, { token, key: other }), www: dpopInvalid, reason: 'proof_key' },
  ];
  for (const c of cases) {
    await t.test(c.name, () => refused(idp, c.call, { status: c.status ?? 401, www: c.www, reason: c.reason }));
  }

  // And what it accepts: the control for the rows above.
  const accepted = [
    { name: 'a fresh proof', call: () => callResource(idp, { token, key }) },
    { name: 'the scheme in another case (RFC 9110 §11.1)', call: () => callResource(idp, { scheme: 'dpop', token, key }) },
    { name: 'a query on the request, none in htu (§4.3 (9))', call: async () => callResource(idp, { token, url: `${url}?q=1`, proof: await proof() }) },
    { name: 'a query and fragment in htu (§4.3 (9))', call: async () => callResource(idp, { token, proof: await proof({ htu: `${url}?q=1#f` }) }) },
    { name: 'POST with htm POST', call: () => callResource(idp, { token, key, method: 'POST' }) },
  ];
  for (const c of accepted) {
    await t.test(`accepted: ${c.name}`, async () => {
      const res = await c.call();
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.cnf, { jkt: key.jkt });
    });
  }
});

test('a proof is used once: the same jti again is refused, and the stats count it twice but distinct once (RFC 9449 §11.1)', async () => {
  const key = await dpopKey();
  const { tokens } = await signIn(idp, key);
  const proof = await dpopProof(key, { htm: 'GET', htu: idp.resource, accessToken: tokens.access_token });
  await idp.resetStats();
  const first = await callResource(idp, { token: tokens.access_token, proof });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  await refused(idp, () => callResource(idp, { token: tokens.access_token, proof }), { www: /^DPoP error="invalid_dpop_proof"/, reason: 'proof_replay' });
  const stats = await idp.stats();
  assert.deepEqual([stats.resourceProofs, stats.resourceDistinctProofs], [2, 1]);
});

test('the refresh token is bound to the key: without a proof or with another key it is refused, with the key it works (RFC 9449 §5)', async () => {
  const key = await dpopKey();
  const other = await dpopKey();
  const { tokens } = await signIn(idp, key);
  const form = { grant_type: 'refresh_token', refresh_token: tokens.refresh_token };
  const cases = [
    { name: 'no proof', opts: {} },
    { name: 'a proof by another key', opts: { key: other } },
  ];
  for (const c of cases) {
    const res = await tokenRequest(idp, form, c.opts);
    assert.equal(res.status, 400, `${c.name}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error, 'invalid_grant', `${c.name}: ${res.body.error_description}`);
  }
  // The refusals did not spend the token: its holder still refreshes, and
  // the new access token is bound to the same key.
  const res = await tokenRequest(idp, form, { key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.token_type, 'DPoP');
  const me = await callResource(idp, { token: res.body.access_token, key });
  assert.equal(me.status, 200, JSON.stringify(me.body));
  assert.deepEqual(me.body.cnf, { jkt: key.jkt });
  // The old proof's key cannot use the new token either.
  await refused(idp, () => callResource(idp, { token: res.body.access_token, key: other }), { www: /^DPoP error="invalid_dpop_proof"/, reason: 'proof_key' });
});
