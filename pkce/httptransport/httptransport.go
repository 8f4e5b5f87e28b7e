// Package httptransport adapts net/http to pkce.Transport for native Go
// programs and tests. The wasm build never imports it: there, fetch goes
// through jsbridge so the binary does not link net/http.
package httptransport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/mezzo-auth/mezzo/pkce"
)

// Transport makes pkce requests with an *http.Client (default
// http.DefaultClient).
type Transport struct {
	Client *http.Client
}

// Do implements pkce.Transport.
func (t Transport) Do(ctx context.Context, r *pkce.Request, maxBody int64) (*pkce.Response, error) {
	hc := t.Client
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, fmt.Errorf("httptransport: %w", err)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("httptransport: %w", err)
	}
	defer resp.Body.Close()
	// Read one byte past the limit so the caller can tell "too large".
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("httptransport: reading body: %w", err)
	}
	h := make(map[string]string, len(resp.Header))
	for k, v := range resp.Header {
		h[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	return &pkce.Response{Status: resp.StatusCode, Header: h, Body: body}, nil
}
