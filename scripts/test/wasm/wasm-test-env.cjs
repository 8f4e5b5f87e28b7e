// Preloaded by go_js_wasm_exec for `GOOS=js GOARCH=wasm go test`: gives the
// Go test binary the browser globals jsbridge uses, and a loopback HTTP
// server to fetch from (globalThis.__testServer: Promise<base URL>).
'use strict';
const http = require('node:http');

require('../lib/browser-fakes.cjs').installBrowserFakes('http://127.0.0.1:8080/app/');

// Routes: /echo (request as JSON), /status/N (that status, JSON body),
// /bytes/N (N bytes of "a"), /hang (never answers), /retry-after (503 + Retry-After: 1),
// /dpop-challenge (401 + DPoP-Nonce and WWW-Authenticate, RFC 9449 §9).
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const u = new URL(req.url, 'http://x');
    const json = (status, obj, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*', ...headers });
      res.end(JSON.stringify(obj));
    };
    if (u.pathname === '/echo') {
      return json(200, { method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString() }, { date: new Date(0).toUTCString() });
    }
    if (u.pathname.startsWith('/status/')) return json(Number(u.pathname.slice(8)), { error: 'x' });
    if (u.pathname === '/retry-after') return json(503, { error: 'temporarily_unavailable' }, { 'retry-after': '1' });
    if (u.pathname === '/dpop-challenge') return json(401, {}, { 'dpop-nonce': 'n-1', 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'x-other': 'x' });
    if (u.pathname.startsWith('/bytes/')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(Buffer.alloc(Number(u.pathname.slice(7)), 'a'));
    }
    if (u.pathname === '/hang') return; // never answers
    res.writeHead(404).end();
  });
});
globalThis.__testServer = new Promise((resolve) => {
  server.listen(0, '127.0.0.1', () => {
    server.unref(); // Go's exit ends the process; the server must not keep it alive
    resolve(`http://127.0.0.1:${server.address().port}`);
  });
});
