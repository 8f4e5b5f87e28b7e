// Shared by the loader suites: a server for web/dist/mezzo.wasm that can
// serve it under several content types or not at all, counting requests,
// and spies on the WebAssembly compile calls the loaders make.
import http from 'node:http';
import { readFileSync } from 'node:fs';

const wasm = readFileSync(new URL('../../../web/dist/mezzo.wasm', import.meta.url));

/**
 * startWasmServer serves the module at /wasm/ as application/wasm, at
 * /octet/ as application/octet-stream, and answers 404 at /gone/. hits
 * counts requests by path.
 */
export async function startWasmServer() {
  const hits = new Map();
  const server = http.createServer((req, res) => {
    hits.set(req.url, (hits.get(req.url) ?? 0) + 1);
    const type = { '/wasm/mezzo.wasm': 'application/wasm', '/octet/mezzo.wasm': 'application/octet-stream' }[req.url];
    if (!type) { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'); return; }
    res.writeHead(200, { 'content-type': type, 'content-length': wasm.length }).end(wasm);
  });
  await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, hits: (path) => hits.get(path) ?? 0, close: () => new Promise((r) => { server.close(r); }) };
}

/**
 * spyCompile counts the WebAssembly.compileStreaming and WebAssembly.compile
 * calls made for mezzo.wasm (node's own fetch compiles a wasm module of its
 * own, which is not counted).
 */
export function spyCompile() {
  const calls = { streaming: 0, bytes: 0 };
  const { compileStreaming, compile } = WebAssembly;
  const ours = (src) => (src?.url ?? '').endsWith('/mezzo.wasm') || src?.byteLength === wasm.length;
  WebAssembly.compileStreaming = async (src, ...rest) => {
    const res = await src;
    if (ours(res)) calls.streaming++;
    return compileStreaming.call(WebAssembly, res, ...rest);
  };
  WebAssembly.compile = (src, ...rest) => {
    if (ours(src)) calls.bytes++;
    return compile.call(WebAssembly, src, ...rest);
  };
  return calls;
}

/** options for a client that needs no network at creation: explicit loopback endpoints. */
export function clientOptions(extra = {}) {
  const idp = 'http://127.0.0.1:9';
  return {
    clientId: 'loader-test',
    redirectUri: 'http://127.0.0.1:8080/callback',
    issuer: idp,
    authorizationEndpoint: `${idp}/authorize`,
    tokenEndpoint: `${idp}/token`,
    jwksUri: `${idp}/jwks`,
    ...extra,
  };
}
