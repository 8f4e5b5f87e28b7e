// The OpenID Foundation's relying-party cases for the code flow (and a few
// more), played by the hostile test provider against mezzo's JS API in
// node. Each case names what the provider does wrong; mezzo must reject it
// with the right code and use nothing it got, or accept where the spec says
// accept.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { hostileSetup, rejects, bearerUses, REDIRECT } from '../lib/hostile-lib.mjs';
import { decodeProof } from '../provider/dpop.mjs';
import { newKey } from '../provider/provider.mjs';
import { failsToStart } from '../lib/common.mjs';

let env; let tp;
before(async () => { env = await hostileSetup(); tp = env.tp; });
after(() => env.stop());
beforeEach(() => env.reset());

/**
 * rejectsLogin runs a whole login with the provider corrupted and checks
 * that the callback fails with code, that the client holds nothing, and
 * that no token it got was ever used afterwards.
 */
async function rejectsLogin(code, extra) {
  const client = await env.newClient(extra);
  const cb = await env.callback(client);
  const err = await rejects(client.handleRedirectCallback(cb), code);
  const from = tp.requests.length;
  assert.equal(client.isAuthenticated(), false);
  assert.equal(client.getUser(), null);
  assert.equal(sessionStorage.length, 0, 'the transaction is gone');
  await rejects(client.getToken(), 'login_required');
  await rejects(client.getUserinfo(), 'login_required');
  // The provider's own log, by path: no token or userinfo request at all
  // after the rejection, with or without a token.
  const after = tp.requestsAfter(from, 'token', 'userinfo').map((r) => `${r.method} ${r.path}`);
  assert.deepEqual(after, [], 'no token or userinfo request after the rejection');
  assert.deepEqual(bearerUses(tp, from), [], 'no token was used');
  assert.equal(tp.count('token', (r) => r.form.get('grant_type') === 'refresh_token'), 0, 'no refresh');
  for (const s of tp.secrets()) assert.ok(!err.message.includes(s), 'the error names no secret');
  return err;
}

async function acceptsLogin(extra) {
  const { client } = await env.signedIn(extra);
  assert.equal(client.isAuthenticated(), true);
  assert.equal(client.getUser().sub, 'user-1');
  return client;
}

const claimCases = [
  ['ID token with a wrong iss', (c) => ({ ...c, iss: 'http://127.0.0.1:1' })],
  ['ID token without sub', (c) => { const { sub, ...rest } = c; return rest; }],
  ['ID token with a wrong aud', (c) => ({ ...c, aud: 'someone-else' })],
  ['ID token without aud', (c) => { const { aud, ...rest } = c; return rest; }],
  ['ID token with an untrusted extra audience', (c) => ({ ...c, aud: [c.aud, 'someone-else'], azp: c.aud })],
  ['ID token whose azp is another client', (c) => ({ ...c, azp: 'someone-else' })],
  ['ID token without iat', (c) => { const { iat, ...rest } = c; return rest; }],
  ['ID token issued in the future', (c) => ({ ...c, iat: c.iat + 3600, exp: c.exp + 3600 })],
  ['ID token with exp in the past', (c) => ({ ...c, exp: c.iat - 120 })],
  ['ID token without exp', (c) => { const { exp, ...rest } = c; return rest; }],
  ['ID token with a wrong nonce', (c) => ({ ...c, nonce: 'not-the-nonce' })],
  ['ID token without nonce', (c) => { const { nonce, ...rest } = c; return rest; }],
  ['ID token with a wrong at_hash', (c) => ({ ...c, at_hash: 'AAAAAAAAAAAAAAAAAAAAAA' })],
];
for (const [name, mutate] of claimCases) {
  test(`rejects: ${name}`, async () => {
    tp.hooks.idTokenClaims = (c, { grant }) => (grant === 'authorization_code' ? mutate(c) : c);
    await rejectsLogin('invalid_id_token');
  });
}

const signatureCases = [
  ['ID token with a bad RS256 signature', () => ({ how: tp.keys[0], opts: { badSignature: true } })],
  ['ID token with a bad ES256 signature', () => {
    const ec = newKey('ES256', 'ec-1');
    tp.hooks.jwks = (keys) => [...keys, ec.jwk];
    return { how: ec, opts: { badSignature: true } };
  }],
  ['ID token with alg none', () => ({ how: { alg: 'none' }, opts: { header: { kid: tp.keys[0].kid } } })],
  ['ID token with HS256 when keys are expected', () => ({ how: { alg: 'HS256', secret: 'anything' }, opts: { header: { kid: tp.keys[0].kid } } })],
  ['ID token signed with HS256 using the RSA public key as the secret', () => ({ how: { alg: 'HS256', secret: JSON.stringify(tp.keys[0].jwk) } })],
  ['ID token signed by a key that is not in the JWKS', () => ({ how: newKey('RS256', tp.keys[0].kid) })],
  ['ID token with an unknown kid', () => ({ how: newKey('RS256', 'kid-nobody-has') })],
];
for (const [name, signing] of signatureCases) {
  test(`rejects: ${name}`, async () => {
    tp.hooks.idTokenSigning = signing();
    await rejectsLogin('invalid_id_token');
  });
}

test('accepts: ID token with a good ES256 signature (advertised by the provider)', async () => {
  const ec = newKey('ES256', 'ec-1');
  tp.hooks.jwks = (keys) => [...keys, ec.jwk];
  tp.hooks.idTokenSigning = { how: ec };
  await acceptsLogin();
});

test('accepts: a single key without kid', async () => {
  const key = newKey('RS256', null);
  tp.hooks.jwks = () => [key.jwk];
  tp.hooks.idTokenSigning = { how: key };
  await acceptsLogin();
});

test('accepts: several keys without kid, the right one among them (tried in turn)', async () => {
  const keys = [newKey('RS256', null), newKey('RS256', null), newKey('ES256', null)];
  tp.hooks.jwks = () => keys.map((k) => k.jwk);
  tp.hooks.idTokenSigning = { how: keys[1] };
  await acceptsLogin();
});

test('rejects: several keys without kid, none of them the signer', async () => {
  const keys = [newKey('RS256', null), newKey('RS256', null)];
  tp.hooks.jwks = () => keys.map((k) => k.jwk);
  tp.hooks.idTokenSigning = { how: newKey('RS256', null) };
  await rejectsLogin('invalid_id_token');
});

test('accepts: signing key rotated between two logins (keys refetched once)', async () => {
  const client = await acceptsLogin();
  assert.equal(tp.count('jwks'), 1);
  const rotated = newKey('RS256', 'rsa-2');
  tp.keys = [rotated];
  await env.signIn(client);
  assert.equal(client.getUser().sub, 'user-1');
  assert.equal(tp.count('jwks'), 2, 'one refetch for the unknown kid');
});

test('rejects: discovery names another issuer (no redirect at all)', async () => {
  tp.hooks.discovery = (md) => ({ ...md, issuer: 'http://127.0.0.1:1' });
  await failsToStart(env.mezzo, { issuer: tp.issuer, clientId: tp.clientId, redirectUri: REDIRECT }, 'issuer_mismatch');
  assert.equal(location.assigned.length, 0);
  assert.equal(tp.count('authorize'), 0);
});

test('rejects: discovery without S256 PKCE support', async () => {
  tp.hooks.discovery = (md) => ({ ...md, code_challenge_methods_supported: ['plain'] });
  await failsToStart(env.mezzo, { issuer: tp.issuer, clientId: tp.clientId, redirectUri: REDIRECT }, 'invalid_config');
  assert.equal(location.assigned.length, 0);
});

test('rejects: userinfo about another sub (the result is not used)', async () => {
  const client = await acceptsLogin();
  tp.hooks.userinfo = (c) => ({ ...c, sub: 'user-2', name: 'Mallory' });
  const err = await rejects(client.getUserinfo(), 'invalid_userinfo');
  assert.ok(!err.message.includes('Mallory'));
  assert.equal(client.getUser().name, 'Ada', 'claims unchanged');
  assert.equal(client.isAuthenticated(), true, 'the session itself is fine');
});

test('accepts: userinfo about the signed-in sub', async () => {
  const client = await acceptsLogin();
  const info = await client.getUserinfo();
  assert.equal(info.sub, 'user-1');
  assert.equal(info.email, 'ada@example.test');
});

for (const [name, mutate] of [
  ['refresh returns an ID token with another sub', (c) => ({ ...c, sub: 'user-2' })],
  ['refresh returns an ID token with another iss', (c) => ({ ...c, iss: 'http://127.0.0.1:1' })],
  ['refresh returns an ID token for another audience', (c) => ({ ...c, aud: 'someone-else' })],
]) {
  test(`rejects: ${name}`, async () => {
    const client = await acceptsLogin();
    const before = await client.getToken();
    tp.hooks.idTokenClaims = (c, { grant }) => (grant === 'refresh_token' ? mutate(c) : c);
    await rejects(client.getToken({ forceRefresh: true }), 'invalid_id_token');
    const rejected = tp.issued.accessTokens.at(-1);
    const from = tp.requests.length;
    assert.equal(client.getUser().sub, 'user-1', 'the ID token was not replaced');
    assert.equal(await client.getToken(), before, 'the previous, still valid token is kept');
    await client.getUserinfo();
    assert.ok(!bearerUses(tp, from).includes(`Bearer ${rejected}`), 'the rejected access token is never used');
    assert.deepEqual(tp.requestsAfter(from, 'token', 'userinfo').map((r) => `${r.method} ${r.path} ${r.authorization}`),
      [`GET ${tp.paths.userinfo} Bearer ${before}`], 'after the rejection, only the userinfo call, with the previous token');
  });
}

for (const [name, mutate, code] of [
  ['authorization response with a wrong iss', (p) => { p.set('iss', 'http://127.0.0.1:1'); return p; }, 'issuer_mismatch'],
  ['authorization response without iss', (p) => { p.delete('iss'); return p; }, 'issuer_mismatch'],
  ['authorization response with a wrong state', (p) => { p.set('state', 'forged'); return p; }, 'state_mismatch'],
  ['authorization response without state', (p) => { p.delete('state'); return p; }, 'state_mismatch'],
  ['authorization response carrying an id_token (implicit flow)', (p) => { p.set('id_token', 'x.y.z'); return p; }, 'invalid_callback'],
  ['authorization response with the code twice', (p) => { p.append('code', 'code-2'); return p; }, 'invalid_callback'],
]) {
  test(`rejects: ${name}, with no token request`, async () => {
    tp.hooks.authResponse = mutate;
    await rejectsLogin(code);
    assert.equal(tp.count('token'), 0, 'no token request');
  });
}

for (const [name, mutate] of [
  ['token_type other than Bearer', (r) => ({ ...r, token_type: 'DPoP' })],
  ['token_type missing', (r) => { const { token_type, ...rest } = r; return rest; }],
  ['expires_in negative', (r) => ({ ...r, expires_in: -1 })],
  ['expires_in not a number', (r) => ({ ...r, expires_in: 'soon' })],
  ['access_token missing', (r) => { const { access_token, ...rest } = r; return rest; }],
  ['access_token empty', (r) => ({ ...r, access_token: '' })],
  ['access_token not a string', (r) => ({ ...r, access_token: 42 })],
  ['id_token missing though openid was asked', (r) => { const { id_token, ...rest } = r; return rest; }],
]) {
  test(`rejects: token response with ${name}`, async () => {
    tp.hooks.tokenReply = (r, { grant }) => (grant === 'authorization_code' ? mutate(r) : r);
    await rejectsLogin('invalid_token_response');
  });
}

test('rejects: a 200 token response carrying an error', async () => {
  tp.hooks.tokenReply = () => ({ error: 'invalid_grant', error_description: 'nope' });
  await rejectsLogin('invalid_grant');
});

test('accepts: token_type in another case ("bearer")', async () => {
  tp.hooks.tokenReply = (r) => ({ ...r, token_type: 'bearer' });
  await acceptsLogin();
});

test('accepts: an Intermezzo-shaped error body keeps its description', async () => {
  const client = await env.newClient();
  const cb = await env.callback(client);
  tp.fault('token', { status: 400, body: JSON.stringify({ error: 'invalid_request', errorDescription: 'code expired' }) });
  const err = await rejects(client.handleRedirectCallback(cb), 'invalid_request');
  assert.equal(err.description, 'code expired');
  assert.equal(err.status, 400);
});

// ---- DPoP (RFC 9449): a provider or resource server that does not play by it ----

const DPOP = { dpop: true };
const refreshRequests = (from) => tp.requestsAfter(from, 'token').filter((r) => r.form.get('grant_type') === 'refresh_token');

for (const [name, mutate] of [
  ['token_type Bearer to a DPoP request', (r) => ({ ...r, token_type: 'Bearer' })],
  ['token_type missing with DPoP', (r) => { const { token_type, ...rest } = r; return rest; }],
]) {
  test(`rejects (DPoP): token response with ${name}`, async () => {
    tp.hooks.tokenReply = (r, { grant }) => (grant === 'authorization_code' ? mutate(r) : r);
    await rejectsLogin('invalid_token_response', DPOP); // RFC 9449 §5: a DPoP request gets a DPoP token
  });
}

test('rejects (DPoP): a refresh answered with a Bearer token; the session is kept until its refresh token turns out dead', async () => {
  const { client, token } = await env.signedIn(DPOP);
  tp.hooks.tokenReply = (r, { grant }) => (grant === 'refresh_token' ? { ...r, token_type: 'Bearer' } : r);
  await rejects(client.getToken({ forceRefresh: true }), 'invalid_token_response');
  assert.equal(client.isAuthenticated(), true, 'the session is kept');
  assert.equal(await client.getToken(), token, 'the still-valid token is served');
  tp.hooks = { ...tp.hooks, tokenReply: (r) => r };
  // The rejected reply rotated the refresh token at the provider: the kept
  // one is dead there, so the next renewal ends the session, typed.
  await rejects(client.getToken({ forceRefresh: true }), 'login_required');
  assert.equal(client.isAuthenticated(), false);
});

test('rejects (DPoP): a token endpoint that names a new nonce on every challenge: one retry, then dpop_nonce_failed, never a loop', async () => {
  tp.dpop.nonce = 'n-0';
  tp.dpop.rotate = true;
  const client = await env.newClient(DPOP);
  const from = tp.requests.length;
  const cb = await env.callback(client);
  await rejects(client.handleRedirectCallback(cb), 'dpop_nonce_failed');
  assert.equal(tp.requestsAfter(from, 'token').length, 2, 'exactly two token requests');
  assert.equal(client.isAuthenticated(), false);
});

for (const [name, headers] of [
  ['no DPoP-Nonce header', {}],
  ['a DPoP-Nonce with a space (RFC 9449 §8.1: NQCHAR only)', { 'dpop-nonce': 'a b' }],
  ['a DPoP-Nonce with a quote', { 'dpop-nonce': 'a"b' }],
  ['a 2 KiB DPoP-Nonce', { 'dpop-nonce': 'n'.repeat(2048) }],
]) {
  test(`rejects (DPoP): use_dpop_nonce with ${name}: no retry, dpop_nonce_failed, the session kept`, async () => {
    const { client, token } = await env.signedIn(DPOP);
    const from = tp.requests.length;
    tp.fault('token', { status: 400, headers, body: JSON.stringify({ error: 'use_dpop_nonce' }) });
    await rejects(client.getToken({ forceRefresh: true }), 'dpop_nonce_failed');
    assert.equal(refreshRequests(from).length, 1, 'one request: nothing to retry with');
    assert.equal(await client.getToken(), token, 'the session is kept');
    const proof = await client.createDpopProof('POST', tp.url('token'));
    assert.equal(decodeProof(proof).claims.nonce, undefined, 'the bad nonce was not taken up');
  });
}

test('rejects (DPoP): a resource server that names a new nonce on every challenge: client.fetch rejects dpop_nonce_failed after exactly two requests', async () => {
  const { client } = await env.signedIn(DPOP);
  tp.dpop.resourceNonce = 'r-0';
  tp.dpop.rotate = true;
  const from = tp.requests.length;
  await rejects(client.fetch(tp.url('resource')), 'dpop_nonce_failed');
  assert.equal(tp.requestsAfter(from, 'resource').length, 2);
  assert.equal(client.isAuthenticated(), true, 'a resource server cannot end the session');
});

test('rejects (DPoP): a DPoP-bound token presented without a proof is refused by the resource, and mezzo never sends it so', async () => {
  const { client, token } = await env.signedIn(DPOP);
  const bare = await fetch(tp.url('resource'), { headers: { authorization: `Bearer ${token}` } });
  assert.equal(bare.status, 401, 'RFC 9449 §7.2: the test resource checks the binding');
  const from = tp.requests.length;
  assert.equal((await client.fetch(tp.url('resource'))).status, 200);
  await client.getUserinfo();
  const presented = tp.requests.slice(from).filter((x) => x.authorization);
  assert.equal(presented.length, 2);
  for (const r of presented) {
    assert.match(r.authorization, /^DPoP /, `${r.path}: only the DPoP scheme`);
    assert.ok(r.dpop, `${r.path}: with a proof`);
  }
});
