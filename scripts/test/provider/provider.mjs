// A hostile OpenID provider for tests: a small, correct code-flow provider
// (discovery, authorize, token with PKCE and refresh-token rotation, JWKS,
// userinfo) on 127.0.0.1 whose every answer a test can corrupt on purpose.
// It is not the dev provider (that is the real oidc-provider in ../../dev/idp/);
// it exists to lie, break and stall in ways a real provider will not.
//
//   const tp = await startTestProvider();
//   tp.hooks.idTokenClaims = (claims) => ({ ...claims, iss: 'https://evil' });
//   tp.fault('token', { status: 503, headers: { 'retry-after': '1' } });
//
// Every request is logged in tp.requests ({at, method, path, url, form,
// authorization, dpop}); tp.reset() restores honest behaviour between tests.
//
// DPoP (RFC 9449) is honoured whenever a request carries a proof: the
// token endpoint checks it (./dpop.mjs), answers token_type DPoP, binds the
// code to dpop_jkt (§10) and the refresh and access tokens to the key
// (§5, §6); userinfo and /resource then want the DPoP scheme and a proof
// with ath (§7). tp.dpop.nonce (token endpoint) and tp.dpop.resourceNonce
// (resource) require a nonce (§8, §9); with tp.dpop.rotate each challenge
// names a new one, so a client that follows one retry fails.
//
// Options shape it into another provider: the Intermezzo profile
// (../../dev/intermezzo.mjs) moves the endpoints, serves no discovery or
// JWKS, names a non-URL issuer, signs ID tokens with HS256 and a secret of
// its own, answers errors in Intermezzo's shape and asks the user to sign
// in through a form.
import http from 'node:http';
import { createHash, createHmac, generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto';
import { headlessLogin } from '../../dev/idp/harness.mjs';
import { checkProof } from './dpop.mjs';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const SESSION_COOKIE = 'tp_session';
const DEFAULT_PATHS = {
  discovery: '/.well-known/openid-configuration',
  authorize: '/authorize',
  token: '/token',
  jwks: '/jwks',
  userinfo: '/userinfo',
  revoke: '/revoke',
  logout: '/logout',
  login: '/login', // the form's target, with login enabled
  resource: '/resource', // a protected resource: {sub, token_type, jkt}
};

/** errorBodies: RFC 6749 §5.2's error body, or Intermezzo's. */
export const errorBodies = {
  rfc6749: (error, description) => ({ error, ...(description ? { error_description: description } : {}) }),
  intermezzo: (error, description) => ({ error, ...(description ? { errorDescription: description } : {}) }),
};

/** newKey makes a signing key: RS256 (RSA 2048) or ES256 (P-256). */
export function newKey(alg = 'RS256', kid = `${alg.toLowerCase()}-${randomBytes(4).toString('hex')}`) {
  const { privateKey, publicKey } = alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), alg, use: 'sig' };
  if (kid) jwk.kid = kid;
  return { alg, kid, privateKey, jwk };
}

/**
 * signJwt signs claims. how: a key from newKey, {alg: 'none'},
 * {alg: 'HS256', secret}, and header fields to add or (with undefined) drop.
 * badSignature flips the signature's bits.
 */
export function signJwt(claims, how, { header = {}, badSignature = false } = {}) {
  const h = { alg: how.alg, typ: 'JWT', ...(how.kid ? { kid: how.kid } : {}), ...header };
  for (const [k, v] of Object.entries(h)) if (v === undefined) delete h[k];
  const input = `${b64url(JSON.stringify(h))}.${b64url(JSON.stringify(claims))}`;
  let sig;
  if (how.alg === 'none') sig = Buffer.alloc(0);
  else if (how.alg === 'HS256') sig = createHmac('sha256', how.secret).update(input).digest();
  else if (how.alg === 'ES256') sig = cryptoSign('sha256', Buffer.from(input), { key: how.privateKey, dsaEncoding: 'ieee-p1363' });
  else sig = cryptoSign('sha256', Buffer.from(input), how.privateKey);
  if (badSignature) sig = Buffer.from(sig.map((b) => b ^ 0xff));
  return `${input}.${b64url(sig)}`;
}

/** atHash is OIDC Core 3.1.3.6's at_hash for SHA-256 algorithms. */
export const atHash = (accessToken) => b64url(createHash('sha256').update(accessToken).digest().subarray(0, 16));

const honestHooks = () => ({
  discovery: (md) => md,
  authResponse: (params) => params, // URLSearchParams of the redirect back
  idTokenClaims: (claims) => claims, // ctx: {grant}
  idTokenSigning: null, // null: the current key; or {how, opts} for signJwt
  tokenReply: (reply) => reply, // ctx: {grant}
  jwks: (keys) => keys,
  userinfo: (claims) => claims,
});

/**
 * startTestProvider listens on 127.0.0.1 (port 0 = free). Options:
 * clientId, accessTokenTtl (s), clockOffset (s: the provider's clock minus
 * the real one), keys (signing keys; the first signs), and to shape another
 * provider: port, paths (endpoint -> path; null serves none), issuer (the
 * iss, default the origin), signing (the ID token's default signJwt
 * arguments {how, opts}; default the first key), errorBody (one of
 * errorBodies), user ({sub, name, email, ...}), claims (({scope}) -> extra
 * claims of the ID token and userinfo), login ({login, password}: ask for
 * them in a form and keep a provider session in a cookie; without it every
 * authorization request is granted at once) and redirectUris (the only
 * redirect and post-logout URIs accepted; default any).
 */
export async function startTestProvider(opts = {}) {
  const PATHS = { ...DEFAULT_PATHS, ...opts.paths };
  for (const [k, v] of Object.entries(PATHS)) if (v === null) delete PATHS[k];
  const errorBody = opts.errorBody ?? errorBodies.rfc6749;
  const tp = {
    clientId: opts.clientId ?? 'hostile-spa',
    user: opts.user ?? { sub: 'user-1', name: 'Ada', email: 'ada@example.test' },
    login: opts.login ?? null,
    accessTokenTtl: opts.accessTokenTtl ?? 60,
    clockOffset: opts.clockOffset ?? 0,
    keys: opts.keys ?? [newKey('RS256', 'rsa-1')],
    hooks: honestHooks(),
    requests: [],
    issued: { accessTokens: [], refreshTokens: [], codes: [], idTokens: [] },
    faults: { discovery: [], authorize: [], token: [], jwks: [], userinfo: [], revoke: [], resource: [] },
    dpop: null, // see reset
    jtis: new Set(), // every proof's jti the provider accepted
  };
  const codes = new Map(); // code -> {nonce, challenge, redirectUri, scope, authTime, grant}
  const refresh = new Map(); // refresh token -> {live, scope, nonce, authTime, grant}
  const accessTokens = new Map(); // live access token -> {scope, grant, jkt}
  const sessions = new Map(); // provider session id -> {authTime}
  const pendingLogins = new Map(); // login form id -> the authorization request's query
  const sockets = new Set();
  const claimsFor = (scope) => opts.claims?.({ scope }) ?? {};
  const redirectAllowed = (uri) => !opts.redirectUris || opts.redirectUris.includes(uri);
  const cookiePath = PATHS.authorize.replace(/\/[^/]*$/, '') || '/'; // the folder of authorize, login and logout

  tp.now = () => Math.floor(Date.now() / 1000) + tp.clockOffset;
  tp.reset = () => {
    tp.hooks = honestHooks();
    tp.requests.length = 0;
    tp.clockOffset = opts.clockOffset ?? 0;
    tp.accessTokenTtl = opts.accessTokenTtl ?? 60;
    for (const k of Object.keys(tp.faults)) tp.faults[k].length = 0;
    tp.dpop = { nonce: null, resourceNonce: null, rotate: false, challenges: 0 };
    tp.jtis.clear();
    sessions.clear();
    pendingLogins.clear();
  };
  tp.dpop = { nonce: null, resourceNonce: null, rotate: false, challenges: 0 };
  /** fault queues one broken answer for the next request to endpoint. */
  tp.fault = (endpoint, f, times = 1) => { for (let i = 0; i < times; i++) tp.faults[endpoint].push(f); };
  tp.count = (endpoint, pred = () => true) => tp.requests.filter((r) => r.path === PATHS[endpoint] && pred(r)).length;
  /** live reports whether the provider would still accept token (an access or refresh token). */
  tp.live = (token) => accessTokens.has(token) || refresh.get(token)?.live === true;
  /** requestsAfter lists the logged requests to any of endpoints from index from of tp.requests on. */
  tp.requestsAfter = (from, ...endpoints) => tp.requests.slice(from).filter((r) => endpoints.some((e) => r.path === PATHS[e]));
  tp.secrets = () => [...tp.issued.accessTokens, ...tp.issued.refreshTokens, ...tp.issued.codes];

  /** authorize plays the user agent: follows the login URL (signing in through the form, with login enabled) to the redirect back. */
  tp.authorize = async (authorizeUrl) => {
    if (tp.login) return headlessLogin({ authorizeUrl, ...tp.login });
    const res = await fetch(authorizeUrl, { redirect: 'manual' });
    const loc = res.headers.get('location');
    if (res.status !== 302 || !loc) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
    return loc;
  };

  const json = (res, status, body, headers = {}) => {
    const data = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', date: new Date(tp.now() * 1000).toUTCString(), ...headers });
    res.end(data);
  };

  /** applyFault answers with a queued fault; true when it did. */
  const applyFault = (endpoint, req, res) => {
    const f = tp.faults[endpoint]?.[0];
    if (!f || f.after) return false; // none, or one the endpoint itself plays
    tp.faults[endpoint].shift();
    if (f.hang) return true; // never answer; the client must time out
    if (f.reset) { // headers and half a body, then the connection dies
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '400' });
      res.write('{"access_token":"');
      setTimeout(() => req.socket.destroy(), 20);
      return true;
    }
    if (f.destroy) { req.socket.destroy(); return true; }
    res.writeHead(f.status ?? 200, { 'content-type': f.contentType ?? 'application/json', ...(f.headers ?? {}) });
    res.end(f.body ?? '');
    return true;
  };

  const fail = (res, status, error, description, headers) => json(res, status, errorBody(error, description), headers);

  const issueTokens = (grant, { scope, nonce, authTime, grant: grantId }, jkt) => {
    const accessToken = `at-${randomBytes(16).toString('hex')}`;
    accessTokens.set(accessToken, { scope, grant: grantId, jkt });
    tp.issued.accessTokens.push(accessToken);
    const now = tp.now();
    // RFC 9449 §5: a proof with the request makes a DPoP token, bound to its key.
    const reply = { access_token: accessToken, token_type: jkt ? 'DPoP' : 'Bearer', expires_in: tp.accessTokenTtl, scope };
    if (scope.split(' ').includes('offline_access')) {
      const rt = `rt-${randomBytes(16).toString('hex')}`;
      refresh.set(rt, { live: true, scope, nonce, authTime, grant: grantId, jkt }); // auth_time stays that of the login
      tp.issued.refreshTokens.push(rt);
      reply.refresh_token = rt;
    }
    if (scope.split(' ').includes('openid')) {
      const claims = tp.hooks.idTokenClaims({
        iss: tp.issuer, sub: tp.user.sub, aud: tp.clientId, iat: now, exp: now + 3600,
        auth_time: authTime, ...(grant === 'authorization_code' && nonce ? { nonce } : {}),
        at_hash: atHash(accessToken), name: tp.user.name, email: tp.user.email, ...claimsFor(scope),
      }, { grant });
      const s = tp.hooks.idTokenSigning ?? opts.signing ?? { how: tp.keys[0] };
      reply.id_token = signJwt(claims, s.how, s.opts);
      tp.issued.idTokens.push(reply.id_token);
    }
    return tp.hooks.tokenReply(reply, { grant });
  };

  const handlers = {
    discovery(req, res) {
      json(res, 200, tp.hooks.discovery({
        issuer: tp.issuer,
        authorization_endpoint: tp.url('authorize'),
        token_endpoint: tp.url('token'),
        jwks_uri: tp.url('jwks'),
        userinfo_endpoint: tp.url('userinfo'),
        revocation_endpoint: tp.url('revoke'),
        end_session_endpoint: tp.url('logout'),
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        code_challenge_methods_supported: ['S256'],
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
        token_endpoint_auth_methods_supported: ['none'],
        authorization_response_iss_parameter_supported: true,
        subject_types_supported: ['public'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      }));
    },
    authorize(req, res, url) {
      const q = url.searchParams;
      if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge') || q.get('client_id') !== tp.clientId || !redirectAllowed(q.get('redirect_uri'))) {
        res.writeHead(400); res.end('bad authorization request'); return;
      }
      let authTime = tp.now() - 5;
      if (tp.login) {
        const session = sessions.get(sessionOf(req));
        if (!session || q.get('prompt') === 'login') {
          if (q.get('prompt') === 'none') { // OIDC Core 3.1.2.6
            const back = new URLSearchParams({ error: 'login_required', state: q.get('state') ?? '', iss: tp.issuer });
            res.writeHead(302, { location: `${q.get('redirect_uri')}?${back}` }); res.end(); return;
          }
          const id = randomBytes(16).toString('hex');
          const query = new URLSearchParams(q);
          query.delete('prompt'); // asked once: the form is this login
          pendingLogins.set(id, query.toString());
          loginPage(res, 200, id); return;
        }
        authTime = session.authTime;
      }
      const code = `code-${randomBytes(16).toString('hex')}`;
      codes.set(code, { nonce: q.get('nonce'), challenge: q.get('code_challenge'), redirectUri: q.get('redirect_uri'), scope: q.get('scope'), authTime, grant: randomBytes(8).toString('hex'), dpopJkt: q.get('dpop_jkt') });
      tp.issued.codes.push(code);
      const back = tp.hooks.authResponse(new URLSearchParams({ code, state: q.get('state') ?? '', iss: tp.issuer }));
      res.writeHead(302, { location: `${q.get('redirect_uri')}?${back}` });
      res.end();
    },
    login(req, res, url, form) {
      const id = url.searchParams.get('id');
      const query = pendingLogins.get(id);
      if (req.method !== 'POST' || !query) { res.writeHead(400); res.end('no sign-in under way'); return; }
      if (form.get('login') !== tp.login.login || form.get('password') !== tp.login.password) {
        loginPage(res, 401, id, 'Wrong email or password.'); return;
      }
      pendingLogins.delete(id);
      const sid = randomBytes(16).toString('hex');
      sessions.set(sid, { authTime: tp.now() });
      res.writeHead(302, {
        location: `${tp.url('authorize')}?${query}`,
        'set-cookie': `${SESSION_COOKIE}=${sid}; Path=${cookiePath}; HttpOnly; SameSite=Lax`,
      });
      res.end();
    },
    token(req, res, url, form, fault) {
      const grant = form.get('grant_type');
      if (form.get('client_id') !== tp.clientId || req.headers.authorization) {
        fail(res, 401, 'invalid_client'); return;
      }
      // RFC 9449 §4.3, §8: a proof, when there is one, must be valid and,
      // when the provider wants one, carry its nonce.
      let jkt = null;
      if (req.headers.dpop !== undefined) {
        const proof = checkProof(req.headersDistinct.dpop, { htm: 'POST', htu: tp.url('token'), seen: tp.jtis, nonce: tp.dpop.nonce });
        if (proof.error === 'use_dpop_nonce') {
          tp.dpop.challenges++;
          const named = tp.dpop.nonce;
          if (tp.dpop.rotate) tp.dpop.nonce = `n-${randomBytes(8).toString('hex')}`; // the one named is stale at once
          fail(res, 400, 'use_dpop_nonce', 'a DPoP nonce is required', { 'dpop-nonce': named }); return;
        }
        if (proof.error) { fail(res, 400, 'invalid_dpop_proof', proof.error); return; }
        jkt = proof.jkt;
      }
      let reply;
      if (grant === 'authorization_code') {
        const c = codes.get(form.get('code'));
        codes.delete(form.get('code')); // one use (RFC 6749 §4.1.2)
        const verifier = form.get('code_verifier') ?? '';
        if (!c || c.redirectUri !== form.get('redirect_uri')) { fail(res, 400, 'invalid_grant', 'unknown code'); return; }
        if (b64url(createHash('sha256').update(verifier).digest()) !== c.challenge) { // RFC 7636 §4.6
          fail(res, 400, 'invalid_grant', 'PKCE verification failed'); return;
        }
        if (c.dpopJkt && c.dpopJkt !== jkt) { fail(res, 400, 'invalid_grant', 'the code is bound to another DPoP key'); return; } // RFC 9449 §10
        reply = issueTokens(grant, c, jkt);
      } else if (grant === 'refresh_token') {
        const r = refresh.get(form.get('refresh_token'));
        if (!r || !r.live) { fail(res, 400, 'invalid_grant', 'refresh token invalid or already used'); return; }
        if (r.jkt && r.jkt !== jkt) { fail(res, 400, 'invalid_grant', 'the refresh token is bound to another DPoP key'); return; } // RFC 9449 §5
        r.live = false; // rotation: the old one is dead from now on
        reply = issueTokens(grant, r, r.jkt ?? jkt);
      } else {
        fail(res, 400, 'unsupported_grant_type'); return;
      }
      if (fault?.after === 'lose-reply') { req.socket.destroy(); return; } // processed, but the client never hears
      json(res, 200, reply);
    },
    jwks(req, res) {
      json(res, 200, { keys: tp.hooks.jwks(tp.keys.map((k) => k.jwk)) });
    },
    userinfo(req, res, url) {
      const at = presented(req, res, url, null);
      if (!at) return;
      json(res, 200, tp.hooks.userinfo({ sub: tp.user.sub, name: tp.user.name, email: tp.user.email, ...claimsFor(accessTokens.get(at).scope) }));
    },
    resource(req, res, url) {
      const at = presented(req, res, url, tp.dpop.resourceNonce);
      if (!at) return;
      const { jkt } = accessTokens.get(at);
      json(res, 200, { sub: tp.user.sub, token_type: jkt ? 'DPoP' : 'Bearer', jkt: jkt ?? null });
    },
    revoke(req, res, url, form) {
      // RFC 7009 §2.1: revoking a refresh token also invalidates the access
      // tokens of its grant; an access token is revoked on its own.
      const token = form.get('token');
      const r = refresh.get(token);
      if (r) {
        for (const other of refresh.values()) if (other.grant === r.grant) other.live = false;
        for (const [at, a] of accessTokens) if (a.grant === r.grant) accessTokens.delete(at);
      }
      accessTokens.delete(token);
      res.writeHead(200); res.end();
    },
    logout(req, res, url) {
      // RP-Initiated Logout 1.0 §2-3: end the provider session, then go back
      // to a registered post-logout URI (with state) when one is named.
      const sid = sessionOf(req);
      sessions.delete(sid);
      const headers = sid ? { 'set-cookie': `${SESSION_COOKIE}=; Path=${cookiePath}; HttpOnly; SameSite=Lax; Max-Age=0` } : {};
      const back = url.searchParams.get('post_logout_redirect_uri');
      if (back && redirectAllowed(back) && opts.redirectUris) {
        const state = url.searchParams.get('state');
        res.writeHead(302, { ...headers, location: state ? `${back}${back.includes('?') ? '&' : '?'}${new URLSearchParams({ state })}` : back });
        res.end(); return;
      }
      res.writeHead(200, headers); res.end('signed out');
    },
  };

  /**
   * presented returns the live access token a request presents, or answers
   * 401 and returns null: a DPoP-bound token only with the DPoP scheme and a
   * proof of its key for this request with its ath (RFC 9449 §7.1, §7.2),
   * an unbound one as Bearer (RFC 6750 §2.1). nonce, when set, must be in
   * the proof (§9).
   */
  const presented = (req, res, url, nonce) => {
    const m = /^(Bearer|DPoP) (.+)$/.exec(req.headers.authorization ?? '');
    const token = m && accessTokens.get(m[2]);
    const refuse = (scheme, error, headers = {}) => {
      fail(res, 401, error, undefined, { 'www-authenticate': `${scheme} error="${error}"`, ...headers });
      return null;
    };
    if (!token) return refuse('Bearer', 'invalid_token');
    if (!token.jkt) return m[1] === 'Bearer' ? m[2] : refuse('Bearer', 'invalid_token');
    if (m[1] !== 'DPoP') return refuse('DPoP', 'invalid_token'); // RFC 9449 §7.2: a bound token is no bearer token
    const proof = checkProof(req.headersDistinct.dpop, { htm: req.method, htu: url.origin + url.pathname, seen: tp.jtis, accessToken: m[2], nonce });
    if (proof.error === 'use_dpop_nonce') {
      tp.dpop.challenges++;
      const named = tp.dpop.resourceNonce;
      if (tp.dpop.rotate) tp.dpop.resourceNonce = `r-${randomBytes(8).toString('hex')}`; // the one named is stale at once
      return refuse('DPoP', 'use_dpop_nonce', { 'dpop-nonce': named });
    }
    if (proof.error || proof.jkt !== token.jkt) return refuse('DPoP', 'invalid_dpop_proof');
    return m[2];
  };

  const sessionOf = (req) => (req.headers.cookie ?? '').split(';').map((c) => c.trim().split('='))
    .find(([k]) => k === SESSION_COOKIE)?.[1] ?? null;

  /** loginPage is the sign-in form; headlessLogin (../../dev/idp/harness.mjs) fills it like a user. */
  const loginPage = (res, status, id, error) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in to ${escapeHtml(tp.issuer)}</h1>
${error ? `<p class="error" id="login-error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${PATHS.login}?id=${escapeHtml(id)}" autocomplete="off">
  <label>Email <input name="login" type="email" required autofocus></label>
  <label>Password <input name="password" type="password" required></label>
  <button type="submit">Sign in</button>
</form></body></html>`);
  };
  const byPath = Object.fromEntries(Object.entries(PATHS).map(([k, p]) => [p, k]));

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, tp.origin);
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString();
    const form = new URLSearchParams(req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? body : '');
    tp.requests.push({ at: Date.now(), method: req.method, path: url.pathname, url: url.href, form, authorization: req.headers.authorization ?? null, dpop: req.headers.dpop ?? null });
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-expose-headers', 'dpop-nonce, www-authenticate');
    if (req.method === 'OPTIONS') { // CORS preflight of a browser's client.fetch (Authorization and DPoP headers)
      res.writeHead(204, { 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'authorization, content-type, dpop', 'access-control-max-age': '600' });
      res.end(); return;
    }
    const endpoint = byPath[url.pathname];
    if (!endpoint) { res.writeHead(404); res.end(); return; }
    const pending = tp.faults[endpoint]?.[0];
    if (applyFault(endpoint, req, res)) return;
    handlers[endpoint](req, res, url, form, pending?.after ? tp.faults[endpoint].shift() : undefined);
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });

  const listen = (port) => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(server.address().port); });
  });
  const port = await listen(opts.port ?? 0);
  tp.origin = `http://127.0.0.1:${port}`;
  tp.issuer = opts.issuer ?? tp.origin;
  tp.paths = PATHS;
  tp.url = (endpoint) => tp.origin + PATHS[endpoint];

  const close = () => new Promise((resolve) => {
    server.close(() => resolve());
    for (const s of sockets) s.destroy();
  });
  /** down stops listening (connections are refused) until up(). */
  tp.down = close;
  tp.up = () => listen(port);
  tp.stop = close;
  return tp;
}
