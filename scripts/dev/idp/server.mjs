// The dev identity provider: panva's oidc-provider (v8, for node 20),
// configured like the Intermezzo identity API, on 127.0.0.1.
//
//   node scripts/dev/idp/server.mjs [--port N] [--access-token-ttl S] [--refresh-token-ttl S]
//        [--redirect-uri URI]... [--post-logout-redirect-uri URI]... [--client-id ID]
//        [--web-message] [--dpop-nonce] [--token-path PATH]
//
// Prints one JSON line when ready: {"ready":true,"issuer",...,"resource"};
// logs go to stderr. Keys (signing, cookie, DPoP nonce) are generated at
// start; none is ever committed. See README.md beside this file.
import http from 'node:http';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';
import { createResource, RESOURCE_PATH } from './resource.mjs';

const { values: flags } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'access-token-ttl': { type: 'string', default: '30' },
    'refresh-token-ttl': { type: 'string', default: '86400' },
    'redirect-uri': { type: 'string', multiple: true },
    'post-logout-redirect-uri': { type: 'string', multiple: true },
    'client-id': { type: 'string', default: 'mezzo-demo' },
    // response_mode=web_message (draft-sakimura-oauth-wmrm-01), which
    // auth0-spa-js's silent check uses; only the bench turns it on.
    'web-message': { type: 'boolean', default: false },
    // DPoP (RFC 9449) is always on and optional per request; with this flag
    // the token endpoint and the resource require a DPoP nonce (§8, §9).
    'dpop-nonce': { type: 'boolean', default: false },
    // The token endpoint's path (Intermezzo's by default). The bench's dpop
    // scenario serves it at auth0-spa-js's fixed /oauth/token: a DPoP
    // proof's htu must name the URL the client called (RFC 9449 §4.3), so
    // its proxy cannot map another path onto it.
    'token-path': { type: 'string' },
  },
});

const PREFIX = '/api/id/v1/auth';
const ROUTES = {
  authorization: `${PREFIX}/authorize`,
  token: flags['token-path'] ?? `${PREFIX}/token`, // Intermezzo's token endpoint
  jwks: `${PREFIX}/jwks`,
  userinfo: `${PREFIX}/userinfo`,
  revocation: `${PREFIX}/revoke`,
  end_session: `${PREFIX}/logout`,
  introspection: `${PREFIX}/introspect`,
  registration: `${PREFIX}/register`,
  code_verification: `${PREFIX}/device`,
  device_authorization: `${PREFIX}/device/auth`,
  pushed_authorization_request: `${PREFIX}/par`,
  backchannel_authentication: `${PREFIX}/backchannel`,
};

export const DEMO_USER = {
  login: 'demo@mezzo.test',
  password: 'mezzo-demo',
  claims: {
    sub: 'demo-user-1',
    name: 'Demo User',
    given_name: 'Demo',
    family_name: 'User',
    email: 'demo@mezzo.test',
    email_verified: true,
  },
};

const log = (...a) => console.error('[idp]', ...a);
// What the token endpoint saw; the resource endpoint keeps its own (resource.mjs).
const newTokenStats = () => ({
  tokenRequests: 0, refreshRequests: 0, authCodeRequests: 0,
  tokenDpopProofs: 0, // token requests carrying a DPoP header
  tokenUseDpopNonce: 0, // token requests answered 400 use_dpop_nonce (RFC 9449 §8)
});
let stats = newTokenStats();

function signingKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [
    { ...rsa, kid: `rs-${randomUUID().slice(0, 8)}`, alg: 'RS256', use: 'sig' },
    { ...ec, kid: `es-${randomUUID().slice(0, 8)}`, alg: 'ES256', use: 'sig' },
  ];
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto;color:#1d2430}
input,button{display:block;width:100%;margin:.4rem 0;padding:.5rem;font:inherit;box-sizing:border-box}
button{background:#2f5bd3;color:#fff;border:0;border-radius:.3rem}.error{color:#c0392b}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function loginForm(uid, error) {
  return page('Sign in to the dev IdP', `
${error ? `<p class="error" id="login-error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
  <label>Email <input name="login" type="email" required autofocus></label>
  <label>Password <input name="password" type="password" required></label>
  <button type="submit">Sign in</button>
</form>
<p><small>Demo user: ${escapeHtml(DEMO_USER.login)} / ${escapeHtml(DEMO_USER.password)}</small></p>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

// Our own interaction UI: a login form for the one demo user, and consent
// granted without asking for this first-party client.
async function interaction(provider, req, res, url) {
  const [, , uid, action] = url.pathname.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  const send = (status, html) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
  };

  if (details.prompt.name === 'login') {
    if (req.method === 'POST' && action === 'login') {
      const form = await readForm(req);
      if (form.get('login') === DEMO_USER.login && form.get('password') === DEMO_USER.password) {
        log('login ok');
        return provider.interactionFinished(req, res, { login: { accountId: DEMO_USER.claims.sub } }, { mergeWithLastSubmission: false });
      }
      log('login failed');
      return send(401, loginForm(uid, 'Wrong email or password.'));
    }
    return send(200, loginForm(uid));
  }

  if (details.prompt.name === 'consent') {
    const { prompt: { details: missing }, params, session } = details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: details.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
  }
  return send(400, page('Unsupported', `<p>Unsupported prompt ${escapeHtml(details.prompt.name)}</p>`));
}

export async function main() {
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(flags.port), '127.0.0.1', resolve);
  });
  const port = server.address().port;
  const issuer = `http://127.0.0.1:${port}`;
  const redirectUris = flags['redirect-uri'] ?? ['http://127.0.0.1:8080/'];
  const clientId = flags['client-id'];

  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      token_endpoint_auth_method: 'none', // a public client: no secret
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: redirectUris,
      post_logout_redirect_uris: flags['post-logout-redirect-uri'] ?? redirectUris,
      id_token_signed_response_alg: 'RS256',
    }],
    pkce: { methods: ['S256'], required: () => true },
    routes: ROUTES,
    jwks: { keys: signingKeys() },
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      // The session cookie is SameSite=None by default, which a browser
      // refuses over plain http (None needs Secure). The demo and its
      // provider are same-site (127.0.0.1, other ports), so Lax reaches the
      // silent sign-in's iframe (prompt=none) as well as top-level visits.
      long: { httpOnly: true, sameSite: 'lax' },
    },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name'],
      email: ['email', 'email_verified'],
    },
    conformIdTokenClaims: false, // put profile and email in the ID token too, for getUser()
    ttl: {
      AccessToken: Number(flags['access-token-ttl']),
      IdToken: 3600,
      RefreshToken: Number(flags['refresh-token-ttl']),
      Grant: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
      Interaction: 600,
      AuthorizationCode: 60,
    },
    rotateRefreshToken: true, // reuse of a rotated token revokes the grant: invalid_grant
    // A refresh token when offline_access was granted: asked for in this
    // request (with prompt=consent, see the middleware below), or already
    // held by the user's grant. A silent sign-in sends prompt=none, which
    // cannot carry consent, so oidc-provider drops offline_access from it
    // (OIDC Core 11); the consent the user gave at an interactive sign-in,
    // recorded in the grant, is the "other condition" §11 allows, so the
    // silently renewed session keeps a refresh token, as Intermezzo's
    // would.
    issueRefreshToken: async (ctx, client, code) => {
      if (!client.grantTypeAllowed('refresh_token')) return false;
      if (code.scopes.has('offline_access')) return true;
      const grant = code.grantId ? await ctx.oidc.provider.Grant.find(code.grantId) : undefined;
      return Boolean(grant?.getOIDCScope().split(' ').includes('offline_access'));
    },
    findAccount: async (ctx, id) => (id === DEMO_USER.claims.sub
      ? { accountId: id, claims: async () => ({ ...DEMO_USER.claims }) }
      : undefined),
    interactions: { url: (ctx, i) => `/interaction/${i.uid}` },
    clientBasedCORS: () => true, // a dev server: any SPA origin on this machine may call it
    features: {
      // RFC 9449, optional per request: a token request with a DPoP proof
      // gets a DPoP-bound token (token_type DPoP, cnf.jkt), one without
      // gets a Bearer token as before. oidc-provider checks dpop_jkt at the
      // code exchange (§10) and binds the public client's refresh token to
      // the key (§5). The nonce secret is new at every start; it also makes
      // the token endpoint's CORS expose DPoP-Nonce.
      dPoP: {
        enabled: true,
        nonceSecret: randomBytes(32),
        requireNonce: () => flags['dpop-nonce'],
      },
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      webMessageResponseMode: { enabled: flags['web-message'], ack: 'individual-draft-01' },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = page('Sign out', `${form}<p>Sign out of the dev IdP?</p>
<button id="confirm-logout" type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>`);
        },
      },
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Error', `<p id="idp-error">${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p>`);
    },
  });

  // OIDC Core 11 drops offline_access unless prompt=consent is asked for.
  // Intermezzo gives refresh tokens whenever offline_access is requested,
  // so ask for consent on the client's behalf (our interaction grants it
  // without a question). A request with a prompt of its own is left alone:
  // prompt=none (a silent sign-in) must not interact at all, and gets its
  // refresh token from the grant instead (issueRefreshToken above).
  provider.use(async (ctx, next) => {
    if (ctx.path === ROUTES.authorization && ctx.method === 'GET') {
      const q = { ...ctx.query };
      if (String(q.scope ?? '').split(' ').includes('offline_access') && !q.prompt) {
        q.prompt = 'consent';
        ctx.query = q;
      }
    }
    if (ctx.path === ROUTES.token && ctx.method === 'POST') {
      stats.tokenRequests++;
      if (ctx.get('DPoP')) stats.tokenDpopProofs++;
      await next();
      const grantType = ctx.oidc?.params?.grant_type;
      if (grantType === 'refresh_token') stats.refreshRequests++;
      if (grantType === 'authorization_code') stats.authCodeRequests++;
      if (ctx.status === 400 && ctx.body?.error === 'use_dpop_nonce') stats.tokenUseDpopNonce++;
      log(`token ${grantType} -> ${ctx.status}${ctx.body?.error ? ` ${ctx.body.error}` : ''}`);
      return;
    }
    await next();
  });

  // The resource's CORS origins: the client's web origins, from its redirect URIs.
  const appOrigins = new Set([...redirectUris, ...(flags['post-logout-redirect-uri'] ?? [])].map((u) => new URL(u).origin));
  const resourceUrl = `${issuer}${RESOURCE_PATH}`;
  const resource = createResource({ provider, url: resourceUrl, allowedOrigins: appOrigins, requireNonce: flags['dpop-nonce'] });

  const callback = provider.callback();
  server.on('request', async (req, res) => {
    const url = new URL(req.url, issuer);
    try {
      if (url.pathname.startsWith('/interaction/')) return await interaction(provider, req, res, url);
      if (url.pathname === RESOURCE_PATH) return await resource.handle(req, res);
      if (url.pathname === '/__test/stats') {
        res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
        return res.end(JSON.stringify({ ...stats, ...resource.stats() }));
      }
      if (url.pathname === '/__test/reset-stats' && req.method === 'POST') {
        stats = newTokenStats();
        resource.resetStats();
        res.writeHead(204).end();
        return undefined;
      }
      return callback(req, res);
    } catch (err) {
      log('error', err.message);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error');
    }
    return undefined;
  });

  const stop = () => { server.closeAllConnections(); server.close(() => process.exit(0)); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  process.stdout.write(`${JSON.stringify({
    ready: true, issuer, port, clientId, redirectUris, resource: resourceUrl, dpopNonce: flags['dpop-nonce'],
    user: { login: DEMO_USER.login, password: DEMO_USER.password },
  })}\n`);
}

await main();
