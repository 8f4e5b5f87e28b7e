// A small React app on mezzo's binding, as a user of the package writes it
// (createElement instead of JSX, so that it needs no React plugin). The
// test drives it through #status[data-state], #login, #renew, #logout.
import { StrictMode, createElement as h, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { MezzoProvider, useMezzo } from '@mezzo-auth/mezzo/react';

function App() {
  const { isLoading, isAuthenticated, user, error, login, logout, getToken } = useMezzo();
  const [renewals, setRenewals] = useState(0);
  // Every error the binding ever reported, for the test (a later event may
  // clear the one shown).
  useEffect(() => { if (error) (window.__mezzoErrors ??= []).push(String(error.code ?? error.message)); }, [error]);
  const state = isLoading ? 'loading' : isAuthenticated ? 'signed-in' : 'signed-out';
  return h('main', null,
    h('p', { id: 'status', 'data-state': state }, state, user ? ` as ${user.sub}` : ''),
    error ? h('p', { id: 'error' }, String(error.code ?? error.message)) : null,
    h('button', { id: 'login', onClick: () => login() }, 'Sign in'),
    h('button', { id: 'renew', onClick: () => getToken({ forceRefresh: true }).then(() => setRenewals((n) => n + 1)) }, 'Renew'),
    h('output', { id: 'renewals' }, String(renewals)),
    h('button', { id: 'logout', onClick: () => logout() }, 'Sign out'));
}

const config = await (await fetch('/config.json')).json();
createRoot(document.getElementById('root')).render(
  h(StrictMode, null, h(MezzoProvider, { options: config }, h(App))));
