package pkce

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Long-lived access tokens (Intermezzo's expires_in: 604800, a week): the
// renewal comes on time whatever the host's timers do, and no call is ever
// answered with an expired token.

const week = 7 * 24 * time.Hour

// longLivedHarness signs in with access tokens of lifetime ttl and records
// every wait armed through Config.AfterFunc.
func longLivedHarness(t *testing.T, ttl time.Duration) (*harness, func() []time.Duration) {
	t.Helper()
	var mu sync.Mutex
	var waits []time.Duration
	h := newHarness(t, func(c *Config) {
		inner := c.AfterFunc
		c.AfterFunc = func(d time.Duration, f func()) func() bool {
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
			return inner(d, f)
		}
	})
	h.tokens.reply = func(n int, form url.Values) (*Response, error) {
		return jsonResponse(200, h.tokenReply(n, form, int(ttl.Seconds()))), nil
	}
	h.signIn()
	return h, func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), waits...)
	}
}

func TestLongLivedTokenRenewsOnTime(t *testing.T) {
	tests := []struct {
		name string
		ttl  time.Duration
		tick time.Duration // how far the clock moves between two chances for timers to fire
	}{
		{"a week, timers on time", week, maxTimerStep},
		{"a week, a throttled background tab (timers an hour late)", week, time.Hour},
		{"a week, timers a day late", week, 24 * time.Hour},
		{"60 days, beyond setTimeout's 24.8 days", 60 * 24 * time.Hour, maxTimerStep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, waits := longLivedHarness(t, tt.ttl)
			start := h.clock.Now()
			tok, err := h.client.Token(context.Background(), TokenOptions{})
			require.NoError(t, err)
			require.Equal(t, start.Add(tt.ttl-DefaultRefreshLeeway), tok.RefreshAt, "renewal is due a leeway before expiry")

			for h.clock.Now().Add(tt.tick).Before(tok.RefreshAt) {
				h.clock.Advance(tt.tick)
			}
			require.Equal(t, 1, h.tokens.count(), "no renewal before it is due")
			require.Equal(t, 1, h.clock.pending(), "one timer armed all along")

			h.clock.Advance(tt.tick) // the first chance at or after refreshAt
			require.Equal(t, 2, h.tokens.count(), "renewed at the first timer at or after refreshAt")
			assert.Equal(t, "rt-1", h.tokens.form(1).Get("refresh_token"))
			assert.False(t, h.clock.Now().After(tok.ExpiresAt), "renewed before the old token expired")
			next, err := h.client.Token(context.Background(), TokenOptions{})
			require.NoError(t, err)
			assert.Equal(t, "at-2", next.AccessToken)
			assert.Equal(t, h.clock.Now().Add(tt.ttl-DefaultRefreshLeeway), next.RefreshAt)

			ws := waits()
			require.NotEmpty(t, ws)
			for _, w := range ws {
				require.LessOrEqual(t, w, maxTimerStep, "no timer longer than one step")
			}
		})
	}
}

// A machine asleep runs no timer; when it wakes, the clock has jumped.
func TestLongLivedTokenAfterSleep(t *testing.T) {
	tests := []struct {
		name      string
		sleep     time.Duration
		offline   bool   // the provider cannot be reached after waking
		wantToken string // "" when the call must fail
		wantCode  string
	}{
		{name: "past the refresh time, token still valid", sleep: week - 30*time.Second, wantToken: "at-2"},
		{name: "past the expiry", sleep: week + time.Hour, wantToken: "at-2"},
		{name: "past the refresh time, provider unreachable: the still-valid token", sleep: week - 30*time.Second,
			offline: true, wantToken: "at-1"},
		{name: "past the expiry, provider unreachable: an error, never the expired token", sleep: week + time.Hour,
			offline: true, wantCode: CodeNetworkError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := longLivedHarness(t, week)
			if tt.offline {
				h.tokens.reply = func(int, url.Values) (*Response, error) { return nil, errors.New("offline") }
			}
			h.clock.Jump(tt.sleep)
			tok, err := h.client.Token(context.Background(), TokenOptions{})
			require.GreaterOrEqual(t, h.tokens.count(), 2)
			assert.Equal(t, "rt-1", h.tokens.form(1).Get("refresh_token"), "the first call after waking renews")
			if tt.wantCode != "" {
				assert.Equal(t, tt.wantCode, ErrorCode(err))
				assert.Empty(t, tok.AccessToken)
				assert.True(t, h.client.Authenticated(), "a transient failure keeps the session and its refresh token")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantToken, tok.AccessToken)
			assert.True(t, h.clock.Now().Before(tok.ExpiresAt), "the token handed out is valid")
		})
	}
}

func TestLongLivedTokenRenewsWithinAStepOfWaking(t *testing.T) {
	h, _ := longLivedHarness(t, week)
	h.clock.Jump(week + time.Hour) // asleep past the expiry; no call comes after waking
	require.Equal(t, 1, h.tokens.count())
	h.clock.Advance(maxTimerStep) // the step timer armed before the sleep fires
	require.Equal(t, 2, h.tokens.count(), "renewed by the pending timer within one step")
	tok, err := h.client.Token(context.Background(), TokenOptions{})
	require.NoError(t, err)
	assert.Equal(t, "at-2", tok.AccessToken)
	assert.Equal(t, 2, h.tokens.count(), "and served from the cache afterwards")
}

func TestSessionWithoutRefreshTokenEndsOnTimeInSteps(t *testing.T) {
	h := newHarness(t)
	h.tokens.reply = func(n int, form url.Values) (*Response, error) {
		r := h.tokenReply(n, form, int(week.Seconds()))
		delete(r, "refresh_token")
		return jsonResponse(200, r), nil
	}
	h.signIn()
	for i := 0; i < int(week/time.Hour)-1; i++ {
		h.clock.Advance(time.Hour)
	}
	require.True(t, h.client.Authenticated(), "an hour to go: the session lives")
	assert.NotContains(t, h.eventTypes(), EventSessionExpired)
	h.clock.Advance(time.Hour)
	assert.False(t, h.client.Authenticated())
	assert.Contains(t, h.eventTypes(), EventSessionExpired)
	assert.Equal(t, 1, h.tokens.count())
}

// The default clock has no monotonic reading, so the session's times are
// compared on the wall clock: a browser's monotonic clock
// (performance.now()) may not count the time a machine slept.
func TestDefaultClockIsWallClock(t *testing.T) {
	now := Config{}.withDefaults().Now()
	assert.NotContains(t, now.String(), "m=", "no monotonic reading")
	assert.Contains(t, time.Now().String(), "m=", "the check would see one")
	assert.WithinDuration(t, time.Now(), now, time.Minute)
}
