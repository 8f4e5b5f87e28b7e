// `make demo`: the demo app against a bundled identity provider.
// Starts the demo server (DEMO_PORT, default 8080) and a provider (IDP_PORT,
// default 9000; access tokens live ACCESS_TOKEN_TTL seconds, default 30, so
// renewals are visible), then prints what to open. PROFILE picks the
// provider:
//   oidc        (default) the dev IdP, panva's oidc-provider, with discovery;
//               the client uses DPoP (RFC 9449; DEMO_DPOP=0 turns it off)
//               and its API button calls the provider's DPoP-protected
//               resource; DPOP_NONCE=1 makes both ask for a DPoP nonce
//   intermezzo  our test provider shaped like the Intermezzo identity API
//               (./intermezzo.mjs): explicit endpoints, iss "Screening
//               Eagle ID", HS256 ID tokens (mezzo in "tls" mode)
// Ctrl-C stops both.
import { startDemoServer } from './demo-server.mjs';
import { startIdp } from './idp/harness.mjs';
import { startIntermezzo, clientOptions, INTERMEZZO_USER } from './intermezzo.mjs';

const profile = process.env.PROFILE || 'oidc';
const port = Number(process.env.IDP_PORT ?? 9000);
const ttl = Number(process.env.ACCESS_TOKEN_TTL ?? 30);
const dpop = process.env.DEMO_DPOP !== '0';
const dpopNonce = process.env.DPOP_NONCE === '1';

const profiles = {
  async oidc(demo) {
    // Both return pages registered: the app's, and the silent and popup
    // sign-in's; a reload of a signed-out page signs in silently when the
    // provider still has a session (silentRestore).
    const idp = await startIdp({ port, accessTokenTtl: ttl, redirectUris: [demo.redirectUri, demo.silentRedirectUri], dpopNonce });
    const discovery = await idp.discovery();
    demo.setConfig({
      issuer: idp.issuer, clientId: idp.clientId, redirectUri: demo.redirectUri, userinfoEndpoint: discovery.userinfo_endpoint,
      silentRedirectUri: demo.silentRedirectUri, silentRestore: true,
      // The API button calls the provider's resource, which reports the
      // token's type and key; with dpop the token is DPoP-bound (RFC 9449).
      dpop, resourceEndpoint: idp.resource,
    });
    const binding = dpop ? `DPoP${dpopNonce ? ' with nonces' : ''}` : 'Bearer';
    return { user: idp.user, provider: `${idp.issuer} (oidc-provider, discovery; ${binding} tokens, API ${idp.resource})`, stop: idp.stop };
  },
  async intermezzo(demo) {
    const tp = await startIntermezzo({ port, accessTokenTtl: ttl, redirectUris: [demo.redirectUri] });
    demo.setConfig(clientOptions(tp, demo.redirectUri));
    return {
      user: INTERMEZZO_USER,
      provider: `${tp.origin}/api/id/v1/auth/ (Intermezzo profile: iss "${tp.issuer}", HS256 ID tokens, idTokenSignature "tls")`,
      stop: tp.stop,
    };
  },
};
if (!profiles[profile]) {
  console.error(`unknown PROFILE=${profile}; one of: ${Object.keys(profiles).join(', ')}`);
  process.exit(2);
}

const demo = await startDemoServer({ port: Number(process.env.DEMO_PORT ?? 8080) });
const idp = await profiles[profile](demo);

console.log(`
  mezzo demo (profile ${profile})
  ----------
  open      ${demo.origin}/
  sign in   ${idp.user.login} / ${idp.user.password}
  provider  ${idp.provider}; access tokens live ${ttl} s

  Ctrl-C stops everything.
`);

const stop = async () => {
  await Promise.all([idp.stop(), demo.close()]);
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
