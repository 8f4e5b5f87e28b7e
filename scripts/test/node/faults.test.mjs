// Faults: token, JWKS and discovery endpoints that are down, fail, stall,
// cut the connection or send garbage, and clocks that disagree. mezzo must
// retry transient faults a bounded number of times and keep the session,
// give a clear MezzoError for permanent ones, never loop, keep tokens in
// memory only, and work again once the provider recovers.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { hostileSetup, rejects, sleep, REDIRECT } from '../lib/hostile-lib.mjs';
import { decodeProof } from '../provider/dpop.mjs';
import { failsToStart, startedClient } from '../lib/common.mjs';
import { MemoryStorage } from '../lib/browser-env.mjs';
import { signJwt } from '../provider/provider.mjs';

let env; let tp;
before(async () => { env = await hostileSetup(); tp = env.tp; });
after(() => env.stop());
beforeEach(() => {
  env.reset();
  globalThis.localStorage = new MemoryStorage(); // a tripwire: must stay empty
});

const refreshes = () => tp.requests.filter((r) => r.path === tp.paths.token && r.form.get('grant_type') === 'refresh_token');

const signedIn = (extra) => env.signedIn(extra);

/** keptSession checks that a failed refresh left the session usable and that the next refresh works. */
async function keptSession(client, token) {
  assert.equal(client.isAuthenticated(), true, 'the session is kept');
  assert.equal(await client.getToken(), token, 'the still-valid token is served');
  const rtBefore = tp.issued.refreshTokens.length;
  const fresh = await client.getToken({ forceRefresh: true });
  assert.notEqual(fresh, token, 'the next refresh works');
  assert.equal(tp.issued.refreshTokens.length, rtBefore + 1);
  assert.equal(sessionStorage.length, 0);
  assert.equal(localStorage.length, 0);
}

for (const status of [500, 502, 503]) {
  test(`token endpoint answers ${status} three times: 3 attempts, network_error with the status, session kept`, async () => {
    const { client, token } = await signedIn();
    tp.fault('token', { status, body: '' }, 3);
    const before = refreshes().length;
    const err = await rejects(client.getToken({ forceRefresh: true }), 'network_error');
    assert.equal(err.status, status);
    assert.equal(refreshes().length - before, 3, 'bounded retries');
    const gaps = refreshes().slice(-3).map((r, i, a) => (i ? r.at - a[i - 1].at : 0)).slice(1);
    assert.ok(gaps.every((g) => g >= 100), `backoff between attempts: ${gaps}`);
    await keptSession(client, token);
  });
}

test('token endpoint answers 503 with Retry-After: 1, then recovers: the retry waits and succeeds', async () => {
  const { client, token } = await signedIn();
  tp.fault('token', { status: 503, headers: { 'retry-after': '1' }, body: JSON.stringify({ error: 'temporarily_unavailable' }) });
  const fresh = await client.getToken({ forceRefresh: true });
  assert.notEqual(fresh, token);
  const [a, b] = refreshes().slice(-2);
  assert.ok(b.at - a.at >= 950, `waited ${b.at - a.at} ms`);
});

test('token endpoint answers 503 with Retry-After: 600: no retry, no loop, session kept', async () => {
  const { client, token } = await signedIn();
  tp.fault('token', { status: 503, headers: { 'retry-after': '600' }, body: JSON.stringify({ error: 'temporarily_unavailable' }) });
  const before = refreshes().length;
  const err = await rejects(client.getToken({ forceRefresh: true }), 'temporarily_unavailable');
  assert.equal(err.status, 503);
  assert.equal(refreshes().length - before, 1);
  await keptSession(client, token);
});

/** renewWhileDown forces a renewal of client with the provider down: network_error; the provider is up again after. */
async function renewWhileDown(client) {
  await tp.down();
  try {
    await rejects(client.getToken({ forceRefresh: true }), 'network_error');
  } finally {
    await tp.up();
  }
}

test('token endpoint down: network_error, session kept, works again once it is up', async () => {
  const { client, token } = await signedIn();
  await renewWhileDown(client);
  await keptSession(client, token);
});

test('token endpoint never answers: timeout after the bounded retries', async () => {
  const { client, token } = await signedIn({ requestTimeoutSeconds: 0.3 });
  tp.fault('token', { hang: true }, 3);
  const before = refreshes().length;
  const started = Date.now();
  await rejects(client.getToken({ forceRefresh: true }), 'timeout');
  assert.ok(Date.now() - started < 5000, 'bounded in time');
  assert.equal(refreshes().length - before, 3, 'at most 3 attempts');
  assert.equal(tp.faults.token.length, 0, 'every attempt met a hanging answer');
  await keptSession(client, token);
});

test('token endpoint resets the connection mid-body: retried, then succeeds', async () => {
  const { client, token } = await signedIn();
  tp.fault('token', { reset: true });
  const before = refreshes().length;
  assert.notEqual(await client.getToken({ forceRefresh: true }), token);
  assert.equal(refreshes().length - before, 2);
});

for (const [name, fault] of [
  ['a truncated JSON body', { status: 200, body: '{"access_token":"at-x","token_type":"Bearer"' }],
  ['a non-JSON body', { status: 200, contentType: 'text/html', body: '<html>maintenance</html>' }],
  ['a 5 MB body', { status: 200, body: `{"access_token":"${'a'.repeat(5 << 20)}","token_type":"Bearer"}` }],
]) {
  test(`token endpoint sends ${name}: invalid_token_response, not retried, session kept`, async () => {
    const { client, token } = await signedIn();
    tp.fault('token', fault);
    const before = refreshes().length;
    const err = await rejects(client.getToken({ forceRefresh: true }), 'invalid_token_response');
    assert.equal(err.status, 200);
    assert.equal(refreshes().length - before, 1, 'a permanent fault is not retried');
    await keptSession(client, token);
  });
}

test('refresh reply lost after rotation: the retry meets invalid_grant, the session ends once, no loop', async () => {
  const { client } = await signedIn();
  const expired = [];
  client.on('sessionExpired', (d) => expired.push(d));
  tp.fault('token', { after: 'lose-reply' });
  const before = refreshes().length;
  await rejects(client.getToken({ forceRefresh: true }), 'login_required');
  assert.equal(refreshes().length - before, 2, 'one retry, then stop');
  const [first, retry] = refreshes().slice(-2);
  assert.equal(first.form.get('refresh_token'), retry.form.get('refresh_token'), 'the retry repeats the unanswered request');
  assert.equal(expired.length, 1);
  assert.equal(client.isAuthenticated(), false);
  await sleep(300);
  assert.equal(refreshes().length - before, 2, 'nothing more in the background');
  await env.signIn(client); // and a new login works
  assert.equal(client.isAuthenticated(), true);
});

test('JWKS down at login: network_error, no session; a new login works when it is back', async () => {
  const client = await env.newClient();
  const cb = await env.callback(client);
  // Only the JWKS is down (the token request must get through): every
  // attempt has its connection cut before an answer.
  tp.fault('jwks', { destroy: true }, 3);
  await rejects(client.handleRedirectCallback(cb), 'network_error');
  assert.equal(tp.count('jwks'), 3, 'bounded retries');
  assert.equal(client.isAuthenticated(), false);
  assert.equal(sessionStorage.length, 0);
  await env.signIn(client);
  assert.equal(client.getUser().sub, 'user-1');
});

// times: how many answers are broken. A transient fault (503) breaks all
// three attempts; a permanent one is not retried, so one suffices, except an
// empty set, which also answers the refetch that an unknown kid triggers.
for (const [name, fault, times, code] of [
  ['answers 503', { status: 503, body: '' }, 3, 'network_error'],
  ['sends non-JSON', { status: 200, contentType: 'text/html', body: '<html>' }, 1, 'invalid_id_token'],
  ['sends a 5 MB body', { status: 200, body: `{"keys":[],"x":"${'a'.repeat(5 << 20)}"}` }, 1, 'invalid_id_token'],
  ['sends no keys', { status: 200, body: '{"keys":[]}' }, 2, 'invalid_id_token'],
]) {
  test(`JWKS ${name}: ${code} after ${times} request(s), no session, nothing used`, async () => {
    const client = await env.newClient();
    const cb = await env.callback(client);
    tp.fault('jwks', fault, times);
    await rejects(client.handleRedirectCallback(cb), code);
    assert.equal(tp.count('jwks'), times, 'bounded requests');
    assert.equal(client.isAuthenticated(), false);
    assert.equal(tp.count('userinfo'), 0);
    assert.equal(tp.faults.jwks.length, 0, 'every broken answer was used');
    // A set that parsed but lacked the kid may be refetched for an unknown
    // kid at most every 10 s, so that case recovers with a new client.
    const again = fault.body === '{"keys":[]}' ? await env.newClient() : client;
    await env.signIn(again);
    assert.equal(again.isAuthenticated(), true, 'works once the JWKS is back');
  });
}

for (const [name, fault, times, code] of [
  ['answers 500', { status: 500, body: '' }, 3, 'network_error'],
  ['sends non-JSON', { status: 200, contentType: 'text/html', body: '<html>' }, 1, 'invalid_config'],
  ['sends a truncated document', { status: 200, body: '{"issuer":"http://127.0.0.1' }, 1, 'invalid_config'],
  ['sends a 5 MB body', { status: 200, body: `{"x":"${'a'.repeat(5 << 20)}"}` }, 1, 'invalid_config'],
  ['resets the connection', { reset: true }, 3, 'network_error'],
]) {
  test(`discovery ${name}: ${code} from client.ready and the first call, after ${times} request(s) each; a client works once it recovers`, async () => {
    tp.fault('discovery', fault, 2 * times);
    const counts = [];
    await failsToStart(env.mezzo, { issuer: tp.issuer, clientId: tp.clientId, redirectUri: REDIRECT }, code, () => counts.push(tp.count('discovery')));
    assert.deepEqual(counts, [times, 2 * times], 'bounded requests, and the first call tried again');
    assert.equal(location.assigned.length, 0);
    await env.newClient();
  });
}

test('discovery answers 503 once: retried, createClient works', async () => {
  tp.fault('discovery', { status: 503, body: '' });
  await env.newClient();
  assert.equal(tp.count('discovery'), 2);
});

test('discovery down, then up: network_error, then a working client', async () => {
  await tp.down();
  try {
    await rejects(startedClient(env.mezzo, { issuer: tp.issuer, clientId: tp.clientId, redirectUri: REDIRECT }), 'network_error');
  } finally {
    await tp.up();
  }
  await env.signIn(await env.newClient());
});

test('discovery never answers: timeout after the bounded retries', async () => {
  tp.fault('discovery', { hang: true }, 3);
  await rejects(startedClient(env.mezzo, { issuer: tp.issuer, clientId: tp.clientId, redirectUri: REDIRECT, requestTimeoutSeconds: 0.3 }), 'timeout');
  assert.equal(tp.count('discovery'), 3, 'at most 3 attempts');
});

// Clocks: the provider's clock runs 10 minutes ahead of or behind ours.
const TEN_MIN = 600;

/** renewalDelay signs in and returns ms from login to the automatic refresh. */
async function renewalDelay(extra) {
  const client = await env.newClient(extra);
  await env.signIn(client);
  const loggedIn = Date.now();
  const before = refreshes().length;
  for (let i = 0; i < 60 && refreshes().length === before; i++) await sleep(50);
  assert.ok(refreshes().length > before, 'renewed by itself');
  return refreshes().at(-1).at - loggedIn;
}

test('provider clock 10 min ahead: the ID token is refused with the default leeway', async () => {
  tp.clockOffset = TEN_MIN;
  await rejects((async () => env.signIn(await env.newClient()))(), 'invalid_id_token');
});

test('provider clock 10 min ahead, clockSkewSeconds 660: accepted and renewed on time', async () => {
  tp.clockOffset = TEN_MIN;
  tp.accessTokenTtl = 2;
  const ms = await renewalDelay({ clockSkewSeconds: 660 });
  assert.ok(ms >= 700 && ms <= 1800, `renewed ${ms} ms after login (expires_in 2 s, renewal at half life)`);
});

test('provider clock 10 min behind: accepted with the default leeway and renewed on time', async () => {
  tp.clockOffset = -TEN_MIN;
  tp.accessTokenTtl = 2;
  const ms = await renewalDelay();
  assert.ok(ms >= 700 && ms <= 1800, `renewed ${ms} ms after login`);
});

test('provider clock 10 min behind with 5-minute ID tokens: refused by default, accepted with clockSkewSeconds 660', async () => {
  tp.clockOffset = -TEN_MIN;
  tp.hooks.idTokenClaims = (c) => ({ ...c, exp: c.iat + 300 });
  await rejects((async () => env.signIn(await env.newClient()))(), 'invalid_id_token');
  await env.signIn(await env.newClient({ clockSkewSeconds: 660 }));
});

test('provider clock 10 min ahead, no expires_in, JWT access token: lifetime read with the provider\'s Date, renewed on time', async () => {
  tp.clockOffset = TEN_MIN;
  tp.hooks.idTokenClaims = (c) => { const { at_hash, ...rest } = c; return rest; };
  tp.hooks.tokenReply = (r) => {
    const { expires_in, ...rest } = r;
    return { ...rest, access_token: signJwt({ iss: tp.issuer, sub: 'user-1', exp: tp.now() + 2, jti: r.access_token }, { alg: 'HS256', secret: 'resource-server' }) };
  };
  const ms = await renewalDelay({ clockSkewSeconds: 660 });
  assert.ok(ms >= 700 && ms <= 1800, `renewed ${ms} ms after login`);
});

// ---- DPoP (RFC 9449): the same faults with proofs ----

test('DPoP: token endpoint answers 503 twice, then recovers: each attempt has a fresh proof, the session is kept', async () => {
  const { client, token } = await signedIn({ dpop: true });
  tp.fault('token', { status: 503, body: '' }, 2);
  const before = refreshes().length;
  const fresh = await client.getToken({ forceRefresh: true });
  assert.notEqual(fresh, token);
  const attempts = refreshes().slice(before);
  assert.equal(attempts.length, 3);
  const jtis = new Set(attempts.map((r) => decodeProof(r.dpop).claims.jti));
  assert.equal(jtis.size, 3, 'RFC 9449 §11.1: a proof is never sent twice, a retry included');
});

test('DPoP: token endpoint down during a renewal: network_error, the session and its key kept, works again once it is up', async () => {
  const { client, token } = await signedIn({ dpop: true });
  const jkt = await client.getDpopThumbprint();
  await renewWhileDown(client);
  await keptSession(client, token);
  assert.equal(await client.getDpopThumbprint(), jkt);
  assert.equal(refreshes().at(-1).dpop !== null, true, 'the renewal that worked carried a proof');
});

test('DPoP: a resource request whose nonce retry meets a dead server rejects as fetch does, and the nonce is kept', async () => {
  const { client } = await signedIn({ dpop: true });
  tp.dpop.resourceNonce = 'r-1';
  tp.fault('resource', { status: 401, headers: { 'dpop-nonce': 'r-1', 'www-authenticate': 'DPoP error="use_dpop_nonce"' }, body: '{}' });
  tp.fault('resource', { destroy: true });
  await assert.rejects(client.fetch(tp.url('resource')), TypeError, 'the retry fails as globalThis.fetch fails');
  assert.equal(client.isAuthenticated(), true);
  const res = await client.fetch(tp.url('resource'));
  assert.equal(res.status, 200, 'the next request carries the learnt nonce at once');
  assert.equal(tp.requests.filter((r) => r.path === tp.paths.resource).length, 3);
});
