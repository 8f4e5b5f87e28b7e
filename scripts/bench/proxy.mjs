// A path-mapping front door for one dev identity provider, so that every
// library talks to the same URLs. @auth0/auth0-spa-js builds its URLs from
// `domain` and fixed paths (/authorize, /oauth/token); it cannot be pointed
// at oidc-provider's /api/id/v1/auth/* routes. mezzo and oidc-client-ts can
// take any endpoint, and are given these same proxy URLs, so all three pay
// the same extra hop.
//
//   GET  /authorize               -> 302 to the provider's authorization endpoint (a navigation);
//                                    with response_mode=web_message, forwarded instead (below)
//   POST /oauth/token (+OPTIONS)  -> forwarded to /api/id/v1/auth/token
//   GET  /.well-known/jwks.json   -> forwarded to /api/id/v1/auth/jwks
//
// Forwarded requests keep their method, body and headers (Origin too, so the
// provider's CORS answers as it would directly); replies are piped back
// unchanged. Counts what passes, per route and method, and times each
// forwarded request from its arrival to the end of its reply, on the
// machine's wall clock (performance.timeOrigin + performance.now(), the
// same clock a page's timeOrigin is taken from): the only view of the
// requests that libraries make from a worker, which a page's Resource
// Timing does not list.
//
// A silent check with response_mode=web_message (auth0-spa-js's
// checkSession: a hidden iframe) is forwarded rather than redirected:
// auth0-spa-js accepts the iframe's postMessage only from its `domain`'s
// origin, so the provider's answer must come from this origin. The
// provider's session cookie reaches it all the same (cookies are per host,
// not per port).
//
// With DPoP (startProxy's tokenPath), a token request carries a proof whose
// htu is the URL the client called, which the provider compares with its
// own token endpoint (RFC 9449 §4.3): scheme, host and path. So for that
// scenario the proxy forwards token requests with the client's Host header
// (the provider then sees the proxy's origin, as behind any reverse proxy)
// to the provider's token path, under that same path and under
// /oauth/token. A proof for /oauth/token (auth0-spa-js's fixed path) is
// accepted only when the provider's token endpoint is /oauth/token.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { listenLoopback } from './server.mjs';

const PREFIX = '/api/id/v1/auth';
const FORWARD = {
  '/oauth/token': `${PREFIX}/token`,
  '/.well-known/jwks.json': `${PREFIX}/jwks`,
};

/**
 * startProxy fronts the provider at issuer; resolves {origin, endpoints,
 * counts(), timings(), resetCounts(), close()}. tokenPath: the provider's
 * token endpoint path, for a DPoP scenario (above); endpoints.token is then
 * that path on the proxy.
 */
export async function startProxy(issuer, { tokenPath } = {}) {
  const target = new URL(issuer);
  const forward = tokenPath ? { ...FORWARD, '/oauth/token': tokenPath, [tokenPath]: tokenPath } : FORWARD;
  const keepHost = (p) => Boolean(tokenPath) && forward[p] === tokenPath;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const counts = {};
  const count = (key) => { counts[key] = (counts[key] ?? 0) + 1; };
  const timed = []; // {route, start, end}: epoch ms, forwarded requests only
  const now = () => performance.timeOrigin + performance.now();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://proxy');
    count(`${req.method} ${url.pathname}`);
    const webMessage = url.pathname === '/authorize' && url.searchParams.get('response_mode') === 'web_message';
    if (url.pathname === '/authorize' && req.method === 'GET' && !webMessage) {
      res.writeHead(302, { location: `${issuer}${PREFIX}/authorize${url.search}`, 'cache-control': 'no-store' }).end();
      return;
    }
    const path = webMessage ? `${PREFIX}/authorize` : forward[url.pathname];
    if (!path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not mapped by the bench proxy');
      return;
    }
    const entry = { route: `${req.method} ${url.pathname}`, start: now(), end: null };
    timed.push(entry);
    res.on('finish', () => { entry.end = now(); });
    const upstream = http.request({
      host: target.hostname, port: target.port, method: req.method, path: path + url.search, agent,
      headers: { ...req.headers, host: keepHost(url.pathname) ? req.headers.host : target.host },
    }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`bench proxy: ${e.message}`);
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 60000;
  const origin = await listenLoopback(server);
  return {
    origin,
    endpoints: {
      base: origin,
      authorization: `${origin}/authorize`,
      token: `${origin}${tokenPath ?? '/oauth/token'}`,
      jwks: `${origin}/.well-known/jwks.json`,
    },
    counts: () => ({ ...counts }),
    // The finished forwarded requests since the last reset, in arrival order.
    timings: () => timed.filter((e) => e.end !== null).map((e) => ({ ...e })),
    resetCounts: () => { for (const k of Object.keys(counts)) delete counts[k]; timed.length = 0; },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); agent.destroy(); }),
  };
}
