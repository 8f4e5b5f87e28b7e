// The case tables of secrets.test.mjs, in a module of their own so that
// scripts/tools/counts.mjs can print how many there are (the README quotes
// these counts). Each corrupt(tp) breaks the hostile test provider tp.
import { newKey } from '../provider/provider.mjs';
import { APP } from './browser-env.mjs';

/** A test of the secrets suite is a failure path when its title starts so. */
export const FAILURE_PATH_TITLE = 'no secret in errors';
/** and the one whole-session case when its title starts so. */
export const WHOLE_SESSION_TITLE = 'no secret in URLs except';

const forgeState = (tp) => { tp.hooks.authResponse = (p) => { p.set('state', 'forged'); return p; }; };
const forgeIss = (tp) => { tp.hooks.authResponse = (p) => { p.set('iss', 'http://127.0.0.1:1'); return p; }; };
const badSignature = (tp) => { tp.hooks.idTokenSigning = { how: tp.keys[0], opts: { badSignature: true } }; };

/** [name, code, corrupt(tp)]: a login whose callback fails. */
export const callbackFailures = [
  ['wrong state', 'state_mismatch', forgeState],
  ['wrong iss', 'issuer_mismatch', forgeIss],
  ['provider error access_denied', 'access_denied', (tp) => {
    tp.hooks.authResponse = (p) => new URLSearchParams({ error: 'access_denied', error_description: 'User said no', state: p.get('state'), iss: p.get('iss') });
  }],
  ['ID token with a bad signature', 'invalid_id_token', badSignature],
  ['ID token signed by an unknown key', 'invalid_id_token', (tp) => { tp.hooks.idTokenSigning = { how: newKey('RS256', 'kid-nobody-has') }; }],
  ['ID token with a wrong nonce', 'invalid_id_token', (tp) => { tp.hooks.idTokenClaims = (c) => ({ ...c, nonce: 'not-the-nonce' }); }],
  ['ID token with a wrong at_hash', 'invalid_id_token', (tp) => { tp.hooks.idTokenClaims = (c) => ({ ...c, at_hash: 'AAAAAAAAAAAAAAAAAAAAAA' }); }],
  ['code exchange invalid_grant', 'invalid_grant', (tp) => tp.fault('token', { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: 'code expired' }) })],
  ['code exchange 503 three times', 'network_error', (tp) => tp.fault('token', { status: 503, body: '' }, 3)],
  ['code exchange answers non-JSON', 'invalid_token_response', (tp) => tp.fault('token', { status: 200, contentType: 'text/html', body: '<html>maintenance</html>' })],
  ['code exchange reply without token_type', 'invalid_token_response', (tp) => { tp.hooks.tokenReply = (r) => { const { token_type, ...rest } = r; return rest; }; }],
  // A code exchange is not retried (the code is single-use), so a lost reply is a network error.
  ['code exchange reply lost after the code was used', 'network_error', (tp) => tp.fault('token', { after: 'lose-reply' })],
];

/** [name, code, corrupt(tp), event]: a forced refresh that fails, and the event it raises. */
export const refreshFailures = [
  ['invalid_grant', 'login_required', (tp) => tp.fault('token', { status: 400, body: JSON.stringify({ error: 'invalid_grant' }) }), 'sessionExpired'],
  ['503 three times', 'network_error', (tp) => tp.fault('token', { status: 503, body: '' }, 3), 'error'],
  ['a non-JSON answer', 'invalid_token_response', (tp) => tp.fault('token', { status: 200, contentType: 'text/html', body: '<html>' }), 'error'],
  ['a truncated answer', 'invalid_token_response', (tp) => tp.fault('token', { status: 200, body: '{"access_token":"at-x","token_type":"Bearer"' }), 'error'],
  ['an ID token about another sub', 'invalid_id_token', (tp) => { tp.hooks.idTokenClaims = (c, { grant }) => (grant === 'refresh_token' ? { ...c, sub: 'user-2' } : c); }, 'error'],
  ['a reply lost after rotation', 'login_required', (tp) => tp.fault('token', { after: 'lose-reply' }), 'sessionExpired'],
];

/**
 * [name, code, corrupt(tp)]: how a callback ends; code null is success.
 * corrupt null: the provider is down at the callback.
 */
export const transactionCases = [
  ['success', null, () => {}],
  ['state mismatch', 'state_mismatch', forgeState],
  ['iss mismatch', 'issuer_mismatch', forgeIss],
  ['provider error access_denied', 'access_denied', (tp) => {
    tp.hooks.authResponse = (p) => new URLSearchParams({ error: 'access_denied', state: p.get('state'), iss: p.get('iss') });
  }],
  ['token endpoint error', 'invalid_grant', (tp) => tp.fault('token', { status: 400, body: JSON.stringify({ error: 'invalid_grant' }) })],
  ['token endpoint 5xx', 'network_error', (tp) => tp.fault('token', { status: 502, body: '' }, 3)],
  ['bad ID token', 'invalid_id_token', badSignature],
  ['network down', 'network_error', null],
];

/** login returnTo values that leave the app's origin: each falls back to "/". */
export const foreignReturnTo = [
  'https://evil.example/x',
  '//evil.example',
  '//evil.example/x?y=1',
  '/\\evil.example',
  '\\\\evil.example',
  '/\\/evil.example',
  'https:/\\evil.example',
  '/\t/evil.example',
  'javascript:alert(1)',
  'JavaScript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'http://127.0.0.1:8080.evil.example/',
  'http://127.0.0.1:8080@evil.example/',
  'http://evil.example\\@127.0.0.1:8080/',
  'https://127.0.0.1:8080/', // same host, other scheme
  'http://127.0.0.1:8081/', // other port
  'http://localhost:8080/', // other host name for the same machine
  'HTTPS://EVIL.EXAMPLE/',
  '/%2F%2Fevil.example',
  '/%5Cevil.example',
];

/** [returnTo, expected]: login returnTo values on the app's origin. */
export const sameOriginReturnTo = [
  ['/inbox', '/inbox'],
  ['/inbox?tab=2#top', '/inbox?tab=2#top'],
  [`${APP}/deep/path?q=1`, '/deep/path?q=1'],
  ['settings', '/settings'], // relative to the redirect URI /callback
  ['/', '/'],
  [undefined, '/'],
];

/** logout returnTo values that leave the app's origin: each is refused. */
export const foreignLogoutReturnTo = ['https://evil.example/bye', '//evil.example', '/\\evil.example', 'javascript:alert(1)', 'http://127.0.0.1:8080.evil.example/', 'http://127.0.0.1:8080@evil.example/'];

/** Logins of the freshness test; each gives a state, a nonce and a verifier. */
export const LOGINS = 10_000;
export const DISTINCT_VALUES = 3 * LOGINS;
