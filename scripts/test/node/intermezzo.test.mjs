// mezzo's JS API in node against the Intermezzo profile of the test
// provider (scripts/dev/intermezzo.mjs): explicit endpoints and no
// discovery, iss "Screening Eagle ID", HS256 ID tokens checked in "tls"
// mode, Intermezzo's error bodies, refresh tokens only with offline_access,
// rotated and revoked for real, and a week-long access token.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { hostileSetup, rejects, traffic, REDIRECT } from '../lib/hostile-lib.mjs';
import { redeemRefreshToken } from '../lib/common.mjs';
import { intermezzoOptions, clientOptions, ISSUER, PREFIX, INTERMEZZO_USER } from '../../dev/intermezzo.mjs';

let env; let tp;
before(async () => {
  env = await hostileSetup(intermezzoOptions({ redirectUris: [REDIRECT] }));
  tp = env.tp;
  const newClient = env.newClient;
  env.newClient = (extra = {}) => newClient({ ...clientOptions(tp, REDIRECT), ...extra });
});
after(() => env.stop());
beforeEach(() => env.reset());

const tokenReplies = () => traffic.filter((t) => t.url === tp.url('token'));
const decode = (jwt) => jwt.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url')));

test('signs in with explicit endpoints only: the custom claims, HS256 in tls mode, a week-long token', async () => {
  const refreshed = [];
  const client = await env.newClient();
  client.on('tokenRefreshed', (d) => refreshed.push(d));
  await env.signIn(client);
  const user = client.getUser();
  assert.equal(user.iss, ISSUER);
  assert.equal(user.sub, INTERMEZZO_USER.sub);
  assert.equal(user.aud, tp.clientId);
  for (const k of ['scp', 'scopes', 'userID', 'userRegion', 'first_name', 'last_name', 'country_code', 'picture']) {
    assert.ok(k in user, `claim ${k} in getUser()`);
  }
  assert.deepEqual(user.scp, ['openid', 'profile', 'email', 'offline_access']);
  assert.equal(user.userID, 4711);

  const [exchange] = tokenReplies();
  assert.equal(exchange.form.get('grant_type'), 'authorization_code');
  assert.equal(exchange.reply.scope, 'openid profile email offline_access', 'scope echoed space-separated');
  assert.ok(exchange.reply.refresh_token, 'a refresh token with offline_access');
  assert.equal(exchange.reply.expires_in, 604800);
  assert.equal(decode(exchange.reply.id_token)[0].alg, 'HS256');
  assert.ok(refreshed[0].expiresAt > Date.now() + 604800e3 - 60e3, 'the token lives a week');
  assert.ok(await client.getToken());

  const paths = new Set(tp.requests.map((r) => r.path));
  for (const p of paths) assert.ok(p.startsWith(`${PREFIX}/`), `only Intermezzo's endpoints were called (${p})`);
  assert.ok(!traffic.some((t) => /well-known|jwks/.test(t.url)), 'no discovery, no key set');
});

// OIDC Core 3.1.3.7: "tls" skips only the signature check.
const refusals = [
  ['alg none', () => { tp.hooks.idTokenSigning = { how: { alg: 'none' } }; }],
  ['a wrong aud', () => { tp.hooks.idTokenClaims = (c) => ({ ...c, aud: 'someone-else' }); }],
  ['a wrong iss', () => { tp.hooks.idTokenClaims = (c) => ({ ...c, iss: 'Screening Eagle ID (staging)' }); }],
  ['an expired token', () => { tp.hooks.idTokenClaims = (c) => ({ ...c, iat: c.iat - 7200, exp: c.iat - 3600 }); }],
];
for (const [name, corrupt] of refusals) {
  test(`tls mode refuses an ID token with ${name}`, async () => {
    corrupt();
    const client = await env.newClient();
    const cb = await env.callback(client);
    const from = tp.requests.length;
    await rejects(client.handleRedirectCallback(cb), 'invalid_id_token');
    assert.equal(client.isAuthenticated(), false);
    assert.equal(client.getUser(), null);
    await rejects(client.getToken(), 'login_required');
    assert.deepEqual(tp.requestsAfter(from, 'token', 'userinfo').filter((r) => r.form.get('grant_type') !== 'authorization_code'), [],
      'nothing but the code exchange');
  });
}

test("Intermezzo's error body: code, description and status reach the caller", async () => {
  tp.fault('token', { status: 403, body: JSON.stringify({ error: 'Forbidden', errorDescription: 'permission denied' }) });
  const client = await env.newClient();
  const err = await rejects(client.handleRedirectCallback(await env.callback(client)), 'Forbidden');
  assert.equal(err.description, 'permission denied');
  assert.equal(err.status, 403);
});

test('the provider verifies PKCE: a wrong code_verifier is refused in its error shape', async () => {
  const client = await env.newClient();
  const cb = new URL(await env.callback(client));
  const res = await fetch(tp.url('token'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: cb.searchParams.get('code'), redirect_uri: REDIRECT, client_id: tp.clientId, code_verifier: 'x'.repeat(43) }),
  });
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { error: 'invalid_grant', errorDescription: 'PKCE verification failed' });
});

test('refresh rotates: the old refresh token is refused afterwards', async () => {
  const { client } = await env.signedIn();
  const first = tokenReplies()[0].reply.refresh_token;
  await client.getToken({ forceRefresh: true });
  const [, renewal] = tokenReplies();
  assert.equal(renewal.form.get('refresh_token'), first);
  assert.notEqual(renewal.reply.refresh_token, first);
  const res = await redeemRefreshToken(tp.url('token'), tp.clientId, first);
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { error: 'invalid_grant', errorDescription: 'refresh token invalid or already used' });
});

test('no offline_access, no refresh token: the session cannot renew', async () => {
  const { client } = await env.signedIn({ scope: 'openid profile' });
  const [exchange] = tokenReplies();
  assert.equal(exchange.reply.scope, 'openid profile');
  assert.equal('refresh_token' in exchange.reply, false);
  await rejects(client.getToken({ forceRefresh: true }), 'login_required');
});

test('logout revokes the refresh token and its access token, then goes to the end-session endpoint', async () => {
  const { client, token } = await env.signedIn();
  await client.getToken({ forceRefresh: true });
  const refreshToken = tokenReplies().at(-1).reply.refresh_token;
  const accessToken = await client.getToken();
  assert.ok(tp.live(refreshToken) && tp.live(accessToken));
  await client.logout();
  assert.equal(tp.count('revoke'), 1);
  assert.equal(tp.live(refreshToken), false, 'refresh token revoked');
  assert.equal(tp.live(accessToken), false, 'access token of the grant revoked');
  assert.equal(tp.live(token), false);
  const end = new URL(location.assigned.at(-1));
  assert.equal(end.origin + end.pathname, tp.url('logout'));
  assert.equal(end.searchParams.get('post_logout_redirect_uri'), REDIRECT);
  assert.ok(end.searchParams.get('id_token_hint'));
});

test('prompt=none without a provider session comes back with login_required', async () => {
  const client = await env.newClient();
  const cb = await env.callback(client, { prompt: 'none' });
  assert.equal(new URL(cb).searchParams.get('error'), 'login_required');
  await rejects(client.handleRedirectCallback(cb), 'login_required');
  assert.equal(tp.count('token'), 0, 'no token request');
});
