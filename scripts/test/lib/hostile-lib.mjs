// Shared setup for the suites that drive mezzo's JS API (web/dist/mezzo.js,
// in node) against the hostile test provider (../provider/).
import { APP, resetBrowser, traffic, loadMezzo } from './browser-env.mjs';
import { clientEnv } from './common.mjs';
import { startTestProvider } from '../provider/provider.mjs';

export const REDIRECT = `${APP}/callback`;
export { APP, traffic };
export { rejects, sleep, until } from './common.mjs';

/**
 * hostileSetup starts a provider and returns a clientEnv for it (see
 * common.mjs) with env.tp; call env.reset() before each test and
 * env.stop() after all.
 */
export async function hostileSetup(opts) {
  const tp = await startTestProvider(opts);
  const env = clientEnv(loadMezzo(), tp, { redirectUri: REDIRECT });
  env.tp = tp;
  env.reset = () => {
    env.closeClients();
    tp.reset();
    resetBrowser(`${APP}/`);
    traffic.length = 0;
  };
  env.stop = () => tp.stop();
  return env;
}

/** bearerUses lists the access tokens sent to the provider after index from. */
export function bearerUses(tp, from = 0) {
  return tp.requests.slice(from).map((r) => r.authorization).filter(Boolean);
}
