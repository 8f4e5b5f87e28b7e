// The JS API, loaded from web/dist/mezzo.js in node and driven against the
// real dev identity provider (oidc-provider) over HTTP on 127.0.0.1.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { APP, resetBrowser, traffic, loadMezzo } from '../lib/browser-env.mjs';
import { clientEnv, failsToStart, loadFreshMezzo, redeemRefreshToken, rejects, sleep } from '../lib/common.mjs';
import { startIdp } from '../../dev/idp/harness.mjs';

const REDIRECT = `${APP}/callback`;
const TTL = 2; // seconds; renewal after half of it
let idp; let mezzo; let discovery; let env;

before(async () => {
  mezzo = loadMezzo();
  idp = await startIdp({ accessTokenTtl: TTL, redirectUris: [REDIRECT], postLogoutRedirectUris: [REDIRECT, `${APP}/bye`] });
  discovery = await idp.discovery();
  env = clientEnv(mezzo, idp, { redirectUri: REDIRECT });
});
after(() => idp?.stop());
beforeEach(() => resetBrowser(`${APP}/`));

// Each test closes its clients, so no renewal timer of an earlier test
// adds requests to the provider's counters.
afterEach(() => env.closeClients());

const newClient = (extra) => env.newClient(extra);

/** transaction returns the pending login transaction from sessionStorage. */
function transaction() {
  return JSON.parse(sessionStorage.getItem('mezzo.transaction'));
}

/** signIn logs in through the provider's form and completes the callback. */
const signIn = (client, opts) => env.signIn(client, opts);

const tokenRequests = () => traffic.filter((t) => t.url === discovery.token_endpoint);

test('a signed-out page answers before the module has started, and its first login() works', async () => {
  // A page that has loaded nothing: its own copy of the loader, its own marks.
  const fresh = loadFreshMezzo();
  performance.clearMarks();
  const marks = () => ['mezzo:ready', 'mezzo:compiled', 'mezzo:started', 'mezzo:module-ready']
    .map((name) => performance.getEntriesByName(name).map((e) => e.startTime));
  const client = await fresh.createClient({ issuer: idp.issuer, clientId: idp.clientId, redirectUri: REDIRECT });
  assert.deepEqual([client.isAuthenticated(), client.getUser(), client.isRedirectCallback()], [false, null, false]);
  const [ready, compiled, started, moduleReady] = marks();
  assert.equal(ready.length, 1, 'mezzo:ready marked when createClient resolved');
  assert.deepEqual([compiled, started, moduleReady], [[], [], []], 'and nothing of the module yet');
  assert.equal(fresh.runtimeStats(), null, 'no Go runtime in the page yet');
  try {
    const freshEnv = clientEnv(fresh, idp, { redirectUri: REDIRECT });
    location.href = await freshEnv.callback(client, { returnTo: '/first' }); // login() waits for the module
    const after = marks();
    assert.ok(after.every((m) => m.length === 1), `each mark once: ${JSON.stringify(after)}`);
    const [[r], [c], [s], [m]] = after;
    assert.ok(r <= c && c <= s && s <= m, 'ready, then compiled, started and module-ready');
    assert.deepEqual(await client.handleRedirectCallback(), { returnTo: '/first' });
    assert.equal(client.isAuthenticated(), true);
    assert.equal(client.getUser().sub, 'demo-user-1');
  } finally {
    client.close();
  }
});

test('login URL carries the PKCE authorization request', async () => {
  const client = await newClient();
  await client.login({ returnTo: '/inbox' });
  assert.equal(location.assigned.length, 1);
  const u = new URL(location.assigned[0]);
  assert.equal(`${u.origin}${u.pathname}`, discovery.authorization_endpoint);
  const q = u.searchParams;
  assert.equal(q.get('response_type'), 'code');
  assert.equal(q.get('client_id'), idp.clientId);
  assert.equal(q.get('redirect_uri'), REDIRECT);
  assert.equal(q.get('scope'), 'openid profile email offline_access');
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  assert.ok(q.get('state').length >= 43 && q.get('nonce').length >= 43);
  const tx = transaction();
  assert.equal(sessionStorage.length, 1, 'exactly one key');
  assert.equal(tx.state, q.get('state'));
  assert.equal(tx.return_to, '/inbox');
  assert.ok(!location.assigned[0].includes(tx.verifier), 'the verifier is not in the URL');
});

test('callback completes the login and cleans up', async () => {
  const client = await newClient();
  const before = tokenRequests().length;
  const { returnTo } = await signIn(client, { returnTo: '/inbox?tab=2' });
  assert.equal(returnTo, '/inbox?tab=2');
  assert.equal(client.isAuthenticated(), true);
  assert.equal(client.getUser().sub, 'demo-user-1');
  assert.equal(client.getUser().email, idp.user.login);
  assert.equal(sessionStorage.length, 0, 'sessionStorage holds nothing after a callback');
  assert.equal(location.href, REDIRECT, 'code, state and iss removed with history.replaceState');
  const exchange = tokenRequests().slice(before);
  assert.equal(exchange.length, 1);
  assert.deepEqual([...exchange[0].form.keys()].sort(), ['client_id', 'code', 'code_verifier', 'grant_type', 'redirect_uri']);
  const token = await client.getToken();
  assert.equal(token, exchange[0].reply.access_token);
});

test('isRedirectCallback recognises only our redirect URI with a response', async () => {
  const client = await newClient();
  assert.equal(client.isRedirectCallback(`${REDIRECT}?code=a&state=b`), true);
  assert.equal(client.isRedirectCallback(`${REDIRECT}#code=a&state=b`), true);
  assert.equal(client.isRedirectCallback(`${REDIRECT}?tab=1`), false);
  assert.equal(client.isRedirectCallback(`${APP}/other?code=a&state=b`), false);
  assert.equal(client.isRedirectCallback('::'), false);
});

for (const [name, mutate, code] of [
  ['a changed state is rejected', (u) => u.searchParams.set('state', 'forged'), 'state_mismatch'],
  ['a missing state is rejected', (u) => u.searchParams.delete('state'), 'state_mismatch'],
  ['a wrong iss is rejected', (u) => u.searchParams.set('iss', 'http://127.0.0.1:1'), 'issuer_mismatch'],
  ['a missing iss is rejected (the provider promises one)', (u) => u.searchParams.delete('iss'), 'issuer_mismatch'],
  ['a duplicated parameter is rejected', (u) => u.searchParams.append('code', 'other'), 'invalid_callback'],
  ['an injected access_token is rejected', (u) => u.searchParams.set('access_token', 'x'), 'invalid_callback'],
]) {
  test(`${name}, with no token request`, async () => {
    const client = await newClient();
    await client.login();
    const callback = new URL(await idp.authorize(location.assigned.at(-1)));
    mutate(callback);
    location.href = callback.href;
    const before = tokenRequests().length;
    await rejects(client.handleRedirectCallback(), code);
    assert.equal(tokenRequests().length, before, 'no token request after a rejection');
    assert.equal(sessionStorage.length, 0, 'the transaction is removed on failure too');
    assert.equal(client.isAuthenticated(), false);
    assert.equal(new URL(location.href).searchParams.has('code'), false, 'the code left the address bar');
  });
}

test('a callback without a pending login is missing_transaction; a replay is refused', async () => {
  const client = await newClient();
  await rejects(client.handleRedirectCallback(`${REDIRECT}?code=x&state=y`), 'missing_transaction');
  await client.login();
  const callback = await idp.authorize(location.assigned.at(-1));
  await client.handleRedirectCallback(callback);
  const before = tokenRequests().length;
  // The same callback again, as a reload of the callback page would send it.
  await rejects(client.handleRedirectCallback(callback), 'invalid_callback');
  assert.equal(tokenRequests().length, before, 'no token request for a replay');
  assert.equal(client.isAuthenticated(), true, 'a replay does not end the session');
});

test('an error response from the provider becomes its code', async () => {
  const client = await newClient();
  await client.login();
  const { state } = transaction();
  await rejects(client.handleRedirectCallback(`${REDIRECT}?error=access_denied&error_description=User+said+no&state=${state}&iss=${encodeURIComponent(idp.issuer)}`), 'access_denied');
});

test('getToken serves the cached token without token requests', async () => {
  const { client, token: first } = await env.signedIn();
  const before = tokenRequests().length;
  const many = await Promise.all(Array.from({ length: 1000 }, () => client.getToken()));
  assert.ok(many.every((t) => t === first));
  assert.equal(tokenRequests().length, before);
});

test('concurrent getToken calls at renewal share exactly one refresh, which rotates', async () => {
  const client = await newClient();
  let expiresAt = 0;
  client.on('tokenRefreshed', (d) => { expiresAt = d.expiresAt; });
  await signIn(client);
  const first = await client.getToken();
  const login = tokenRequests().at(-1).reply;
  const refreshes = () => tokenRequests().filter((t) => t.form.get('grant_type') === 'refresh_token');
  const sent = refreshes().length;
  const before = (await idp.stats()).refreshRequests;
  // A 2 s token is renewed at half its life. Sleep until shortly before
  // then, and busy-wait past it: the event loop is blocked, so mezzo's own
  // renewal timer cannot fire, and the 50 callers below all arrive at a
  // token that needs renewal with no refresh under way.
  const refreshAt = expiresAt - TTL * 500;
  await sleep(Math.max(0, refreshAt - 400 - Date.now()));
  assert.equal((await idp.stats()).refreshRequests, before, 'no refresh before the burst');
  while (Date.now() < refreshAt + 20); // busy wait: no timer runs
  assert.equal(refreshes().length, sent, 'no refresh had started when the callers arrived');
  const results = await Promise.all(Array.from({ length: 50 }, () => client.getToken()));
  assert.equal(new Set(results).size, 1, 'every caller got the same token');
  assert.notEqual(results[0], first, 'a renewed token');
  assert.equal((await idp.stats()).refreshRequests - before, 1, 'exactly one refresh request for the 50 callers');
  assert.equal(refreshes().length - sent, 1, 'and exactly one sent by the client');
  const refresh = refreshes().at(-1);
  assert.equal(refresh.reply.access_token, results[0], 'the callers got the refresh\'s new token');
  assert.equal(refresh.form.get('refresh_token'), login.refresh_token);
  assert.ok(refresh.reply.refresh_token && refresh.reply.refresh_token !== login.refresh_token, 'rotated');
});

test('forceRefresh renews and never resends a rotated refresh token', async () => {
  const { client } = await env.signedIn();
  const a = await client.getToken();
  const b = await client.getToken({ forceRefresh: true });
  const c = await client.getToken({ forceRefresh: true });
  assert.notEqual(a, b);
  assert.notEqual(b, c);
  const sent = tokenRequests().filter((t) => t.form.get('grant_type') === 'refresh_token').map((t) => t.form.get('refresh_token'));
  assert.equal(new Set(sent).size, sent.length, 'no refresh token sent twice');
});

test('invalid_grant ends the session: sessionExpired, then login_required', async () => {
  const client = await newClient();
  const expired = [];
  const refreshed = [];
  client.on('sessionExpired', (d) => expired.push(d));
  client.on('tokenRefreshed', (d) => refreshed.push(d));
  await signIn(client);
  const login = tokenRequests().at(-1).reply;
  await client.getToken({ forceRefresh: true });
  // Reusing the rotated token makes the provider revoke the whole grant.
  const reuse = await redeemRefreshToken(discovery.token_endpoint, idp.clientId, login.refresh_token);
  assert.equal((await reuse.json()).error, 'invalid_grant');
  await rejects(client.getToken({ forceRefresh: true }), 'login_required');
  assert.equal(expired.length, 1);
  assert.equal(expired[0].code, 'login_required');
  assert.equal(client.isAuthenticated(), false);
  assert.equal(client.getUser(), null);
  await rejects(client.getToken(), 'login_required');
  for (const d of [...expired, ...refreshed]) {
    const text = JSON.stringify(d);
    for (const t of tokenRequests()) {
      if (t.reply?.access_token) assert.ok(!text.includes(t.reply.access_token), 'events never carry a token');
      if (t.reply?.refresh_token) assert.ok(!text.includes(t.reply.refresh_token), 'events never carry a token');
    }
  }
});

test('logout clears everything, revokes and ends the provider session', async () => {
  const { client } = await env.signedIn();
  const refreshToken = tokenRequests().at(-1).reply.refresh_token;
  await client.logout({ returnTo: '/bye' });
  assert.equal(client.isAuthenticated(), false);
  assert.equal(client.getUser(), null);
  await rejects(client.getToken(), 'login_required');
  const revocation = traffic.filter((t) => t.url === discovery.revocation_endpoint).at(-1);
  assert.equal(revocation.form.get('token'), refreshToken);
  assert.equal(revocation.status, 200);
  const end = new URL(location.assigned.at(-1));
  assert.equal(`${end.origin}${end.pathname}`, discovery.end_session_endpoint);
  assert.equal(end.searchParams.get('client_id'), idp.clientId);
  assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${APP}/bye`);
  assert.ok(end.searchParams.get('id_token_hint'));
  const dead = await redeemRefreshToken(discovery.token_endpoint, idp.clientId, refreshToken);
  assert.equal(dead.status, 400, 'the revoked refresh token is dead');
});

test('client.fetch adds the bearer token', async () => {
  const { client } = await env.signedIn();
  const res = await client.fetch(discovery.userinfo_endpoint, { headers: { accept: 'application/json' } });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).sub, 'demo-user-1');
});

test('client.fetch sends the token only to the app, its provider and apiOrigins, over https: or loopback http:; anything else rejects origin_not_allowed and sends nothing', async () => {
  const seen = [];
  const api = createServer((req, res) => { seen.push(req.headers.authorization ?? null); res.end('ok'); });
  await new Promise((r) => { api.listen(0, '127.0.0.1', r); });
  const listed = `http://127.0.0.1:${api.address().port}`;
  try {
    const { client, token } = await env.signedIn({ apiOrigins: [listed, 'http://api.example.test'] });
    const from = traffic.length;
    for (const url of ['https://api.example/orders', 'http://api.example.test/orders', `http://127.0.0.1:${api.address().port + 1}/x`]) {
      await rejects(client.fetch(url), 'origin_not_allowed');
      await rejects(client.fetch(new Request(url, { method: 'POST', body: 'x' })), 'origin_not_allowed');
    }
    assert.equal(traffic.length, from, 'nothing was sent');
    assert.equal((await client.fetch(`${listed}/orders`)).status, 200, 'a listed origin gets it');
    assert.equal((await client.fetch(discovery.userinfo_endpoint)).status, 200, 'the provider gets it');
    assert.deepEqual(seen, [`Bearer ${token}`], 'the listed API saw the token, once; no other server did');
  } finally {
    api.close();
  }
});

test('on a callback page createClient takes the response out of the address bar before it awaits anything; isRedirectCallback and handleRedirectCallback still have it', async () => {
  // What stays of each callback URL: the response's parameters go, from
  // the query or the fragment that carries it; the rest as it was written.
  for (const [name, href, left] of [
    ['query', `${REDIRECT}?code=c&state=s&iss=i`, REDIRECT],
    ['keeps the others, in their order', `${REDIRECT}?tab=2&code=c&b=1&state=s&session_state=x`, `${REDIRECT}?tab=2&b=1`],
    ['fragment', `${REDIRECT}#code=c&state=s`, REDIRECT],
    ['error response', `${REDIRECT}?error=access_denied&error_description=x&error_uri=u&state=s`, REDIRECT],
  ]) {
    resetBrowser(href);
    const created = mezzo.createClient({ issuer: idp.issuer, clientId: idp.clientId, redirectUri: REDIRECT });
    assert.equal(location.href, left, `${name}: cleaned before createClient awaited anything`);
    const client = await created;
    assert.equal(client.isRedirectCallback(), true, `${name}: still this page's callback`);
    client.close();
  }
  resetBrowser(`${REDIRECT}?x=1#frag`);
  (await mezzo.createClient({ issuer: idp.issuer, clientId: idp.clientId, redirectUri: REDIRECT })).close();
  assert.equal(location.href, `${REDIRECT}?x=1#frag`, 'a page that is no callback is left alone');

  // A real sign-in whose callback page is cleaned at once, then completed.
  resetBrowser(`${APP}/`);
  const first = await newClient();
  await first.login();
  const callback = await idp.authorize(location.assigned.at(-1));
  const saved = sessionStorage.getItem('mezzo.transaction');
  resetBrowser(callback);
  sessionStorage.setItem('mezzo.transaction', saved);
  const client = await newClient();
  assert.equal(new URL(location.href).searchParams.has('code'), false, 'the code left the address bar at createClient');
  assert.equal(client.isRedirectCallback(), true);
  assert.equal(client.isRedirectCallback(location.href), true, 'an app that passes location.href, read after createClient, means the callback');
  await client.handleRedirectCallback();
  assert.equal(client.isAuthenticated(), true, 'the callback the page arrived with completed the login');
  assert.equal(client.isRedirectCallback(), false, 'handled: no longer a callback');
});

test('getUserinfo returns the provider\'s claims for the signed-in user', async () => {
  const client = await newClient();
  await rejects(client.getUserinfo(), 'login_required');
  await signIn(client);
  const info = await client.getUserinfo();
  assert.equal(info.sub, 'demo-user-1');
  assert.equal(info.email, idp.user.login);
  const call = traffic.filter((t) => t.url === discovery.userinfo_endpoint).at(-1);
  assert.equal(call.method, 'GET');
});

test('bad options are rejected with typed errors: by client.ready and the first protocol call', async () => {
  await rejects(mezzo.createClient(null), 'invalid_config'); // the loader's own check, at once
  for (const [options, code] of [
    [{ clientId: 'x' }, 'invalid_config'],
    [{ clientId: 'x', redirectUri: REDIRECT, issuer: idp.issuer, scope: 42 }, 'invalid_config'],
    [{ clientId: 'x', redirectUri: REDIRECT, issuer: idp.issuer, clientID: 'typo' }, 'invalid_config'],
    [{ clientId: 'x', redirectUri: REDIRECT, issuer: 'http://idp.example' }, 'insecure_endpoint'],
    [{ clientId: 'x', redirectUri: `${REDIRECT}#frag`, issuer: idp.issuer }, 'invalid_config'],
    [{ clientId: 'x', redirectUri: REDIRECT, issuer: `${idp.issuer}/other` }, 'invalid_config'], // discovery fails: no such issuer
  ]) {
    await failsToStart(mezzo, options, code);
  }
  assert.equal(location.assigned.length, 0, 'no login started');
  const client = await newClient();
  assert.throws(() => client.on('bogus', () => {}), (e) => e.code === 'invalid_argument');
  await rejects(client.login({ returnTo: 5 }), 'invalid_argument');
  await rejects(client.login({ extraParams: { state: 'mine' } }), 'invalid_config');
});

test('close forgets the session without network or navigation', async () => {
  const { client } = await env.signedIn();
  const requests = traffic.length;
  const navigations = location.assigned.length;
  client.close();
  client.close(); // idempotent
  assert.equal(client.isAuthenticated(), false);
  assert.equal(client.getUser(), null);
  await rejects(client.getToken(), 'client_closed');
  await rejects(client.login(), 'client_closed');
  assert.equal(traffic.length, requests);
  assert.equal(location.assigned.length, navigations);
});
