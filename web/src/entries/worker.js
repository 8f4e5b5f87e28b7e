// The worker script, mezzo-worker.js: the runtime half in a SharedWorker
// or a dedicated Worker. The build puts Go's wasm_exec.js, unmodified,
// before this bundle, so that a worker fetches one script wherever a
// bundler put it. It holds none of the page's code.
import { setAssets } from '../assets.js';
import { serveRuntime } from '../host-worker.js';

setAssets(self.location.href);
serveRuntime();
