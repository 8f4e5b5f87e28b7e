package pkce

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRetryDelay(t *testing.T) {
	p := RetryPolicy{}.withDefaults()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	withHeader := func(v string) *Response { return &Response{Status: 503, Header: map[string]string{"retry-after": v}} }
	tests := []struct {
		name     string
		attempt  int
		resp     *Response
		min, max time.Duration
		wantOK   bool
	}{
		{"first backoff: jitter in [base/2, base]", 1, nil, 125 * time.Millisecond, 250 * time.Millisecond, true},
		{"second backoff doubles", 2, nil, 250 * time.Millisecond, 500 * time.Millisecond, true},
		{"backoff capped at MaxDelay", 30, nil, 2500 * time.Millisecond, 5 * time.Second, true},
		{"Retry-After seconds", 1, withHeader("2"), 2 * time.Second, 2 * time.Second, true},
		{"Retry-After HTTP date", 1, withHeader(now.Add(3 * time.Second).Format(time.RFC1123)), 3 * time.Second, 3 * time.Second, true},
		{"Retry-After date in the past: no wait", 1, withHeader(now.Add(-time.Hour).Format(time.RFC1123)), 0, 0, true},
		{"Retry-After longer than MaxDelay: give up", 1, withHeader("3600"), 0, 0, false},
		{"Retry-After unreadable: our own backoff", 1, withHeader("soon"), 125 * time.Millisecond, 250 * time.Millisecond, true},
		{"Retry-After beyond any duration: give up", 1, withHeader("99999999999999"), 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 50 { // jitter: many draws stay in range
				d, ok := p.delay(tt.attempt, tt.resp, now)
				assert.Equal(t, tt.wantOK, ok)
				assert.GreaterOrEqual(t, d, tt.min)
				assert.LessOrEqual(t, d, tt.max)
			}
		})
	}
}

// FuzzRetryAfter: whatever a server puts in Retry-After, the wait is never
// negative, and a wait we agree to is never longer than MaxDelay.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "1", "-1", "3600", "99999999999999999999", "Sun, 22 Nov 2026 12:00:05 GMT", "Mon, 01 Jan 0001 00:00:00 GMT", "", " 5"} {
		f.Add(s, 1)
	}
	p := RetryPolicy{}.withDefaults()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, header string, attempt int) {
		attempt = 1 + int(uint(attempt)%64)
		d, ok := p.delay(attempt, &Response{Status: 503, Header: map[string]string{"retry-after": header}}, now)
		if d < 0 {
			t.Fatalf("negative wait %v for Retry-After %q", d, header)
		}
		if ok && d > p.MaxDelay {
			t.Fatalf("agreed to wait %v > MaxDelay for Retry-After %q", d, header)
		}
	})
}

func TestStatusCode(t *testing.T) {
	tests := []struct {
		status int
		want   string
	}{
		{400, CodeInvalidUserinfo},
		{401, CodeInvalidUserinfo},
		{404, CodeInvalidUserinfo},
		{429, CodeNetworkError},
		{500, CodeNetworkError},
		{501, CodeNetworkError},
		{503, CodeNetworkError},
		{599, CodeNetworkError},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			assert.Equal(t, tt.want, statusCode(tt.status, CodeInvalidUserinfo))
			assert.Equal(t, tt.want == CodeNetworkError, transient(&Error{Code: "temporarily_unavailable", Status: tt.status}),
				"retried exactly when the status maps to network_error")
		})
	}
}
