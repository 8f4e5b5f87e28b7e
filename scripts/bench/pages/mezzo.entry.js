// mezzo's minimal use. mezzo itself arrives as /dist/mezzo.js (a classic
// script that defines globalThis.mezzo and fetches mezzo.wasm and
// wasm_exec.js next to itself); this file is only the glue every library
// gets: create the client, and expose the calls the bench driver makes.
let client;
let lastRenewal = null; // {expiresAt, at}: from mezzo's tokenRefreshed event

window.benchLib = {
  name: 'mezzo',
  async start(cfg) {
    client = await window.mezzo.createClient({
      clientId: cfg.clientId,
      redirectUri: cfg.redirectUri,
      issuer: cfg.issuer,
      // Explicit endpoints, as for the peers: nothing is discovered at start.
      authorizationEndpoint: cfg.endpoints.authorization,
      tokenEndpoint: cfg.endpoints.token,
      jwksUri: cfg.endpoints.jwks,
      scope: cfg.scope,
      // The silent row (variant 'silent'): a start with no runtime left
      // restores the session through a silent sign-in (prompt=none in a
      // hidden iframe, back to this scenario's cb page).
      ...(cfg.variant === 'silent' ? { silentRestore: true } : {}),
      ...cfg.mezzoOptions, // BENCH_MEZZO_OPTIONS, to measure a variant (run.mjs)
      // ?runtime=page: one host forced for this page (the code cache phase).
      ...(new URLSearchParams(location.search).has('runtime') ? { runtime: new URLSearchParams(location.search).get('runtime') } : {}),
    });
    client.on('tokenRefreshed', (d) => { lastRenewal = { expiresAt: d.expiresAt, at: Date.now() }; });
    if (cfg.variant === 'silent' && !client.isRedirectCallback() && !client.isAuthenticated()) {
      // Joins the restore silentRestore started; login_required when the
      // provider has no session (the login that follows is a redirect).
      await client.loginSilently().catch(() => {});
    }
    return client.isAuthenticated();
  },
  // Which host runs the Go runtime (issue 11); a build without hosts runs it in the page.
  runtime: () => client.runtime ?? 'page',
  // createClient answers before the module runs (issue 15); client.ready
  // resolves once a protocol call can run.
  moduleReady: () => client.ready,
  isCallback: () => client.isRedirectCallback(),
  callback: () => client.handleRedirectCallback(),
  isAuthenticated: async () => client.isAuthenticated(),
  login: () => client.login(),
  loginWithPopup: () => client.loginWithPopup(),
  getToken: () => client.getToken(),
  // The stampede call: the same getToken every caller makes.
  renewingGetToken: () => client.getToken(),
  forceRefresh: () => client.getToken({ forceRefresh: true }),
  // When the cached token enters its renewal window: mezzo renews
  // refreshLeewaySeconds (default 60) before expiry, but at most half the
  // token's life, so at expiresAt - min(60 s, lifetime / 2). The estimate
  // from the event is never earlier than mezzo's own moment (the event
  // comes after the request was sent).
  renewalDueAt() {
    if (!lastRenewal) return null;
    const lifetime = lastRenewal.expiresAt - lastRenewal.at;
    return lastRenewal.expiresAt - Math.min(60000, lifetime / 2);
  },
};

// The dpop phase's pages only (build.mjs bundles this file twice; BENCH_DPOP
// is false in the bundle the size rows count, so none of this is in it).
// DPoP itself is the `dpop: true` option, from the page's configuration
// (cfg.mezzoOptions, run.mjs).
if (BENCH_DPOP) {
  Object.assign(window.benchLib, {
    dpopAvailable: () => typeof client.createDpopProof === 'function',
    // mezzo does not show its token_type (with dpop it refuses any token
    // reply but token_type DPoP): null, and the harness relies on the
    // resource endpoint's answer, as for every library.
    tokenType: async () => null,
    // One proof as an app's own HTTP client gets it, for a token in hand.
    async dpopProofMaker(url) {
      const accessToken = await client.getToken();
      return () => client.createDpopProof('GET', url, { accessToken });
    },
    dpopFetch: (url) => client.fetch(url),
  });
}
