package pkce

import (
	"context"
	"errors"
	"time"
)

// MaxResponseBytes caps every response body the client reads (1 MiB).
const MaxResponseBytes = 1 << 20

// ResponseHeaderNames are the response headers the client reads, in lower
// case: a Transport that cannot copy every header (a browser's fetch lists
// none) copies these.
func ResponseHeaderNames() []string {
	return []string{
		"content-type",     // JSON, or a signed userinfo (OIDC Core 5.3.2)
		"date",             // the server's clock, for the ID token's iat
		"retry-after",      // RFC 9110 §10.2.3, for retries
		"dpop-nonce",       // RFC 9449 §8.1, §9
		"www-authenticate", // RFC 9449 §9: a resource server's use_dpop_nonce challenge
	}
}

// Request is one HTTP request the client needs made. Header keys are
// canonical lower-case; Body is already encoded.
type Request struct {
	Method string
	URL    string
	Header map[string]string
	Body   []byte
}

// Response is what a Transport returns. Header keys are lower-case; only the
// headers the client reads (ResponseHeaderNames) need be present.
type Response struct {
	Status int
	Header map[string]string
	Body   []byte
}

// Transport makes HTTP requests. It is an interface of our own so that the
// wasm build can implement it over fetch without linking net/http; native
// code adapts net/http with package pkce/httptransport.
//
// Do must read at most maxBody+1 bytes of the body, so the caller can tell an
// oversized body from one that is exactly maxBody long, and must return
// ctx.Err() (possibly wrapped) when the context ends first.
type Transport interface {
	Do(ctx context.Context, req *Request, maxBody int64) (*Response, error)
}

// roundTrip runs req through t and maps transport failures to stable codes.
func roundTrip(ctx context.Context, t Transport, req *Request) (*Response, error) {
	resp, err := t.Do(ctx, req, MaxResponseBytes)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, aborted(err, "request to "+endpointName(req.URL))
		}
		return nil, newError(CodeNetworkError, err, "request to %s failed", endpointName(req.URL))
	}
	if len(resp.Body) > MaxResponseBytes {
		return nil, &Error{Code: CodeInvalidTokenResponse, Status: resp.Status, Err: ErrResponseTooLarge,
			Description: "response from " + endpointName(req.URL) + " exceeds 1 MiB"}
	}
	return resp, nil
}

// getDocument GETs a JSON document (discovery metadata, a key set) with
// bounded retries of transient failures. Other failures carry code, so the
// caller's error says what could not be done without it; transport codes
// (network_error, timeout) are kept.
func getDocument(ctx context.Context, t Transport, p RetryPolicy, now func() time.Time, url, code, what string) (*Response, error) {
	resp, err := withRetry(ctx, p, now, func() (*Response, *Response, error) {
		resp, err := roundTrip(ctx, t, &Request{Method: "GET", URL: url, Header: map[string]string{"accept": "application/json"}})
		if err == nil && resp.Status != 200 {
			err = unavailable(resp.Status, code, what)
		}
		return resp, resp, err
	})
	if err != nil {
		return nil, relabel(err, code)
	}
	return resp, nil
}

// relabel keeps transport codes (network_error, timeout) and replaces others.
func relabel(err error, code string) error {
	switch ErrorCode(err) {
	case CodeNetworkError, CodeTimeout:
		return err
	}
	if e, ok := err.(*Error); ok {
		c := *e
		c.Code = code
		return &c
	}
	return err
}
