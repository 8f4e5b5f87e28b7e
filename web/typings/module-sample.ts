// Type-checked by `make test-types`: every API of mezzo.d.ts used as an
// ES module user would, and misuses that must not compile.
import mezzoDefault, { createClient, MezzoError, preload, runtimeStats } from "../mezzo";
import type { Claims, Client, ClientOptions, ErrorDetail, MezzoErrorCode, RuntimeHost, TokenRefreshedDetail } from "../mezzo";

async function main(): Promise<void> {
  const module: WebAssembly.Module = await preload("/mezzo/mezzo.wasm");
  void module;

  const options: ClientOptions = {
    clientId: "spa",
    redirectUri: "https://app.example.com/",
    issuer: "https://id.example.com",
    scope: "openid offline_access",
    extraAuthParams: { ui_locales: "de" },
    refreshLeewaySeconds: 30,
    clockSkewSeconds: 120,
    idTokenSignature: "jwks",
    insecureAllowHttp: false,
    wasmUrl: "/mezzo/mezzo.wasm",
    runtime: "auto",
    workerUrl: "/mezzo/mezzo-worker.js",
    silentRedirectUri: "https://app.example.com/silent.html",
    silentTimeoutSeconds: 5,
    popupTimeoutSeconds: 120,
    silentRestore: true,
    dpop: true,
    apiOrigins: ["https://api.example.com"],
    workerOnly: false,
  };
  const client: Client = await createClient(options);
  const host: RuntimeHost = client.runtime;
  if (client.runtimeReason === "fallback") {
    for (const f of client.runtimeFallbacks) console.log(f.host satisfies RuntimeHost, f.code === "runtime_unavailable", f.description);
  }
  const started: void = await client.ready;
  void started;
  client.ready.catch((e: unknown) => { if (e instanceof MezzoError) console.log(e.code === "load_failed" || e.code === "invalid_config"); });
  const forced: Client = await createClient({ clientId: "x", redirectUri: "https://a/", runtime: "shared-worker" });
  void [host, forced];
  const same: Client = await mezzoDefault.createClient({ clientId: "x", redirectUri: "https://a/" });
  void same;

  if (client.isRedirectCallback()) {
    const { returnTo }: { returnTo: string } = await client.handleRedirectCallback(location.href);
    history.replaceState(null, "", returnTo);
  }
  if (!client.isAuthenticated()) {
    await client.login({ returnTo: "/inbox", prompt: "login", loginHint: "a@b.c", maxAge: 300, extraParams: { acr_values: "mfa" } });
  }
  try {
    await client.loginSilently({ loginHint: "a@b.c", maxAge: 600 });
  } catch (e) {
    if (e instanceof MezzoError && (e.code === "login_required" || e.code === "timeout")) {
      const popped: { returnTo: string } = await client.loginWithPopup({ returnTo: "/inbox", prompt: "login" });
      void popped;
    } else if (e instanceof MezzoError && (e.code === "popup_blocked" || e.code === "popup_closed")) {
      console.log(e.description);
    }
  }
  const silent: Promise<void> = client.loginSilently();
  void silent;
  const token: string = await client.getToken();
  const fresh: string = await client.getToken({ forceRefresh: true });
  const user: Claims | null = client.getUser();
  const sub: string | undefined = user?.sub;
  const info: Claims = await client.getUserinfo();
  const res: Response = await client.fetch("/api/orders", { method: "POST", body: "{}" });
  const proof: string = await client.createDpopProof("POST", "https://api.example.com/orders", { accessToken: token });
  const again: boolean = await client.handleDpopResponse("https://api.example.com/orders", res, { retried: false });
  const jkt: string | null = await client.getDpopThumbprint();
  void [proof, again, jkt];
  try {
    await createClient({ clientId: "x", redirectUri: "https://a/", dpop: true });
  } catch (e) {
    if (e instanceof MezzoError && (e.code === "dpop_key_unavailable" || e.code === "dpop_nonce_failed")) console.log(e.description);
  }
  const off: () => void = client.on("tokenRefreshed", (d: TokenRefreshedDetail) => console.log(d.expiresAt + 1, d.scope));
  client.on("sessionExpired", (d: ErrorDetail) => console.log(d.code, d.description));
  client.on("error", (d) => console.log(d.status ?? 0));
  off();
  await client.logout({ returnTo: "/bye", revoke: false });
  await client.logout({ forgetDpopKey: true });
  client.close();
  void [token, fresh, sub, info, res];

  try {
    await client.getToken();
  } catch (e) {
    if (e instanceof MezzoError) {
      const code: MezzoErrorCode = e.code;
      const status: number | undefined = e.status;
      console.log(code === "login_required" || code === "runtime_unavailable", e.description, status, e.name === "MezzoError");
    }
  }
  const mem: number | undefined = runtimeStats()?.wasmMemoryBytes;
  const heap: number | undefined = runtimeStats()?.goHeapBytes;
  void mem;
  void heap;
  const err = new MezzoError("invalid_config", "x", 400);
  void err;

  // @ts-expect-error clientId is required
  await createClient({ redirectUri: "https://a/" });
  // @ts-expect-error idTokenSignature is "jwks" or "tls"
  await createClient({ clientId: "x", redirectUri: "https://a/", idTokenSignature: "none" });
  // @ts-expect-error unknown options are errors at run time too
  await createClient({ clientId: "x", redirectUri: "https://a/", clientID: "typo" });
  // @ts-expect-error runtime is one of the hosts or "auto"
  await createClient({ clientId: "x", redirectUri: "https://a/", runtime: "service-worker" });
  // @ts-expect-error runtime is read-only
  client.runtime = "page";
  // @ts-expect-error a silent sign-in always sends prompt=none
  await client.loginSilently({ prompt: "login" });
  // @ts-expect-error a silent sign-in has no return path: it never navigates
  await client.loginSilently({ returnTo: "/x" });
  // @ts-expect-error silentRestore is a boolean
  await createClient({ clientId: "x", redirectUri: "https://a/", silentRestore: "yes" });
  // @ts-expect-error dpop is a boolean
  await createClient({ clientId: "x", redirectUri: "https://a/", dpop: "yes" });
  // @ts-expect-error a proof is for one method and URL
  await client.createDpopProof("https://api.example.com/orders");
  // @ts-expect-error ready is read-only
  client.ready = Promise.resolve();
  // @ts-expect-error ready resolves nothing to use: the client is already in hand
  const fromReady: Client = await client.ready;
  void fromReady;
  // @ts-expect-error not an event
  client.on("tokenrefreshed", () => {});
  // @ts-expect-error getToken resolves a string
  const n: number = await client.getToken();
  // @ts-expect-error forceRefresh is a boolean
  await client.getToken({ forceRefresh: "yes" });
  // @ts-expect-error a tokenRefreshed detail has no token
  client.on("tokenRefreshed", (d) => d.accessToken);
  void n;
}
void main;
