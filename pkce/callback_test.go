package pkce

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCallback(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		want    CallbackParams
		wantErr error
	}{
		{"query", "https://app/cb?code=c1&state=s1&iss=https%3A%2F%2Fidp",
			CallbackParams{Code: "c1", State: "s1", Issuer: "https://idp", HasIssuer: true}, nil},
		{"fragment", "https://app/cb#code=c1&state=s1",
			CallbackParams{Code: "c1", State: "s1"}, nil},
		{"query wins over fragment", "https://app/cb?code=q&state=s#code=f&state=t",
			CallbackParams{Code: "q", State: "s"}, nil},
		{"unrelated query, response in fragment", "https://app/cb?tab=2#code=f&state=t",
			CallbackParams{Code: "f", State: "t"}, nil},
		{"error response", "https://app/cb?error=access_denied&error_description=nope&error_uri=https%3A%2F%2Fidp%2Fe&state=s",
			CallbackParams{State: "s", Error: "access_denied", ErrorDescription: "nope", ErrorURI: "https://idp/e"}, nil},
		{"implicit access_token", "https://app/cb?code=c&state=s&access_token=at",
			CallbackParams{Code: "c", State: "s", HasImplicit: true}, nil},
		{"implicit id_token", "https://app/cb#state=s&id_token=x",
			CallbackParams{State: "s", HasImplicit: true}, nil},
		{"empty iss is present", "https://app/cb?code=c&state=s&iss=",
			CallbackParams{Code: "c", State: "s", HasIssuer: true}, nil},
		{"duplicate state", "https://app/cb?code=c&state=s&state=t", CallbackParams{}, ErrDuplicateParameter},
		{"duplicate code", "https://app/cb?code=c&code=d&state=s", CallbackParams{}, ErrDuplicateParameter},
		{"duplicate iss", "https://app/cb?code=c&state=s&iss=a&iss=b", CallbackParams{}, ErrDuplicateParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCallback(tt.url)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Equal(t, CodeInvalidCallback, ErrorCode(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, *got)
		})
	}
	t.Run("bad escape", func(t *testing.T) {
		_, err := ParseCallback("https://app/cb?code=%zz&state=s")
		assert.Equal(t, CodeInvalidCallback, ErrorCode(err))
	})
}

func FuzzParseCallback(f *testing.F) {
	for _, s := range []string{
		"https://app/cb?code=c&state=s&iss=https%3A%2F%2Fidp",
		"https://app/cb#code=c&state=s",
		"https://app/cb?error=access_denied&state=s",
		"https://app/cb?code=c&code=d",
		"https://app/cb?code=%zz",
		"::not a url",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := ParseCallback(raw)
		if err != nil {
			requireTyped(t, err, CodeInvalidCallback)
			return
		}
		if p == nil {
			t.Fatal("nil params without error")
		}
		if r := SafeReturnTo("https://app.example/cb", raw); r == "" || r[0] != '/' || (len(r) > 1 && r[1] == '/') {
			t.Fatalf("SafeReturnTo(%q) = %q leaves the origin", raw, r)
		}
	})
}

// FuzzStoredTransaction feeds HandleCallback a kept transaction and a
// callback query of any shape: the host keeps the transaction outside our
// memory. Whatever it holds, no token request is made unless the kept
// state, verifier and age are sound and match the callback, and a return
// path never leaves the origin.
func FuzzStoredTransaction(f *testing.F) {
	created := newFakeClock().Now().UnixMilli()
	good := fmt.Sprintf(`{"state":"s1","nonce":"n1","verifier":"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk","redirect_uri":%q,"issuer":%q,"return_to":"/inbox","scope":"openid","created_at":%d}`, hRedirect, hIssuer, created)
	for _, s := range [][2]string{
		{good, "code=c&state=s1"},
		{good, "code=c&state=s2"},
		{strings.Replace(good, `"/inbox"`, `"https://evil.example/"`, 1), "code=c&state=s1"},
		{strings.Replace(good, `"verifier":"dBjf`, `"verifier":"short`, 1), "code=c&state=s1"},
		{`{"state":"s1"}`, "code=c&state=s1"},
		{`{"state":1}`, "code=c&state=1"},
		{`null`, "code=c"},
		{``, "error=access_denied&state=s1"},
	} {
		f.Add([]byte(s[0]), s[1])
	}
	f.Fuzz(func(t *testing.T, stored []byte, query string) {
		h := newHarness(t)
		h.tx = append([]byte(nil), stored...) // a copy; nil when empty: the host has none
		returnTo, err := h.handleCallback(hRedirect + "?" + query)
		if err != nil {
			requireTyped(t, err)
			require.Empty(t, returnTo)
		} else {
			require.True(t, strings.HasPrefix(returnTo, "/") && !strings.HasPrefix(returnTo, "//"), "return path %q leaves the origin", returnTo)
		}
		sent := h.tokens.count()
		_, err = h.client.HandleCallback(context.Background(), hRedirect+"?"+query, nil)
		requireTyped(t, err, CodeMissingTransaction, CodeInvalidCallback)
		require.Equal(t, sent, h.tokens.count(), "the transaction is consumed whatever happens")
		if h.tokens.count() == 0 {
			return
		}
		var tx Transaction
		require.NoError(t, json.Unmarshal(stored, &tx), "token request from an unreadable transaction")
		p, perr := ParseCallback(hRedirect + "?" + query)
		require.NoError(t, perr, "token request from a malformed callback")
		require.Equal(t, tx.State, p.State, "token request with another state")
		require.NoError(t, ValidateVerifier(tx.Verifier), "token request with a malformed verifier")
		require.False(t, tx.expired(h.clock.Now()), "token request for an expired transaction")
		require.Equal(t, tx.Verifier, h.tokens.form(0).Get("code_verifier"))
	})
}
