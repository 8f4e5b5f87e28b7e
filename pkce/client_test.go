package pkce

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientClose(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(cfg *Config) { cfg.Endpoints.Userinfo = "https://id.example/userinfo" })
	callback := h.login(LoginOptions{}) // a pending login, to show the callback is refused too
	_, err := h.client.HandleCallback(ctx, callback)
	require.NoError(t, err)
	callback = h.login(LoginOptions{})
	require.Equal(t, 1, h.clock.pending(), "renewal scheduled")
	events := len(h.eventTypes())

	h.client.Close()
	h.client.Close() // idempotent
	assert.Equal(t, 0, h.clock.pending(), "renewal stopped")
	assert.False(t, h.client.Authenticated())
	assert.Nil(t, h.client.Claims())

	calls := []struct {
		name string
		call func() error
	}{
		{"Token", func() error { _, err := h.client.Token(ctx, TokenOptions{}); return err }},
		{"Token forced", func() error { _, err := h.client.Token(ctx, TokenOptions{ForceRefresh: true}); return err }},
		{"Login", func() error { _, err := h.client.Login(ctx, LoginOptions{}); return err }},
		{"HandleCallback", func() error { _, err := h.client.HandleCallback(ctx, callback); return err }},
		{"Userinfo", func() error { _, err := h.client.Userinfo(ctx); return err }},
		{"Logout", func() error { _, err := h.client.Logout(ctx, LogoutOptions{Revoke: true}); return err }},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			assert.Equal(t, CodeClientClosed, ErrorCode(err))
			assert.ErrorIs(t, err, ErrClientClosed)
		})
	}
	assert.Equal(t, 1, h.tokens.count(), "no request after Close: no refresh, no revocation, no exchange")
	assert.True(t, h.store.has(), "the pending transaction is not consumed")
	assert.Len(t, h.eventTypes(), events, "Close emits nothing")
}

func TestClientCloseDuringRefreshDropsResult(t *testing.T) {
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
	h.client.Close()
	close(release)
	assert.Equal(t, CodeClientClosed, ErrorCode(<-done))
	assert.False(t, h.client.Authenticated(), "a late refresh does not resurrect the session")
	assert.Equal(t, 0, h.clock.pending())
	assert.Equal(t, []string{EventTokenRefreshed}, h.eventTypes(), "only the sign-in's event")
}
