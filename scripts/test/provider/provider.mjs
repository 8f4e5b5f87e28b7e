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
// authorization}); tp.reset() restores honest behaviour between tests.
import http from 'node:http';
import { createHash, createHmac, generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const PATHS = {
  discovery: '/.well-known/openid-configuration',
  authorize: '/authorize',
  token: '/token',
  jwks: '/jwks',
  userinfo: '/userinfo',
  revoke: '/revoke',
  logout: '/logout',
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
 * the real one), keys (signing keys; the first signs).
 */
export async function startTestProvider(opts = {}) {
  const tp = {
    clientId: opts.clientId ?? 'hostile-spa',
    user: { sub: 'user-1', name: 'Ada', email: 'ada@example.test' },
    accessTokenTtl: opts.accessTokenTtl ?? 60,
    clockOffset: opts.clockOffset ?? 0,
    keys: opts.keys ?? [newKey('RS256', 'rsa-1')],
    hooks: honestHooks(),
    requests: [],
    issued: { accessTokens: [], refreshTokens: [], codes: [], idTokens: [] },
    faults: { discovery: [], authorize: [], token: [], jwks: [], userinfo: [], revoke: [] },
  };
  const codes = new Map(); // code -> {nonce, challenge, redirectUri, scope}
  const refresh = new Map(); // refresh token -> {live, scope, nonce}
  const accessTokens = new Set();
  const sockets = new Set();

  tp.now = () => Math.floor(Date.now() / 1000) + tp.clockOffset;
  tp.reset = () => {
    tp.hooks = honestHooks();
    tp.requests.length = 0;
    tp.clockOffset = opts.clockOffset ?? 0;
    tp.accessTokenTtl = opts.accessTokenTtl ?? 60;
    for (const k of Object.keys(tp.faults)) tp.faults[k].length = 0;
  };
  /** fault queues one broken answer for the next request to endpoint. */
  tp.fault = (endpoint, f, times = 1) => { for (let i = 0; i < times; i++) tp.faults[endpoint].push(f); };
  tp.count = (endpoint, pred = () => true) => tp.requests.filter((r) => r.path === PATHS[endpoint] && pred(r)).length;
  /** requestsAfter lists the logged requests to any of endpoints from index from of tp.requests on. */
  tp.requestsAfter = (from, ...endpoints) => tp.requests.slice(from).filter((r) => endpoints.some((e) => r.path === PATHS[e]));
  tp.secrets = () => [...tp.issued.accessTokens, ...tp.issued.refreshTokens, ...tp.issued.codes];

  /** authorize plays the user agent: follows the login URL to the redirect back. */
  tp.authorize = async (authorizeUrl) => {
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
    const f = tp.faults[endpoint][0];
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

  const issueTokens = (grant, { scope, nonce, authTime }) => {
    const accessToken = `at-${randomBytes(16).toString('hex')}`;
    accessTokens.add(accessToken);
    tp.issued.accessTokens.push(accessToken);
    const now = tp.now();
    const reply = { access_token: accessToken, token_type: 'Bearer', expires_in: tp.accessTokenTtl, scope };
    if (scope.split(' ').includes('offline_access')) {
      const rt = `rt-${randomBytes(16).toString('hex')}`;
      refresh.set(rt, { live: true, scope, nonce, authTime }); // auth_time stays that of the login
      tp.issued.refreshTokens.push(rt);
      reply.refresh_token = rt;
    }
    if (scope.split(' ').includes('openid')) {
      const claims = tp.hooks.idTokenClaims({
        iss: tp.issuer, sub: tp.user.sub, aud: tp.clientId, iat: now, exp: now + 3600,
        auth_time: authTime, ...(grant === 'authorization_code' && nonce ? { nonce } : {}),
        at_hash: atHash(accessToken), name: tp.user.name, email: tp.user.email,
      }, { grant });
      const s = tp.hooks.idTokenSigning ?? { how: tp.keys[0] };
      reply.id_token = signJwt(claims, s.how, s.opts);
      tp.issued.idTokens.push(reply.id_token);
    }
    return tp.hooks.tokenReply(reply, { grant });
  };

  const handlers = {
    discovery(req, res) {
      json(res, 200, tp.hooks.discovery({
        issuer: tp.issuer,
        authorization_endpoint: tp.issuer + PATHS.authorize,
        token_endpoint: tp.issuer + PATHS.token,
        jwks_uri: tp.issuer + PATHS.jwks,
        userinfo_endpoint: tp.issuer + PATHS.userinfo,
        revocation_endpoint: tp.issuer + PATHS.revoke,
        end_session_endpoint: tp.issuer + PATHS.logout,
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
      if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge') || q.get('client_id') !== tp.clientId) {
        res.writeHead(400); res.end('bad authorization request'); return;
      }
      const code = `code-${randomBytes(16).toString('hex')}`;
      codes.set(code, { nonce: q.get('nonce'), challenge: q.get('code_challenge'), redirectUri: q.get('redirect_uri'), scope: q.get('scope'), authTime: tp.now() - 5 });
      tp.issued.codes.push(code);
      const back = tp.hooks.authResponse(new URLSearchParams({ code, state: q.get('state') ?? '', iss: tp.issuer }));
      res.writeHead(302, { location: `${q.get('redirect_uri')}?${back}` });
      res.end();
    },
    token(req, res, url, form, fault) {
      const grant = form.get('grant_type');
      if (form.get('client_id') !== tp.clientId || req.headers.authorization) {
        json(res, 401, { error: 'invalid_client' }); return;
      }
      let reply;
      if (grant === 'authorization_code') {
        const c = codes.get(form.get('code'));
        codes.delete(form.get('code')); // one use (RFC 6749 §4.1.2)
        const verifier = form.get('code_verifier') ?? '';
        if (!c || c.redirectUri !== form.get('redirect_uri')) { json(res, 400, { error: 'invalid_grant', error_description: 'unknown code' }); return; }
        if (b64url(createHash('sha256').update(verifier).digest()) !== c.challenge) { // RFC 7636 §4.6
          json(res, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' }); return;
        }
        reply = issueTokens(grant, c);
      } else if (grant === 'refresh_token') {
        const r = refresh.get(form.get('refresh_token'));
        if (!r || !r.live) { json(res, 400, { error: 'invalid_grant', error_description: 'refresh token invalid or already used' }); return; }
        r.live = false; // rotation: the old one is dead from now on
        reply = issueTokens(grant, r);
      } else {
        json(res, 400, { error: 'unsupported_grant_type' }); return;
      }
      if (fault?.after === 'lose-reply') { req.socket.destroy(); return; } // processed, but the client never hears
      json(res, 200, reply);
    },
    jwks(req, res) {
      json(res, 200, { keys: tp.hooks.jwks(tp.keys.map((k) => k.jwk)) });
    },
    userinfo(req, res) {
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      if (!m || !accessTokens.has(m[1])) { json(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' }); return; }
      json(res, 200, tp.hooks.userinfo({ sub: tp.user.sub, name: tp.user.name, email: tp.user.email }));
    },
    revoke(req, res, url, form) {
      const r = refresh.get(form.get('token'));
      if (r) r.live = false;
      res.writeHead(200); res.end();
    },
    logout(req, res) { res.writeHead(200); res.end('signed out'); },
  };
  const byPath = Object.fromEntries(Object.entries(PATHS).map(([k, p]) => [p, k]));

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, tp.issuer);
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString();
    const form = new URLSearchParams(req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? body : '');
    tp.requests.push({ at: Date.now(), method: req.method, path: url.pathname, url: url.href, form, authorization: req.headers.authorization ?? null });
    res.setHeader('access-control-allow-origin', '*');
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
  tp.issuer = `http://127.0.0.1:${port}`;
  tp.paths = PATHS;
  tp.url = (endpoint) => tp.issuer + PATHS[endpoint];

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
