// oidc-client-ts's minimal use, bundled with the library by esbuild.
import { UserManager, WebStorageStateStore, InMemoryWebStorage, IndexedDbDPoPStore } from 'oidc-client-ts';

let mgr;

window.benchLib = {
  name: 'oidc-client-ts',
  async start(cfg) {
    mgr = new UserManager({
      authority: cfg.issuer,
      client_id: cfg.clientId,
      redirect_uri: cfg.redirectUri,
      response_type: 'code',
      scope: cfg.scope,
      // Explicit metadata, as for the others: no discovery at start.
      metadata: {
        issuer: cfg.issuer,
        authorization_endpoint: cfg.endpoints.authorization,
        token_endpoint: cfg.endpoints.token,
        jwks_uri: cfg.endpoints.jwks,
      },
      // Tokens in memory, like mezzo (the default is sessionStorage), except
      // on the reload row's pages (variant 'reload'): there it keeps its
      // default store, sessionStorage, which is what restores a reload.
      ...(cfg.variant === 'reload' ? {} : { userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }) }),
      // The silent row (variant 'silent'): signinSilent() in its hidden
      // iframe, which returns to this scenario's cb page.
      silent_redirect_uri: cfg.redirectUri,
      // The popup row (variant 'popup'): signinPopup() returns there too.
      popup_redirect_uri: cfg.redirectUri,
      // Its timer would renew a short-lived token in a loop; renewal here is
      // the explicit signinSilent() the stampede calls.
      automaticSilentRenew: false,
      // The dpop phase's pages (BENCH_DPOP, below): DPoP-bound tokens, the
      // key in its IndexedDB store, the code bound too (dpop_jkt).
      ...(BENCH_DPOP ? { dpop: { store: new IndexedDbDPoPStore(), bind_authorization_code: true } } : {}),
    });
    if (cfg.variant === 'popup' && window.opener && this.isCallback()) {
      // The popup's return page: hand the response to the opener.
      await mgr.signinPopupCallback();
      return new Promise(() => {});
    }
    if (cfg.variant === 'silent') {
      if (window.parent !== window && this.isCallback()) {
        // The silent sign-in's return page, in the iframe: hand the
        // response to the parent, and nothing else.
        await mgr.signinSilentCallback();
        return new Promise(() => {});
      }
      if (!this.isCallback()) await mgr.signinSilent().catch(() => {}); // login_required without a provider session
    }
    const user = await mgr.getUser();
    return !!user && !user.expired;
  },
  isCallback() {
    const q = new URLSearchParams(location.search);
    return q.has('code') && q.has('state');
  },
  callback: () => mgr.signinRedirectCallback(),
  async isAuthenticated() {
    const user = await mgr.getUser();
    return !!user && !user.expired;
  },
  login: () => mgr.signinRedirect(),
  loginWithPopup: () => mgr.signinPopup(),
  getToken: async () => (await mgr.getUser()).access_token,
  // oidc-client-ts has no getToken that renews: signinSilent() is the call
  // that renews (with the refresh token), and it shares nothing between
  // concurrent callers.
  renewingGetToken: async () => (await mgr.signinSilent()).access_token,
  forceRefresh: async () => (await mgr.signinSilent()).access_token,
  renewalDueAt: () => null, // signinSilent always renews
};

// The dpop phase's pages only (build.mjs bundles this file twice; BENCH_DPOP
// is false in the bundle the size rows count, so none of this is in it).
if (BENCH_DPOP) {
  Object.assign(window.benchLib, {
    dpopAvailable: () => typeof mgr.dpopProof === 'function',
    tokenType: async () => (await mgr.getUser())?.token_type ?? null,
    // UserManager.dpopProof: its proof for an app's own requests.
    async dpopProofMaker(url) {
      const user = await mgr.getUser();
      return () => mgr.dpopProof(url, user, 'GET');
    },
    // No fetch of its own: what its documentation shows an app doing with
    // dpopProof (the user, a proof, fetch with both headers).
    async dpopFetch(url) {
      const user = await mgr.getUser();
      const proof = await mgr.dpopProof(url, user, 'GET');
      return fetch(url, { headers: { authorization: `DPoP ${user.access_token}`, dpop: proof } });
    },
  });
}
