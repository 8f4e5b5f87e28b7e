package pkce

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogout(t *testing.T) {
	h := newHarness(t)
	h.signIn()
	h.tokens.reply = func(int, url.Values) (*Response, error) { return &Response{Status: 200}, nil }
	endSession, err := h.client.Logout(context.Background(), LogoutOptions{Revoke: true, ReturnTo: "/bye"})
	require.NoError(t, err)

	assert.False(t, h.client.Authenticated())
	assert.Nil(t, h.client.Claims())
	_, err = h.client.Token(context.Background(), TokenOptions{})
	assert.Equal(t, CodeLoginRequired, ErrorCode(err))
	assert.Equal(t, 0, h.clock.pending(), "renewal cancelled")

	require.Equal(t, 2, h.tokens.count())
	rev := h.tokens.requests[1]
	assert.Equal(t, "https://id.example/revoke", rev.URL)
	assert.Equal(t, url.Values{"token": {"rt-1"}, "token_type_hint": {"refresh_token"}, "client_id": {hClientID}}, h.tokens.form(1))

	u, err := url.Parse(endSession)
	require.NoError(t, err)
	assert.Equal(t, "https://id.example/logout", u.Scheme+"://"+u.Host+u.Path)
	assert.Equal(t, hClientID, u.Query().Get("client_id"))
	assert.Equal(t, "https://app.example/bye", u.Query().Get("post_logout_redirect_uri"))
	assert.NotEmpty(t, u.Query().Get("id_token_hint"))
}

func TestLogoutClearsStateWhateverTheNetworkDoes(t *testing.T) {
	h := newHarness(t)
	h.signIn()
	h.tokens.reply = func(int, url.Values) (*Response, error) { return nil, errors.New("offline") }
	endSession, err := h.client.Logout(context.Background(), LogoutOptions{Revoke: true})
	assert.Equal(t, CodeNetworkError, ErrorCode(err))
	assert.NotEmpty(t, endSession, "the end-session URL is still given")
	assert.False(t, h.client.Authenticated())
}

func TestLogoutWithoutRevoke(t *testing.T) {
	h := newHarness(t)
	h.signIn()
	_, err := h.client.Logout(context.Background(), LogoutOptions{})
	require.NoError(t, err)
	assert.Equal(t, 1, h.tokens.count(), "no revocation request")
}
