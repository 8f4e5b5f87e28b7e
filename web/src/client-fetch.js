// client-fetch.js — client.fetch: the app's request with the access token,
// as a Bearer token (RFC 6750) or a DPoP-bound one with a fresh proof from
// the runtime (RFC 9449, issue 13).

/** dpopResponse is what the runtime reads of a response: its status and the headers the page can see (Go picks DPoP-Nonce and WWW-Authenticate). */
export function dpopResponse(res) {
  return { status: res.status, headers: Object.fromEntries(res.headers.entries()) };
}

/**
 * resourceFetch is client.fetch for a client whose runtime answers
 * call(method, ...args) (typed errors), whose getToken() gives the access
 * token, with dpop on or off.
 */
export function resourceFetch({ call, getToken, dpop }) {
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
