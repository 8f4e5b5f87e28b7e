package pkce

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// returnToCases is the one table for both return addresses, after login
// (SafeReturnTo: a path, "/" when refused) and after logout
// (post_logout_redirect_uri: absolute, invalid_argument when refused), so
// the same-origin rule cannot drift between them. The redirect URI is hRedirect.
var returnToCases = []struct {
	name       string
	in         string
	wantPath   string // SafeReturnTo
	wantLogout string // post_logout_redirect_uri; "" when refused
}{
	{"empty", "", "/", hRedirect},
	{"path", "/dashboard", "/dashboard", "https://app.example/dashboard"},
	{"path with query and fragment", "/a/b?x=1#top", "/a/b?x=1#top", "https://app.example/a/b?x=1#top"},
	{"relative path", "settings", "/settings", "https://app.example/settings"},
	{"same-origin absolute", "https://app.example/x?y=1", "/x?y=1", "https://app.example/x?y=1"},
	// A path of three slashes stays on the origin as an absolute URL, but
	// as a path it would read as scheme-relative.
	{"triple slash", "///evil.example", "/", "https://app.example///evil.example"},
	{"other origin", "https://evil.example/x", "/", ""},
	{"other port", "https://app.example:8443/x", "/", ""},
	{"other scheme", "http://app.example/x", "/", ""},
	{"scheme-relative", "//evil.example/x", "/", ""},
	{"backslash trick", "/\\evil.example", "/", ""},
	{"tab trick", "/\t/evil.example", "/", ""},
	{"newline trick", "/\n/evil.example", "/", ""},
	{"javascript url", "javascript:alert(1)", "/", ""},
	{"data url", "data:text/html,x", "/", ""},
	{"userinfo", "https://user@app.example/x", "/", ""},
	{"userinfo that reads as the host", "https://app.example@evil.example/x", "/", ""},
	{"not a URL", "https://app.example/%zz", "/", ""},
}

func TestSafeReturnTo(t *testing.T) {
	for _, tt := range returnToCases {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.wantPath, SafeReturnTo(hRedirect, tt.in))
		})
	}
}

func TestLogoutReturnTo(t *testing.T) {
	for _, tt := range returnToCases {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.signIn()
			u, err := h.client.Logout(context.Background(), LogoutOptions{ReturnTo: tt.in, Revoke: true})
			if tt.wantLogout != "" {
				require.NoError(t, err)
				assert.Equal(t, tt.wantLogout, queryOf(t, u).Get("post_logout_redirect_uri"))
				return
			}
			assert.Equal(t, CodeInvalidArgument, ErrorCode(err))
			assert.Empty(t, u, "no end-session URL")
			assert.True(t, h.client.Authenticated(), "a refused call keeps the session")
			assert.Equal(t, 1, h.tokens.count(), "no revocation request")
			tok, err := h.client.Token(context.Background(), TokenOptions{})
			require.NoError(t, err)
			assert.Equal(t, "at-1", tok.AccessToken)
		})
	}
}

func TestAppendQuery(t *testing.T) {
	q := url.Values{"a": {"1"}, "b": {"x y"}}
	tests := []struct{ name, endpoint, want string }{
		{"no query", "https://id.example/auth", "https://id.example/auth?a=1&b=x+y"},
		{"query kept", "https://id.example/auth?tenant=t1", "https://id.example/auth?tenant=t1&a=1&b=x+y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, appendQuery(tt.endpoint, q))
		})
	}
}
