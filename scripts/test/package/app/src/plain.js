// The same app without a framework: mezzo's ES module as a bundler sees it.
import { createClient } from '@mezzo-auth/mezzo';

const $ = (id) => document.getElementById(id);
const config = await (await fetch('/config.json')).json();
const client = await createClient(config);
const show = () => {
  const state = client.isAuthenticated() ? 'signed-in' : 'signed-out';
  $('status').dataset.state = state;
  $('status').textContent = state;
};
for (const e of ['tokenRefreshed', 'sessionExpired']) client.on(e, show);
if (client.isRedirectCallback()) {
  try {
    const { returnTo } = await client.handleRedirectCallback();
    history.replaceState(null, '', returnTo);
  } catch (e) {
    (window.__mezzoErrors ??= []).push(e.code);
  }
}
show();
let renewals = 0;
$('login').onclick = () => client.login();
$('logout').onclick = () => client.logout();
$('renew').onclick = () => client.getToken({ forceRefresh: true }).then(() => { $('renewals').textContent = String(++renewals); });
