// Test helpers for the dev identity provider: start it as a child process,
// and sign in without a browser (follow the redirects, post the login form).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * startIdp spawns server.mjs and resolves once it prints its ready line
 * (its fields, among them issuer, clientId, user, and resource: the URL of
 * the DPoP-protected resource endpoint). dpopNonce: the token endpoint and
 * the resource require a DPoP nonce (--dpop-nonce).
 * @param {{port?: number, accessTokenTtl?: number, refreshTokenTtl?: number,
 *          redirectUris?: string[], postLogoutRedirectUris?: string[], clientId?: string,
 *          webMessage?: boolean, dpopNonce?: boolean, tokenPath?: string}} opts
 */
export function startIdp(opts = {}) {
  const args = [path.join(here, 'server.mjs'), '--port', String(opts.port ?? 0)];
  if (opts.accessTokenTtl !== undefined) args.push('--access-token-ttl', String(opts.accessTokenTtl));
  if (opts.refreshTokenTtl !== undefined) args.push('--refresh-token-ttl', String(opts.refreshTokenTtl));
  if (opts.clientId) args.push('--client-id', opts.clientId);
  if (opts.webMessage) args.push('--web-message');
  if (opts.dpopNonce) args.push('--dpop-nonce');
  if (opts.tokenPath) args.push('--token-path', opts.tokenPath);
  for (const u of opts.redirectUris ?? []) args.push('--redirect-uri', u);
  for (const u of opts.postLogoutRedirectUris ?? []) args.push('--post-logout-redirect-uri', u);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', opts.quiet === false ? 'inherit' : 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill(); reject(new Error(`idp did not start:\n${stderr}`)); }, 15000);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`idp exited (${code}):\n${stderr}`)); });
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      const info = JSON.parse(line);
      child.removeAllListeners('exit');
      resolve({
        ...info,
        child,
        /** authorize plays the user: signs in at authorizeUrl as the demo user, returns the redirect back. */
        authorize: (authorizeUrl) => headlessLogin({ authorizeUrl, login: info.user.login, password: info.user.password }),
        /** discovery fetches the provider's metadata document. */
        discovery: async () => (await fetch(`${info.issuer}/.well-known/openid-configuration`)).json(),
        stats: async () => (await fetch(`${info.issuer}/__test/stats`)).json(),
        resetStats: () => fetch(`${info.issuer}/__test/reset-stats`, { method: 'POST' }),
        stop: () => new Promise((done) => {
          if (child.exitCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGTERM');
          return undefined;
        }),
      });
    });
  });
}

/** A minimal cookie jar for one origin. */
class Jar {
  #cookies = new Map();
  store(res) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.#cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
  }
  header() { return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; '); }
}

/**
 * headlessLogin follows authorizeUrl through the provider, posting the
 * login form, and returns the URL of the final redirect away from the
 * provider (the callback, with code, state and iss).
 */
export async function headlessLogin({ authorizeUrl, login, password, jar = new Jar() }) {
  const origin = new URL(authorizeUrl).origin;
  let url = authorizeUrl;
  let method = 'GET';
  let body;
  for (let hops = 0; hops < 20; hops++) {
    const res = await fetch(url, {
      method, body, redirect: 'manual',
      headers: { cookie: jar.header(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    });
    jar.store(res);
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location'), url).href;
      if (!next.startsWith(origin)) return next;
      url = next; method = 'GET'; body = undefined;
      continue;
    }
    const html = await res.text();
    const action = html.match(/<form method="post" action="([^"]+)"/);
    if (res.status === 200 && action && /name="password"/.test(html)) {
      url = new URL(action[1], url).href;
      method = 'POST';
      body = new URLSearchParams({ login, password }).toString();
      continue;
    }
    throw new Error(`headlessLogin: unexpected ${res.status} at ${url}: ${html.slice(0, 300)}`);
  }
  throw new Error('headlessLogin: too many redirects');
}

export { Jar };
