package pkce

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientClose(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(cfg *Config) { cfg.Endpoints.Userinfo = "https://id.example/userinfo" })
	callback := h.login(LoginOptions{}) // a pending login, to show the callback is refused too
	_, err := h.handleCallback(callback)
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
		{"Login", func() error {
			_, tx, err := h.client.Login(ctx, LoginOptions{})
			assert.Nil(t, tx, "no transaction from a closed client")
			return err
		}},
		{"HandleCallback", func() error { _, err := h.client.HandleCallback(ctx, callback, h.tx); return err }},
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
	assert.False(t, h.client.consumed(queryOf(t, callback).Get("state")), "the pending transaction is not consumed")
	assert.Len(t, h.eventTypes(), events, "Close emits nothing")
}
