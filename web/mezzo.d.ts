// Typings for mezzo's JS API: web/dist/mezzo.mjs (ES module) and
// web/dist/mezzo.js (classic script, defines the global `mezzo`).
// Checked by `make test-types` against web/typings/*.ts.

export as namespace mezzo;

/** Options of createClient. The module checks them all when it starts: unknown keys, wrong types and missing required fields reject `client.ready` and the first protocol call with `invalid_config`. */
export interface ClientOptions {
  /** The public client's ID at the provider. */
  clientId: string;
  /** The redirect URI exactly as registered (no fragment). */
  redirectUri: string;
  /** The expected `iss`; without explicit endpoints, discovery runs at `${issuer}/.well-known/openid-configuration`. */
  issuer?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  jwksUri?: string;
  endSessionEndpoint?: string;
  revocationEndpoint?: string;
  userinfoEndpoint?: string;
  /** Default "openid profile email offline_access". */
  scope?: string;
  audience?: string;
  /** Extra authorization request parameters; they may not override protocol parameters. */
  extraAuthParams?: Record<string, string>;
  /** Renew this long before expiry (capped at half the token's lifetime). Default 60. */
  refreshLeewaySeconds?: number;
  /** Leeway for the ID token's exp, iat and auth_time. Default 60. */
  clockSkewSeconds?: number;
  /** "tls" skips only the ID token's signature check (e.g. HS256 providers). Default "jwks". */
  idTokenSignature?: "jwks" | "tls";
  /** Allow http:// endpoints on non-loopback hosts. Default false; loopback is always allowed. */
  insecureAllowHttp?: boolean;
  /** Abort any one request to the provider after this many seconds. Default 10. */
  requestTimeoutSeconds?: number;
  /**
   * Where to fetch mezzo.wasm; default next to the loader. A page runs one
   * module: once one is loading, omitting wasmUrl uses it, and another URL
   * is rejected with `invalid_config`.
   */
  wasmUrl?: string;
  /**
   * Where mezzo's Go runtime runs. "auto" (default): a SharedWorker shared
   * by every tab of the origin where the page can start one, else a
   * dedicated Worker, else the page itself (as in node). A forced host that
   * cannot start rejects with `runtime_unavailable`, never falls back.
   */
  runtime?: RuntimeHost | "auto";
  /** Where to load mezzo-worker.js for the worker hosts; default next to the loader. */
  workerUrl?: string;
  /**
   * The page the provider returns to inside the iframe of loginSilently()
   * and the popup of loginWithPopup(); default redirectUri. It must be on
   * redirectUri's origin (else `invalid_config`), registered at the
   * provider, load mezzo.js or mezzo.mjs, and may be framed by its own
   * origin (`frame-ancestors 'self'`). There mezzo hands the response to
   * the parent or opener and starts nothing; createClient() never settles.
   */
  silentRedirectUri?: string;
  /** loginSilently() rejects with `timeout` when the provider has not answered within this many seconds. Default 10. */
  silentTimeoutSeconds?: number;
  /** loginWithPopup() rejects with `timeout` when the user has not finished within this many seconds. Default 300. */
  popupTimeoutSeconds?: number;
  /**
   * Try loginSilently() at once when the client starts with no session
   * (and the page is no redirect callback); the module then starts at once.
   * Its outcome arrives as events; loginSilently() called meanwhile joins
   * it. Default false. Worth it with a same-site provider (see the README).
   */
  silentRestore?: boolean;
  /**
   * Sender-constrained tokens (DPoP, RFC 9449). The runtime keeps one ECDSA
   * P-256 key pair per issuer and client, made with WebCrypto with a
   * non-extractable private key and kept in IndexedDB (it survives reloads;
   * the private key can sign, never be read). The authorization request
   * carries `dpop_jkt`, token and refresh requests a proof, and the
   * provider must answer with DPoP tokens (else `invalid_token_response`);
   * `client.fetch` presents them with a fresh proof. A key that cannot be
   * made or stored rejects createClient with `dpop_key_unavailable`:
   * never a fallback to Bearer. Default false: the provider and every
   * resource server must accept DPoP (see the README).
   */
  dpop?: boolean;
}

/** Where a client's Go runtime runs. */
export type RuntimeHost = "shared-worker" | "worker" | "page";

export interface LoginOptions {
  /** Where handleRedirectCallback sends the user back; same origin only, otherwise "/". */
  returnTo?: string;
  prompt?: string;
  loginHint?: string;
  /** Seconds; the ID token must then carry a recent enough auth_time. */
  maxAge?: number;
  extraParams?: Record<string, string>;
}

/** Options of loginSilently(): those of login() but prompt (always "none") and returnTo. */
export type SilentLoginOptions = Omit<LoginOptions, "prompt" | "returnTo">;

export interface LogoutOptions {
  /** post_logout_redirect_uri, same origin only (another origin rejects with invalid_argument and changes nothing); default the redirect URI. */
  returnTo?: string;
  /** Revoke the refresh token first (RFC 7009). Default true. */
  revoke?: boolean;
  /**
   * Also delete this client's DPoP key ("forget this device"); the next
   * sign-in makes a new one. Without it the key stays for the next session
   * on this device. If the key cannot be deleted, logout rejects with
   * `dpop_key_unavailable` (the session has ended all the same).
   */
  forgetDpopKey?: boolean;
}

export interface DpopProofOptions {
  /** The access token the request presents: the proof then carries its hash (`ath`, RFC 9449 §7.1). */
  accessToken?: string;
}

export interface DpopResponseOptions {
  /** This response answers a request already sent once more: a second nonce challenge rejects `dpop_nonce_failed`. */
  retried?: boolean;
}

export interface GetTokenOptions {
  /** Renew now even if the cached token is still valid. */
  forceRefresh?: boolean;
}

export interface CallbackResult {
  /** The returnTo given to login(), or "/". */
  returnTo: string;
}

/** ID token (or userinfo) claims. */
export interface Claims {
  sub: string;
  [claim: string]: unknown;
}

/**
 * The claims of an ID token from the Intermezzo identity API, beside the
 * standard ones: `client.getUser<IntermezzoClaims>()`. Each is optional:
 * which ones a token carries depends on the scope granted.
 */
export interface IntermezzoClaims extends Claims {
  iss: "Screening Eagle ID";
  /** The OAuth scopes granted, one string each. */
  scp?: string[];
  /** The user's permissions in the product. */
  scopes?: string[];
  userID?: number;
  userRegion?: string;
  first_name?: string;
  last_name?: string;
  email?: string;
  /** ISO 3166-1 alpha-2. */
  country_code?: string;
  /** A URL of the user's picture. */
  picture?: string;
}

export interface TokenRefreshedDetail {
  /** Milliseconds since the epoch, as Date.now(). */
  expiresAt: number;
  scope: string;
}

export interface ErrorDetail {
  code: MezzoErrorCode;
  description: string;
  status?: number;
  uri?: string;
}

export interface EventMap {
  tokenRefreshed: TokenRefreshedDetail;
  sessionExpired: ErrorDetail;
  error: ErrorDetail;
}

export type MezzoEvent = keyof EventMap;

export interface Client {
  /** Where this client's Go runtime runs. */
  readonly runtime: RuntimeHost;
  /**
   * Resolves once the module runs and this client's options are accepted
   * (discovery included): from then on protocol calls run at once. Rejects
   * with their typed error (`load_failed`, `invalid_config`,
   * `insecure_endpoint`, `issuer_mismatch`, `network_error`, `timeout`, …),
   * the same error the first call that needs the module gets. It follows
   * the latest start and never changes when the module starts: after a
   * failure the next call tries again, and `ready` then follows that try.
   * `close()` rejects it with `client_closed` if it was still waiting.
   */
  readonly ready: Promise<void>;
  /** Saves the one-time login transaction in sessionStorage and navigates to the provider. */
  login(opts?: LoginOptions): Promise<void>;
  /**
   * Signs in without leaving the page: the authorization request with
   * prompt=none in a hidden iframe, with its own state, nonce and PKCE
   * verifier (never the sessionStorage transaction). Resolves once the
   * session has started; rejects with the provider's error
   * (`login_required`, `consent_required`, `interaction_required`, …) or
   * `timeout` (silentTimeoutSeconds). One attempt at a time per client:
   * concurrent callers share it.
   */
  loginSilently(opts?: SilentLoginOptions): Promise<void>;
  /**
   * Signs in in a popup window, which must be opened from a user gesture
   * (call it from a click handler, before any await). Rejects with
   * `popup_blocked` when the browser refuses the window, `popup_closed`
   * when the user closes it, `timeout` (popupTimeoutSeconds), or the
   * provider's error. Resolves like handleRedirectCallback.
   */
  loginWithPopup(opts?: LoginOptions): Promise<CallbackResult>;
  /** Whether url (default location.href) is an authorization response for this client. */
  isRedirectCallback(url?: string): boolean;
  /** Completes the login from url (default location.href) and removes code, state and iss from the address bar. */
  handleRedirectCallback(url?: string): Promise<CallbackResult>;
  isAuthenticated(): boolean;
  /** The access token: cached while valid, renewed once however many callers ask. */
  getToken(opts?: GetTokenOptions): Promise<string>;
  /**
   * The ID token's claims, or null without a session. T names the claims a
   * provider issues (e.g. IntermezzoClaims); it is a promise of the caller,
   * not checked at run time.
   */
  getUser<T extends Claims = Claims>(): T | null;
  /** Claims from the userinfo endpoint; rejected with invalid_userinfo when its sub is not the ID token's. */
  getUserinfo(): Promise<Claims>;
  /** Clears the session, revokes, and navigates to the provider's end-session endpoint when it has one. */
  logout(opts?: LogoutOptions): Promise<void>;
  /**
   * globalThis.fetch with the access token: `Authorization: Bearer <token>`,
   * or with `dpop` `Authorization: DPoP <token>` and a fresh `DPoP` proof for
   * this method and URL. A 401 asking for a DPoP nonce (`WWW-Authenticate:
   * DPoP error="use_dpop_nonce"` and a `DPoP-Nonce` header) is sent once
   * more with a proof carrying it; asked again, it rejects
   * `dpop_nonce_failed`. The resource server must expose `DPoP-Nonce` and
   * `WWW-Authenticate` to CORS.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /**
   * A fresh DPoP proof (RFC 9449 §4.2) for a request of `method` to `url`,
   * for an app that sends it with its own HTTP client (with
   * `Authorization: DPoP <token>` when it presents `accessToken`). Each
   * proof is for one request. Rejects `invalid_config` without `dpop`.
   */
  createDpopProof(method: string, url: string, opts?: DpopProofOptions): Promise<string>;
  /**
   * Tells the client what a server answered to a request sent with
   * createDpopProof: its `DPoP-Nonce` is used from the next proof on.
   * Resolves true when the request should be sent once more with a new
   * proof (a nonce challenge, RFC 9449 §9); false without `dpop`.
   */
  handleDpopResponse(url: string, response: Response, opts?: DpopResponseOptions): Promise<boolean>;
  /** The DPoP key's JWK thumbprint (RFC 7638), the `cnf.jkt` of the tokens bound to it; null without `dpop`. */
  getDpopThumbprint(): Promise<string | null>;
  /** Subscribes to an event; returns the unsubscribe function. Events never carry a token. */
  on<E extends MezzoEvent>(event: E, listener: (detail: EventMap[E]) => void): () => void;
  /** Forgets the session and stops renewal without network or navigation; later calls reject with client_closed. */
  close(): void;
}

/** The stable codes of MezzoError; provider error codes (RFC 6749 §4.1.2.1, §5.2; OIDC Core 3.1.2.6) pass through. */
export type MezzoErrorCode =
  | "invalid_config"
  | "insecure_endpoint"
  | "missing_transaction"
  | "state_mismatch"
  | "issuer_mismatch"
  | "invalid_callback"
  | "invalid_id_token"
  | "invalid_token_response"
  | "invalid_userinfo"
  | "login_required"
  | "network_error"
  | "timeout"
  | "invalid_grant"
  | "invalid_argument"
  | "internal_error"
  | "load_failed"
  | "runtime_exited"
  | "runtime_unavailable"
  | "client_closed"
  | "popup_blocked"
  | "popup_closed"
  | "dpop_nonce_failed"
  | "dpop_signing_failed"
  | "dpop_key_unavailable"
  | "access_denied"
  | "consent_required"
  | "interaction_required"
  | "server_error"
  | "temporarily_unavailable"
  | (string & {});

/** Every failure: rejections, and errors thrown by on(). */
export declare class MezzoError extends Error {
  readonly name: "MezzoError";
  readonly code: MezzoErrorCode;
  readonly description: string;
  /** The HTTP status, when one was involved. */
  readonly status?: number;
  constructor(code: MezzoErrorCode, description?: string, status?: number);
}

/**
 * Returns a client as soon as it can answer truthfully, before the module
 * has started: a signed-out page answers isAuthenticated() (false) and
 * getUser() (null) at once; a running SharedWorker answers from its
 * session. The module (once per page, or the worker's) starts at once on a
 * redirect callback or with a session, else in the background after the
 * first paint; protocol calls wait for it. The options are checked when it
 * starts: `client.ready` and the first protocol call reject with their
 * error, as does a module that cannot be fetched or does not start within
 * 10 s (`load_failed`; the next call tries again). Rejects at once only
 * for what the loader checks itself: options that are not an object, and
 * `runtime`, `wasmUrl` or `workerUrl` it cannot use. Marks on the page's
 * performance timeline, once per page: `mezzo:ready` (the first client
 * resolved), `mezzo:compiled`, `mezzo:started` (the Go program ready) and
 * `mezzo:module-ready` (the first `client.ready` resolved).
 */
export declare function createClient(options: ClientOptions): Promise<Client>;

/**
 * Starts fetching and compiling mezzo.wasm early in this page; createClient
 * reuses the result when the runtime runs in the page (runtime "page", or
 * "auto" without workers). A worker runtime fetches and compiles its own.
 * Another URL than the page's module rejects with `invalid_argument`.
 */
export declare function preload(wasmUrl?: string): Promise<WebAssembly.Module>;

/** Diagnostics of the running module. */
export interface RuntimeStats {
  /** WebAssembly linear memory; it never shrinks. */
  wasmMemoryBytes: number;
  /** Bytes of Go heap in use, garbage included until the next collection (absent once the module has exited). */
  goHeapBytes?: number;
  /** Go garbage collections so far (absent once the module has exited). */
  goGCCycles?: number;
  /** Go goroutines alive (absent once the module has exited). */
  goGoroutines?: number;
}
/** Diagnostics of the module running in this page, or null before it starts (and when the runtime runs in a worker). */
export declare function runtimeStats(): RuntimeStats | null;

declare const _default: {
  readonly createClient: typeof createClient;
  readonly MezzoError: typeof MezzoError;
  readonly preload: typeof preload;
  readonly runtimeStats: typeof runtimeStats;
};
export default _default;
