// oidc-client-ts's minimal use, bundled with the library by esbuild.
import { UserManager, WebStorageStateStore, InMemoryWebStorage } from 'oidc-client-ts';

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
