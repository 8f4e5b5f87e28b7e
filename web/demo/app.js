// The mezzo demo: a plain page that signs in, shows the user and the access
// token's remaining lifetime, logs renewals and calls a protected endpoint.
// Its configuration comes from the demo server: the createClient options
// of the profile it runs (make demo PROFILE=…; dpop: true on the dev
// provider) and the endpoint to call: the dev provider's DPoP-protected
// resource, which reports the token's type and key binding, or userinfo.
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
  $('login-popup').hidden = signedIn;
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
  const { userinfoEndpoint, resourceEndpoint, ...options } = await (await fetch('/config.json')).json();
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

  // A silent sign-in when the page starts signed out (make demo turns
  // silentRestore on): the client starts it by itself, and this call joins
  // it to log its outcome.
  if (options.silentRestore && !client.isAuthenticated() && !client.isRedirectCallback()) {
    logEvent('silent sign-in: trying (prompt=none in a hidden iframe)');
    signingIn = true;
    client.loginSilently().then(
      () => { logEvent('signed in silently'); render(client); },
      (err) => logEvent(`silent sign-in: ${err.code}`),
    ).finally(() => { signingIn = false; });
  }

  $('login').addEventListener('click', () => client.login({ returnTo: '/' }).catch(showError));
  // No await before loginWithPopup: the popup must open within the click.
  $('login-popup').addEventListener('click', () => {
    signingIn = true;
    client.loginWithPopup({ returnTo: '/' }).then(
      () => { logEvent('signed in with popup'); render(client); },
      (err) => { logEvent(`popup sign-in: ${err.code}`); if (err.code !== 'popup_closed') showError(err); },
    ).finally(() => { signingIn = false; });
  });
  $('logout').addEventListener('click', () => client.logout().catch(showError));
  // With dpop, client.fetch sends the token as DPoP with a fresh proof
  // (and retries once with the server's nonce). The resource says which
  // token it got and the key it is bound to (cnf.jkt), shown next to this
  // client's key; #api-result is written last, once the rest is shown.
  $('call-api').addEventListener('click', async () => {
    $('api-result').textContent = '…';
    $('api-binding').hidden = true;
    try {
      const res = await client.fetch(resourceEndpoint ?? userinfoEndpoint);
      const body = await res.json();
      if (resourceEndpoint && res.ok) {
        const thumbprint = options.dpop ? await client.getDpopThumbprint() : null;
        const jkt = body.cnf?.jkt ?? null;
        $('api-token-type').textContent = String(body.token_type);
        $('api-jkt').textContent = jkt ?? 'none (not bound to a key)';
        $('dpop-thumbprint').textContent = thumbprint ?? 'none (dpop is off)';
        const match = jkt !== null && jkt === thumbprint;
        $('api-jkt-match').dataset.match = String(match);
        $('api-jkt-match').textContent = match ? 'yes: the token is bound to this client\'s key' : 'no';
        $('api-binding').hidden = false;
      }
      $('api-result').textContent = `HTTP ${res.status}\n${JSON.stringify(body, null, 2)}`;
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
