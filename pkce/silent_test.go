package pkce

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const hSilentRedirect = "https://app.example/silent-callback"

// An embedded (silent or popup) sign-in sends SilentRedirectURI, records it
// in its transaction, and sends the same URI again in the code exchange
// (RFC 6749 §4.1.3); a redirect sign-in of the same client keeps
// RedirectURI.
func TestEmbeddedLoginUsesSilentRedirectURI(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.SilentRedirectURI = hSilentRedirect })
	u, tx, err := h.client.AuthorizationRequest(LoginOptions{Embedded: true, Prompt: "none"})
	require.NoError(t, err)
	q := queryOf(t, u)
	assert.Equal(t, hSilentRedirect, q.Get("redirect_uri"))
	assert.Equal(t, "none", q.Get("prompt"))
	assert.Equal(t, hSilentRedirect, tx.RedirectURI)

	// Encoded and kept, as Login and the host do, and back through the callback.
	data, err := json.Marshal(tx)
	require.NoError(t, err)
	h.nonce = tx.Nonce
	_, err = h.client.HandleCallback(context.Background(), hSilentRedirect+"?code=code-1&state="+url.QueryEscape(tx.State), data)
	require.NoError(t, err)
	assert.Equal(t, hSilentRedirect, h.tokens.form(0).Get("redirect_uri"), "the exchange repeats the request's redirect_uri")
	assert.True(t, h.client.Authenticated())

	u, tx, err = h.client.AuthorizationRequest(LoginOptions{})
	require.NoError(t, err)
	assert.Equal(t, hRedirect, queryOf(t, u).Get("redirect_uri"))
	assert.Equal(t, hRedirect, tx.RedirectURI)
}

// Without SilentRedirectURI, an embedded sign-in returns to RedirectURI.
func TestSilentRedirectURIDefaultsToRedirectURI(t *testing.T) {
	h := newHarness(t)
	u, tx, err := h.client.AuthorizationRequest(LoginOptions{Embedded: true})
	require.NoError(t, err)
	assert.Equal(t, hRedirect, queryOf(t, u).Get("redirect_uri"))
	assert.Equal(t, hRedirect, tx.RedirectURI)
}

// A transaction whose redirect URI is neither of the client's is not ours:
// refused before any token request.
func TestTransactionForAnotherRedirectURIRefused(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.SilentRedirectURI = hSilentRedirect })
	_, tx, err := h.client.AuthorizationRequest(LoginOptions{Embedded: true})
	require.NoError(t, err)
	tx.RedirectURI = "https://app.example/elsewhere"
	data, _ := json.Marshal(tx)
	_, err = h.client.HandleCallback(context.Background(), hSilentRedirect+"?code=code-1&state="+url.QueryEscape(tx.State), data)
	assert.Equal(t, CodeMissingTransaction, ErrorCode(err))
	assert.Zero(t, h.tokens.count(), "no token request")
}

// Every attempt, silent or not, has its own state, nonce and PKCE verifier.
func TestEmbeddedAttemptsFresh(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.SilentRedirectURI = hSilentRedirect })
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		_, tx, err := h.client.AuthorizationRequest(LoginOptions{Embedded: i%2 == 0, Prompt: "none"})
		require.NoError(t, err)
		for _, v := range []string{tx.State, tx.Nonce, tx.Verifier} {
			require.False(t, seen[v], "a value repeated")
			seen[v] = true
		}
	}
}
