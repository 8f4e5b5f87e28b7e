// The Intermezzo profile of the dev stack: the project's own test provider
// (../test/provider/provider.mjs) shaped like the Intermezzo identity API,
// for `make demo PROFILE=intermezzo`, the browser test and the node suite.
//
// - explicit endpoints under /api/id/v1/auth/ (authorize, token, revoke,
//   logout, userinfo) and no discovery document or JWKS;
// - iss "Screening Eagle ID", which is not a URL;
// - HS256 ID tokens, signed with a secret made at start that never leaves
//   the provider (mezzo runs with idTokenSignature: "tls");
// - errors as {"error", "errorDescription"};
// - scope echoed space-separated; a refresh token only with offline_access,
//   rotated on every use (the old one is refused), revoked at logout;
// - the custom claims of Intermezzo's examples;
// - a sign-in form for one user, and a provider session ended by logout.
import { randomBytes } from 'node:crypto';
import { errorBodies, startTestProvider } from '../test/provider/provider.mjs';

export const ISSUER = 'Screening Eagle ID';
export const PREFIX = '/api/id/v1/auth';
export const CLIENT_ID = 'mezzo-demo';

export const INTERMEZZO_USER = {
  login: 'demo@mezzo.test',
  password: 'mezzo-demo',
  sub: 'demo-user-1',
};

/** claims are the ID token's (and userinfo's) custom claims for a granted scope. */
export function claims({ scope }) {
  const granted = String(scope ?? '').split(' ').filter(Boolean);
  return {
    email: INTERMEZZO_USER.login,
    first_name: 'Demo',
    last_name: 'User',
    picture: 'https://id.example.test/pictures/demo-user-1.png',
    country_code: 'CH',
    userID: 4711,
    userRegion: 'eu',
    scp: granted, // the OAuth scopes granted to this token
    scopes: ['inspect:read', 'inspect:write'], // the user's permissions in the product
  };
}

/**
 * intermezzoOptions are startTestProvider's options for the profile. opts:
 * port (0 = free), accessTokenTtl (s; Intermezzo's own is 604800, a week),
 * redirectUris (the client's registered redirect and post-logout URIs).
 */
export function intermezzoOptions({ port = 0, accessTokenTtl = 604800, redirectUris } = {}) {
  return {
    port,
    clientId: CLIENT_ID,
    accessTokenTtl,
    issuer: ISSUER,
    paths: {
      discovery: null,
      jwks: null,
      authorize: `${PREFIX}/authorize`,
      token: `${PREFIX}/token`,
      userinfo: `${PREFIX}/userinfo`,
      revoke: `${PREFIX}/revoke`,
      logout: `${PREFIX}/logout`,
      login: `${PREFIX}/login`,
    },
    signing: { how: { alg: 'HS256', secret: randomBytes(32) } },
    errorBody: errorBodies.intermezzo,
    user: { sub: INTERMEZZO_USER.sub },
    claims,
    login: { login: INTERMEZZO_USER.login, password: INTERMEZZO_USER.password },
    redirectUris,
  };
}

/** startIntermezzo starts the provider on 127.0.0.1 (see intermezzoOptions). */
export const startIntermezzo = (opts) => startTestProvider(intermezzoOptions(opts));

/** clientOptions are the createClient options of a page using tp as Intermezzo. */
export function clientOptions(tp, redirectUri) {
  return {
    clientId: tp.clientId,
    redirectUri,
    issuer: tp.issuer,
    authorizationEndpoint: tp.url('authorize'),
    tokenEndpoint: tp.url('token'),
    revocationEndpoint: tp.url('revoke'),
    endSessionEndpoint: tp.url('logout'),
    userinfoEndpoint: tp.url('userinfo'),
    idTokenSignature: 'tls',
    scope: 'openid profile email offline_access',
  };
}
