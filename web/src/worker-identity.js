// worker-identity.js — which module a worker runtime runs, and who may
// join it (issue 25, finding 1). A worker's name carries the module URL it
// runs, so the module is part of the worker's identity: a page that names
// another module gets another worker, which serves only the pages that
// name that one; a legitimate page's session never runs in a module other
// than the one its own page asked for. The worker reads its module from
// its own name, once, and runs that one for its life.
import { MezzoError } from './errors.js';
import { Code } from './names.js';
import { VERSION } from './version.js';

const NAME_PREFIX = `mezzo@${VERSION} `;

/** workerName is the name of the worker runtime that runs moduleUrl: one per mezzo version and module. */
export function workerName(moduleUrl) {
  return NAME_PREFIX + moduleUrl;
}

/** namedModule is the module URL a worker's name says it runs, or null for a name that is not a worker name of this version. */
export function namedModule(name) {
  return typeof name === 'string' && name.startsWith(NAME_PREFIX) ? name.slice(NAME_PREFIX.length) : null;
}

/**
 * checkWorkerModule throws invalid_config unless url may be run by a
 * worker runtime that a context of origin starts: an http(s) URL on that
 * origin, or on the origin of the module the build names (defaultUrl: a
 * bundler or a CDN may put mezzo's files elsewhere). blob: and data: URLs
 * (made by a script, not served by the site) never are.
 */
export function checkWorkerModule(url, origin, defaultUrl, what) {
  let u;
  try { u = new URL(url); } catch { throw new MezzoError(Code.InvalidConfig, `${what} is not a URL`); }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new MezzoError(Code.InvalidConfig, `${what} is a ${u.protocol} URL; a worker runtime runs only a module the site serves (http: or https:)`);
  }
  let builtOrigin = null;
  try { builtOrigin = new URL(defaultUrl).origin; } catch { /* no default: the page's origin alone */ }
  if (u.origin !== origin && u.origin !== builtOrigin) {
    throw new MezzoError(Code.InvalidConfig, `${what} is on ${u.origin}; a worker runtime runs only a module from this page's origin (${origin}) or from where mezzo's files are (${builtOrigin ?? 'none'})`);
  }
}
