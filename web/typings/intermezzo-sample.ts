// Type-checked by `make test-types`: a page against the Intermezzo identity
// API (explicit endpoints, HS256 ID tokens checked in "tls" mode) reading
// Intermezzo's claims, and misuses that must not compile.
import { createClient } from "../mezzo";
import type { Claims, IntermezzoClaims } from "../mezzo";

async function intermezzo(): Promise<void> {
  const client = await createClient({
    clientId: "spa",
    redirectUri: "https://app.example.com/",
    issuer: "Screening Eagle ID",
    authorizationEndpoint: "https://id.example.com/api/id/v1/auth/authorize",
    tokenEndpoint: "https://id.example.com/api/id/v1/auth/token",
    revocationEndpoint: "https://id.example.com/api/id/v1/auth/revoke",
    endSessionEndpoint: "https://id.example.com/api/id/v1/auth/logout",
    idTokenSignature: "tls",
    scope: "openid profile email offline_access",
  });
  const user = client.getUser<IntermezzoClaims>();
  if (user) {
    const id: number | undefined = user.userID;
    const region: string | undefined = user.userRegion;
    const granted: string[] = user.scp ?? [];
    const permissions: string[] = user.scopes ?? [];
    const name = `${user.first_name ?? ""} ${user.last_name ?? ""}`;
    const country: string | undefined = user.country_code;
    const picture: string | undefined = user.picture;
    const sub: string = user.sub;
    const iss: "Screening Eagle ID" = user.iss;
    console.log(id, region, granted.includes("offline_access"), permissions, name, country, picture, sub, iss);
    // @ts-expect-error userID is a number
    const wrong: string = user.userID;
    // @ts-expect-error scp is a list of scopes
    user.scp?.toUpperCase();
    void wrong;
  }

  // The generic Claims stays as it was: any claim is unknown until checked.
  const plain: Claims | null = client.getUser();
  // @ts-expect-error an unknown claim of Claims is unknown, not a number
  const n: number = plain?.userID;
  void n;
  // @ts-expect-error T must be claims with a sub
  client.getUser<{ userID: number }>();
}
void intermezzo;
