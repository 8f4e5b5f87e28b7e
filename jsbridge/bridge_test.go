//go:build js && wasm

package jsbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mezzo-auth/mezzo/pkce"
)

// testServer returns the base URL of the loopback server that
// scripts/test/wasm/wasm-test-env.cjs starts.
func testServer(t *testing.T) string {
	t.Helper()
	p, err := safejs.Global().Get("__testServer")
	require.NoError(t, err)
	v, err := Await(context.Background(), p)
	require.NoError(t, err)
	s, err := v.String()
	require.NoError(t, err)
	return s
}

func jsEval(t *testing.T, method string, args ...any) safejs.Value {
	t.Helper()
	p, err := safejs.Global().Get("Promise")
	require.NoError(t, err)
	v, err := p.Call(method, args...)
	require.NoError(t, err)
	return v
}

func TestAwait(t *testing.T) {
	t.Run("resolved", func(t *testing.T) {
		v, err := Await(context.Background(), jsEval(t, "resolve", "ok"))
		require.NoError(t, err)
		s, _ := v.String()
		assert.Equal(t, "ok", s)
	})
	t.Run("rejected with an Error", func(t *testing.T) {
		errCtor, _ := safejs.Global().Get("TypeError")
		e, _ := errCtor.New("boom")
		_, err := Await(context.Background(), jsEval(t, "reject", e))
		var je *JSError
		require.ErrorAs(t, err, &je)
		assert.Equal(t, "TypeError", je.Name)
		assert.Equal(t, "boom", je.Message)
	})
	t.Run("context ends first", func(t *testing.T) {
		never, _ := safejs.Global().Get("Promise")
		exec, _ := safejs.FuncOf(func(safejs.Value, []safejs.Value) any { return nil })
		defer exec.Release()
		p, _ := never.New(exec)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := Await(ctx, p)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestNewPromise(t *testing.T) {
	tests := []struct {
		name     string
		fn       func() (any, error)
		wantCode string
		want     string
	}{
		{"resolves with the value", func() (any, error) { return "v", nil }, "", "v"},
		{"rejects with the pkce code", func() (any, error) {
			return nil, &pkce.Error{Code: pkce.CodeStateMismatch, Description: "d", Status: 400}
		}, pkce.CodeStateMismatch, ""},
		{"rejects other errors as internal_error", func() (any, error) { return nil, errors.New("x") }, CodeInternalError, ""},
		{"a panic rejects instead of crashing", func() (any, error) { panic("bad") }, CodeInternalError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPromise(tt.fn)
			require.NoError(t, err)
			// Observe the rejection value itself through .catch.
			caught, _ := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any { return args[0] })
			defer caught.Release()
			settled, err := p.Call("catch", caught)
			require.NoError(t, err)
			v, err := Await(context.Background(), settled)
			require.NoError(t, err)
			if tt.wantCode == "" {
				s, _ := v.String()
				assert.Equal(t, tt.want, s)
				return
			}
			code, _ := v.Get("code")
			s, _ := code.String()
			assert.Equal(t, tt.wantCode, s)
			if tt.wantCode == pkce.CodeStateMismatch {
				st, _ := v.Get("status")
				n, _ := st.Int()
				assert.Equal(t, 400, n)
			}
		})
	}
}

func TestFetch(t *testing.T) {
	base := testServer(t)
	f := Fetch{Timeout: 2 * time.Second}
	ctx := context.Background()

	t.Run("sends method, headers and body", func(t *testing.T) {
		resp, err := f.Do(ctx, &pkce.Request{Method: "POST", URL: base + "/echo",
			Header: map[string]string{"content-type": "application/x-www-form-urlencoded"},
			Body:   []byte("a=1&b=2")}, pkce.MaxResponseBytes)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.Status)
		assert.Equal(t, "application/json", resp.Header["content-type"])
		var echo struct {
			Method  string            `json:"method"`
			Headers map[string]string `json:"headers"`
			Body    string            `json:"body"`
		}
		require.NoError(t, json.Unmarshal(resp.Body, &echo))
		assert.Equal(t, "POST", echo.Method)
		assert.Equal(t, "a=1&b=2", echo.Body)
		assert.Equal(t, "application/x-www-form-urlencoded", echo.Headers["content-type"])
		assert.Empty(t, echo.Headers["authorization"])
		assert.Empty(t, echo.Headers["cookie"])
	})
	t.Run("reports the status and readable headers", func(t *testing.T) {
		resp, err := f.Do(ctx, &pkce.Request{Method: "GET", URL: base + "/retry-after"}, pkce.MaxResponseBytes)
		require.NoError(t, err)
		assert.Equal(t, 503, resp.Status)
		assert.Equal(t, "1", resp.Header["retry-after"])
	})
	t.Run("reads the DPoP headers, and only the headers the client reads", func(t *testing.T) {
		resp, err := f.Do(ctx, &pkce.Request{Method: "GET", URL: base + "/dpop-challenge"}, pkce.MaxResponseBytes)
		require.NoError(t, err)
		assert.Equal(t, 401, resp.Status)
		assert.Equal(t, "n-1", resp.Header["dpop-nonce"])
		assert.Equal(t, `DPoP error="use_dpop_nonce"`, resp.Header["www-authenticate"])
		assert.NotContains(t, resp.Header, "x-other")
	})
	t.Run("GET bypasses the HTTP cache; POST keeps the default mode (and the CORS preflight cache)", func(t *testing.T) {
		global := safejs.Global()
		orig, err := global.Get("fetch")
		require.NoError(t, err)
		fn, err := global.Get("Function")
		require.NoError(t, err)
		spy, err := fn.New("orig", "return (url, init) => { globalThis.__fetchCache = String(init.cache); return orig(url, init); }")
		require.NoError(t, err)
		wrapped, err := spy.Invoke(orig)
		require.NoError(t, err)
		require.NoError(t, global.Set("fetch", wrapped))
		t.Cleanup(func() { _ = global.Set("fetch", orig) })
		for method, want := range map[string]string{"GET": "no-store", "POST": "undefined"} {
			_, err := f.Do(ctx, &pkce.Request{Method: method, URL: base + "/echo"}, pkce.MaxResponseBytes)
			require.NoError(t, err)
			got, err := global.Get("__fetchCache")
			require.NoError(t, err)
			s, _ := got.String()
			assert.Equal(t, want, s, method)
		}
	})
	t.Run("reads at most maxBody+1 bytes", func(t *testing.T) {
		resp, err := f.Do(ctx, &pkce.Request{Method: "GET", URL: base + "/bytes/5000000"}, 1000)
		require.NoError(t, err)
		assert.Len(t, resp.Body, 1001)
	})
	t.Run("reads a body of exactly maxBody", func(t *testing.T) {
		resp, err := f.Do(ctx, &pkce.Request{Method: "GET", URL: base + "/bytes/1000"}, 1000)
		require.NoError(t, err)
		assert.Len(t, resp.Body, 1000)
	})
	t.Run("aborts when the timeout passes", func(t *testing.T) {
		start := time.Now()
		_, err := Fetch{Timeout: 100 * time.Millisecond}.Do(ctx, &pkce.Request{Method: "GET", URL: base + "/hang"}, 10)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("aborts when the caller cancels", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := f.Do(cctx, &pkce.Request{Method: "GET", URL: base + "/hang"}, 10)
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("network failure is an error", func(t *testing.T) {
		_, err := f.Do(ctx, &pkce.Request{Method: "GET", URL: "http://127.0.0.1:1/"}, 10)
		require.Error(t, err)
		assert.NotErrorIs(t, err, context.DeadlineExceeded)
	})
}

// TestTransactionPerCall: the handle keeps no transaction between calls;
// each call works with the one the page hands it, and consumes it.
func TestTransactionPerCall(t *testing.T) {
	th := newTestHandle(t)
	login := func() (string, string) {
		r := th.call(t, "login", nil)
		var tx pkce.Transaction
		require.NoError(t, json.Unmarshal([]byte(str(t, r, "transaction")), &tx))
		return str(t, r, "transaction"), tx.State
	}
	txA, stateA := login()
	txB, stateB := login()
	require.NotEqual(t, txA, txB)
	// A denied login: it passes the state check and makes no token request.
	denied := func(state string) string {
		return testRedirect + "?error=access_denied&state=" + url.QueryEscape(state)
	}
	code := func(r safejs.Value) string {
		e, err := r.Get("error")
		require.NoError(t, err)
		return str(t, e, "code")
	}
	t.Run("nothing is kept between calls", func(t *testing.T) {
		r := th.call(t, "handleRedirectCallback", denied(stateA), nil)
		assert.Equal(t, pkce.CodeMissingTransaction, code(r))
	})
	t.Run("each call has its own transaction", func(t *testing.T) {
		r := th.call(t, "handleRedirectCallback", denied(stateA), txA)
		assert.Equal(t, "access_denied", code(r), "A's transaction matched A's callback")
		r = th.call(t, "handleRedirectCallback", denied(stateB), txB)
		assert.Equal(t, "access_denied", code(r), "another call's transaction is untouched")
	})
	t.Run("taken once only", func(t *testing.T) {
		r := th.call(t, "handleRedirectCallback", denied(stateA), nil)
		assert.Equal(t, pkce.CodeInvalidCallback, code(r), "a replay")
	})
}

// testHandle is a handle for a provider with explicit endpoints (nothing is
// fetched), as the loader sees it: a JS object of methods; events are
// recorded in order.
type testHandle struct {
	v      safejs.Value
	events []string
}

const (
	testRedirect = "http://127.0.0.1:8080/app/"
	testIdP      = "http://127.0.0.1:9/"
)

func newTestHandle(t *testing.T) *testHandle {
	t.Helper()
	return newTestHandleWith(t, nil)
}

// newTestHandleWith is newTestHandle with more client options.
func newTestHandleWith(t *testing.T, extra map[string]any) *testHandle {
	t.Helper()
	th := &testHandle{}
	emit, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		s, _ := arg(args, 0).String()
		th.events = append(th.events, s)
		return nil
	})
	require.NoError(t, err)
	t.Cleanup(emit.Release)
	o := map[string]any{
		"clientId": "spa", "redirectUri": testRedirect, "issuer": "https://idp.example",
		"authorizationEndpoint": testIdP + "authorize", "tokenEndpoint": testIdP + "token",
		"endSessionEndpoint": testIdP + "logout", "idTokenSignature": "tls",
	}
	for k, v := range extra {
		o[k] = v
	}
	opts, err := safejs.ValueOf(o)
	require.NoError(t, err)
	key := safejs.Undefined()
	if extra["dpop"] == true {
		key = newTestDPoPKey(t)
	}
	h, err := newHandle(opts, emit.Value(), key)
	require.NoError(t, err)
	th.v, err = Await(context.Background(), jsEval(t, "resolve", h)) // converted as the loader receives it
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = th.v.Call("close") })
	return th
}

// call invokes method and awaits its Promise; a rejection comes back as
// the rejection value, err nil.
func (th *testHandle) call(t *testing.T, method string, args ...any) safejs.Value {
	t.Helper()
	p, err := th.v.Call(method, args...)
	require.NoError(t, err)
	caught, _ := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any { return args[0] })
	defer caught.Release()
	settled, err := p.Call("catch", caught)
	require.NoError(t, err)
	v, err := Await(context.Background(), settled)
	require.NoError(t, err)
	return v
}

func str(t *testing.T, v safejs.Value, key string) string {
	t.Helper()
	f, err := v.Get(key)
	require.NoError(t, err)
	if f.IsNull() || f.IsUndefined() {
		return ""
	}
	s, err := f.String()
	require.NoError(t, err)
	return s
}

// TestHandleTouchesNoPage: the handle returns what the page must do (the
// URL to navigate to, the transaction to keep) and uses no page global, so
// it runs in a worker as well.
func TestHandleTouchesNoPage(t *testing.T) {
	global := safejs.Global()
	loc, _ := global.Get("location")
	assigned, _ := loc.Get("assigned")
	hist, _ := global.Get("history")
	replaced, _ := hist.Get("replaced")
	store, _ := global.Get("sessionStorage")
	untouched := func(t *testing.T) {
		t.Helper()
		for name, v := range map[string]safejs.Value{"location.assign": assigned, "history.replaceState": replaced, "sessionStorage": store} {
			n, err := v.Get("length")
			require.NoError(t, err)
			count, _ := n.Int()
			assert.Zero(t, count, "%s was used", name)
		}
	}
	th := newTestHandle(t)

	login := th.call(t, "login", map[string]any{"returnTo": "/after"})
	u := str(t, login, "url")
	assert.True(t, strings.HasPrefix(u, testIdP+"authorize?"), u)
	var tx pkce.Transaction
	require.NoError(t, json.Unmarshal([]byte(str(t, login, "transaction")), &tx))
	assert.Contains(t, u, "state="+tx.State, "the transaction is this login's")
	assert.Equal(t, "/after", tx.ReturnTo)

	t.Run("a callback with another state fails, typed", func(t *testing.T) {
		r := th.call(t, "handleRedirectCallback", testRedirect+"?keep=1&code=c&state=other", str(t, login, "transaction"))
		e, _ := r.Get("error")
		assert.Equal(t, pkce.CodeStateMismatch, str(t, e, "code"))
		assert.Empty(t, str(t, r, "returnTo"))
	})
	t.Run("no transaction handed over is missing_transaction", func(t *testing.T) {
		r := th.call(t, "handleRedirectCallback", testRedirect+"?code=c&state="+tx.State, nil)
		e, _ := r.Get("error")
		assert.Equal(t, pkce.CodeInvalidCallback, str(t, e, "code"), "the state was consumed: a replay")
	})
	t.Run("bad arguments are typed", func(t *testing.T) {
		for _, args := range [][]any{{}, {5}, {testRedirect, 5}, {testRedirect, nil, 5}, {testRedirect, nil, "iframe"}} {
			r := th.call(t, "handleRedirectCallback", args...)
			assert.Equal(t, CodeInvalidArgument, str(t, r, "code"), "%v", args)
		}
	})
	t.Run("state is signed out", func(t *testing.T) {
		s, err := th.v.Call("state")
		require.NoError(t, err)
		a, _ := s.Get("authenticated")
		b, _ := a.Bool()
		assert.False(t, b)
		tok, _ := s.Get("token")
		assert.True(t, tok.IsNull())
	})
	t.Run("logout returns the end-session URL", func(t *testing.T) {
		r := th.call(t, "logout", map[string]any{"revoke": false})
		assert.True(t, strings.HasPrefix(str(t, r, "url"), testIdP+"logout?"), str(t, r, "url"))
	})
	untouched(t)
	assert.Empty(t, th.events, "no session, no event")
}

// TestLoginModes: a silent or popup sign-in has its own transaction, which
// the handle keeps (the reply carries none: the page never holds its
// verifier), returns to silentRedirectUri, and the silent one sends
// prompt=none; a redirect's transaction is in the reply, for the page to
// keep; nothing of a page is touched, so a pending redirect login's
// transaction in sessionStorage is left alone.
func TestLoginModes(t *testing.T) {
	const silentRedirect = "http://127.0.0.1:8080/silent.html"
	th := newTestHandleWith(t, map[string]any{"silentRedirectUri": silentRedirect, "silentTimeoutSeconds": 3, "popupTimeoutSeconds": 60, "silentRestore": true})
	store, _ := safejs.Global().Get("sessionStorage")
	before, _ := store.Get("length")
	states := map[string]bool{}
	for _, tt := range []struct {
		mode, prompt       string
		wantPrompt, wantRU string
	}{
		{"silent", "", "none", silentRedirect},
		{"silent", "none", "none", silentRedirect},
		{"popup", "", "", silentRedirect},
		{"popup", "login", "login", silentRedirect},
		{"redirect", "", "", testRedirect},
	} {
		t.Run(tt.mode+" "+tt.prompt, func(t *testing.T) {
			opts := map[string]any{}
			if tt.prompt != "" {
				opts["prompt"] = tt.prompt
			}
			r := th.call(t, "login", opts, tt.mode)
			u, err := url.Parse(str(t, r, "url"))
			require.NoError(t, err)
			q := u.Query()
			assert.Equal(t, tt.wantPrompt, q.Get("prompt"))
			assert.Equal(t, tt.wantRU, q.Get("redirect_uri"))
			state := q.Get("state")
			assert.False(t, states[state], "a fresh state per attempt")
			states[state] = true
			reply, err := r.Get("transaction")
			require.NoError(t, err)
			if tt.mode == "redirect" {
				var tx pkce.Transaction
				require.NoError(t, json.Unmarshal([]byte(str(t, r, "transaction")), &tx))
				assert.Equal(t, state, tx.State)
				assert.Equal(t, tt.wantRU, tx.RedirectURI)
				return
			}
			assert.True(t, reply.IsNull(), "an embedded sign-in's transaction stays in the runtime")
			// Its callback finds it: a denied response passes the state
			// check against the kept transaction, once.
			denied := silentRedirect + "?error=access_denied&state=" + url.QueryEscape(state)
			cb := th.call(t, "handleRedirectCallback", denied, nil, tt.mode)
			e, err := cb.Get("error")
			require.NoError(t, err)
			assert.Equal(t, "access_denied", str(t, e, "code"), "the kept transaction matched")
			cb = th.call(t, "handleRedirectCallback", denied, nil, tt.mode)
			e, err = cb.Get("error")
			require.NoError(t, err)
			assert.Equal(t, pkce.CodeInvalidCallback, str(t, e, "code"), "taken once: a replay")
		})
	}
	for _, args := range [][]any{{nil, "iframe"}, {nil, 5}, {map[string]any{"prompt": "login"}, "silent"}, {map[string]any{"prompt": "consent"}, "silent"}} {
		r := th.call(t, "login", args...)
		assert.Equal(t, CodeInvalidArgument, str(t, r, "code"), "%v", args)
	}
	// An embedded callback takes no transaction from the page, and names a
	// known mode.
	for _, args := range [][]any{
		{silentRedirect + "?state=x", "{}", "silent"},
		{silentRedirect + "?state=x", "{}", "popup"},
		{silentRedirect + "?state=x", nil, "iframe"},
	} {
		r := th.call(t, "handleRedirectCallback", args...)
		assert.Equal(t, CodeInvalidArgument, str(t, r, "code"), "%v", args)
	}
	after, _ := store.Get("length")
	n0, _ := before.Int()
	n1, _ := after.Int()
	assert.Equal(t, n0, n1, "sessionStorage untouched")
}

func TestRuntimeStats(t *testing.T) {
	before := runtimeStats()
	garbage := make([][]byte, 0, 64)
	for range 64 {
		garbage = append(garbage, make([]byte, 64<<10))
	}
	runtime.KeepAlive(garbage)
	after := runtimeStats()
	assert.Greater(t, after["goHeapBytes"], before["goHeapBytes"], "the heap figure follows allocations")
	runtime.GC()
	collected := runtimeStats()
	assert.Greater(t, collected["goGCCycles"], after["goGCCycles"])
	assert.Less(t, collected["goHeapBytes"], after["goHeapBytes"], "and falls back after a collection")
	assert.GreaterOrEqual(t, collected["goGoroutines"], float64(1))
}

func TestParseClientOptions(t *testing.T) {
	obj := func(t *testing.T, js map[string]any) safejs.Value {
		v, err := safejs.ValueOf(js)
		require.NoError(t, err)
		return v
	}
	t.Run("maps every field", func(t *testing.T) {
		cfg, err := parseClientOptions(obj(t, map[string]any{
			"clientId": "c", "redirectUri": "https://app/cb", "issuer": "https://idp",
			"tokenEndpoint": "https://idp/token", "scope": "openid", "refreshLeewaySeconds": 30,
			"clockSkewSeconds": 0, "idTokenSignature": "tls", "insecureAllowHttp": true,
			"extraAuthParams": map[string]any{"ui_locales": "de"}, "requestTimeoutSeconds": 2.5,
		}))
		require.NoError(t, err)
		assert.Equal(t, "c", cfg.ClientID)
		assert.Equal(t, "https://idp/token", cfg.Endpoints.Token)
		assert.Equal(t, 30*time.Second, cfg.RefreshLeeway)
		assert.Equal(t, time.Nanosecond, cfg.ClockSkew, "explicit 0 is kept, not defaulted")
		assert.Equal(t, pkce.SignatureTLS, cfg.IDTokenSignature)
		assert.True(t, cfg.InsecureAllowHTTP)
		assert.Equal(t, map[string]string{"ui_locales": "de"}, cfg.ExtraAuthParams)
		assert.Equal(t, 2500*time.Millisecond, cfg.RequestTimeout)
	})
	for _, tt := range []struct {
		name string
		js   map[string]any
		want string
	}{
		{"unknown field", map[string]any{"clientID": "c"}, "unknown field"},
		{"wrong type", map[string]any{"clientId": 7}, "clientId must be a string"},
		{"negative number", map[string]any{"refreshLeewaySeconds": -1}, "non-negative"},
		{"non-string extra param", map[string]any{"extraAuthParams": map[string]any{"a": 1}}, "must be a string"},
		{"non-boolean flag", map[string]any{"insecureAllowHttp": "yes"}, "must be a boolean"},
		{"non-string silent redirect", map[string]any{"silentRedirectUri": 1}, "silentRedirectUri must be a string"},
		{"negative silent timeout", map[string]any{"silentTimeoutSeconds": -1}, "non-negative"},
		{"non-number popup timeout", map[string]any{"popupTimeoutSeconds": "60"}, "non-negative"},
		{"non-boolean silentRestore", map[string]any{"silentRestore": 1}, "must be a boolean"},
		{"non-boolean dpop", map[string]any{"dpop": "yes"}, "dpop must be a boolean"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseClientOptions(obj(t, tt.js))
			require.Error(t, err)
			assert.Equal(t, pkce.CodeInvalidConfig, pkce.ErrorCode(err))
			assert.True(t, strings.Contains(err.Error(), tt.want), err.Error())
		})
	}
}

// TestEmbeddedLogins: each kept transaction is taken once, by its state;
// at most maxEmbeddedLogins are kept, the oldest dropped for a new one.
func TestEmbeddedLogins(t *testing.T) {
	var e embeddedLogins
	for i := range maxEmbeddedLogins + 1 {
		e.keep(fmt.Sprintf("s%d", i), []byte(fmt.Sprintf("tx%d", i)))
	}
	for _, tt := range []struct {
		name, state string
		want        []byte
	}{
		{"the oldest was dropped", "s0", nil},
		{"a kept one", "s1", []byte("tx1")},
		{"taken once", "s1", nil},
		{"the newest", fmt.Sprintf("s%d", maxEmbeddedLogins), []byte(fmt.Sprintf("tx%d", maxEmbeddedLogins))},
		{"an unknown state", "nope", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, e.take(tt.state))
		})
	}
	assert.Len(t, e.order, maxEmbeddedLogins-2, "what is taken is forgotten")
}
