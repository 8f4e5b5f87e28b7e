// callback-url.js — isRedirectCallback's rule, decided here and only here:
// whether a URL is an authorization response for a redirect URI. The page
// answers isRedirectCallback() synchronously on every host, before any
// module runs; handleRedirectCallback hands Go the page's URL only when
// this rule says it is a callback, and Go cleans it from the address bar.
//
// Go parses the response itself (pkce.ParseCallback, with net/url), so the
// rule parses as net/url does (whatever parses there, and only that,
// parses here): same scheme, host and escaped path as the redirect URI,
// and a response parameter (code, error or state) in the query or the
// fragment. scripts/test/lib/callback-urls.json is its table of cases
// (scripts/test/node/callback-rule.test.mjs).

const isHex = (c) => /^[0-9a-fA-F]$/.test(c);
const isAlnum = (c) => /^[A-Za-z0-9]$/.test(c);

/** goShouldEscape is net/url's shouldEscape for the modes used here. */
function goShouldEscape(c, mode) {
  if (isAlnum(c)) return false;
  if (mode === 'host' && "!$&'()*+,;=:[]<>\"".includes(c)) return false;
  if ('-_.~'.includes(c)) return false;
  if ('$&+,/:;=?@'.includes(c)) {
    if (mode === 'path') return c === '?';
    if (mode === 'fragment') return false;
    if (mode === 'query') return true;
  }
  if (mode === 'fragment' && "!()*".includes(c)) return false;
  return true;
}

/** goUnescape is net/url's unescape over a byte string; null where Go fails. */
function goUnescape(s, mode) {
  let out = '';
  for (let i = 0; i < s.length;) {
    const c = s[i];
    if (c === '%') {
      if (i + 2 >= s.length || !isHex(s[i + 1]) || !isHex(s[i + 2])) return null;
      if (mode === 'host' && parseInt(s[i + 1], 16) < 8 && s.slice(i, i + 3) !== '%25') return null;
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 3;
      continue;
    }
    if (mode === 'host' && c.charCodeAt(0) < 0x80 && goShouldEscape(c, 'host')) return null;
    out += c === '+' && mode === 'query' ? ' ' : c;
    i++;
  }
  return out;
}

function goEscape(s, mode) {
  let out = '';
  for (const c of s) out += goShouldEscape(c, mode) ? `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}` : c;
  return out;
}

/** goEscapedPath is url.URL.EscapedPath of a URL whose raw path is p (already known to unescape). */
function goEscapedPath(p, path) {
  const valid = [...p].every((c) => "!$&'()*+,;=:@[]%".includes(c) || !goShouldEscape(c, 'path'));
  if (valid) return p;
  return path === '*' ? '*' : goEscape(path, 'path');
}

/** goHost is net/url's parseHost (an IPv6 literal checked by its shape only); null where Go fails. */
function goHost(scheme, host) {
  const validPort = (p) => /^(:[0-9]*)?$/.test(p);
  const open = host.lastIndexOf('[');
  if (open > 0) return null;
  if (open === 0) {
    const close = host.lastIndexOf(']');
    if (close < 0 || !validPort(host.slice(close + 1))) return null;
    const name = host.slice(1, close);
    if (!/^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/.test(name)) return null;
    return `[${name}]${host.slice(close + 1)}`;
  }
  const first = host.indexOf(':');
  if (first >= 0) {
    const strict = scheme === 'http' || scheme === 'https'; // Go refuses a second colon there
    if (!validPort(host.slice(strict ? first : host.lastIndexOf(':')))) return null;
  }
  return goUnescape(host, 'host');
}

/** goParse is url.Parse, reduced to what isCallbackUrl reads; null where Go fails. */
function goParse(raw) {
  // Go works on bytes: UTF-8, one char per byte.
  const s = String.fromCharCode(...new TextEncoder().encode(raw));
  if (/[\x00-\x1f\x7f]/.test(s)) return null;
  const hash = s.indexOf('#');
  let rest = hash < 0 ? s : s.slice(0, hash);
  const fragment = hash < 0 ? '' : goUnescape(s.slice(hash + 1), 'fragment');
  if (fragment === null) return null;
  if (rest === '*') return { scheme: '', host: '', path: '*', query: '', fragment };
  let scheme = '';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(rest);
  if (m) {
    scheme = m[1].toLowerCase();
    rest = rest.slice(m[0].length);
  } else if (rest[0] === ':') {
    return null; // missing protocol scheme
  }
  let query = '';
  if (rest.endsWith('?') && rest.split('?').length === 2) {
    rest = rest.slice(0, -1);
  } else if (rest.includes('?')) {
    query = rest.slice(rest.indexOf('?') + 1);
    rest = rest.slice(0, rest.indexOf('?'));
  }
  if (!rest.startsWith('/')) return scheme ? { scheme, host: '', path: '', query, fragment } : null;
  let host = '';
  if (rest.startsWith('//') && (scheme || !rest.startsWith('///'))) {
    const slash = rest.indexOf('/', 2);
    let authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    rest = slash < 0 ? '' : rest.slice(slash);
    const at = authority.lastIndexOf('@');
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      if (![...userinfo].every((c) => isAlnum(c) || "-._:~!$&'()*+,;=%@".includes(c))) return null;
      if (goUnescape(userinfo, 'user') === null) return null;
      authority = authority.slice(at + 1);
    }
    host = goHost(scheme, authority);
    if (host === null) return null;
  }
  const path = goUnescape(rest, 'path');
  if (path === null) return null;
  return { scheme, host, path: goEscapedPath(rest, path), query, fragment };
}

/** goHasResponseParams is pkce's hasResponseParams: url.ParseQuery(raw) has code, error or state. */
function goHasResponseParams(raw) {
  for (const pair of raw.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    const key = goUnescape(eq < 0 ? pair : pair.slice(0, eq), 'query');
    const value = goUnescape(eq < 0 ? '' : pair.slice(eq + 1), 'query');
    if (key === null || value === null) continue;
    if (key === 'code' || key === 'error' || key === 'state') return true;
  }
  return false;
}

/** isCallbackUrl is the rule: whether url is an authorization response for redirectUri (same scheme, host and escaped path, a response parameter). */
export function isCallbackUrl(redirectUri, url) {
  if (typeof url !== 'string') return false;
  const u = goParse(url);
  const r = goParse(redirectUri);
  if (!u || !r || u.scheme !== r.scheme || u.host !== r.host || u.path !== r.path) return false;
  return goHasResponseParams(u.query) || goHasResponseParams(u.fragment);
}

/** responseParams is the authorization response of url as Go reads it: the query's, else the fragment's (null when url has none). */
export function responseParams(url) {
  const u = goParse(url);
  if (!u) return null;
  const raw = goHasResponseParams(u.query) ? u.query : goHasResponseParams(u.fragment) ? u.fragment : null;
  if (raw === null) return null;
  try { return new URLSearchParams(raw); } catch { return null; }
}

// The parameters of an authorization response, taken out of the address
// bar as soon as the page has one (RFC 6749 §4.1.2, RFC 9207 §2, OIDC
// Session Management's session_state), so that a code never lingers in
// history, bookmarks or the Referer of what the page loads next.
const RESPONSE_PARAMS = ['code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'session_state'];

/** withoutResponse is a query or fragment without the response's parameters; the others stay as they were written. */
function withoutResponse(raw) {
  return raw.split('&').filter((pair) => {
    const eq = pair.indexOf('=');
    const key = goUnescape(eq < 0 ? pair : pair.slice(0, eq), 'query');
    return !RESPONSE_PARAMS.includes(key);
  }).join('&');
}

/**
 * stripResponse is url without its authorization response: the response's
 * parameters removed from the query or the fragment that carries one (as
 * isCallbackUrl reads it), the rest of url unchanged.
 */
export function stripResponse(url) {
  const hash = url.indexOf('#');
  let rest = hash < 0 ? url : url.slice(0, hash);
  let fragment = hash < 0 ? null : url.slice(hash + 1);
  const q = rest.indexOf('?');
  let query = q < 0 ? null : rest.slice(q + 1);
  if (q >= 0) rest = rest.slice(0, q);
  if (query !== null && goHasResponseParams(query)) query = withoutResponse(query);
  if (fragment !== null && goHasResponseParams(fragment)) fragment = withoutResponse(fragment);
  return `${rest}${query ? `?${query}` : ''}${fragment ? `#${fragment}` : ''}`;
}
