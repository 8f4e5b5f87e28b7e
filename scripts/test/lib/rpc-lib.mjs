// Loads web/src/rpc.js as the build concatenates it: its text evaluated as
// the body of a strict function, in a scope that supplies what the other
// web/src files define (MezzoError, whose class is taken from the web/src
// file that declares it, so the test uses the real one) and, to count them,
// the timer functions.
import { readFileSync, readdirSync } from 'node:fs';

const src = new URL('../../../web/src/', import.meta.url);

/** mezzoErrorSource is the text of `class MezzoError … }` from the web/src file that declares it. */
function mezzoErrorSource() {
  for (const name of readdirSync(src).filter((n) => n.endsWith('.js')).sort()) {
    const m = /^class MezzoError [\s\S]*?^}$/m.exec(readFileSync(new URL(name, src), 'utf8'));
    if (m) return m[0];
  }
  throw new Error('no web/src/*.js declares class MezzoError');
}

/**
 * loadRpc evaluates web/src/rpc.js and returns its declarations with the
 * MezzoError they use, `timers()`: the number of timers set and not yet
 * cleared or fired (a timer left behind keeps it above zero), and
 * `delays`: the delay of every timer set, in order.
 */
export function loadRpc() {
  const live = new Set();
  const delays = [];
  const scope = {
    setTimeout(fn, ms, ...args) {
      const t = setTimeout(() => { live.delete(t); fn(...args); }, ms);
      live.add(t);
      delays.push(ms);
      return t;
    },
    clearTimeout(t) {
      live.delete(t);
      clearTimeout(t);
    },
  };
  const body = `'use strict';\n${mezzoErrorSource()}\n${readFileSync(new URL('rpc.js', src), 'utf8')}\n`
    + 'return { MezzoError, RPC_PROTOCOL, RPC_DEFAULT_TIMEOUT_MS, RPC_MAX_DESCRIPTION, rpcClient, rpcServer };';
  const rpc = new Function(...Object.keys(scope), body)(...Object.values(scope));
  return { ...rpc, timers: () => live.size, delays };
}
