// Loads web/src/rpc.js, the ES module, with what it imports (MezzoError
// from errors.js, the codes from names.js: the real ones), bundled by
// esbuild into one function body evaluated in a scope that supplies, to
// count them, the timer functions.
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const entry = fileURLToPath(new URL('../../../web/src/rpc.js', import.meta.url));

/**
 * loadRpc evaluates web/src/rpc.js and returns its exports with the
 * MezzoError they use, `timers()`: the number of timers set and not yet
 * cleared or fired (a timer left behind keeps it above zero), and
 * `delays`: the delay of every timer set, in order.
 */
export async function loadRpc() {
  const live = new Set();
  const delays = [];
  const scope = {
    setTimeout(fn, ms, ...args) {
      const t = setTimeout(() => { live.delete(t); fn(...args); }, ms);
      live.add(t);
      delays.push(ms);
      return t;
    },
    clearTimeout(t) {
      live.delete(t);
      clearTimeout(t);
    },
  };
  const stdin = {
    contents: `export * from ${JSON.stringify(entry)};\nexport { MezzoError } from ${JSON.stringify(fileURLToPath(new URL('../../../web/src/errors.js', import.meta.url)))};\n`,
    resolveDir: fileURLToPath(new URL('.', import.meta.url)),
  };
  const built = await esbuild.build({ stdin, bundle: true, format: 'iife', globalName: 'rpcModule', write: false, logLevel: 'error' });
  const body = `'use strict';\n${built.outputFiles[0].text}\nreturn rpcModule;`;
  const rpc = new Function(...Object.keys(scope), body)(...Object.values(scope));
  return { ...rpc, timers: () => live.size, delays };
}
