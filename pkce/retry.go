package pkce

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy bounds retries of transient failures (network errors,
// timeouts, 429 and 5xx) of the token, JWKS and discovery endpoints within
// one call. It never loops: after
// MaxAttempts, or when the server asks to wait longer than MaxDelay, the
// call fails and the session is kept.
type RetryPolicy struct {
	MaxAttempts int           // total attempts, default DefaultRetryAttempts
	BaseDelay   time.Duration // first backoff, default DefaultRetryBaseDelay
	MaxDelay    time.Duration // cap on any one wait, default DefaultRetryMaxDelay
	// Sleep waits d or until ctx ends; default a timer. Tests inject it.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultRetryAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultRetryBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultRetryMaxDelay
	}
	if p.Sleep == nil {
		p.Sleep = sleepCtx
	}
	return p
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// withRetry runs try until it succeeds, fails for good, or p's attempts or
// delays run out. try returns the response it got (or nil) so that a
// Retry-After header can set the wait.
func withRetry[T any](ctx context.Context, p RetryPolicy, now func() time.Time, try func() (T, *Response, error)) (T, error) {
	for attempt := 1; ; attempt++ {
		v, resp, err := try()
		if err == nil || !transient(err) || attempt >= p.MaxAttempts {
			return v, err
		}
		d, ok := p.delay(attempt, resp, now())
		if !ok || p.Sleep(ctx, d) != nil {
			return v, err
		}
	}
}

// transientStatus reports whether an HTTP status says "try again later":
// 429 (RFC 6585 §4) and every 5xx (RFC 9110 §15.6).
func transientStatus(status int) bool {
	return status == 429 || status >= 500
}

// statusCode is the one mapping from a failed HTTP answer to an error code:
// network_error for a transient status (so it is retried and says "try
// again"), else code, the caller's own.
func statusCode(status int, code string) string {
	if transientStatus(status) {
		return CodeNetworkError
	}
	return code
}

// unavailable is the error for a non-200 answer to a GET of metadata or keys.
func unavailable(status int, code, what string) *Error {
	return &Error{Code: statusCode(status, code), Status: status, Description: what + " request failed"}
}

// retryAfter returns the Retry-After header (RFC 9110 §10.2.3), if any.
func (r *Response) retryAfter() (string, bool) {
	if r == nil {
		return "", false
	}
	v, ok := r.Header["retry-after"]
	return strings.TrimSpace(v), ok
}

// transient reports whether err is worth retrying.
func transient(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code == CodeNetworkError || e.Code == CodeTimeout || transientStatus(e.Status)
}

// delay returns the wait before attempt n (1-based retries), honouring
// Retry-After (RFC 9110 §10.2.3) and full jitter otherwise. ok is false
// when the server asks for longer than MaxDelay.
func (p RetryPolicy) delay(n int, resp *Response, now time.Time) (d time.Duration, ok bool) {
	if ra, has := resp.retryAfter(); has {
		if secs, err := strconv.ParseUint(ra, 10, 64); err == nil {
			if secs > uint64(p.MaxDelay/time.Second) {
				return 0, false // the server asks for longer than we wait
			}
			return time.Duration(secs) * time.Second, true
		}
		if t, err := time.Parse(time.RFC1123, ra); err == nil { // RFC 9110 §5.6.7: HTTP-date
			d = max(t.Sub(now), 0)
			return d, d <= p.MaxDelay
		}
		// unreadable: fall back to our own backoff
	}
	backoff := p.BaseDelay << (n - 1)
	if backoff > p.MaxDelay || backoff <= 0 {
		backoff = p.MaxDelay
	}
	return backoff/2 + rand.N(backoff/2+1), true
}
