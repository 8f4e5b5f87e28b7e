// The demo's static server: web/demo/ at /, web/dist/ at /dist/, and
// /config.json. Every response carries the headers a careful site would
// send: a strict Content-Security-Policy (mezzo needs only
// 'wasm-unsafe-eval', never 'unsafe-eval' or inline scripts, and
// worker-src 'self' for its worker, which is served with a policy of its
// own: it compiles the module and talks to the provider),
// Referrer-Policy: no-referrer, and nosniff; the module is served as
// application/wasm so browsers can compile it while it streams.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/**
 * contentSecurityPolicy is every app page's policy. Pages refuse to be
 * framed (frame-ancestors 'none'), except the return page of silent
 * sign-in (SILENT_PATH, frameable: true), which the app frames itself:
 * frame-ancestors 'self'. connectSrc: more origins the app calls (an API
 * elsewhere than the provider).
 */
export function contentSecurityPolicy(issuerOrigin, { frameable = false, frameSrc = [], connectSrc = [], trustedTypes = null } = {}) {
  return [
    // Trusted Types, when asked: script URLs only from the policies listed
    // (mezzo's is named 'mezzo').
    ...(trustedTypes ? ["require-trusted-types-for 'script'", `trusted-types ${trustedTypes}`] : []),
    "default-src 'self'",
    // Silent sign-in's iframe goes to the provider and comes back to the
    // app's return page.
    `frame-src 'self' ${[issuerOrigin, ...frameSrc].join(' ')}`.trim(),
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    `connect-src 'self' ${[issuerOrigin, ...connectSrc].join(' ')}`.trim(),
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    frameable ? "frame-ancestors 'self'" : "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

/** SILENT_PATH is the demo's silentRedirectUri path: a tiny page that only loads mezzo.js (web/demo/silent-callback.html). */
export const SILENT_PATH = '/silent-callback';

/**
 * workerSecurityPolicy is mezzo-worker.js's own policy (a worker is governed
 * by the one its script is served with): it loads wasm_exec.js, compiles
 * the module, and fetches the module and the provider's endpoints.
 */
export function workerSecurityPolicy(issuerOrigin, { connectSrc = [] } = {}) {
  return [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",
    `connect-src 'self' ${[issuerOrigin, ...connectSrc].join(' ')}`.trim(),
  ].join('; ');
}

// The worker script, wherever it is: /dist/mezzo-worker.js here, an
// emitted asset such as /assets/mezzo-worker-1a2b3c.js in a bundle.
const isWorkerScript = (pathname) => /\/mezzo-worker[^/]*\.js$/.test(pathname);

/**
 * Starts the server on 127.0.0.1. The app's configuration is set later with
 * setConfig, once the identity provider is up (it needs our redirect URI).
 * root: serve that directory (a bundler's output) instead of the demo, with
 * the same headers, /config.json and app routes. trustedTypes: the pages'
 * `trusted-types` directive, with `require-trusted-types-for 'script'`.
 * @param {{port?: number, cacheModule?: boolean, root?: string, trustedTypes?: string}} opts
 */
export async function startDemoServer({ port = 0, cacheModule = false, root = null, trustedTypes = null } = {}) {
  let config = null;
  let issuerOrigin = '';
  let frameSrc = [];
  let connectSrc = []; // the API's origin, when it is not the provider's
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const headers = {
      'content-security-policy': isWorkerScript(url.pathname)
        ? workerSecurityPolicy(issuerOrigin, { connectSrc })
        : contentSecurityPolicy(issuerOrigin, { frameable: url.pathname === SILENT_PATH, frameSrc, connectSrc, trustedTypes }),
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-cache',
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, headers).end();
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204, headers).end();
      return;
    }
    if (url.pathname === '/config.json') {
      res.writeHead(config ? 200 : 503, { ...headers, 'content-type': 'application/json' });
      res.end(JSON.stringify(config ?? { error: 'not ready' }));
      return;
    }
    let file;
    const top = root ? path.resolve(root) : path.join(repo, 'web');
    if (root) {
      file = path.join(top, path.extname(url.pathname) === '' ? 'index.html' : path.normalize(url.pathname));
    } else if (url.pathname.startsWith('/dist/')) {
      file = path.join(repo, 'web/dist', path.normalize(url.pathname.slice(6)));
    } else if (url.pathname === SILENT_PATH) {
      file = path.join(repo, 'web/demo/silent-callback.html');
    } else if (path.extname(url.pathname) === '') {
      file = path.join(repo, 'web/demo/index.html'); // app routes, including the redirect URI
    } else {
      file = path.join(repo, 'web/demo', path.normalize(url.pathname));
    }
    if (!file.startsWith(top + path.sep)) {
      res.writeHead(404, headers).end();
      return;
    }
    try {
      const body = await readFile(file);
      const type = types[path.extname(file)] ?? 'application/octet-stream';
      if (cacheModule && url.pathname.startsWith('/dist/')) headers['cache-control'] = 'public, max-age=3600';
      res.writeHead(200, { ...headers, 'content-type': type, 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404, headers).end('not found');
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    redirectUri: `${origin}/`,
    silentRedirectUri: `${origin}${SILENT_PATH}`,
    /**
     * setConfig sets the app's config: createClient's options, plus the
     * endpoint the API button calls (resourceEndpoint, else
     * userinfoEndpoint); frameSrc, more origins its pages may frame (a
     * test's stand-in provider).
     */
    setConfig(c, { frameSrc: frames = [] } = {}) {
      config = c;
      frameSrc = frames;
      issuerOrigin = new URL(c.tokenEndpoint ?? c.issuer).origin; // Intermezzo's issuer is no URL
      // The page calls the API (client.fetch in the page), and so may the worker.
      connectSrc = [c.resourceEndpoint].filter(Boolean).map((u) => new URL(u).origin).filter((o) => o !== issuerOrigin);
    },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}
