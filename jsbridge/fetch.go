//go:build js && wasm

package jsbridge

import (
	"context"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/mezzo-auth/mezzo/pkce"
)

// Fetch implements pkce.Transport over globalThis.fetch.
type Fetch struct {
	Timeout time.Duration // default pkce.DefaultRequestTimeout
}

// Do implements pkce.Transport. The request is aborted through an
// AbortController when ctx ends; at most maxBody+1 bytes are read.
func (f Fetch) Do(ctx context.Context, r *pkce.Request, maxBody int64) (*pkce.Response, error) {
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = pkce.DefaultRequestTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	global := safejs.Global()
	acCtor, err := global.Get("AbortController")
	if err != nil {
		return nil, err
	}
	ac, err := acCtor.New()
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _, _ = ac.Call("abort") })
	defer stop()
	signal, err := ac.Get("signal")
	if err != nil {
		return nil, err
	}

	headers := map[string]any{}
	for k, v := range r.Header {
		headers[k] = v
	}
	init := map[string]any{
		"method":         r.Method,
		"headers":        headers,
		"signal":         signal,
		"credentials":    "omit",        // tokens travel in bodies and headers, never cookies
		"referrerPolicy": "no-referrer", // the page URL is nobody's business
		"redirect":       "follow",
	}
	if r.Method == "POST" {
		init["body"] = string(r.Body)
		init["redirect"] = "error" // never replay a token request body to another location
		// No cache mode: no HTTP cache stores a POST's response here
		// (RFC 9110 §9.3.3), and the provider marks token responses no-store
		// itself (RFC 6749 §5.1). The default mode keeps Chromium's CORS
		// preflight cache, which "no-store" bypasses: a DPoP token request
		// (its DPoP header is not CORS-safelisted) would otherwise pay a
		// preflight every time.
	} else {
		init["cache"] = "no-store" // userinfo, keys and metadata come fresh from the provider
	}
	promise, err := global.Call("fetch", r.URL, init)
	if err != nil {
		return nil, err
	}
	resp, err := Await(ctx, promise)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	out := &pkce.Response{Header: map[string]string{}}
	status, err := resp.Get("status")
	if err != nil {
		return nil, err
	}
	if out.Status, err = status.Int(); err != nil {
		return nil, err
	}
	if h, err := resp.Get("headers"); err == nil {
		for _, name := range pkce.ResponseHeaderNames() {
			if v, err := h.Call("get", name); err == nil && v.Type() == safejs.TypeString {
				out.Header[name], _ = v.String()
			}
		}
	}
	if out.Body, err = readBody(ctx, resp, maxBody); err != nil {
		return nil, ctxErr(ctx, err)
	}
	return out, nil
}

// readBody streams the body and stops after maxBody+1 bytes, so a 5 MB
// reply is never held in full.
func readBody(ctx context.Context, resp safejs.Value, maxBody int64) ([]byte, error) {
	body, err := resp.Get("body")
	if err != nil {
		return nil, err
	}
	if body.IsNull() || body.IsUndefined() {
		return nil, nil
	}
	reader, err := body.Call("getReader")
	if err != nil {
		return nil, err
	}
	var out []byte
	for int64(len(out)) <= maxBody {
		p, err := reader.Call("read")
		if err != nil {
			return nil, err
		}
		chunk, err := Await(ctx, p)
		if err != nil {
			return nil, err
		}
		if done, _ := chunk.Get("done"); truthy(done) {
			return out, nil
		}
		value, err := chunk.Get("value")
		if err != nil {
			return nil, err
		}
		buf, err := goBytes(value)
		if err != nil {
			return nil, err
		}
		out = append(out, buf...)
	}
	if p, err := reader.Call("cancel"); err == nil {
		go func() { _, _ = Await(context.Background(), p) }() // settle quietly; nobody needs the result
	}
	return out[:maxBody+1], nil
}

// goBytes copies a JS Uint8Array into a new Go slice.
func goBytes(u8 safejs.Value) ([]byte, error) {
	n, err := u8.Length()
	if err != nil {
		return nil, err
	}
	out := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(out, u8); err != nil {
		return nil, err
	}
	return out, nil
}

// ctxErr prefers the context's error, so an abort we caused reads as a
// timeout or cancellation rather than a JS AbortError.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func truthy(v safejs.Value) bool {
	b, err := v.Truthy()
	return err == nil && b
}
