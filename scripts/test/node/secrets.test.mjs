// Bad input and secrets, against the hostile test provider: no token, code,
// verifier or ID token escapes into an error, an event, the console or a
// URL on any failure path; the login transaction never outlives its
// callback; returnTo cannot leave the origin; and state, nonce and PKCE
// verifier are fresh, well-formed and distinct every time.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { hostileSetup, rejects, until, APP, REDIRECT, traffic } from '../lib/hostile-lib.mjs';
import {
  callbackFailures, refreshFailures, transactionCases, foreignReturnTo, sameOriginReturnTo, foreignLogoutReturnTo, LOGINS, DISTINCT_VALUES,
} from '../lib/secrets-cases.mjs';

const TX_KEY = 'mezzo.transaction';
let env; let tp;
before(async () => {
  env = await hostileSetup();
  tp = env.tp;
  // Every client's events land in seen.events; every sign-in keeps its verifier.
  env.onClient = (client) => {
    for (const type of ['tokenRefreshed', 'sessionExpired', 'error']) client.on(type, (detail) => seen.events.push({ type, detail }));
  };
  env.afterLogin = keepVerifier;
});
after(() => env.stop());

// seen collects, per test, everything mezzo told the app: rejections,
// event payloads and console output.
let seen;
const verifiers = []; // every PKCE verifier of the run (secrets too)
const CONSOLE = ['log', 'info', 'warn', 'error', 'debug'];
const realConsole = Object.fromEntries(CONSOLE.map((k) => [k, console[k]]));
beforeEach(() => {
  env.reset();
  seen = { errors: [], events: [], console: [] };
  for (const k of CONSOLE) {
    console[k] = (...args) => {
      seen.console.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 5 }))).join(' '));
      realConsole[k](...args);
    };
  }
});
afterEach(() => Object.assign(console, realConsole));

const newClient = (extra) => env.newClient(extra);

/** keepVerifier keeps the pending transaction's PKCE verifier and returns the transaction. */
function keepVerifier() {
  const tx = JSON.parse(sessionStorage.getItem(TX_KEY));
  assert.ok(tx?.verifier, 'login saved a transaction with a verifier');
  verifiers.push(tx.verifier);
  return tx;
}

/** login runs client.login and keeps its PKCE verifier, read from the transaction. */
async function login(client, opts) {
  await client.login(opts);
  return keepVerifier();
}

/** callback logs in and returns the provider's redirect back (not yet handled). */
const callback = (client, opts) => env.callback(client, opts);

/** signIn completes a login the way an app does: from location.href. */
const signIn = (client, opts) => env.signIn(client, opts);

/** fails asserts a MezzoError of code and keeps it for the scan. */
async function fails(promise, code) {
  const err = await rejects(promise, code);
  seen.errors.push(err);
  return err;
}

const short = (s) => (s.length > 24 ? `${s.slice(0, 20)}…` : s);

/**
 * assertNoLeak scans everything mezzo showed the app in this test for the
 * secrets: every access token, refresh token and code the provider issued,
 * every verifier and every ID token. The only place an ID token may appear
 * is the end-session URL's id_token_hint; the token request bodies are
 * where the secrets belong and are not scanned, except to prove the scan
 * recognises them.
 */
function assertNoLeak() {
  const idTokens = tp.issued.idTokens;
  const secrets = [...tp.secrets(), ...verifiers, ...idTokens];
  assert.ok(secrets.length > 0, 'there are secrets to look for');
  const check = (where, text) => {
    const found = secrets.filter((s) => text.includes(s));
    const shown = found.reduce((t, s) => t.replaceAll(s, `<${short(s)}>`), text).slice(0, 300);
    assert.deepEqual(found.map(short), [], `${where} carries a secret: ${shown}`);
  };

  // The scanner itself, every time: it must flag a text that carries a
  // known secret (the latest one issued or generated), and a token request
  // body, where the secrets belong, when there was one.
  const known = secrets.at(-1);
  assert.throws(() => check('self-check', `text before ${known} and after`), /self-check carries a secret/, 'the scan recognises a known secret');
  const bodies = traffic.filter((t) => t.url === tp.url('token') && t.form).map((t) => t.form.toString());
  if (bodies.length) assert.ok(bodies.some((b) => secrets.some((s) => b.includes(s))), 'the scan recognises a token request body\'s secrets');

  for (const e of seen.errors) {
    for (const [k, v] of Object.entries({ message: e.message, description: e.description, string: String(e), stack: e.stack ?? '', json: JSON.stringify(e) })) {
      check(`error ${e.code} ${k}`, v);
    }
  }
  const allowed = { tokenRefreshed: ['expiresAt', 'scope'], sessionExpired: ['code', 'description'], error: ['code', 'description', 'status', 'uri'] };
  for (const { type, detail } of seen.events) {
    if (type === 'tokenRefreshed') assert.deepEqual(Object.keys(detail).sort(), allowed.tokenRefreshed, 'tokenRefreshed carries only expiresAt and scope');
    for (const k of Object.keys(detail)) assert.ok(allowed[type].includes(k), `${type} event has an unexpected field ${k}`);
    check(`${type} event`, JSON.stringify(detail));
  }
  for (const line of seen.console) check('console output', line);

  const urls = [...traffic.map((t) => t.url), ...location.assigned, ...history.replaced, location.href];
  for (const raw of urls) {
    let text = raw;
    const u = new URL(raw);
    if (`${u.origin}${u.pathname}` === tp.url('logout') && u.searchParams.has('id_token_hint')) {
      const hint = u.searchParams.get('id_token_hint');
      assert.ok(idTokens.includes(hint), 'id_token_hint is an ID token the provider issued');
      text = raw.replace(`id_token_hint=${hint}`, ''); // the one documented exception
      assert.notEqual(text, raw);
    }
    check(`URL ${u.origin}${u.pathname}`, text);
  }
  // Tokens live in memory only: never in storage (the verifier may, until the callback).
  for (const [k, v] of sessionStorage.entries()) check(`sessionStorage ${k}`, k === TX_KEY ? v.replace(verifiers.at(-1), '') : v);
}

/** signedIn returns a signed-in client. */
async function signedIn(extra) {
  const { client } = await env.signedIn(extra);
  assert.equal(client.isAuthenticated(), true);
  return client;
}

// ---- 1. No secret in errors, events, console or URLs, on every failure path.

for (const [name, code, corrupt] of callbackFailures) {
  test(`no secret in errors, events, console or URLs: callback with ${name}`, async () => {
    const client = await newClient();
    corrupt(tp);
    await fails(signIn(client), code);
    assert.equal(client.isAuthenticated(), false);
    assertNoLeak();
  });
}

test('no secret in errors, events, console or URLs: callback replayed', async () => {
  const client = await newClient();
  const cb = await callback(client);
  location.href = cb;
  await client.handleRedirectCallback();
  location.href = cb;
  await fails(client.handleRedirectCallback(), 'invalid_callback');
  assertNoLeak();
});

test('no secret in errors, events, console or URLs: token endpoint down at the callback', async () => {
  const client = await newClient();
  location.href = await callback(client);
  await tp.down();
  try {
    await fails(client.handleRedirectCallback(), 'network_error');
  } finally {
    await tp.up();
  }
  assertNoLeak();
});

test('no secret in errors, events, console or URLs: token endpoint never answers', async () => {
  const client = await newClient({ requestTimeoutSeconds: 0.3 });
  location.href = await callback(client);
  tp.fault('token', { hang: true }, 3);
  await fails(client.handleRedirectCallback(), 'timeout');
  assertNoLeak();
});

for (const [name, code, corrupt, event] of refreshFailures) {
  test(`no secret in errors, events, console or URLs: refresh with ${name}`, async () => {
    const client = await signedIn();
    corrupt(tp);
    await fails(client.getToken({ forceRefresh: true }), code);
    assert.ok(seen.events.some((e) => e.type === event), `a ${event} event`);
    assertNoLeak();
  });
}

test('no secret in errors, events, console or URLs: background renewal fails', async () => {
  tp.accessTokenTtl = 2; // renewal 1 s after sign-in, by mezzo's own timer
  const client = await signedIn();
  tp.fault('token', { status: 503, body: '' }, 3);
  await until(() => seen.events.some((e) => e.type === 'error'), 6000, 'the error event of the background renewal');
  client.close(); // no further retries while we scan
  assertNoLeak();
});

test('no secret in errors, events, console or URLs: userinfo about another sub', async () => {
  const client = await signedIn();
  tp.hooks.userinfo = (c) => ({ ...c, sub: 'user-2' });
  await fails(client.getUserinfo(), 'invalid_userinfo');
  assertNoLeak();
});

test('no secret in errors, events, console or URLs: userinfo refuses the token', async () => {
  const client = await signedIn();
  tp.fault('userinfo', { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' }, body: '{"error":"invalid_token"}' });
  await fails(client.getUserinfo(), 'invalid_userinfo');
  assertNoLeak();
});

test('no secret in errors, events, console or URLs: userinfo answers non-JSON', async () => {
  const client = await signedIn();
  tp.fault('userinfo', { status: 200, contentType: 'text/html', body: '<html>' });
  await fails(client.getUserinfo(), 'invalid_userinfo');
  assertNoLeak();
});

test('no secret in errors, events, console or URLs: logout whose revocation fails', async () => {
  const client = await signedIn();
  tp.fault('revoke', { status: 503, body: '' }, 3);
  await client.logout();
  assert.ok(seen.events.some((e) => e.type === 'error'), 'the failed revocation is reported as an error event');
  assert.ok(location.assigned.at(-1).startsWith(tp.url('logout')), 'and the provider session is still ended');
  assertNoLeak();
});

test('no secret in URLs except the ID token as id_token_hint: a whole session (login, refresh, userinfo, fetch, logout)', async () => {
  const client = await signedIn();
  await client.getToken({ forceRefresh: true });
  await client.getToken({ forceRefresh: true });
  await client.getUserinfo();
  await (await client.fetch(tp.url('userinfo'))).json();
  await client.logout({ returnTo: '/bye' });
  const end = new URL(location.assigned.at(-1));
  assert.equal(`${end.origin}${end.pathname}`, tp.url('logout'));
  assert.equal(end.searchParams.get('id_token_hint'), tp.issued.idTokens.at(-1), 'the current ID token, as documented');
  assert.equal(seen.events.filter((e) => e.type === 'tokenRefreshed').length, 3);
  assertNoLeak();
});

// A provider may quote what it was sent in its error text. The README
// promises errors never contain a token, code or verifier, so mezzo must
// not pass such text through verbatim.
test('no secret in errors or events: the token endpoint echoes the code and verifier in error_description', async () => {
  const client = await newClient();
  const cb = await callback(client);
  const code = new URL(cb).searchParams.get('code');
  tp.fault('token', { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: `code ${code} does not match code_verifier ${verifiers.at(-1)}` }) });
  location.href = cb;
  await fails(client.handleRedirectCallback(), 'invalid_grant');
  assertNoLeak();
});

test('no secret in errors or events: the token endpoint echoes the refresh token in error_description', async () => {
  const client = await signedIn();
  const rt = tp.issued.refreshTokens.at(-1);
  // Any error but invalid_grant keeps the session and passes the provider's text on...
  tp.fault('token', { status: 400, body: JSON.stringify({ error: 'invalid_request', error_description: `refresh_token ${rt} is malformed` }) });
  await fails(client.getToken({ forceRefresh: true }), 'invalid_request');
  assert.equal(client.isAuthenticated(), true);
  // ...invalid_grant ends it.
  tp.fault('token', { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: `refresh token ${rt} was revoked` }) });
  await fails(client.getToken({ forceRefresh: true }), 'login_required');
  assert.deepEqual(seen.events.map((e) => e.type), ['tokenRefreshed', 'error', 'sessionExpired']);
  assertNoLeak();
});

// ---- 2. The login transaction never outlives its callback.

for (const [name, code, corrupt] of transactionCases) {
  test(`transaction removed from sessionStorage: ${name}`, async () => {
    const client = await newClient();
    if (corrupt) corrupt(tp);
    const cb = await callback(client);
    location.href = cb;
    assert.ok(sessionStorage.getItem(TX_KEY), 'pending before the callback');
    if (!corrupt) await tp.down();
    try {
      if (code) await fails(client.handleRedirectCallback(), code);
      else await client.handleRedirectCallback();
    } finally {
      if (!corrupt) await tp.up();
    }
    assert.equal(sessionStorage.getItem(TX_KEY), null, 'the transaction is gone');
    assert.equal(sessionStorage.length, 0, 'nothing else was stored');
    assert.equal(client.isAuthenticated(), code === null);
    // Nothing of it survives in memory either: the same response again is refused without a token request.
    const tokenRequests = tp.count('token');
    await assert.rejects(client.handleRedirectCallback(cb), (e) => { seen.errors.push(e); return e.name === 'MezzoError'; });
    assert.equal(tp.count('token'), tokenRequests);
    assertNoLeak();
  });
}

// ---- 3. returnTo cannot leave the origin.

for (const returnTo of foreignReturnTo) {
  test(`returnTo to another origin is refused (falls back to /): ${JSON.stringify(returnTo)}`, async () => {
    const client = await newClient();
    const tx = await login(client, { returnTo });
    const kept = tx.return_to;
    location.href = await tp.authorize(location.assigned.at(-1));
    const result = await client.handleRedirectCallback();
    assert.equal(new URL(result.returnTo, REDIRECT).origin, APP, `${JSON.stringify(result.returnTo)} stays on the app's origin`);
    assert.ok(result.returnTo.startsWith('/') && !/^\/[/\\]/.test(result.returnTo), `${JSON.stringify(result.returnTo)} is a plain path`);
    assert.equal(result.returnTo, kept);
    // Percent-encoded slashes are a path on our origin, not a way out; all else is "/".
    if (!returnTo.startsWith('/%')) assert.equal(result.returnTo, '/');
  });
}

for (const [returnTo, expected] of sameOriginReturnTo) {
  test(`returnTo on the same origin is kept: ${JSON.stringify(returnTo)} -> ${expected}`, async () => {
    const client = await newClient();
    const { returnTo: got } = await signIn(client, returnTo === undefined ? undefined : { returnTo });
    assert.equal(got, expected);
  });
}

for (const returnTo of foreignLogoutReturnTo) {
  test(`logout returnTo to another origin is refused with invalid_argument, changing nothing: ${JSON.stringify(returnTo)}`, async () => {
    const client = await signedIn();
    const navigations = location.assigned.length;
    const revocations = tp.count('revoke');
    await fails(client.logout({ returnTo }), 'invalid_argument');
    assert.equal(location.assigned.length, navigations, 'no navigation at all');
    assert.equal(tp.count('revoke'), revocations, 'no revocation');
    // A refused call changes nothing: the session and its token stay.
    assert.equal(client.isAuthenticated(), true);
    assert.ok(await client.getToken());
    assertNoLeak();
  });
}

test('logout returnTo on the same origin is the post_logout_redirect_uri', async () => {
  const client = await signedIn();
  await client.logout({ returnTo: '/bye?x=1' });
  const end = new URL(location.assigned.at(-1));
  assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${APP}/bye?x=1`);
});

// ---- 4. 10 000 logins: states, nonces and verifiers fresh, distinct and well-formed.

test(`${String(LOGINS).replace(/\B(?=(\d{3})+$)/g, ' ')} generated states, nonces and verifiers are all distinct and well-formed`, { timeout: 120_000 }, async (t) => {
  const N = LOGINS;
  const client = await newClient();
  const all = new Set();
  const started = Date.now();
  for (let i = 0; i < N; i++) {
    await client.login();
    const tx = JSON.parse(sessionStorage.getItem(TX_KEY));
    const q = new URL(location.assigned.at(-1)).searchParams;
    assert.equal(q.get('state'), tx.state);
    assert.equal(q.get('nonce'), tx.nonce);
    assert.match(tx.verifier, /^[A-Za-z0-9_-]{43}$/, 'RFC 7636 §4.1: 32 random bytes, base64url');
    assert.equal(q.get('code_challenge'), createHash('sha256').update(tx.verifier).digest('base64url'), 'challenge = BASE64URL(SHA256(verifier))');
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.ok(!location.assigned.at(-1).includes(tx.verifier), 'the verifier stays out of the URL');
    // The README: "state and nonce carry 256 random bits each" (32 bytes,
    // 43 base64url characters unpadded).
    for (const v of [tx.state, tx.nonce]) assert.match(v, /^[A-Za-z0-9_-]{43}$/, `256 bits of base64url: ${v}`);
    for (const v of [tx.state, tx.nonce, tx.verifier]) all.add(v);
    assert.equal(all.size, 3 * (i + 1), `login ${i}: a state, nonce or verifier repeated`);
    assert.equal(sessionStorage.length, 1, 'one transaction, replaced each time');
  }
  const ms = Date.now() - started;
  t.diagnostic(`${N} logins in ${ms} ms (${(ms / N).toFixed(2)} ms each); ${all.size} distinct values`);
  assert.equal(all.size, DISTINCT_VALUES);
  assert.equal(location.assigned.length, N);
});
