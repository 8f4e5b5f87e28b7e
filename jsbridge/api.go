//go:build js && wasm

package jsbridge

import (
	"context"
	"encoding/json"

	"github.com/hack-pad/safejs"

	"github.com/mezzo-auth/mezzo/pkce"
)

// Register hands the API object to the loader by calling
// globalThis.__mezzoReady(api) (see web/src/loader.js), or, without a
// loader, sets globalThis.__mezzoApi. The API is
//
//	{ version: string, createClient(options, emit): Promise<handle>, stats(): object }
//
// These functions live as long as the program, so they are never released.
func Register(version string) error {
	create, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		opts, emit := arg(args, 0), arg(args, 1)
		return promiseOrNil(func() (any, error) { return newHandle(opts, emit) })
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

// handle is the Go side of one JS Client.
type handle struct {
	c     *pkce.Client
	emit  safejs.Value
	funcs []safejs.Func
}

// newHandle builds a pkce.Client from JS options and returns the method
// table the loader wraps.
func newHandle(opts, emit safejs.Value) (any, error) {
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
	cfg.Store = SessionStore{}
	cfg.OnEvent = h.onEvent
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
		"login":                  async(h.login),
		"handleRedirectCallback": async(h.handleRedirectCallback),
		"getToken":               async(h.getToken),
		"logout":                 async(h.logout),
		"isRedirectCallback":     h.isRedirectCallback,
		"isAuthenticated":        func([]safejs.Value) any { return h.c.Authenticated() },
		"getUser":                h.getUser,
		"getUserinfo":            async(h.getUserinfo),
		"close":                  h.close,
	} {
		if err := add(name, fn); err != nil {
			h.close(nil)
			return nil, err
		}
	}
	return table, nil
}

func (h *handle) login(args []safejs.Value) (any, error) {
	opts, err := parseLoginOptions(arg(args, 0))
	if err != nil {
		return nil, err
	}
	ctx, cancel := callContext()
	defer cancel()
	u, err := h.c.Login(ctx, opts)
	if err != nil {
		return nil, err
	}
	return nil, Assign(u)
}

// urlArg returns the optional URL argument, defaulting to location.href.
func urlArg(args []safejs.Value) (string, error) {
	a := arg(args, 0)
	switch a.Type() {
	case safejs.TypeUndefined, safejs.TypeNull:
		return Href()
	case safejs.TypeString:
		return a.String()
	}
	return "", invalidArgument("url must be a string")
}

func (h *handle) isRedirectCallback(args []safejs.Value) any {
	u, err := urlArg(args)
	return err == nil && h.c.IsCallback(u)
}

func (h *handle) handleRedirectCallback(args []safejs.Value) (any, error) {
	u, err := urlArg(args)
	if err != nil {
		return nil, err
	}
	ctx, cancel := callContext()
	defer cancel()
	returnTo, err := h.c.HandleCallback(ctx, u)
	// Success or not, the code must not linger in the address bar.
	if href, herr := Href(); herr == nil && h.c.IsCallback(href) {
		_ = ReplaceURL(pkce.StripCallbackParams(href))
	}
	if err != nil {
		return nil, err
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

func (h *handle) getUser([]safejs.Value) any {
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
	if u != "" {
		return nil, Assign(u)
	}
	return nil, nil
}

func (h *handle) close([]safejs.Value) any {
	h.c.Close() // forgets the session and stops renewal; no request, no navigation
	for _, f := range h.funcs {
		f.Release()
	}
	h.funcs = nil
	return nil
}

// onEvent forwards pkce events to the loader's emit(type, detail, secret).
func (h *handle) onEvent(e pkce.Event) {
	var detail, secret any
	switch e.Type {
	case pkce.EventTokenRefreshed:
		detail = map[string]any{"expiresAt": float64(e.ExpiresAt.UnixMilli()), "scope": e.Scope}
		secret = tokenValue(e.Token)
	default:
		if e.Err != nil {
			detail = ErrorValue(e.Err)
		} else {
			detail = map[string]any{}
		}
	}
	_, _ = h.emit.Invoke(e.Type, detail, secret)
}
