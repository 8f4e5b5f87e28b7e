// Compiled (tsc --noEmit) against the package as installed from its
// tarball: what an editor or tsc in an app picks up through "exports".
import { createClient, MezzoError, type Client, type ClientOptions } from "@mezzo-auth/mezzo";
import { MezzoProvider, useMezzo, type MezzoState } from "@mezzo-auth/mezzo/react";

const options: ClientOptions = { clientId: "c", redirectUri: "https://app.example/cb", issuer: "https://id.example" };
export async function start(): Promise<Client> {
  const client = await createClient(options);
  client.on("sessionExpired", (d) => console.log(d.code));
  return client;
}
export const isMezzo = (e: unknown): e is MezzoError => e instanceof MezzoError;
export const provider: typeof MezzoProvider = MezzoProvider;
export function useSession(): boolean {
  const s: MezzoState = useMezzo();
  void s.loginSilently().then(() => s.loginWithPopup({ returnTo: "/" })).then((r) => r.returnTo.length);
  return s.isAuthenticated && s.user?.sub !== undefined;
}
// @ts-expect-error: options are required
MezzoProvider({});
