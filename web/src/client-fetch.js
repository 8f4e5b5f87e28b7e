// client-fetch.js — client.fetch: the app's request with the access token,
// as a Bearer token (RFC 6750) or a DPoP-bound one with a fresh proof from
// the runtime (RFC 9449, issue 13), sent only where the token may go
// (issue 25, finding 5).
import { MezzoError } from './errors.js';
import { Code, Option } from './names.js';

// The options that name the provider's origins: its issuer and endpoints.
const PROVIDER_OPTIONS = [Option.Issuer, Option.AuthorizationEndpoint, Option.TokenEndpoint, Option.UserinfoEndpoint,
  Option.RevocationEndpoint, Option.EndSessionEndpoint, Option.JWKSURI];

/** originOf is the origin of an absolute http(s) URL, or null. */
function originOf(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : null;
  } catch {
    return null;
  }
}

/** isLoopback reports whether a URL's hostname is a loopback host, where plain http: is allowed (RFC 8252 §8.3 treats it so). */
function isLoopback(hostname) {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * tokenOrigins are the origins client.fetch may send options' access token
 * to: the app's own (the page's), the provider's (its issuer and the
 * endpoints the options name) and those of options.apiOrigins.
 */
export function tokenOrigins(options) {
  const origins = new Set();
  const own = globalThis.location?.origin;
  if (own && own !== 'null') origins.add(own);
  for (const name of PROVIDER_OPTIONS) {
    const o = typeof options?.[name] === 'string' ? originOf(options[name]) : null;
    if (o) origins.add(o);
  }
  const listed = options?.[Option.APIOrigins];
  if (Array.isArray(listed)) for (const v of listed) { const o = typeof v === 'string' ? originOf(v) : null; if (o) origins.add(o); }
  return origins;
}

/** checkDestination throws origin_not_allowed unless url may receive the access token. */
function checkDestination(url, origins) {
  const u = new URL(url);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopback(u.hostname))) {
    throw new MezzoError(Code.OriginNotAllowed, `client.fetch sends the access token over https: only (plain http: to loopback excepted), not to ${u.origin}`);
  }
  if (!origins.has(u.origin)) {
    throw new MezzoError(Code.OriginNotAllowed, `client.fetch sends the access token only to this app, its provider and options.${Option.APIOrigins}, not to ${u.origin}`);
  }
}

/** dpopResponse is what the runtime reads of a response: its status and the headers the page can see (Go picks DPoP-Nonce and WWW-Authenticate). */
export function dpopResponse(res) {
  return { status: res.status, headers: Object.fromEntries(res.headers.entries()) };
}

/**
 * resourceFetch is client.fetch for a client whose runtime answers
 * call(method, ...args) (typed errors), whose getToken() gives the access
 * token, with dpop on or off, that sends the token only to origins
 * (tokenOrigins): any other request rejects origin_not_allowed before the
 * token is asked for, and nothing is sent.
 */
export function resourceFetch({ call, getToken, dpop, origins }) {
  // sendWithProof sends request with the runtime's headers for it; it
  // resolves null when the server asks for it once more with a new nonce
  // (the runtime says so, and after a retry rejects dpop_nonce_failed).
  const sendWithProof = async (request, retried) => {
    const auth = await call('resourceHeaders', request.method, request.url);
    const headers = new Headers(request.headers);
    headers.set('Authorization', auth.authorization);
    headers.set('DPoP', auth.dpop);
    const res = await globalThis.fetch(new Request(request, { headers }));
    // Only a DPoP-Nonce changes anything (RFC 9449 §8.2, §9): without one
    // the answer is the app's, and costs no call to the runtime.
    if (!res.headers.has('dpop-nonce')) return res;
    const again = await call('resourceResponse', request.url, dpopResponse(res), retried);
    return again ? null : res;
  };
  return async (input, init) => {
    // The destination, read without taking a Request's body.
    checkDestination(input instanceof Request ? input.url : new URL(String(input), globalThis.location?.href).href, origins);
    if (!dpop) {
      const token = await getToken();
      const headers = new Headers((init && init.headers) || (input instanceof Request ? input.headers : undefined));
      headers.set('Authorization', `Bearer ${token}`); // RFC 6750 §2.1
      return globalThis.fetch(input, { ...init, headers });
    }
    // RFC 9449 §7.1: the DPoP scheme and a fresh proof for this method and
    // URL, bound to the token (ath), from the runtime. A nonce challenge
    // (§9) is answered once, with the request kept for it (its body too).
    const request = new Request(input, init);
    const first = await sendWithProof(request.clone(), false);
    return first ?? sendWithProof(request, true);
  };
}
