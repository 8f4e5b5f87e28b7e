// Typings of mezzo's React binding (`@mezzo-auth/mezzo/react`), checked by
// `make test-types` (web/typings/react-sample.tsx) and by the package
// suite against the installed tarball.
import type { ReactNode } from "react";
import type { CallbackResult, Claims, Client, ClientOptions, GetTokenOptions, LoginOptions, LogoutOptions, MezzoError, SilentLoginOptions } from "./mezzo.mjs";

export interface MezzoProviderProps {
  /** createClient's options. A new object with the same content keeps the client; other content makes a new one. */
  options: ClientOptions;
  /** Called once after a redirect callback succeeded. Default: history.replaceState to result.returnTo. */
  onRedirectCallback?: (result: CallbackResult) => void;
  children?: ReactNode;
}

/** Makes the client for options, handles a redirect callback once, and provides the session to useMezzo(). */
export declare function MezzoProvider(props: MezzoProviderProps): ReactNode;

export interface MezzoState<T extends Claims = Claims> {
  /** True until the client exists (and, on a callback page, until the callback is handled). */
  isLoading: boolean;
  isAuthenticated: boolean;
  /** The ID token's claims, or null without a session. */
  user: T | null;
  /** The last failure: createClient's, the callback's, or the detail of a sessionExpired or error event. */
  error: MezzoError | { code: string; description: string } | null;
  /** The client itself, null while loading. */
  client: Client | null;
  /** Waits for the client, then client.getToken(). */
  getToken(opts?: GetTokenOptions): Promise<string>;
  /** Waits for the client, then client.fetch(): the access token as Bearer, or with `dpop` as DPoP with a fresh proof. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Waits for the client, then client.login(). */
  login(opts?: LoginOptions): Promise<void>;
  /** Waits for the client, then client.loginSilently(). */
  loginSilently(opts?: SilentLoginOptions): Promise<void>;
  /** client.loginWithPopup(), at once when the client exists (call it from the click handler: the popup needs the gesture). */
  loginWithPopup(opts?: LoginOptions): Promise<CallbackResult>;
  /** Waits for the client, then client.logout(). */
  logout(opts?: LogoutOptions): Promise<void>;
}

/** The session of the nearest MezzoProvider; re-renders on every session event, from this tab or another one sharing the runtime. */
export declare function useMezzo<T extends Claims = Claims>(): MezzoState<T>;
