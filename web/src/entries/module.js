// The ES module, mezzo.mjs. It names its files with literal
// `new URL('./…', import.meta.url)` expressions, the form Vite and
// webpack 5 recognise: an app's bundle then emits the module, the worker
// and Go's glue as assets and rewrites the URLs.
import { setAssets } from '../assets.js';
import { createClient } from '../create-client.js';
import { MezzoError } from '../errors.js';
import { preload, runtimeStats } from '../runtime.js';

setAssets(import.meta.url, {
  'mezzo.wasm': new URL('./mezzo.wasm', import.meta.url).href,
  'mezzo-worker.js': new URL('./mezzo-worker.js', import.meta.url).href,
  'wasm_exec.js': new URL('./wasm_exec.js', import.meta.url).href,
});

export { createClient, MezzoError, preload, runtimeStats };
export default Object.freeze({ createClient, MezzoError, preload, runtimeStats });
