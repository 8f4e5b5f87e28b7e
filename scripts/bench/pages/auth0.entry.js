// @auth0/auth0-spa-js's minimal use, bundled with the library by esbuild.
import { Auth0Client } from '@auth0/auth0-spa-js';

let client;
let lastRenewal = null; // {expiresAt}: auth0 keeps no timer; we note each token's expiry

const note = (r) => {
  if (r && typeof r === 'object' && r.expires_in) lastRenewal = { expiresAt: Date.now() + r.expires_in * 1000 };
  return typeof r === 'object' ? r?.access_token : r;
};

window.benchLib = {
  name: 'auth0-spa-js',
  async start(cfg) {
    // The silent row (variant 'silent') is the same start: with nothing
    // kept, checkSession() is auth0-spa-js's silent sign-in
    // (getTokenSilently through the hidden iframe).
    if (cfg.variant === 'reload' || cfg.variant === 'silent') {
      // The reload row: auth0-spa-js as its users get it by default, i.e.
      // createAuth0Client(): tokens in memory without refresh tokens, and
      // checkSession() at start, a silent /authorize in a hidden iframe
      // (prompt=none, response_mode=web_message) that restores the session
      // from the provider's cookie. createAuth0Client is `new Auth0Client`
      // + `await checkSession()`; it is spelled out here only to set the
      // expected issuer (below) before the check.
      client = new Auth0Client({
        domain: cfg.endpoints.base,
        clientId: cfg.clientId,
        authorizationParams: { redirect_uri: cfg.redirectUri, scope: cfg.scope },
      });
      client.tokenIssuer = cfg.issuer;
      await client.checkSession();
      return client.isAuthenticated();
    }
    // new Auth0Client + isAuthenticated(), not createAuth0Client(): the
    // latter runs checkSession(), a silent /authorize in an iframe.
    client = new Auth0Client({
      // auth0 builds every URL from `domain` (https:// unless a scheme is
      // given): /authorize and /oauth/token. The bench proxy maps those
      // paths onto oidc-provider's routes.
      domain: cfg.endpoints.base,
      clientId: cfg.clientId,
      authorizationParams: { redirect_uri: cfg.redirectUri, scope: cfg.scope },
      cacheLocation: 'memory', // the default: tokens in memory, like mezzo
      useRefreshTokens: true,
      // With refresh tokens in memory auth0 runs token requests in a Web
      // Worker, by default from a blob: URL, which a strict CSP
      // (worker-src falling back to script-src 'self') refuses; workerUrl
      // is auth0's documented way to self-host that worker.
      workerUrl: cfg.auth0WorkerUrl,
      // The dpop phase's pages (BENCH_DPOP, below): DPoP-bound tokens.
      ...(BENCH_DPOP ? { useDpop: true } : {}),
    });
    // auth0 expects iss = `${domain}/` (or an https issuer option); our
    // provider's iss is its own origin without a trailing slash. Setting
    // the expected issuer keeps auth0's ID token check in force.
    client.tokenIssuer = cfg.issuer;
    return client.isAuthenticated();
  },
  isCallback() {
    const q = new URLSearchParams(location.search);
    return q.has('code') && q.has('state');
  },
  callback: () => client.handleRedirectCallback(),
  // Outside the timed callback: note when the new token expires.
  afterCallback: async () => { note(await client.getTokenSilently({ detailedResponse: true, cacheMode: 'cache-only' })); },
  isAuthenticated: () => client.isAuthenticated(),
  login: () => client.loginWithRedirect(),
  getToken: () => client.getTokenSilently(),
  renewingGetToken: async () => note(await client.getTokenSilently({ detailedResponse: true })),
  forceRefresh: async () => note(await client.getTokenSilently({ cacheMode: 'off', detailedResponse: true })),
  // auth0's getTokenSilently renews a token within 60 s of its expiry,
  // comparing whole seconds: one more second makes it certain.
  renewalDueAt: () => (lastRenewal ? lastRenewal.expiresAt - 60000 + 1000 : null),
};

// The dpop phase's pages only (build.mjs bundles this file twice; BENCH_DPOP
// is false in the bundle the size rows count, so none of this is in it).
if (BENCH_DPOP) {
  let fetcher;
  Object.assign(window.benchLib, {
    dpopAvailable: () => typeof client.generateDpopProof === 'function',
    tokenType: async () => (await client.getTokenSilently({ detailedResponse: true, cacheMode: 'cache-only' }))?.token_type ?? null,
    // generateDpopProof: auth0-spa-js's proof for an app's own requests.
    async dpopProofMaker(url) {
      const accessToken = await client.getTokenSilently();
      return () => client.generateDpopProof({ url, method: 'GET', accessToken });
    },
    // createFetcher().fetchWithAuth: the token, `Authorization: DPoP` and
    // a proof; without a dpopNonceId it sends no proof.
    dpopFetch(url) {
      fetcher ??= client.createFetcher({ dpopNonceId: 'bench-resource' });
      return fetcher.fetchWithAuth(url);
    },
  });
}
