// The benchmark's static server: the same server, headers and CSP for every
// library. Assets are held in memory with their brotli form (the same bytes
// the size report counts) and served brotli-encoded when the browser asks,
// as a production site would; they are cacheable (max-age + ETag), so a
// second visit can use the HTTP cache and V8's code caches. Pages are
// revalidated on every visit (no-cache + ETag), like an SPA's index.html.
//
//   /<lib>/<scenario>/...   the shared page (pages/page.html) for a library
//                           against one scenario's provider (any sub-path, so
//                           the redirect URI .../cb is a page too)
//   /dist/*, /b/*, /bench.js   assets registered with setAssets
import http from 'node:http';
import { createHash } from 'node:crypto';
import { contentSecurityPolicy as demoPolicy } from '../dev/demo-server.mjs';

/**
 * contentSecurityPolicy is the demo's policy (../dev/demo-server.mjs) with
 * connect-src opened to every provider and frame-src to every provider and
 * proxy (auth0-spa-js's silent check, mezzo's and oidc-client-ts's silent
 * sign-in run in hidden iframes that go there and come back). frameable:
 * the page may be framed by its own origin (the silent sign-in's return
 * page); every other page refuses frames. The demo's policy has `worker-src
 * 'self'` (mezzo's runtime in a SharedWorker or Worker from /dist/,
 * auth0-spa-js's self-hosted token worker) and 'wasm-unsafe-eval' (mezzo
 * compiles WebAssembly; the peers get the same header, which grants them
 * nothing they use). No 'unsafe-eval', no inline script, no blob: workers.
 * Every response carries it, worker scripts too: a worker's own policy
 * comes from its script's response, and this one gives it what a runtime
 * worker needs ('wasm-unsafe-eval' and connect-src to the providers).
 */
export const contentSecurityPolicy = (connectOrigins, frameOrigins = [], { frameable = false } = {}) =>
  demoPolicy(connectOrigins.join(' '), { frameable, frameSrc: frameOrigins });

/** listenLoopback starts server on a free port of 127.0.0.1 and returns its origin. */
export async function listenLoopback(server) {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return `http://127.0.0.1:${server.address().port}`;
}

const etagOf = (buf) => `"${createHash('sha256').update(buf).digest('base64url').slice(0, 27)}"`;

/** startBenchServer listens on 127.0.0.1; set assets, pages and the CSP later (they need the providers' ports). */
export async function startBenchServer() {
  let assets = new Map(); // path -> {body, br, type, etag}
  let pages = new Map(); // "<lib>/<scenario>" -> {body, etag}
  let csp = () => contentSecurityPolicy([]); // pathname -> policy
  const requests = {}; // path -> count, to check what a page really fetched

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    requests[url.pathname] = (requests[url.pathname] ?? 0) + 1;
    const headers = {
      'content-security-policy': csp(url.pathname),
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, headers).end();
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204, { ...headers, 'cache-control': 'public, max-age=3600' }).end();
      return;
    }
    const asset = assets.get(url.pathname);
    if (asset) {
      Object.assign(headers, { 'content-type': asset.type, 'cache-control': 'public, max-age=3600', etag: asset.etag, vary: 'accept-encoding' });
      if (req.headers['if-none-match'] === asset.etag) {
        res.writeHead(304, headers).end();
        return;
      }
      const br = asset.br && /\bbr\b/.test(req.headers['accept-encoding'] ?? '');
      const body = br ? asset.br : asset.body;
      if (br) headers['content-encoding'] = 'br';
      res.writeHead(200, { ...headers, 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const [, lib, scenario] = url.pathname.split('/');
    const page = pages.get(`${lib}/${scenario}`);
    if (page) {
      Object.assign(headers, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', etag: page.etag });
      if (req.headers['if-none-match'] === page.etag) {
        res.writeHead(304, headers).end();
        return;
      }
      res.writeHead(200, { ...headers, 'content-length': page.body.length });
      res.end(req.method === 'HEAD' ? undefined : page.body);
      return;
    }
    res.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('not found');
  });
  server.keepAliveTimeout = 60000;
  const origin = await listenLoopback(server);
  return {
    origin,
    /** setAssets takes Map path -> {body: Buffer, br?: Buffer, type}. */
    setAssets(map) {
      assets = new Map([...map].map(([p, a]) => [p, { ...a, etag: etagOf(a.body) }]));
    },
    /** setPages takes Map "<lib>/<scenario>" -> html string. */
    setPages(map) {
      pages = new Map([...map].map(([k, html]) => {
        const body = Buffer.from(html);
        return [k, { body, etag: etagOf(body) }];
      }));
    },
    /** setCsp takes pathname -> policy. */
    setCsp(policyFor) { csp = policyFor; },
    csp: (pathname = '/') => csp(pathname),
    requests: () => ({ ...requests }),
    resetRequests: () => { for (const k of Object.keys(requests)) delete requests[k]; },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
