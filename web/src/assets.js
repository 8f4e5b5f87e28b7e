// assets.js — where mezzo's files are: mezzo.wasm, mezzo-worker.js and
// Go's wasm_exec.js. Each entry (entries/) says where it came from and,
// in the ES module, the URLs a bundler rewrote; options can override them.

let base; // the URL of the script or module this code came from
let files = {}; // file name → URL, where the build knows better than "next to base"

/** setAssets is called once by the entry, before any other code runs. */
export function setAssets(from, known = {}) {
  base = from;
  files = known;
}

/**
 * resolveUrl is url against this script's location, or when there is none
 * where the build says the file name is (in the ES module, the URL a
 * bundler rewrote), else name next to this script.
 */
export function resolveUrl(url, name) {
  return new URL(url || files[name] || name, base).href;
}
