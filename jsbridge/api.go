//go:build js && wasm

package jsbridge

import (
	"context"
	"encoding/json"
	"net/url"
	"sync"

	"github.com/hack-pad/safejs"

	"github.com/mezzo-auth/mezzo/pkce"
)

// Register hands the API object to the loader by calling
// globalThis.__mezzoReady(api) (see web/src/runtime.js), or, without a
// loader, sets globalThis.__mezzoApi. The API is
//
//	{ version: string, createClient(options, emit, dpopKey?): Promise<handle>, stats(): object }
//
// dpopKey is the runtime's DPoP key for options (see newWebCryptoSigner),
// required when options.dpop is true.
//
// These functions live as long as the program, so they are never released.
func Register(version string) error {
	create, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		opts, emit, key := arg(args, 0), arg(args, 1), arg(args, 2)
		return promiseOrNil(func() (any, error) { return newHandle(opts, emit, key) })
	})
	if err != nil {
		return err
	}
	stats, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any { return runtimeStats() })
	if err != nil {
		create.Release()
		return err
	}
	api := map[string]any{"version": version, "createClient": create, "stats": stats}
	global := safejs.Global()
	ready, err := global.Get("__mezzoReady")
	if err == nil && ready.Type() == safejs.TypeFunction {
		_, err = ready.Invoke(api)
		return err
	}
	return global.Set("__mezzoApi", api)
}

// callContext bounds one API call made from JS (pkce.CallTimeout).
func callContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), pkce.CallTimeout)
}

// promiseOrNil returns a Promise for fn, or null if no Promise could be
// made (the loader turns that into a MezzoError).
func promiseOrNil(fn func() (any, error)) any {
	p, err := NewPromise(fn)
	if err != nil {
		return nil
	}
	return p
}

// handle is the Go side of one JS Client. It touches nothing of a page
// (location, history, sessionStorage): the loader's page half does, with
// what the handle returns, so the handle runs on any host, a worker too.
type handle struct {
	c     *pkce.Client
	emit  safejs.Value
	funcs []safejs.Func

	mu    sync.Mutex
	token *pkce.Token // the session's current token, from tokenRefreshed; nil without one

	embedded embeddedLogins // the transactions of silent and popup sign-ins under way
}

// newHandle builds a pkce.Client from JS options and returns the method
// table the loader wraps:
//
//	login(opts, mode?): Promise<{url, transaction|null}> (mode: "redirect" (default), "silent", "popup")
//	handleRedirectCallback(url, transaction|null, mode?): Promise<{returnTo} | {error}>
//	getToken(force): Promise<{accessToken, expiresAt, refreshAt}>
//	logout(opts): Promise<{url|null}>
//	getUserinfo(): Promise<claims>
//	state(): {authenticated, claims, token}
//	dpopProof(method, url, accessToken|null): Promise<string>
//	resourceHeaders(method, url): Promise<{authorization, dpop?}>
//	resourceResponse(url, {status, headers}, retried): Promise<boolean>
//	dpopThumbprint(): Promise<string|null>
//	close()
func newHandle(opts, emit, dpopKey safejs.Value) (any, error) {
	parsed, err := parseClientOptions(opts)
	if err != nil {
		return nil, err
	}
	cfg := parsed.Config
	if emit.Type() != safejs.TypeFunction {
		return nil, invalidArgument("createClient needs an emit function")
	}
	h := &handle{emit: emit}
	cfg.Transport = Fetch{Timeout: parsed.RequestTimeout}
	cfg.OnEvent = h.onEvent
	if parsed.DPoP { // RFC 9449: no key, no client; never a silent downgrade to Bearer
		if cfg.DPoP, err = newWebCryptoSigner(dpopKey); err != nil {
			return nil, err
		}
	}
	ctx, cancel := callContext()
	defer cancel()
	if h.c, err = pkce.NewClient(ctx, cfg); err != nil {
		return nil, err
	}

	table := map[string]any{}
	add := func(name string, fn func(args []safejs.Value) any) error {
		f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
			v, err := protect(func() (any, error) { return fn(args), nil })
			if err != nil {
				return nil
			}
			return v
		})
		if err != nil {
			return err
		}
		h.funcs = append(h.funcs, f)
		table[name] = f
		return nil
	}
	async := func(fn func(args []safejs.Value) (any, error)) func([]safejs.Value) any {
		return func(args []safejs.Value) any { return promiseOrNil(func() (any, error) { return fn(args) }) }
	}
	for name, fn := range map[string]func([]safejs.Value) any{
		methodLogin:                  async(h.login),
		methodHandleRedirectCallback: async(h.handleRedirectCallback),
		methodGetToken:               async(h.getToken),
		methodLogout:                 async(h.logout),
		methodState:                  func([]safejs.Value) any { return h.state() },
		methodGetUserinfo:            async(h.getUserinfo),
		methodDPoPProof:              async(h.dpopProof),
		methodResourceHeaders:        async(h.resourceHeaders),
		methodResourceResponse:       async(h.resourceResponse),
		methodDPoPThumbprint:         async(h.dpopThumbprint),
		methodClose:                  h.close,
	} {
		if err := add(name, fn); err != nil {
			h.close(nil)
			return nil, err
		}
	}
	return table, nil
}

// login builds the authorization request and returns its URL and, for a
// redirect, the transaction, which the page keeps in sessionStorage (it
// navigates) and hands back to handleRedirectCallback. A silent or popup
// sign-in's transaction stays here (embeddedLogins), each attempt its own:
// the page opens an iframe or a popup and relays the response URL only.
func (h *handle) login(args []safejs.Value) (any, error) {
	opts, err := parseLoginOptions(arg(args, 0))
	if err != nil {
		return nil, err
	}
	if err := parseLoginMode(arg(args, 1), &opts); err != nil {
		return nil, err
	}
	ctx, cancel := callContext()
	defer cancel()
	u, tx, err := h.c.Login(ctx, opts)
	if err != nil {
		return nil, err
	}
	if opts.Embedded { // kept here, by the request's state: the page relays the response URL only
		p, err := url.Parse(u)
		if err != nil {
			return nil, err
		}
		h.embedded.keep(p.Query().Get("state"), tx)
		return map[string]any{"url": u, "transaction": nil}, nil
	}
	return map[string]any{"url": u, "transaction": string(tx)}, nil
}

// optionalString reads an argument that is a string, or absent (null or
// undefined: ok false).
func optionalString(v safejs.Value, what string) (string, bool, error) {
	switch v.Type() {
	case safejs.TypeUndefined, safejs.TypeNull:
		return "", false, nil
	case safejs.TypeString:
		s, err := v.String()
		return s, err == nil, err
	}
	return "", false, invalidArgument("%s must be a string", what)
}

// handleRedirectCallback completes a login from url with the transaction
// the page took from its store (null when it has none; consumed whatever
// follows), or for a silent or popup sign-in (mode) with the one this
// handle kept. It resolves with returnTo, or error (a rejection value) for
// the page to reject with. The address bar is the page's: it took the
// response out of it already (web/src/redirect.js).
func (h *handle) handleRedirectCallback(args []safejs.Value) (any, error) {
	u, ok, err := optionalString(arg(args, 0), "url")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalidArgument("url is required")
	}
	stored, hasStored, err := optionalString(arg(args, 1), "transaction")
	if err != nil {
		return nil, err
	}
	mode, err := parseMode(arg(args, 2))
	if err != nil {
		return nil, err
	}
	embedded := mode != loginRedirect // silent or popup: the handle kept the transaction
	var tx []byte
	switch {
	case embedded && hasStored:
		return nil, invalidArgument("a silent or popup sign-in's callback has its transaction here")
	case embedded:
		// The attempt's own transaction, found by the response's state (a
		// response that cannot be read finds none: missing_transaction).
		if p, perr := pkce.ParseCallback(u); perr == nil {
			tx = h.embedded.take(p.State)
		}
	case hasStored:
		tx = []byte(stored)
	}
	ctx, cancel := callContext()
	defer cancel()
	returnTo, err := h.c.HandleCallback(ctx, u, tx)
	if err != nil {
		return map[string]any{"error": ErrorValue(err)}, nil
	}
	return map[string]any{"returnTo": returnTo}, nil
}

func (h *handle) getToken(args []safejs.Value) (any, error) {
	opts := pkce.TokenOptions{ForceRefresh: truthy(arg(args, 0))}
	ctx, cancel := callContext()
	defer cancel()
	tok, err := h.c.Token(ctx, opts)
	if err != nil {
		return nil, err
	}
	return tokenValue(tok), nil
}

func tokenValue(t pkce.Token) map[string]any {
	return map[string]any{
		"accessToken": t.AccessToken,
		"expiresAt":   float64(t.ExpiresAt.UnixMilli()),
		"refreshAt":   float64(t.RefreshAt.UnixMilli()),
	}
}

// state is the snapshot the page mirrors, so that isAuthenticated() and
// getUser() answer synchronously on every host:
//
//	{authenticated, claims: object|null, token: {accessToken, expiresAt, refreshAt}|null}
//
// It never carries the refresh token or the raw ID token.
func (h *handle) state() map[string]any {
	if !h.c.Authenticated() {
		return signedOut()
	}
	h.mu.Lock()
	var token any
	if h.token != nil {
		token = tokenValue(*h.token)
	}
	h.mu.Unlock()
	return map[string]any{"authenticated": true, "claims": h.claims(), "token": token}
}

func signedOut() map[string]any {
	return map[string]any{"authenticated": false, "claims": nil, "token": nil}
}

// claims are the ID token's claims as a JS object, or nil.
func (h *handle) claims() any {
	claims := h.c.Claims()
	if claims == nil {
		return nil
	}
	v, err := jsonValue(claims)
	if err != nil {
		return nil
	}
	return v
}

func (h *handle) getUserinfo([]safejs.Value) (any, error) {
	ctx, cancel := callContext()
	defer cancel()
	claims, err := h.c.Userinfo(ctx)
	if err != nil {
		return nil, err
	}
	return jsonValue(claims)
}

// jsonValue converts claims to a plain JS object through JSON, which keeps
// nested objects, arrays and numbers as the provider sent them.
func jsonValue(claims map[string]any) (safejs.Value, error) {
	data, err := json.Marshal(claims)
	if err != nil {
		return safejs.Null(), err
	}
	j, err := safejs.Global().Get("JSON")
	if err != nil {
		return safejs.Null(), err
	}
	return j.Call("parse", string(data))
}

// logout ends the session and resolves with the end-session URL to
// navigate to (null when the provider has none); the page navigates.
func (h *handle) logout(args []safejs.Value) (any, error) {
	opts, err := parseLogoutOptions(arg(args, 0))
	if err != nil {
		return nil, err
	}
	ctx, cancel := callContext()
	defer cancel()
	u, err := h.c.Logout(ctx, opts)
	if err != nil {
		if u == "" && pkce.ErrorCode(err) == pkce.CodeInvalidArgument { // refused before anything changed
			return nil, err
		}
		// The session is gone whatever happened; a failed revocation is
		// reported, not allowed to keep the user signed in at the provider.
		h.onEvent(pkce.Event{Type: pkce.EventError, Err: err})
	}
	h.setToken(nil)
	if u == "" {
		return map[string]any{"url": nil}, nil
	}
	return map[string]any{"url": u}, nil
}

func (h *handle) close([]safejs.Value) any {
	h.c.Close() // forgets the session and stops renewal; no request, no navigation
	h.setToken(nil)
	for _, f := range h.funcs {
		f.Release()
	}
	h.funcs = nil
	return nil
}

func (h *handle) setToken(t *pkce.Token) {
	h.mu.Lock()
	h.token = t
	h.mu.Unlock()
}

// onEvent forwards pkce events to the loader's emit(type, detail, state).
// state, the new snapshot (see handle.state) on tokenRefreshed and
// sessionExpired, feeds the page's mirror and token cache and is never
// handed to listeners.
func (h *handle) onEvent(e pkce.Event) {
	var detail, state any
	switch e.Type {
	case pkce.EventTokenRefreshed:
		t := e.Token
		h.setToken(&t)
		detail = map[string]any{"expiresAt": float64(e.ExpiresAt.UnixMilli()), "scope": e.Scope}
		state = map[string]any{"authenticated": true, "claims": h.claims(), "token": tokenValue(t)}
	case pkce.EventSessionExpired:
		h.setToken(nil)
		detail = ErrorValue(e.Err)
		state = signedOut()
	default:
		if e.Err != nil {
			detail = ErrorValue(e.Err)
		} else {
			detail = map[string]any{}
		}
	}
	_, _ = h.emit.Invoke(e.Type, detail, state)
}
