// isRedirectCallback's rule is decided in one place, the loader's
// web/src/callback-url.js (so that isRedirectCallback() answers
// synchronously on every host; handleRedirectCallback hands Go the page's
// URL to clean only when the rule says it is a callback). This runs the
// built loader (web/dist/mezzo.js) over the table ../lib/callback-urls.json
// through the public API.
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
