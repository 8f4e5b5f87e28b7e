// The mezzo demo: a plain page that signs in, shows the user and the access
// token's remaining lifetime, logs renewals and calls a protected endpoint.
// Its configuration comes from the demo server: the createClient options
// of the profile it runs (make demo PROFILE=…) and the endpoint to call.
'use strict';

const $ = (id) => document.getElementById(id);

function logEvent(text) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $('events').prepend(li);
}

function showError(err) {
  $('error-box').hidden = false;
  $('error-code').textContent = err.code || 'error';
  $('error-description').textContent = err.description || err.message || String(err);
  logEvent(`error: ${err.code || err}`);
}

let expiresAt = 0;
function tick() {
  $('expires-in').textContent = expiresAt ? String(Math.max(0, Math.round((expiresAt - Date.now()) / 1000))) : '–';
}

function render(client) {
  const signedIn = client.isAuthenticated();
  const user = client.getUser();
  $('status').dataset.state = signedIn ? 'signed-in' : 'signed-out';
  $('status').textContent = signedIn ? 'Signed in' : 'Signed out';
  $('login').hidden = signedIn;
  $('logout').hidden = !signedIn;
  $('session').hidden = !signedIn;
  const fullName = user ? [user.first_name, user.last_name].filter(Boolean).join(' ') : ''; // Intermezzo's claims
  $('user-name').textContent = user ? String(user.name || fullName || user.email || user.sub) : '';
  $('claims').textContent = user ? JSON.stringify(user, null, 2) : '';
  tick();
}

async function main() {
  // The server's config is createClient's options (the profile's endpoints,
  // and runtime when a test forces a host; default: auto), plus the
  // endpoint the protected-API button calls.
  const { userinfoEndpoint, ...options } = await (await fetch('/config.json')).json();
  const client = await mezzo.createClient(options);
  $('status').dataset.runtime = client.runtime;
  // createClient answers before the module has started (signed out, or the
  // shared worker's session); the module starts in the background, and
  // options it refuses or a provider it cannot discover show here.
  client.ready.catch(showError);

  // tokenRefreshed also announces the sign-in's own token; only later ones are renewals.
  let signingIn = false;
  client.on('tokenRefreshed', (d) => {
    expiresAt = d.expiresAt;
    logEvent(`${signingIn ? 'token issued' : 'token renewed'} (scope: ${d.scope})`);
    render(client); // a sign-in in another tab arrives here too
  });
  client.on('sessionExpired', (d) => { expiresAt = 0; logEvent(`session expired: ${d.code}`); render(client); });
  client.on('error', (d) => logEvent(`error event: ${d.code}`));

  if (client.isRedirectCallback()) {
    signingIn = true;
    try {
      const { returnTo } = await client.handleRedirectCallback();
      logEvent('signed in');
      if (returnTo !== '/') history.replaceState(null, '', returnTo);
    } catch (err) {
      showError(err);
    } finally {
      signingIn = false;
    }
  }

  $('login').addEventListener('click', () => client.login({ returnTo: '/' }).catch(showError));
  $('logout').addEventListener('click', () => client.logout().catch(showError));
  $('call-api').addEventListener('click', async () => {
    $('api-result').textContent = '…';
    try {
      const res = await client.fetch(userinfoEndpoint);
      $('api-result').textContent = `HTTP ${res.status}\n${JSON.stringify(await res.json(), null, 2)}`;
    } catch (err) {
      $('api-result').textContent = '';
      showError(err);
    }
  });

  setInterval(tick, 1000);
  render(client);
}

main().catch((err) => {
  $('status').dataset.state = 'failed';
  $('status').textContent = 'Failed to start';
  showError(err);
});
