// version.js — mezzo's version, the Go module's main.version. The build
// (scripts/build/build-loaders.mjs) bundles this file with the version the
// Makefile gives both: pages and workers of two versions refuse each
// other's calls, and a SharedWorker is named after it.
export const VERSION = 'dev';
