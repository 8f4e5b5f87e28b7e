// Soak: the JS API against the real dev provider (oidc-provider) with
// 1-second access tokens, so mezzo renews every ~0.5 s (expiry minus half
// the lifetime) while 8 callers hammer getToken(). Over 300 rotations and
// well over 10 000 calls: no call fails or gets an expired or stale token,
// every rotation is exactly one token request, each refresh token is sent
// once and replaced every time, and wasm memory stays flat after warm-up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { APP, traffic, loadMezzo } from '../lib/browser-env.mjs';
import { clientEnv, sleep, until, within } from '../lib/common.mjs';
import { startIdp } from '../../dev/idp/harness.mjs';

const REDIRECT = `${APP}/callback`;
const TTL = 1; // seconds: renewal every ~0.5 s
const ROTATIONS = 300;
const MIN_CALLS = 10_000;
const CALLERS = 8;
// Warm-up for the memory check. Each rotation leaves ~35 KB of garbage in
// the Go heap (live heap ~0.3 MB); linear memory grows in steps until the
// heap has been through a few collections and then stays put. With
// GOGC=100 the first collection came only at ~110 rotations (4 MiB minimum
// target) and memory settled by ~200; with the module's GOGC=25 (1 MiB) it
// settles much earlier (measured: 7 340 032 bytes from rotation 150 to 300).
// The first sample is taken at 150, well past that.
const WARM_UP = 150;
const DEADLINE_MS = 170_000; // 300 rotations take ~155 s; fail rather than hang
let idp; let mezzo; let discovery; let env;

before(async () => {
  mezzo = loadMezzo();
  idp = await startIdp({ accessTokenTtl: TTL, redirectUris: [REDIRECT] });
  discovery = await idp.discovery();
  env = clientEnv(mezzo, idp, { redirectUri: REDIRECT });
});
after(() => idp?.stop());

test('soak: 10 000+ getToken calls from 8 callers over 300 refresh rotations', { timeout: DEADLINE_MS + 10_000 }, async (t) => {
  const client = await env.newClient();
  try {
    const events = []; // every tokenRefreshed detail, the sign-in's first
    const mem = []; // wasm linear memory in bytes when each event arrived
    const heap = []; // Go heap in use (garbage included) when each event arrived
    client.on('tokenRefreshed', (d) => {
      events.push(d);
      const st = mezzo.runtimeStats();
      mem.push(st.wasmMemoryBytes);
      heap.push(st.goHeapBytes);
    });
    const errors = [];
    client.on('error', (d) => errors.push(d));
    client.on('sessionExpired', (d) => errors.push(d));

    await env.signIn(client);
    assert.equal(events.length, 1, 'tokenRefreshed at sign-in');
    const start = traffic.length; // the code exchange is before this
    await idp.resetStats();

    const rotations = () => events.length - 1;
    const served = []; // [token, Date.now() when the call resolved, caller], per call
    const failures = [];
    let calls = 0;
    const started = Date.now();
    const deadline = started + DEADLINE_MS;

    // Each caller awaits getToken, then sleeps 1-4 ms, until both targets
    // are met; the jitter spreads the callers over the renewal instants, so
    // some of them always land on a refresh in flight.
    const caller = async (i) => {
      for (let n = 0; (rotations() < ROTATIONS || calls < MIN_CALLS) && Date.now() < deadline; n++) {
        calls++;
        try {
          served.push([await within(client.getToken(), 5000, 'getToken'), Date.now(), i]);
        } catch (e) {
          failures.push(e);
        }
        await sleep(1 + ((i + n) % 4));
      }
    };
    await Promise.all(Array.from({ length: CALLERS }, (_, i) => caller(i)));
    const duration = Date.now() - started;
    const memEnd = mezzo.runtimeStats().wasmMemoryBytes;
    const memWarm = mem[WARM_UP];
    // The Go heap's floor (its lowest sample, just after a collection)
    // early and late after warm-up: a leak lifts it.
    const floor = (from, to) => Math.min(...heap.slice(from, to));
    const heapEarly = floor(WARM_UP, WARM_UP + 75);
    const heapLate = floor(heap.length - 75, heap.length);
    // Every growth of linear memory after warm-up, as [rotation, bytes].
    const growth = [...mem, memEnd].map((b, i, a) => [i, b - a[i - 1]]).filter(([i, d]) => i > WARM_UP && d > 0);
    // Stop renewal here, ≤ a few ms after the last rotation and long before
    // the next (~0.5 s later), so the counts below are final.
    const rotationsDone = rotations();
    client.close();
    assert.ok(Date.now() < deadline, `${rotationsDone} rotations and ${calls} calls in ${duration} ms: too slow`);

    const refreshes = traffic.slice(start).filter((e) => e.url === discovery.token_endpoint);
    // The reply body is read into traffic asynchronously: wait for it.
    await until(() => refreshes.every((e) => e.reply), 5000, 'the refresh replies');
    const stats = await idp.stats();
    const loginReply = traffic.slice(0, start).filter((e) => e.url === discovery.token_endpoint).at(-1).reply;

    t.diagnostic(`soak: calls=${calls} rotations=${rotationsDone} refreshRequests=${refreshes.length} providerRefreshes=${stats.refreshRequests} failures=${failures.length} `
      + `wasmMemory signIn=${mem[0]} warm(rotation ${WARM_UP})=${memWarm} end=${memEnd} growthAfterWarmUp=${JSON.stringify(growth)} goHeapFloor early=${heapEarly} late=${heapLate} gcCycles=${mezzo.runtimeStats()?.goGCCycles} durationMs=${duration}`);

    assert.deepEqual(failures, [], 'no getToken call failed');
    assert.deepEqual(errors, [], 'no error or sessionExpired event');
    assert.ok(calls >= MIN_CALLS, `${calls} calls`);
    assert.ok(rotationsDone >= ROTATIONS, `${rotationsDone} rotations`);

    // One token request per rotation, seen alike by the client's fetch, the
    // provider and the events; all of them refresh-token grants that worked.
    assert.equal(refreshes.length, rotationsDone, 'exactly one token request per rotation');
    assert.equal(stats.refreshRequests, rotationsDone, 'the provider counted as many refreshes');
    assert.equal(stats.tokenRequests, rotationsDone, 'and no other token request');
    for (const r of refreshes) {
      assert.equal(r.status, 200);
      assert.equal(r.form.get('grant_type'), 'refresh_token');
    }

    // The refresh token rotates every time: each request sends the one the
    // previous reply brought, never one sent before.
    const sent = refreshes.map((r) => r.form.get('refresh_token'));
    assert.equal(new Set(sent).size, sent.length, 'no refresh token sent twice');
    let expected = loginReply.refresh_token;
    for (const [i, r] of refreshes.entries()) {
      assert.equal(sent[i], expected, `refresh ${i} sends the latest refresh token`);
      assert.ok(r.reply.refresh_token && r.reply.refresh_token !== sent[i], `refresh ${i} rotated the refresh token`);
      expected = r.reply.refresh_token;
    }

    // Each refresh produced exactly one new access token, and the callers
    // were only ever served those, in order, and never past their expiry.
    const issued = [loginReply.access_token, ...refreshes.map((r) => r.reply.access_token)];
    assert.equal(new Set(issued).size, issued.length, 'every rotation brought a new access token');
    assert.equal(events.length, issued.length);
    for (const d of events) assert.deepEqual(Object.keys(d).sort(), ['expiresAt', 'scope']);
    const index = new Map(issued.map((tok, i) => [tok, i]));
    const latestBy = new Array(CALLERS).fill(0);
    for (const [tok, at, caller] of served) {
      const i = index.get(tok);
      assert.ok(i !== undefined, 'a served token is one the provider issued');
      assert.ok(at < events[i].expiresAt, `token ${i} served ${at - events[i].expiresAt} ms past its expiry`);
      assert.ok(i >= latestBy[caller], `caller ${caller} got token ${i} after token ${latestBy[caller]}`);
      latestBy[caller] = i;
    }
    const latest = Math.max(...latestBy);
    // Callers saw every token but possibly the last (they stop right after it arrives).
    const distinct = new Set(served.map(([tok]) => tok)).size;
    assert.ok(distinct >= issued.length - 1, `callers saw ${distinct} of ${issued.length} tokens`);
    assert.ok(latest >= issued.length - 2);

    // Linear memory only grows, so flat means no growth, with one allowance
    // of one step (256 KiB-1 MiB) for a late collection peak. It catches
    // only large leaks; the heap floor below catches small ones.
    assert.ok(memWarm > 0);
    assert.ok(growth.length <= 1 && memEnd - memWarm <= 1 << 20,
      `wasm memory grew from ${memWarm} to ${memEnd} bytes after warm-up, in steps [rotation, bytes]: ${JSON.stringify(growth)}`);
    // Finer: the Go heap's floor. Each 75-rotation window holds several
    // collections (GOGC=25: one per ~1 MiB of garbage, ~35 KB a rotation),
    // so its lowest sample is the live heap plus at most one rotation's
    // allocations. A leak of more than ~1.7 KB per rotation lifts the late
    // floor by more than 128 KiB over the 150 rotations between the windows.
    assert.ok(heapEarly > 0 && heapLate - heapEarly <= 128 << 10,
      `Go heap floor rose from ${heapEarly} to ${heapLate} bytes after warm-up`);
  } finally {
    client.close();
  }
});
