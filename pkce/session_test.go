package pkce

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenBeforeLogin(t *testing.T) {
	h := newHarness(t)
	_, err := h.client.Token(context.Background(), TokenOptions{})
	assert.Equal(t, CodeLoginRequired, ErrorCode(err))
	assert.ErrorIs(t, err, ErrNotAuthenticated)
}

func TestTokenRefreshRotation(t *testing.T) {
	h := newHarness(t)
	h.signIn()
	ctx := context.Background()

	h.clock.Advance(200 * time.Second) // still 100 s of life, beyond the 60 s leeway
	tok, err := h.client.Token(ctx, TokenOptions{})
	require.NoError(t, err)
	assert.Equal(t, "at-1", tok.AccessToken)
	assert.Equal(t, 1, h.tokens.count(), "no refresh while valid beyond the leeway")

	h.clock.Advance(45 * time.Second) // 55 s left: inside the leeway; the timer fires the refresh
	require.Eventually(t, func() bool { return h.tokens.count() == 2 }, time.Second, time.Millisecond)
	tok, err = h.client.Token(ctx, TokenOptions{})
	require.NoError(t, err)
	assert.Equal(t, "at-2", tok.AccessToken)
	assert.Equal(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt-1"}, "client_id": {hClientID}}, h.tokens.form(1),
		"exact refresh form: no scope (never more than granted), no secret")
	assert.Empty(t, h.tokens.requests[1].Header["authorization"])

	_, err = h.client.Token(ctx, TokenOptions{ForceRefresh: true})
	require.NoError(t, err)
	assert.Equal(t, "rt-2", h.tokens.form(2).Get("refresh_token"), "the rotated token replaces the old one")
	for i := 2; i < h.tokens.count(); i++ {
		assert.NotEqual(t, "rt-1", h.tokens.form(i).Get("refresh_token"), "the old refresh token is never sent again")
	}
	assert.Contains(t, h.eventTypes(), EventTokenRefreshed)
}

func TestRefreshWithoutNewRefreshTokenKeepsOld(t *testing.T) {
	h := newHarness(t)
	h.signIn()
	h.tokens.reply = func(n int, _ url.Values) (*Response, error) {
		return jsonResponse(200, map[string]any{"access_token": "at-" + string(rune('0'+n)), "token_type": "Bearer", "expires_in": 300}), nil
	}
	for i := 0; i < 2; i++ {
		_, err := h.client.Token(context.Background(), TokenOptions{ForceRefresh: true})
		require.NoError(t, err)
	}
	assert.Equal(t, "rt-1", h.tokens.form(1).Get("refresh_token"))
	assert.Equal(t, "rt-1", h.tokens.form(2).Get("refresh_token"))
}

func TestTokenSingleFlight(t *testing.T) {
	h := newHarness(t)
	h.signIn()
	release := make(chan struct{})
	h.tokens.reply = func(n int, form url.Values) (*Response, error) {
		<-release
		return jsonResponse(200, h.tokenReply(n, form, 300)), nil
	}
	h.clock.mu.Lock()
	h.clock.now = h.clock.now.Add(299 * time.Second) // past refreshAt, timer not fired
	h.clock.mu.Unlock()

	const callers = 200
	var wg sync.WaitGroup
	results := make([]string, callers)
	errs := make([]error, callers)
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			tok, err := h.client.Token(context.Background(), TokenOptions{})
			results[i], errs[i] = tok.AccessToken, err
		}(i)
	}
	require.Eventually(t, func() bool { return h.tokens.count() == 2 }, time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // let the other callers join the flight
	close(release)
	wg.Wait()
	assert.Equal(t, 2, h.tokens.count(), "one code exchange and exactly one refresh")
	for i := range results {
		require.NoError(t, errs[i])
		assert.Equal(t, "at-2", results[i])
	}
}

func TestRefreshInvalidGrantEndsSession(t *testing.T) {
	h := newHarness(t)
	h.signIn()
	h.tokens.reply = func(int, url.Values) (*Response, error) {
		return jsonResponse(400, map[string]any{"error": "invalid_grant", "error_description": "refresh token reused"}), nil
	}
	_, err := h.client.Token(context.Background(), TokenOptions{ForceRefresh: true})
	assert.Equal(t, CodeLoginRequired, ErrorCode(err))
	assert.Equal(t, CodeInvalidGrant, ErrorCode(errors.Unwrap(err)))
	assert.False(t, h.client.Authenticated())
	assert.Nil(t, h.client.Claims())
	assert.Contains(t, h.eventTypes(), EventSessionExpired)
	assert.Equal(t, 0, h.clock.pending(), "no renewal scheduled for a dead session")

	_, err = h.client.Token(context.Background(), TokenOptions{})
	assert.Equal(t, CodeLoginRequired, ErrorCode(err))
	assert.Equal(t, 2, h.tokens.count(), "no retry of invalid_grant")
}

func TestRefreshTransientFailures(t *testing.T) {
	tests := []struct {
		name      string
		failures  []*Response // answers before success; nil = network error
		wantCalls int
		wantCode  string // "" when the call finally succeeds
		wantSleep []time.Duration
	}{
		{"503 then success", []*Response{{Status: 503, Body: []byte(`{}`)}}, 2, "", nil},
		{"network error then success", []*Response{nil}, 2, "", nil},
		{"Retry-After honoured", []*Response{{Status: 503, Header: map[string]string{"retry-after": "2"}, Body: []byte(`{}`)}}, 2, "", []time.Duration{2 * time.Second}},
		{"Retry-After too long is not waited for", []*Response{{Status: 503, Header: map[string]string{"retry-after": "3600"}, Body: []byte(`{}`)}}, 1, CodeNetworkError, []time.Duration{}},
		{"502 HTML twice then success", []*Response{{Status: 502, Body: []byte(`<html>`)}, {Status: 502, Body: []byte(`<html>`)}}, 3, "", nil},
		{"exhausted after 3 attempts", []*Response{{Status: 500, Body: []byte(`{}`)}, {Status: 500, Body: []byte(`{}`)}, {Status: 500, Body: []byte(`{}`)}, {Status: 500, Body: []byte(`{}`)}}, 3, CodeNetworkError, nil},
		{"429 is transient", []*Response{{Status: 429, Body: []byte(`{"error":"slow_down"}`)}}, 2, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.signIn()
			h.tokens.reply = func(n int, form url.Values) (*Response, error) {
				i := n - 2 // n == 1 was the code exchange
				if i < len(tt.failures) {
					if tt.failures[i] == nil {
						return nil, errors.New("connection reset")
					}
					return tt.failures[i], nil
				}
				return jsonResponse(200, h.tokenReply(n, form, 300)), nil
			}
			tok, err := h.client.Token(context.Background(), TokenOptions{ForceRefresh: true})
			assert.Equal(t, tt.wantCalls, h.tokens.count()-1)
			if tt.wantSleep != nil {
				assert.Equal(t, tt.wantSleep, append([]time.Duration{}, h.sleeps...))
			}
			if tt.wantCode == "" {
				require.NoError(t, err)
				assert.NotEqual(t, "at-1", tok.AccessToken)
				return
			}
			assert.Equal(t, tt.wantCode, ErrorCode(err))
			assert.True(t, h.client.Authenticated(), "a transient failure keeps the session")
			assert.Contains(t, h.eventTypes(), EventError)

			// The provider recovers: the next call works with the same refresh token.
			h.tokens.reply = func(n int, form url.Values) (*Response, error) {
				return jsonResponse(200, h.tokenReply(n, form, 300)), nil
			}
			_, err = h.client.Token(context.Background(), TokenOptions{ForceRefresh: true})
			require.NoError(t, err)
			assert.Equal(t, "rt-1", h.tokens.form(h.tokens.count()-1).Get("refresh_token"))
		})
	}
}

func TestRefreshFailureFallsBackToValidToken(t *testing.T) {
	h := newHarness(t)
	h.signIn()
	h.tokens.reply = func(int, url.Values) (*Response, error) { return nil, errors.New("offline") }
	h.clock.Advance(250 * time.Second) // 50 s left: renewal due, token still valid
	tok, err := h.client.Token(context.Background(), TokenOptions{})
	require.NoError(t, err, "a still-valid token is better than an error")
	assert.Equal(t, "at-1", tok.AccessToken)
	_, err = h.client.Token(context.Background(), TokenOptions{ForceRefresh: true})
	assert.Equal(t, CodeNetworkError, ErrorCode(err), "forceRefresh reports the failure")
}

func TestRefreshRejectedReplyKeepsSession(t *testing.T) {
	tests := []struct {
		name  string
		reply func(h *harness, n int) map[string]any
	}{
		{"id token for another subject", func(h *harness, n int) map[string]any {
			return map[string]any{"access_token": "evil", "token_type": "Bearer", "expires_in": 300, "refresh_token": "rt-evil",
				"id_token": h.idToken(map[string]any{"sub": "attacker", "nonce": nil})}
		}},
		{"id token from another issuer", func(h *harness, n int) map[string]any {
			return map[string]any{"access_token": "evil", "token_type": "Bearer", "expires_in": 300, "refresh_token": "rt-evil",
				"id_token": h.idToken(map[string]any{"iss": "Other", "nonce": nil})}
		}},
		{"token_type not Bearer", func(h *harness, n int) map[string]any {
			return map[string]any{"access_token": "evil", "token_type": "pop", "refresh_token": "rt-evil"}
		}},
		{"negative expires_in", func(h *harness, n int) map[string]any {
			return map[string]any{"access_token": "evil", "token_type": "Bearer", "expires_in": -5, "refresh_token": "rt-evil"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.signIn()
			h.tokens.reply = func(n int, _ url.Values) (*Response, error) { return jsonResponse(200, tt.reply(h, n)), nil }
			_, err := h.client.Token(context.Background(), TokenOptions{ForceRefresh: true})
			require.Error(t, err)
			assert.Equal(t, 2, h.tokens.count(), "no retry of a rejected reply")
			tok, err := h.client.Token(context.Background(), TokenOptions{})
			require.NoError(t, err)
			assert.Equal(t, "at-1", tok.AccessToken, "nothing of the rejected reply was installed")
			assert.Equal(t, "user-1", h.client.Claims()["sub"])
		})
	}
}

func TestShortLivedTokenRenewsAtHalfLife(t *testing.T) {
	h := newHarness(t)
	h.tokens.reply = func(n int, form url.Values) (*Response, error) {
		return jsonResponse(200, h.tokenReply(n, form, 30)), nil
	}
	h.signIn()
	tok, err := h.client.Token(context.Background(), TokenOptions{})
	require.NoError(t, err)
	assert.Equal(t, 15*time.Second, tok.RefreshAt.Sub(h.clock.Now()), "a 30 s token is renewed after 15 s, not in a loop")
	for i := 0; i < 10; i++ {
		h.clock.Advance(15 * time.Second)
		require.Eventually(t, func() bool { return h.tokens.count() == i+2 && h.clock.pending() == 1 }, time.Second, time.Millisecond)
	}
}

func TestSessionWithoutRefreshToken(t *testing.T) {
	h := newHarness(t)
	h.tokens.reply = func(n int, form url.Values) (*Response, error) {
		r := h.tokenReply(n, form, 300)
		delete(r, "refresh_token")
		return jsonResponse(200, r), nil
	}
	h.signIn()
	h.clock.Advance(290 * time.Second)
	tok, err := h.client.Token(context.Background(), TokenOptions{})
	require.NoError(t, err, "still valid, cannot renew")
	assert.Equal(t, "at-1", tok.AccessToken)
	h.clock.Advance(10 * time.Second) // expiry timer ends the session
	assert.False(t, h.client.Authenticated())
	assert.Contains(t, h.eventTypes(), EventSessionExpired)
	_, err = h.client.Token(context.Background(), TokenOptions{})
	assert.Equal(t, CodeLoginRequired, ErrorCode(err))
	assert.Equal(t, 1, h.tokens.count())
}

func TestExpiresInAbsentUsesDefault(t *testing.T) {
	h := newHarness(t)
	h.tokens.reply = func(n int, form url.Values) (*Response, error) {
		r := h.tokenReply(n, form, 0)
		delete(r, "expires_in")
		return jsonResponse(200, r), nil
	}
	h.signIn()
	tok, err := h.client.Token(context.Background(), TokenOptions{})
	require.NoError(t, err)
	assert.Equal(t, DefaultTokenLifetime, tok.ExpiresAt.Sub(h.clock.Now()))
}

// A session ended while its refresh is under way stays ended: the late
// reply is dropped, nothing is scheduled, and the waiter learns why.
func TestSessionEndedDuringRefreshDropsResult(t *testing.T) {
	tests := []struct {
		name     string
		end      func(t *testing.T, h *harness)
		wantCode string
	}{
		{"Logout", func(t *testing.T, h *harness) {
			_, err := h.client.Logout(context.Background(), LogoutOptions{})
			require.NoError(t, err)
		}, CodeLoginRequired},
		{"Close", func(_ *testing.T, h *harness) { h.client.Close() }, CodeClientClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.signIn()
			entered, release := make(chan struct{}), make(chan struct{})
			h.tokens.reply = func(n int, form url.Values) (*Response, error) {
				close(entered)
				<-release
				return jsonResponse(200, h.tokenReply(n, form, 300)), nil
			}
			done := make(chan error, 1)
			go func() { _, err := h.client.Token(context.Background(), TokenOptions{ForceRefresh: true}); done <- err }()
			<-entered
			tt.end(t, h)
			close(release)
			assert.Equal(t, tt.wantCode, ErrorCode(<-done))
			assert.False(t, h.client.Authenticated(), "a late refresh does not resurrect the session")
			assert.Equal(t, 0, h.clock.pending())
			assert.Equal(t, []string{EventTokenRefreshed}, h.eventTypes(), "only the sign-in's event")
			assert.Equal(t, 2, h.tokens.count(), "the exchange and the refresh, nothing after")
		})
	}
}

func TestEventsCarryNoSecrets(t *testing.T) {
	h := newHarness(t)
	h.signIn()
	_, err := h.client.Token(context.Background(), TokenOptions{ForceRefresh: true})
	require.NoError(t, err)
	h.tokens.reply = func(int, url.Values) (*Response, error) {
		return jsonResponse(400, map[string]any{"error": "invalid_grant"}), nil
	}
	_, _ = h.client.Token(context.Background(), TokenOptions{ForceRefresh: true})
	h.mu.Lock()
	defer h.mu.Unlock()
	require.NotEmpty(t, h.events)
	for _, e := range h.events {
		if e.Err != nil {
			for _, secret := range []string{"at-1", "at-2", "rt-1", "rt-2", "code-1"} {
				assert.NotContains(t, e.Err.Error(), secret)
			}
		}
		if e.Type != EventTokenRefreshed {
			assert.Empty(t, e.Token.AccessToken)
		}
	}
}

func TestTokenLifetime(t *testing.T) {
	serverNow := time.Date(2026, 11, 22, 12, 10, 0, 0, time.UTC) // the provider's clock, 10 min ahead
	jwtExp := func(exp any) string {
		payload, _ := json.Marshal(map[string]any{"exp": exp})
		return "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".sig"
	}
	secs := func(f float64) *float64 { return &f }
	tests := []struct {
		name string
		tr   TokenResponse
		idt  *IDToken
		want time.Duration
	}{
		{"expires_in wins", TokenResponse{AccessToken: jwtExp(serverNow.Unix() + 5), ExpiresIn: secs(30), Date: serverNow}, nil, 30 * time.Second},
		{"JWT exp against the Date header", TokenResponse{AccessToken: jwtExp(serverNow.Unix() + 120), Date: serverNow}, nil, 120 * time.Second},
		{"JWT exp against the ID token's iat", TokenResponse{AccessToken: jwtExp(serverNow.Unix() + 90)}, &IDToken{IssuedAt: serverNow}, 90 * time.Second},
		{"JWT exp without a provider clock: default", TokenResponse{AccessToken: jwtExp(serverNow.Unix() + 90)}, nil, DefaultTokenLifetime},
		{"JWT exp already past: default", TokenResponse{AccessToken: jwtExp(serverNow.Unix() - 1), Date: serverNow}, nil, DefaultTokenLifetime},
		{"JWT exp absurdly far: default", TokenResponse{AccessToken: jwtExp(float64(1e15)), Date: serverNow}, nil, DefaultTokenLifetime},
		{"JWT exp not a number: default", TokenResponse{AccessToken: jwtExp("soon"), Date: serverNow}, nil, DefaultTokenLifetime},
		{"opaque token: default", TokenResponse{AccessToken: "at-1", Date: serverNow}, nil, DefaultTokenLifetime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tokenLifetime(&tt.tr, tt.idt))
		})
	}
}

// FuzzTokenLifetime: whatever the access token and Date header hold, the
// lifetime is positive or zero and never beyond maxTokenLifetime.
func FuzzTokenLifetime(f *testing.F) {
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3OTU4NzUyMDB9.sig", "Sun, 22 Nov 2026 12:00:00 GMT")
	f.Add("a.eyJleHAiOjFlMzAwfQ.b", "Sun, 22 Nov 2026 12:00:00 GMT")
	f.Add("a.eyJleHAiOi0xfQ.b", "")
	f.Add("at-opaque", "garbage")
	f.Fuzz(func(t *testing.T, accessToken, date string) {
		resp := &Response{Status: 200, Header: map[string]string{"date": date}}
		resp.Body, _ = json.Marshal(map[string]string{"access_token": accessToken, "token_type": "Bearer"})
		tr, err := ParseTokenResponse(resp)
		if err != nil {
			requireTyped(t, err, CodeInvalidTokenResponse) // an empty access_token, the one way this reply can fail
			return
		}
		if d := tokenLifetime(tr, nil); d < 0 || d > maxTokenLifetime {
			t.Fatalf("lifetime %v out of range", d)
		}
	})
}
