// The RPC layer between the page and the runtime (web/src/rpc.js), on a
// MessageChannel as a SharedWorker's port is one, and on a fake port that
// dispatches events no channel could carry (getters that throw, other
// sources and origins). A call is answered, typed, or times out; every
// forged message is dropped or answered typed, never thrown; nothing is
// left pending, listening or ticking after close(), dead() or a timeout.
import { test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadRpc } from '../lib/rpc-lib.mjs';
import { sleep, until, within } from '../lib/common.mjs';

const rpc = await loadRpc();
const { MezzoError, RPC_PROTOCOL, RPC_DEFAULT_TIMEOUT_MS, RPC_MAX_DESCRIPTION, rpcClient, rpcServer } = rpc;
const V = '1.2.3';
const envelope = { protocol: RPC_PROTOCOL, version: V };

/** rejectsWith asserts that promise rejects with a MezzoError of code, and returns it. */
async function rejectsWith(promise, code) {
  let err;
  await assert.rejects(within(promise, 2000, 'the rejection'), (e) => {
    assert.ok(e instanceof MezzoError, `a MezzoError: ${e}`);
    assert.equal(e.code, code, `${e.code}: ${e.description}`);
    assert.equal(typeof e.description, 'string');
    err = e;
    return true;
  });
  return err;
}

// Everything a test opens is closed after it, so that no port keeps node
// up, and then no timer may be left.
const opened = [];
function test(name, fn) {
  nodeTest(name, async (t) => {
    try {
      await fn(t);
    } finally {
      for (const c of opened.splice(0)) c.close();
    }
    assert.equal(rpc.timers(), 0, 'no timer left behind');
  });
}

/** channel opens a MessageChannel, closed after the test. */
function channel() {
  const ch = new MessageChannel();
  opened.push(ch.port1, ch.port2);
  return ch;
}

/** pair makes a client on port1 and a server on port2 of a new channel, each recording what it drops. */
function pair({ handlers = {}, client: co = {}, server: so = {} } = {}) {
  const { port1, port2 } = channel();
  const dropped = { client: [], server: [] };
  const events = [];
  const server = rpcServer(port2, { version: V, handlers, onInvalid: (r) => dropped.server.push(r), ...so });
  const client = rpcClient(port1, { version: V, timeoutMs: 2000, onEvent: (n, d) => events.push([n, d]), onInvalid: (r) => dropped.client.push(r), ...co });
  opened.push(client, server);
  return { client, server, port1, port2, dropped, events };
}

/**
 * rawCalls posts each message to a server's port as it is, then a good
 * call of id 999999; it returns the replies that came before that call's
 * (the server answers in order).
 */
async function rawReplies(port, messages) {
  const replies = [];
  let done;
  const finished = new Promise((r) => { done = r; });
  const listener = (ev) => { if (ev.data?.id === 999999) done(); else replies.push(ev.data); };
  port.addEventListener('message', listener);
  port.start();
  for (const m of messages) port.postMessage(m);
  port.postMessage({ ...envelope, kind: 'call', id: 999999, method: 'echo', params: [] });
  await within(finished, 2000, 'the good call after the forged ones');
  port.removeEventListener('message', listener);
  return replies;
}

const echo = { echo: async (params) => params };

test('a call gets its result, params crossing as plain data', async () => {
  const { client } = pair({ handlers: echo });
  for (const params of [undefined, [], [1, 'two', null], { a: { b: [1, 2] }, s: 'x' }]) {
    assert.deepEqual(await client.call('echo', params), params);
  }
  assert.deepEqual(await client.call('echo', Object.assign(Object.create(null), { a: 1 })), { a: 1 }, 'an object of no prototype is a plain object');
  assert.equal(client.pendingCount(), 0);
});

test('concurrent calls are matched by id, whatever order the answers come in', async () => {
  const { client } = pair({ handlers: { slow: async ({ n }) => { await sleep((20 - n) * 3); return n * n; } } });
  const ns = Array.from({ length: 20 }, (_, n) => n);
  const results = await Promise.all(ns.map((n) => client.call('slow', { n })));
  assert.deepEqual(results, ns.map((n) => n * n));
  assert.equal(client.pendingCount(), 0);
});

test('handler errors come back typed; anything without a code becomes internal_error and is not echoed', async (t) => {
  const getterThrows = { get code() { throw new Error('getter'); } };
  const cases = [
    { name: 'MezzoError', err: new MezzoError('login_required', 'no session'), code: 'login_required', description: 'no session' },
    { name: 'MezzoError with status', err: new MezzoError('network_error', 'down', 503), code: 'network_error', description: 'down', status: 503 },
    { name: "Go's plain error object", err: { code: 'invalid_grant', description: 'refresh token revoked', status: 400 }, code: 'invalid_grant', description: 'refresh token revoked', status: 400 },
    { name: 'a code and no description', err: { code: 'access_denied' }, code: 'access_denied', description: '' },
    { name: 'a huge description is cut', err: { code: 'server_error', description: 'd'.repeat(100000) }, code: 'server_error', description: `${'d'.repeat(RPC_MAX_DESCRIPTION)}…` },
    { name: 'TypeError', err: new TypeError('secret-text'), code: 'internal_error' },
    { name: 'a string', err: 'secret-text', code: 'internal_error' },
    { name: 'null', err: null, code: 'internal_error' },
    { name: 'a code with a space', err: { code: 'bad code', description: 'secret-text' }, code: 'internal_error' },
    { name: 'a code that is no string', err: { code: 42, description: 'secret-text' }, code: 'internal_error' },
    { name: 'a code too long', err: { code: 'c'.repeat(65), description: 'secret-text' }, code: 'internal_error' },
    { name: 'a description that is no string', err: { code: 'x', description: { secret: 'secret-text' } }, code: 'internal_error' },
    { name: 'a status that is no integer', err: { code: 'x', description: 'secret-text', status: 'abc' }, code: 'internal_error' },
    { name: 'an infinite status', err: { code: 'x', description: 'secret-text', status: Infinity }, code: 'internal_error' },
    { name: 'a getter that throws', err: getterThrows, code: 'internal_error' },
    { name: "an Error with a code, not a MezzoError", err: Object.assign(new Error('secret-text'), { code: 'ERR_SECRET', description: 'secret-text' }), code: 'internal_error' },
  ];
  for (const thrown of [false, true]) {
    for (const c of cases) {
      await t.test(`${c.name} (${thrown ? 'thrown' : 'rejected'})`, async () => {
        const { client } = pair({ handlers: { fail: thrown ? () => { throw c.err; } : async () => { throw c.err; } } });
        const err = await rejectsWith(client.call('fail'), c.code);
        if (c.code === 'internal_error') {
          assert.equal(err.description, 'fail failed in the runtime');
          assert.ok(!err.message.includes('secret-text'));
        } else {
          assert.equal(err.description, c.description);
        }
        assert.equal(err.status, c.status);
      });
    }
  }
});

test('a result that cannot be cloned becomes internal_error', async () => {
  const { client } = pair({ handlers: { fn: () => () => 1, sym: () => Symbol('s'), ok: () => 'ok' } });
  await rejectsWith(client.call('fn'), 'internal_error');
  await rejectsWith(client.call('sym'), 'internal_error');
  assert.equal(await client.call('ok'), 'ok');
});

test('unknown methods, inherited ones included, get invalid_argument', async (t) => {
  const { client, port1 } = pair({ handlers: { ...echo, notAFunction: 42 } });
  for (const method of ['nope', 'toString', 'constructor', 'hasOwnProperty', 'valueOf', 'notAFunction']) {
    await t.test(method, async () => {
      const err = await rejectsWith(client.call(method, {}), 'invalid_argument');
      assert.equal(err.description, `unknown method ${method}`);
    });
  }
  client.close();
  // Names the client would not send, posted as they are.
  const methods = ['__proto__', '', 'a'.repeat(100000), 42, null, { toString: 'echo' }, ['echo']];
  const replies = await rawReplies(port1, methods.map((method, i) => ({ ...envelope, kind: 'call', id: i + 1, method })));
  assert.deepEqual(replies.map((r) => [r.id, r.kind, r.error.code]), methods.map((_, i) => [i + 1, 'error', 'invalid_argument']));
  assert.ok(replies.every((r) => r.error.description.length < 100), 'the method is not echoed');
});

test('params of the wrong shape get invalid_argument, from the client before sending and from the server', async (t) => {
  const { client, port1, dropped } = pair({ handlers: echo });
  const bad = [null, 'str', 42, true, new Date(0), new Map(), new Uint8Array(2)];
  for (const params of bad) {
    await t.test(`client: ${Object.prototype.toString.call(params)}`, async () => {
      await rejectsWith(client.call('echo', params), 'invalid_argument');
    });
  }
  await t.test('client: plain data only', async () => {
    const err = await rejectsWith(client.call('echo', { f() {} }), 'invalid_argument');
    assert.match(err.description, /cannot be sent/);
    assert.equal(client.pendingCount(), 0);
  });
  client.close();
  const replies = await rawReplies(port1, bad.map((params, i) => ({ ...envelope, kind: 'call', id: i + 1, method: 'echo', params })));
  assert.deepEqual(replies.map((r) => [r.id, r.error?.code]), bad.map((_, i) => [i + 1, 'invalid_argument']));
  assert.deepEqual(dropped.server, []);
});

test('a call from another version gets runtime_unavailable naming both; the server stays up', async () => {
  const { port1, port2 } = channel();
  const server = rpcServer(port2, { version: V, handlers: echo });
  opened.push(server);
  const stale = rpcClient(port1, { version: '0.9.0', timeoutMs: 2000 });
  const err = await rejectsWith(stale.call('echo', [1]), 'runtime_unavailable');
  assert.match(err.description, /version 1\.2\.3.*version 0\.9\.0/);
  stale.close();
  const good = rpcClient(port1, { version: V, timeoutMs: 2000 });
  opened.push(good);
  assert.deepEqual(await good.call('echo', [2]), [2]);
});

// Forged messages to the server: dropped (told to onInvalid, or ignored
// when they are another side's kind), or answered with a typed error.
const parsedProto = JSON.parse(`{"__proto__": ${JSON.stringify({ ...envelope, kind: 'call', id: 7, method: 'echo' })}}`);
const serverCases = [
  { name: 'null', msg: null, drop: 'not a plain object' },
  { name: 'undefined', msg: undefined, drop: 'not a plain object' },
  { name: 'a string', msg: 'call echo', drop: 'not a plain object' },
  { name: 'JSON text of a call', msg: JSON.stringify({ ...envelope, kind: 'call', id: 1, method: 'echo' }), drop: 'not a plain object' },
  { name: 'a number', msg: 42, drop: 'not a plain object' },
  { name: 'an array', msg: [RPC_PROTOCOL, V, 'call', 1, 'echo'], drop: 'not a plain object' },
  { name: 'a Map', msg: new Map([['protocol', RPC_PROTOCOL]]), drop: 'not a plain object' },
  { name: 'an empty object', msg: {}, drop: 'another protocol' },
  { name: 'another protocol', msg: { ...envelope, protocol: 'mezzo-rpc/2', kind: 'call', id: 1, method: 'echo' }, drop: 'another protocol' },
  { name: 'no protocol', msg: { version: V, kind: 'call', id: 1, method: 'echo' }, drop: 'another protocol' },
  { name: 'an unknown kind', msg: { ...envelope, kind: 'bogus', id: 1, method: 'echo' }, drop: 'unknown kind' },
  { name: 'kind __proto__', msg: { ...envelope, kind: '__proto__', id: 1 }, drop: 'unknown kind' },
  { name: 'an own __proto__ carrying a call', msg: parsedProto, drop: 'another protocol' },
  { name: 'id a string', msg: { ...envelope, kind: 'call', id: '1', method: 'echo' }, drop: 'call without an id' },
  { name: 'id fractional', msg: { ...envelope, kind: 'call', id: 1.5, method: 'echo' }, drop: 'call without an id' },
  { name: 'id zero', msg: { ...envelope, kind: 'call', id: 0, method: 'echo' }, drop: 'call without an id' },
  { name: 'id negative', msg: { ...envelope, kind: 'call', id: -1, method: 'echo' }, drop: 'call without an id' },
  { name: 'id NaN', msg: { ...envelope, kind: 'call', id: NaN, method: 'echo' }, drop: 'call without an id' },
  { name: 'id beyond safe integers', msg: { ...envelope, kind: 'call', id: 2 ** 60, method: 'echo' }, drop: 'call without an id' },
  { name: 'no id', msg: { ...envelope, kind: 'call', method: 'echo' }, drop: 'call without an id' },
  { name: 'version a number', msg: { ...envelope, version: 1, kind: 'call', id: 1, method: 'echo' }, drop: 'call without a version' },
  { name: 'version huge', msg: { ...envelope, version: 'v'.repeat(100000), kind: 'call', id: 1, method: 'echo' }, drop: 'call without a version' },
  { name: 'a result', msg: { ...envelope, kind: 'result', id: 1, result: 1 }, ignored: true },
  { name: 'an error', msg: { ...envelope, kind: 'error', id: 1, error: { code: 'x' } }, ignored: true },
  { name: 'an event', msg: { ...envelope, kind: 'event', name: 'x' }, ignored: true },
  { name: 'another version', msg: { ...envelope, version: '9.9.9', kind: 'call', id: 5, method: 'echo' }, reply: 'runtime_unavailable', drop: 'another version' },
  { name: 'method __proto__', msg: { ...envelope, kind: 'call', id: 6, method: '__proto__' }, reply: 'invalid_argument' },
  { name: 'params with an own __proto__', msg: { ...envelope, kind: 'call', id: 8, method: 'keys', params: JSON.parse('{"__proto__": {"polluted": 1}}') }, result: ['__proto__'] },
];

test('forged messages to the server are dropped or answered typed, and a good call works after each', async (t) => {
  for (const c of serverCases) {
    await t.test(c.name, async () => {
      const { port1, dropped } = pair({ handlers: { ...echo, keys: (p) => Object.keys(p) } });
      const replies = await rawReplies(port1, [c.msg]);
      assert.deepEqual(dropped.server, c.drop ? [c.drop] : []);
      if (c.reply) {
        assert.equal(replies.length, 1);
        assert.deepEqual([replies[0].kind, replies[0].id, replies[0].error.code], ['error', c.msg.id, c.reply]);
      } else if (c.result) {
        assert.deepEqual(replies.map((r) => [r.kind, r.id, r.result]), [['result', c.msg.id, c.result]]);
      } else {
        assert.deepEqual(replies, []);
      }
      assert.equal({}.polluted, undefined);
    });
  }
});

test("forged messages on one port leave another port's calls, in flight and new, untouched", async () => {
  let finish;
  const handlers = { ...echo, keys: (p) => Object.keys(p), slow: () => new Promise((r) => { finish = r; }) };
  const a = pair({ handlers });
  const b = pair({ handlers });
  const inFlight = b.client.call('slow', { tab: 'b' });
  await until(() => finish, 1000, 'the slow call to start');
  await rawReplies(a.port1, serverCases.map((c) => c.msg));
  finish('done');
  assert.equal(await inFlight, 'done');
  assert.deepEqual(await b.client.call('echo', ['b']), ['b']);
  assert.deepEqual(b.dropped.server, []);
  assert.ok(a.dropped.server.length > 0);
});

/** fakePort is a port that records what is posted to it; the test dispatches to it what no channel could carry. */
function fakePort() {
  const port = new EventTarget();
  port.posted = [];
  port.postMessage = (m) => { port.posted.push(structuredClone(m)); };
  port.started = 0;
  port.start = () => { port.started += 1; };
  return port;
}

test('messages no channel could carry are dropped, and nothing is thrown out of the listener', async (t) => {
  const { port1: other } = channel();
  const throwing = new Proxy({}, { getPrototypeOf() { throw new Error('trap'); } });
  // What each side would take: a call for the server, a reply to call 1 for the client.
  const good = (side) => ({ ...envelope, ...(side === 'server' ? { kind: 'call', method: 'echo' } : { kind: 'result', result: 'forged' }), id: 1 });
  const cases = [
    { name: 'a proxy whose traps throw', init: () => ({ data: throwing }), drop: 'unreadable' },
    { name: 'an id getter that throws', init: (side) => ({ data: Object.defineProperty(good(side), 'id', { get() { throw new Error('getter'); } }) }), drop: 'unreadable' },
    { name: 'fields inherited, not own', init: (side) => ({ data: Object.create(good(side)) }), drop: 'not a plain object' },
    { name: 'from another origin', init: (side) => ({ data: good(side), origin: 'https://evil.example' }), drop: 'from another origin' },
    { name: 'from another source', init: (side) => ({ data: good(side), source: other }), drop: 'from another source' },
  ];
  for (const side of ['server', 'client']) {
    for (const c of cases) {
      await t.test(`${side}: ${c.name}`, async () => {
        const port = fakePort();
        const dropped = [];
        const opts = { version: V, origin: 'https://app.example', onInvalid: (r) => dropped.push(r) };
        let call = null;
        if (side === 'server') {
          opened.push(rpcServer(port, { ...opts, handlers: echo }));
        } else {
          const client = rpcClient(port, { ...opts, timeoutMs: 50 });
          opened.push(client);
          call = client.call('echo', []);
          port.posted.length = 0;
        }
        const ev = new MessageEvent('message', c.init(side));
        assert.doesNotThrow(() => port.dispatchEvent(ev));
        if (call) await rejectsWith(call, 'timeout'); // the forged result was not taken
        else await sleep(5);
        assert.deepEqual(dropped, [c.drop]);
        assert.deepEqual(port.posted, []);
        assert.equal(port.started, 1, 'start() was called, as a MessagePort needs');
      });
    }
  }
  await t.test('server: from its own origin and source, the same call is answered', async () => {
    const port = fakePort();
    opened.push(rpcServer(port, { version: V, handlers: echo, origin: 'https://app.example' }));
    port.dispatchEvent(new MessageEvent('message', { data: { ...envelope, kind: 'call', id: 1, method: 'echo', params: [3] }, origin: 'https://app.example' }));
    await until(() => port.posted.length === 1, 1000, 'the answer');
    assert.deepEqual(port.posted, [{ ...envelope, kind: 'result', id: 1, result: [3] }]);
  });
  await t.test('messageerror is dropped', async () => {
    const port = fakePort();
    const dropped = [];
    opened.push(rpcClient(port, { version: V, onInvalid: (r) => dropped.push(r) }));
    port.dispatchEvent(new MessageEvent('messageerror'));
    assert.deepEqual(dropped, ['cannot be deserialized']);
  });
});

// Forged replies to the client: each is posted while one call is pending;
// a dropped one leaves the call to the good result that follows it.
const clientCases = [
  { name: 'null', reply: () => null, drop: 'not a plain object' },
  { name: 'a string', reply: () => 'result', drop: 'not a plain object' },
  { name: 'an array', reply: (id) => [id, 'result'], drop: 'not a plain object' },
  { name: 'another protocol', reply: (id) => ({ ...envelope, protocol: 'x', kind: 'result', id, result: 'forged' }), drop: 'another protocol' },
  { name: 'an unknown kind', reply: (id) => ({ ...envelope, kind: 'answer', id, result: 'forged' }), drop: 'unknown kind' },
  { name: 'another version', reply: (id) => ({ ...envelope, version: '0.0.1', kind: 'result', id, result: 'forged' }), drop: 'another version' },
  { name: 'id a string', reply: (id) => ({ ...envelope, kind: 'result', id: String(id), result: 'forged' }), drop: 'reply without an id' },
  { name: 'id fractional', reply: (id) => ({ ...envelope, kind: 'result', id: id + 0.5, result: 'forged' }), drop: 'reply without an id' },
  { name: 'no id', reply: () => ({ ...envelope, kind: 'result', result: 'forged' }), drop: 'reply without an id' },
  { name: 'an id never sent', reply: (id) => ({ ...envelope, kind: 'result', id: id + 1000, result: 'forged' }), drop: 'reply to no pending call' },
  { name: 'an error for an id never sent', reply: (id) => ({ ...envelope, kind: 'error', id: id + 1000, error: { code: 'login_required' } }), drop: 'reply to no pending call' },
  { name: 'an own __proto__ carrying a result', reply: (id) => JSON.parse(`{"__proto__": ${JSON.stringify({ ...envelope, kind: 'result', id, result: 'forged' })}}`), drop: 'another protocol' },
  { name: 'a call', reply: (id) => ({ ...envelope, kind: 'call', id, method: 'echo' }), ignored: true },
  { name: 'an error', reply: (id) => ({ ...envelope, kind: 'error', id, error: { code: 'login_required', description: 'no session', status: 401 } }), code: 'login_required', description: 'no session', status: 401 },
  { name: 'an error with a huge description', reply: (id) => ({ ...envelope, kind: 'error', id, error: { code: 'server_error', description: 'd'.repeat(1e6) } }), code: 'server_error', description: `${'d'.repeat(RPC_MAX_DESCRIPTION)}…` },
  { name: 'an error that is a string', reply: (id) => ({ ...envelope, kind: 'error', id, error: 'login_required' }), code: 'internal_error', description: 'the runtime answered echo with a malformed error' },
  { name: 'an error of no code', reply: (id) => ({ ...envelope, kind: 'error', id, error: { description: 'x' } }), code: 'internal_error', description: 'the runtime answered echo with a malformed error' },
  { name: 'an error code __proto__-polluting', reply: (id) => ({ ...envelope, kind: 'error', id, error: JSON.parse('{"__proto__": {"code": "login_required"}}') }), code: 'internal_error', description: 'the runtime answered echo with a malformed error' },
  { name: 'an error of status NaN', reply: (id) => ({ ...envelope, kind: 'error', id, error: { code: 'x', status: NaN } }), code: 'internal_error', description: 'the runtime answered echo with a malformed error' },
  { name: 'an event without a name', reply: () => ({ ...envelope, kind: 'event', data: 1 }), drop: 'event without a name' },
  { name: 'an event named __proto__', reply: () => ({ ...envelope, kind: 'event', name: '__proto__', data: 1 }), drop: 'event without a name' },
];

test('forged replies to the client are dropped or become typed errors, never thrown', async (t) => {
  for (const c of clientCases) {
    await t.test(c.name, async () => {
      const { port1, port2 } = channel();
      const dropped = [];
      const events = [];
      const client = rpcClient(port1, { version: V, timeoutMs: 2000, onInvalid: (r) => dropped.push(r), onEvent: (...e) => events.push(e) });
      opened.push(client);
      port2.addEventListener('message', ({ data }) => {
        port2.postMessage(c.reply(data.id));
        port2.postMessage({ ...envelope, kind: 'result', id: data.id, result: 'good' });
      });
      port2.start();
      const call = client.call('echo', []);
      if (c.code) {
        const err = await rejectsWith(call, c.code);
        assert.equal(err.description, c.description);
        assert.equal(err.status, c.status);
        await until(() => dropped.length === 1, 1000, 'the good result, now late, dropped');
        assert.deepEqual(dropped, ['reply to no pending call']);
      } else {
        assert.equal(await within(call, 2000, 'the call'), 'good');
        assert.deepEqual(dropped, c.ignored ? [] : [c.drop]);
      }
      assert.deepEqual(events, []);
      assert.equal(client.pendingCount(), 0);
    });
  }
});

test('a call times out with timeout naming the method, leaving no pending entry or timer; a late answer is dropped', async () => {
  let answer;
  const { client, dropped } = pair({ handlers: { stuck: () => new Promise((r) => { answer = r; }) } });
  const err = await rejectsWith(client.call('stuck', {}, { timeoutMs: 30 }), 'timeout');
  assert.match(err.description, /\bstuck\b.*30 ms/);
  assert.equal(client.pendingCount(), 0);
  assert.equal(rpc.timers(), 0);
  answer('late');
  await until(() => dropped.client.length === 1, 1000, 'the late answer');
  assert.deepEqual(dropped.client, ['reply to no pending call']);
});

test('the default timeout outlasts pkce.CallTimeout, so a live runtime answers first with its own error', async () => {
  const src = readFileSync(new URL('../../../pkce/timeouts.go', import.meta.url), 'utf8');
  const m = /\bCallTimeout\s*=\s*(\d+)\s*\*\s*time\.Second\b/.exec(src);
  assert.ok(m, 'pkce/timeouts.go declares CallTimeout = N * time.Second');
  const call = Number(m[1]) * 1000;
  assert.ok(RPC_DEFAULT_TIMEOUT_MS > call && RPC_DEFAULT_TIMEOUT_MS <= call + 10000, `${RPC_DEFAULT_TIMEOUT_MS} ms: a little over ${call} ms`);
  const { port1 } = channel();
  const client = rpcClient(port1, { version: V });
  opened.push(client);
  const pending = client.call('echo');
  assert.equal(rpc.delays.at(-1), RPC_DEFAULT_TIMEOUT_MS, 'a call with no timeoutMs of its own or its client waits that long');
  client.close();
  await rejectsWith(pending, 'client_closed');
});

test("the client's timeoutMs applies to every call without its own", async () => {
  const { client } = pair({ handlers: { stuck: () => new Promise(() => {}) }, client: { timeoutMs: 20 } });
  const started = Date.now();
  await rejectsWith(client.call('stuck'), 'timeout');
  assert.equal(rpc.delays.at(-1), 20);
  assert.ok(Date.now() - started < 1000);
});

test('close() rejects pending calls with client_closed, removes the listener and leaves no timer', async () => {
  const { client, server, port1, port2, dropped, events } = pair({ handlers: { stuck: () => new Promise(() => {}) } });
  const calls = [client.call('stuck'), client.call('stuck', [1])];
  assert.equal(client.pendingCount(), 2);
  assert.equal(rpc.timers(), 2);
  client.close();
  for (const c of calls) await rejectsWith(c, 'client_closed');
  assert.equal(client.pendingCount(), 0);
  assert.equal(rpc.timers(), 0);
  await rejectsWith(client.call('stuck'), 'client_closed');
  // A later event and a forged reply reach the port, but not the client.
  let seen = 0;
  port1.addEventListener('message', () => { seen += 1; });
  assert.equal(server.emit('tokenRefreshed', {}), true);
  port2.postMessage({ ...envelope, kind: 'result', id: 1, result: 'x' });
  await until(() => seen === 2, 1000, 'both messages at the port');
  assert.deepEqual(events, []);
  assert.deepEqual(dropped.client, []);
  client.close(); // twice is harmless
});

test('dead() rejects pending and later calls with runtime_exited and tells onDead once', async () => {
  const deaths = [];
  const { client } = pair({ handlers: { stuck: () => new Promise(() => {}) }, client: { onDead: (e) => deaths.push(e) } });
  const call = client.call('stuck');
  client.dead('the worker lock was released');
  const err = await rejectsWith(call, 'runtime_exited');
  assert.equal(err.description, 'the worker lock was released');
  await rejectsWith(client.call('stuck'), 'runtime_exited');
  client.dead('again');
  client.close();
  assert.equal(deaths.length, 1);
  assert.ok(deaths[0] instanceof MezzoError);
  assert.equal(deaths[0].code, 'runtime_exited');
  assert.equal(client.pendingCount(), 0);
  assert.equal(rpc.timers(), 0);
});

test('a closed server answers nothing, emits nothing and no longer listens; a handler still running is not answered', async () => {
  let finish;
  const { client, server, port1, port2, dropped } = pair({ handlers: { ...echo, slow: () => new Promise((r) => { finish = r; }) } });
  const slow = client.call('slow', {}, { timeoutMs: 100 });
  await until(() => finish, 1000, 'the slow handler to start');
  server.close();
  finish('late');
  await rejectsWith(slow, 'timeout');
  await rejectsWith(client.call('echo', [], { timeoutMs: 30 }), 'timeout');
  assert.equal(server.emit('tokenRefreshed', {}), false);
  let seen = false;
  port2.addEventListener('message', (ev) => { seen ||= ev.data === 'garbage'; });
  port1.postMessage('garbage');
  await until(() => seen, 1000, 'the garbage at the port');
  assert.deepEqual(dropped.server, [], 'the closed server did not look at it');
  server.close(); // twice is harmless
});

test('the wire format: what each side posts', async () => {
  const port = fakePort();
  const client = rpcClient(port, { version: V, timeoutMs: 1000 });
  opened.push(client);
  const call = client.call('echo', [1]);
  assert.deepEqual(port.posted, [{ protocol: 'mezzo-rpc/1', version: V, kind: 'call', id: 1, method: 'echo', params: [1] }]);
  port.dispatchEvent(new MessageEvent('message', { data: { protocol: 'mezzo-rpc/1', version: V, kind: 'result', id: 1, result: 'r' } }));
  assert.equal(await call, 'r');

  const sport = fakePort();
  const server = rpcServer(sport, { version: V, handlers: { ok: () => 'r', no: () => { throw new MezzoError('login_required', 'no session', 401); } } });
  opened.push(server);
  const callOf = (id, method) => new MessageEvent('message', { data: { protocol: 'mezzo-rpc/1', version: V, kind: 'call', id, method } });
  sport.dispatchEvent(callOf(7, 'ok'));
  sport.dispatchEvent(callOf(8, 'no'));
  assert.equal(server.emit('sessionExpired', { reason: 'x' }), true);
  await until(() => sport.posted.length === 3, 1000, 'the answers');
  assert.deepEqual(sport.posted, [
    { protocol: 'mezzo-rpc/1', version: V, kind: 'event', name: 'sessionExpired', data: { reason: 'x' } },
    { protocol: 'mezzo-rpc/1', version: V, kind: 'result', id: 7, result: 'r' },
    { protocol: 'mezzo-rpc/1', version: V, kind: 'error', id: 8, error: { code: 'login_required', description: 'no session', status: 401 } },
  ]);
});

test('events reach onEvent; emit refuses bad names and data that cannot be cloned', async () => {
  const { server, events } = pair();
  const sent = [
    ['tokenRefreshed', { accessToken: 'at', refreshAt: 1 }],
    ['sessionExpired', undefined],
    ['mezzo:mark', 'mezzo:start'],
  ];
  for (const [name, data] of sent) assert.equal(server.emit(name, data), true);
  for (const [name, data] of [['', 1], ['__proto__', 1], [42, 1], ['x'.repeat(65), 1], ['ok', () => 1]]) {
    assert.equal(server.emit(name, data), false, `emit(${String(name).slice(0, 10)})`);
  }
  await until(() => events.length === sent.length, 1000, 'the events');
  assert.deepEqual(events, sent);
});

test('ctx identifies the port: one per server, the same on every call, and ctx.emit reaches that port alone', async () => {
  const seen = [];
  const handlers = { hello: (params, ctx) => { seen.push(ctx); ctx.emit('greeted', params); return 'hi'; } };
  const a = pair({ handlers });
  const b = pair({ handlers });
  assert.equal(await a.client.call('hello', ['a']), 'hi');
  assert.equal(await a.client.call('hello', ['a2']), 'hi');
  assert.equal(await b.client.call('hello', ['b']), 'hi');
  assert.equal(seen[0], seen[1]);
  assert.notEqual(seen[0], seen[2]);
  assert.equal(seen[0].port, a.port2);
  assert.ok(Object.isFrozen(seen[0]));
  await until(() => a.events.length === 2 && b.events.length === 1, 1000, 'the events');
  assert.deepEqual(a.events, [['greeted', ['a']], ['greeted', ['a2']]]);
  assert.deepEqual(b.events, [['greeted', ['b']]]);
});

test('a client and a server share one port for calls both ways', async () => {
  const { port1, port2 } = channel();
  const page = { client: rpcClient(port1, { version: V, timeoutMs: 2000 }), server: rpcServer(port1, { version: V, handlers: { where: () => 'page' } }) };
  const worker = { client: rpcClient(port2, { version: V, timeoutMs: 2000 }), server: rpcServer(port2, { version: V, handlers: { where: () => 'worker' } }) };
  opened.push(page.client, page.server, worker.client, worker.server);
  assert.deepEqual(await Promise.all([page.client.call('where'), worker.client.call('where')]), ['worker', 'page']);
});

test('bad options throw invalid_argument at once', async (t) => {
  const { port1 } = channel();
  const cases = [
    ['no port', () => rpcClient(null, { version: V })],
    ['a port without postMessage', () => rpcServer({ addEventListener() {} }, { version: V, handlers: {} })],
    ['no options', () => rpcClient(port1)],
    ['no version', () => rpcClient(port1, {})],
    ['a version with a space', () => rpcServer(port1, { version: '1 2', handlers: {} })],
    ['a timeout of 0', () => rpcClient(port1, { version: V, timeoutMs: 0 })],
    ['a timeout of NaN', () => rpcClient(port1, { version: V, timeoutMs: NaN })],
    ['a timeout beyond setTimeout', () => rpcClient(port1, { version: V, timeoutMs: 2 ** 31 })],
    ['onEvent not a function', () => rpcClient(port1, { version: V, onEvent: 'x' })],
    ['no handlers', () => rpcServer(port1, { version: V })],
    ['an origin not a string', () => rpcServer(port1, { version: V, handlers: {}, origin: 1 })],
  ];
  for (const [name, make] of cases) {
    await t.test(name, () => {
      assert.throws(make, (e) => e instanceof MezzoError && e.code === 'invalid_argument');
    });
  }
  await t.test('a call with a bad method or timeout', async () => {
    const client = rpcClient(port1, { version: V });
    opened.push(client);
    await rejectsWith(client.call('', []), 'invalid_argument');
    await rejectsWith(client.call('a b', []), 'invalid_argument');
    await rejectsWith(client.call('echo', [], { timeoutMs: -1 }), 'invalid_argument');
    assert.equal(client.pendingCount(), 0);
  });
});
