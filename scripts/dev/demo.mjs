// `make demo`: the demo app against the bundled identity provider.
// Starts the demo server (DEMO_PORT, default 8080) and the dev IdP
// (IDP_PORT, default 9000; access tokens live ACCESS_TOKEN_TTL seconds,
// default 30, so renewals are visible), then prints what to open.
// Ctrl-C stops both.
import { startDemoServer } from './demo-server.mjs';
import { startIdp } from './idp/harness.mjs';

const demo = await startDemoServer({ port: Number(process.env.DEMO_PORT ?? 8080) });
const idp = await startIdp({
  port: Number(process.env.IDP_PORT ?? 9000),
  accessTokenTtl: Number(process.env.ACCESS_TOKEN_TTL ?? 30),
  redirectUris: [demo.redirectUri],
});
const discovery = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json();
demo.setConfig({
  issuer: idp.issuer,
  clientId: idp.clientId,
  redirectUri: demo.redirectUri,
  userinfoEndpoint: discovery.userinfo_endpoint,
});

console.log(`
  mezzo demo
  ----------
  open      ${demo.origin}/
  sign in   ${idp.user.login} / ${idp.user.password}
  provider  ${idp.issuer} (oidc-provider; access tokens live ${process.env.ACCESS_TOKEN_TTL ?? 30} s)

  Ctrl-C stops everything.
`);

const stop = async () => {
  await Promise.all([idp.stop(), demo.close()]);
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
