// The classic script, mezzo.js: <script src=".../mezzo.js"> defines
// globalThis.mezzo (and module.exports when node require()s it). Its files
// are found next to it.
import { setAssets } from '../assets.js';
import { createClient } from '../create-client.js';
import { MezzoError } from '../errors.js';
import { preload, runtimeStats } from '../runtime.js';

// Where this script came from: the page's <script> element (read while the
// script runs, before any await), or node's file.
setAssets((typeof document !== 'undefined' && document.currentScript && document.currentScript.src)
  || (typeof __filename === 'string' ? globalThis.process.getBuiltinModule('node:url').pathToFileURL(__filename).href : undefined)
  || (typeof location !== 'undefined' ? location.href : undefined));

// (Under node the build's footer also makes it module.exports: a free
// `module` here would be the bundler's, not node's.)
globalThis.mezzo = Object.freeze({ createClient, MezzoError, preload, runtimeStats });
