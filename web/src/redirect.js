// redirect.js — what a redirect sign-in leaves in the page between login()
// and the callback, and the address bar after it. Page only.

// The one sessionStorage key mezzo ever writes: the pending login
// transaction, between login() and the callback. No token goes there.
const TRANSACTION_KEY = 'mezzo.transaction';

/** saveTransaction keeps this tab's pending login transaction until the callback. */
export function saveTransaction(transaction) {
  globalThis.sessionStorage.setItem(TRANSACTION_KEY, transaction);
}

/** takeTransaction reads and removes this tab's pending login transaction: consumed on first use, whatever follows. */
export function takeTransaction() {
  try {
    const tx = globalThis.sessionStorage.getItem(TRANSACTION_KEY);
    globalThis.sessionStorage.removeItem(TRANSACTION_KEY);
    return typeof tx === 'string' ? tx : null;
  } catch {
    return null; // no storage: no pending login
  }
}

/** replaceUrl changes the address bar without navigating or adding a history entry, keeping the history state. */
export function replaceUrl(url) {
  try { globalThis.history.replaceState(globalThis.history.state, '', url); } catch { /* no history here */ }
}
