// DPoP (RFC 9449) through mezzo's JS API in node, against the hostile test
// provider playing honest: the key (WebCrypto, non-extractable, in the
// runtime's memory only: nothing in IndexedDB — node's is fake-indexeddb —
// and a key planted there is never used), the binding of the code and the
// tokens, proofs on token, userinfo and resource requests, nonces, and
// "forget this device". The browser suite (../browser/dpop.test.mjs) runs
// the same against oidc-provider in Chromium; hostile.test.mjs and
// faults.test.mjs have the DPoP cases of a provider that lies or fails.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { hostileSetup, rejects, emptyIndexedDB, storedRecords, traffic } from '../lib/hostile-lib.mjs';
import { decodeProof } from '../provider/dpop.mjs';
import { thumbprint, ath } from '../lib/dpop-lib.mjs';

let env; let tp; let idb;
before(async () => { env = await hostileSetup(); tp = env.tp; });
after(() => env.stop());
beforeEach(() => { env.reset(); idb = emptyIndexedDB(); });

const tokenRequests = (from = 0) => tp.requestsAfter(from, 'token');

test('a DPoP sign-in: a proof on every token request, DPoP tokens bound to the key (a redirect sends no dpop_jkt: its runtime and key may not outlive the page)', async () => {
  const { client, token } = await env.signedIn({ dpop: true, clientId: tp.clientId });
  const jkt = await client.getDpopThumbprint();
  assert.match(jkt, /^[A-Za-z0-9_-]{43}$/);
  const authorize = new URL(tp.requests.find((r) => r.path === tp.paths.authorize).url);
  assert.equal(authorize.searchParams.has('dpop_jkt'), false, 'RFC 9449 §10: dpop_jkt is for a runtime that exchanges its own code (silent, popup)');
  const [exchange] = tokenRequests();
  const { header, claims } = decodeProof(exchange.dpop);
  assert.deepEqual([header.typ, header.alg, Object.keys(header.jwk).sort()], ['dpop+jwt', 'ES256', ['crv', 'kty', 'x', 'y']], 'RFC 9449 §4.2: the public key only');
  assert.equal(thumbprint(header.jwk), jkt);
  assert.deepEqual([claims.htm, claims.htu, claims.ath], ['POST', tp.url('token'), undefined], 'no ath on a token request');
  assert.equal(traffic.find((t) => t.url === tp.url('token')).reply.token_type, 'DPoP');

  const fresh = await client.getToken({ forceRefresh: true });
  assert.notEqual(fresh, token);
  const refresh = tokenRequests().at(-1);
  assert.equal(refresh.form.get('grant_type'), 'refresh_token');
  assert.equal(thumbprint(decodeProof(refresh.dpop).header.jwk), jkt, 'the refresh is proven with the same key');
  assert.equal((await client.getUserinfo()).sub, 'user-1', 'userinfo with the DPoP scheme');
  const userinfo = tp.requests.filter((r) => r.path === tp.paths.userinfo).at(-1);
  assert.equal(userinfo.authorization, `DPoP ${fresh}`);
  assert.equal(decodeProof(userinfo.dpop).claims.ath, ath(fresh));
});

test('client.fetch: Authorization: DPoP and a fresh proof for its method and URL; the resource sees the bound token', async () => {
  const { client, token } = await env.signedIn({ dpop: true });
  const res = await client.fetch(`${tp.url('resource')}?q=1#f`, { method: 'POST', body: 'x', headers: { 'x-app': 'kept' } });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { sub: 'user-1', token_type: 'DPoP', jkt: await client.getDpopThumbprint() });
  const sent = tp.requests.filter((r) => r.path === tp.paths.resource);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].authorization, `DPoP ${token}`);
  const { claims } = decodeProof(sent[0].dpop);
  assert.deepEqual([claims.htm, claims.htu, claims.ath], ['POST', tp.url('resource'), ath(token)], 'RFC 9449 §4.2: htu without query and fragment');
});

test('a token endpoint that wants a nonce costs exactly one extra round trip, once', async () => {
  tp.dpop.nonce = 'n-token-1';
  const { client } = await env.signedIn({ dpop: true });
  const exchange = tokenRequests();
  assert.equal(exchange.length, 2, 'the challenge, then the exchange with the nonce');
  assert.equal(decodeProof(exchange[0].dpop).claims.nonce, undefined);
  assert.equal(decodeProof(exchange[1].dpop).claims.nonce, 'n-token-1', 'RFC 9449 §8: the nonce the server named');
  const from = tp.requests.length;
  await client.getToken({ forceRefresh: true });
  assert.equal(tokenRequests(from).length, 1, 'the nonce is remembered: no second challenge');
  assert.equal(tp.dpop.challenges, 1);
});

test('a resource server that wants a nonce: one retry with it, remembered for that server', async () => {
  const { client } = await env.signedIn({ dpop: true });
  tp.dpop.resourceNonce = 'n-res-1';
  const from = tp.requests.length;
  const res = await client.fetch(tp.url('resource'), { method: 'POST', body: 'the body, sent twice' });
  assert.equal(res.status, 200);
  const sent = tp.requestsAfter(from, 'resource');
  assert.equal(sent.length, 2);
  assert.equal(decodeProof(sent[1].dpop).claims.nonce, 'n-res-1');
  assert.notEqual(decodeProof(sent[0].dpop).claims.jti, decodeProof(sent[1].dpop).claims.jti, 'a fresh proof for the retry');
  await client.fetch(tp.url('resource'));
  assert.equal(tp.requestsAfter(from, 'resource').length, 3, 'the next request carries the nonce at once');
  const proof = await client.createDpopProof('GET', tp.url('resource'));
  assert.equal(decodeProof(proof).claims.nonce, 'n-res-1', 'an app-made proof carries it too');
});

test('createDpopProof: 1000 proofs, no jti twice; ath when given the token; typed errors', async () => {
  const { client, token } = await env.signedIn({ dpop: true });
  const jtis = new Set();
  for (let i = 0; i < 1000; i++) {
    const { claims } = decodeProof(await client.createDpopProof('GET', 'https://api.example/items'));
    jtis.add(claims.jti);
  }
  assert.equal(jtis.size, 1000, 'RFC 9449 §4.2, §11.1: a proof is never reused');
  const { claims } = decodeProof(await client.createDpopProof('PUT', 'https://api.example/items/1?x', { accessToken: token }));
  assert.deepEqual([claims.htm, claims.htu, claims.ath], ['PUT', 'https://api.example/items/1', ath(token)]);
  await rejects(client.createDpopProof('GET'), 'invalid_argument');
  await rejects(client.createDpopProof('GET', 'https://api.example/', 'token'), 'invalid_argument');
  const { client: bearer } = await env.signedIn();
  await rejects(bearer.createDpopProof('GET', 'https://api.example/'), 'invalid_config');
  assert.equal(await bearer.getDpopThumbprint(), null);
});

/**
 * plantKey does what an injected script could against a key store: it
 * makes a key pair whose private half it keeps (extractable), re-imports
 * it as non-extractable and stores it where mezzo kept its keys before
 * (IndexedDB mezzo-dpop/keys, under the client's name), and returns the
 * planted key's thumbprint.
 */
async function plantKey(factory, clientId) {
  const attacker = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const privateJwk = await crypto.subtle.exportKey('jwk', attacker.privateKey); // the attacker keeps this
  const privateKey = await crypto.subtle.importKey('jwk', privateJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const req = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
  const open = factory.open('mezzo-dpop', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('keys');
  const db = await req(open);
  const tx = db.transaction('keys', 'readwrite');
  tx.objectStore('keys').put({ privateKey, publicKey: attacker.publicKey, created: Date.now() }, JSON.stringify([tp.issuer, clientId]));
  await new Promise((resolve) => { tx.oncomplete = resolve; });
  db.close();
  return thumbprint(await crypto.subtle.exportKey('jwk', attacker.publicKey));
}

test('the key: in the runtime\'s memory only — non-extractable, nothing stored, a planted key never used; the same for the next client; forgetDpopKey makes a new one', async () => {
  const planted = await plantKey(idb, tp.clientId);
  const made = [];
  const generateKey = crypto.subtle.generateKey;
  crypto.subtle.generateKey = async function spy(...args) {
    const pair = await generateKey.apply(this, args);
    made.push(pair);
    return pair;
  };
  let client; let token; let jkt; let from;
  try {
    // A key made before this test (the runtime keeps one per issuer and
    // client for its life) is forgotten first, so that this one is made here.
    ({ client } = await env.signedIn({ dpop: true }));
    await client.logout({ forgetDpopKey: true, revoke: false });
    made.length = 0;
    from = tp.requests.length;
    await env.signIn(client);
    token = await client.getToken();
    jkt = await client.getDpopThumbprint();
  } finally {
    crypto.subtle.generateKey = generateKey;
  }
  assert.equal(made.length, 1, 'one key made for the sign-in');
  const [{ privateKey, publicKey }] = made;
  assert.equal(privateKey.extractable, false);
  await assert.rejects(crypto.subtle.exportKey('jwk', privateKey), 'the private key cannot be read');
  assert.equal(thumbprint(await crypto.subtle.exportKey('jwk', publicKey)), jkt);
  assert.notEqual(jkt, planted, 'the planted key is not the client\'s');
  const proofs = tokenRequests(from).map((r) => thumbprint(decodeProof(r.dpop).header.jwk));
  assert.ok(proofs.length > 0 && proofs.every((p) => p === jkt), 'every proof by the runtime\'s own key');
  const records = await storedRecords(idb, 'mezzo-dpop');
  assert.deepEqual(records.map((r) => r.key), [JSON.stringify([tp.issuer, tp.clientId])], 'only the planted record: mezzo stored nothing');
  assert.deepEqual((await idb.databases()).map((d) => d.name), ['mezzo-dpop'], 'and made no database');
  const stored = JSON.stringify(records, (k, v) => (v instanceof CryptoKey ? '[key]' : v));
  for (const secret of [token, ...tp.secrets()]) assert.ok(!stored.includes(secret), 'no token is stored');

  const second = await env.newClient({ dpop: true });
  assert.equal(await second.getDpopThumbprint(), jkt, 'one key per issuer and client in a runtime');

  await client.logout({ forgetDpopKey: true, revoke: false });
  assert.equal(client.isAuthenticated(), false);
  await env.signIn(client);
  const renewed = await client.getDpopThumbprint();
  assert.notEqual(renewed, jkt, 'the next sign-in has a new key');
  assert.equal(thumbprint(decodeProof(tokenRequests().at(-1).dpop).header.jwk), renewed);
});

test('no IndexedDB: a DPoP client signs in all the same (its key needs none)', async () => {
  delete globalThis.indexedDB;
  const { client } = await env.signedIn({ dpop: true });
  const jkt = await client.getDpopThumbprint();
  assert.match(jkt, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(thumbprint(decodeProof(tokenRequests().at(-1).dpop).header.jwk), jkt);
});

test('no key can be made: createClient rejects dpop_key_unavailable, before any request; never a Bearer fallback', async () => {
  const generateKey = crypto.subtle.generateKey;
  crypto.subtle.generateKey = () => Promise.reject(new DOMException('P-256 is not supported', 'NotSupportedError'));
  try {
    const from = tp.requests.length;
    await rejects(env.mezzo.createClient({ issuer: tp.issuer, clientId: 'no-key', redirectUri: `${tp.origin}/cb`, dpop: true, runtime: 'page' }), 'dpop_key_unavailable');
    assert.equal(tp.requests.length, from);
  } finally {
    crypto.subtle.generateKey = generateKey;
  }
});
