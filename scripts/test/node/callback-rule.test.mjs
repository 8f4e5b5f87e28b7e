// isRedirectCallback's rule is written twice: in Go (pkce.Client.IsCallback,
// which decides what handleRedirectCallback cleans from the address bar) and
// in the loader's page half (isCallbackUrl, so that isRedirectCallback()
// answers synchronously on every host). Both answer one table,
// ../lib/callback-urls.json: wasm/callback_test.go runs Go over it, this
// runs the loader (web/dist/mezzo.js) through the public API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadMezzo } from '../lib/browser-env.mjs';

const { cases } = JSON.parse(readFileSync(new URL('../lib/callback-urls.json', import.meta.url), 'utf8'));

test('the loader answers isRedirectCallback as the shared table (and Go) says', async () => {
  const mezzo = loadMezzo();
  const clients = new Map(); // one client per redirect URI; nothing is fetched
  const clientFor = async (redirectUri) => {
    if (!clients.has(redirectUri)) {
      clients.set(redirectUri, await mezzo.createClient({
        clientId: 'spa', redirectUri, issuer: 'https://idp.example',
        authorizationEndpoint: 'https://idp.example/authorize', tokenEndpoint: 'https://idp.example/token',
        idTokenSignature: 'tls',
      }));
    }
    return clients.get(redirectUri);
  };
  assert.ok(cases.length >= 40, 'the table has its cases');
  const wrong = [];
  for (const c of cases) {
    const got = (await clientFor(c.redirectUri)).isRedirectCallback(c.url);
    if (got !== c.callback) wrong.push(`${c.name}: isRedirectCallback(${JSON.stringify(c.url)}) for ${JSON.stringify(c.redirectUri)} is ${got}, the table says ${c.callback}`);
  }
  for (const client of clients.values()) client.close();
  assert.deepEqual(wrong, []);
});
