// trusted-types.js — the script URLs mezzo hands the browser, for a site
// under Trusted Types (`require-trusted-types-for 'script'`): the worker
// script of a SharedWorker or a dedicated Worker. mezzo makes them through
// a policy of its own name, TRUSTED_TYPES_POLICY, which the site lists in
// its `trusted-types` directive; the policy passes only URLs of this page's
// origin or of where mezzo's files are (the same rule as the module's,
// worker-identity.js). Without Trusted Types (or where the site's
// directive does not allow the policy) the URL is passed as it is, and a
// browser that enforces them refuses the worker: createClient then
// reports the host it fell back to (create-client.js).

export const TRUSTED_TYPES_POLICY = 'mezzo';

let policy; // undefined until first asked, then the policy or null

/** scriptUrlPolicy is mezzo's Trusted Types policy, made on first use, or null where there is none. */
function scriptUrlPolicy(allowedOrigins) {
  if (policy === undefined) {
    policy = null;
    try {
      policy = globalThis.trustedTypes?.createPolicy?.(TRUSTED_TYPES_POLICY, {
        createScriptURL(url) {
          const u = new URL(url);
          if (!allowedOrigins().includes(u.origin)) throw new TypeError(`mezzo: ${u.origin} is not an origin of this site's mezzo files`);
          return u.href;
        },
      }) ?? null;
    } catch {
      policy = null; // the site's trusted-types directive does not allow it
    }
  }
  return policy;
}

/**
 * trustedScriptUrl is url as the browser's worker constructors take it:
 * a TrustedScriptURL of mezzo's policy where there is one, else url.
 * allowedOrigins() lists the origins the policy accepts.
 */
export function trustedScriptUrl(url, allowedOrigins) {
  const p = scriptUrlPolicy(allowedOrigins);
  return p ? p.createScriptURL(url) : url;
}
