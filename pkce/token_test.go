package pkce

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTokenResponse(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name       string
		status     int
		body       string
		want       *TokenResponse
		wantCode   string
		wantDesc   string
		wantURI    string
		wantStatus int
	}{
		{name: "full reply", status: 200,
			body: `{"access_token":"at","token_type":"Bearer","expires_in":3600,"scope":"openid","id_token":"x.y.z","refresh_token":"rt"}`,
			want: &TokenResponse{AccessToken: "at", TokenType: "Bearer", ExpiresIn: f(3600), Scope: "openid", IDToken: "x.y.z", RefreshToken: "rt"}},
		{name: "bearer in lower case", status: 200, body: `{"access_token":"at","token_type":"bearer"}`,
			want: &TokenResponse{AccessToken: "at", TokenType: "Bearer"}},
		{name: "fractional expires_in", status: 200, body: `{"access_token":"at","token_type":"Bearer","expires_in":1.5}`,
			want: &TokenResponse{AccessToken: "at", TokenType: "Bearer", ExpiresIn: f(1.5)}},
		{name: "zero expires_in", status: 200, body: `{"access_token":"at","token_type":"Bearer","expires_in":0}`,
			want: &TokenResponse{AccessToken: "at", TokenType: "Bearer", ExpiresIn: f(0)}},
		{name: "null expires_in is absent", status: 200, body: `{"access_token":"at","token_type":"Bearer","expires_in":null}`,
			want: &TokenResponse{AccessToken: "at", TokenType: "Bearer"}},
		{name: "missing access_token", status: 200, body: `{"token_type":"Bearer"}`, wantCode: CodeInvalidTokenResponse, wantDesc: "no access_token"},
		{name: "empty access_token", status: 200, body: `{"access_token":"","token_type":"Bearer"}`, wantCode: CodeInvalidTokenResponse, wantDesc: "no access_token"},
		{name: "access_token not a string", status: 200, body: `{"access_token":5,"token_type":"Bearer"}`, wantCode: CodeInvalidTokenResponse, wantDesc: "wrong type"},
		{name: "missing token_type", status: 200, body: `{"access_token":"at"}`, wantCode: CodeInvalidTokenResponse, wantDesc: "not Bearer"},
		{name: "DPoP token_type", status: 200, body: `{"access_token":"at","token_type":"DPoP"}`, wantCode: CodeInvalidTokenResponse, wantDesc: "not Bearer"},
		{name: "mac token_type", status: 200, body: `{"access_token":"at","token_type":"mac"}`, wantCode: CodeInvalidTokenResponse, wantDesc: "not Bearer"},
		{name: "negative expires_in", status: 200, body: `{"access_token":"at","token_type":"Bearer","expires_in":-1}`, wantCode: CodeInvalidTokenResponse, wantDesc: "negative"},
		{name: "string expires_in", status: 200, body: `{"access_token":"at","token_type":"Bearer","expires_in":"3600"}`, wantCode: CodeInvalidTokenResponse, wantDesc: "not a number"},
		{name: "boolean expires_in", status: 200, body: `{"access_token":"at","token_type":"Bearer","expires_in":true}`, wantCode: CodeInvalidTokenResponse, wantDesc: "not a number"},
		{name: "200 carrying error", status: 200, body: `{"error":"invalid_grant","error_description":"used"}`, wantCode: "invalid_grant", wantDesc: "used", wantStatus: 200},
		{name: "RFC 6749 error shape", status: 400, body: `{"error":"invalid_grant","error_description":"expired","error_uri":"https://idp/doc"}`,
			wantCode: "invalid_grant", wantDesc: "expired", wantURI: "https://idp/doc", wantStatus: 400},
		{name: "Intermezzo error shape", status: 400, body: `{"error":"invalid_request","errorDescription":"code_verifier required"}`,
			wantCode: "invalid_request", wantDesc: "code_verifier required", wantStatus: 400},
		{name: "error status without error code", status: 400, body: `{"message":"nope"}`, wantCode: CodeInvalidTokenResponse, wantStatus: 400},
		{name: "error code with bad characters", status: 400, body: `{"error":"bad \"code\""}`, wantCode: "provider_error", wantStatus: 400},
		{name: "HTML from a gateway", status: 502, body: `<html>Bad Gateway</html>`, wantCode: CodeNetworkError, wantStatus: 502},
		{name: "non-JSON 200", status: 200, body: `access_token=at`, wantCode: CodeInvalidTokenResponse, wantDesc: "JSON object", wantStatus: 200},
		{name: "truncated JSON", status: 200, body: `{"access_token":"at","tok`, wantCode: CodeInvalidTokenResponse, wantStatus: 200},
		{name: "JSON array", status: 200, body: `[1]`, wantCode: CodeInvalidTokenResponse, wantStatus: 200},
		{name: "empty body", status: 200, body: ``, wantCode: CodeInvalidTokenResponse, wantStatus: 200},
		{name: "body over 1 MiB", status: 200, body: `{"access_token":"` + strings.Repeat("a", MaxResponseBytes) + `","token_type":"Bearer"}`,
			wantCode: CodeInvalidTokenResponse, wantDesc: "1 MiB", wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTokenResponse(&Response{Status: tt.status, Body: []byte(tt.body)})
			if tt.wantCode == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			require.Error(t, err)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.wantCode, e.Code)
			assert.Contains(t, e.Description, tt.wantDesc)
			assert.Equal(t, tt.wantURI, e.URI)
			if tt.wantStatus != 0 {
				assert.Equal(t, tt.wantStatus, e.Status)
			}
			assert.NotContains(t, err.Error(), `"at"`)
		})
	}
}

func TestParseTokenResponseDate(t *testing.T) {
	got, err := ParseTokenResponse(&Response{Status: 200, Header: map[string]string{"date": "Sun, 22 Nov 2026 10:00:00 GMT"},
		Body: []byte(`{"access_token":"at","token_type":"Bearer"}`)})
	require.NoError(t, err)
	assert.Equal(t, int64(1795341600), got.Date.Unix())
}

func FuzzParseTokenResponse(f *testing.F) {
	for _, s := range []string{
		`{"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt","id_token":"a.b.c"}`,
		`{"error":"invalid_grant","errorDescription":"x"}`,
		`{"access_token":"at","token_type":"bearer","expires_in":"1"}`,
		`{"access_token":null}`,
		`[]`, `null`, `<html>`, ``,
	} {
		f.Add(200, []byte(s))
		f.Add(400, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		got, err := ParseTokenResponse(&Response{Status: status, Body: body})
		if err != nil {
			requireTyped(t, err, CodeInvalidTokenResponse, CodeNetworkError)
			return
		}
		if status != 200 || got.AccessToken == "" || got.TokenType != "Bearer" || (got.ExpiresIn != nil && *got.ExpiresIn < 0) {
			t.Fatalf("accepted an invalid reply: status %d, %+v", status, got)
		}
	})
}

func TestProviderErrorQuotingACredentialIsWithheld(t *testing.T) {
	rfc := func(v string) map[string]any {
		return map[string]any{"error": "invalid_request", "error_description": "bad value " + v, "error_uri": "https://id.example/e?x=" + v}
	}
	intermezzo := func(v string) map[string]any {
		return map[string]any{"error": "invalid_grant", "errorDescription": "value " + v + " unknown"}
	}
	tests := []struct {
		name  string
		grant string // the grant whose reply echoes field
		field string
		body  func(echoed string) map[string]any
	}{
		{"code exchange echoes the code", "authorization_code", "code", rfc},
		{"code exchange echoes the verifier", "authorization_code", "code_verifier", rfc},
		{"Intermezzo-shaped error echoes the code", "authorization_code", "code", intermezzo},
		{"refresh echoes the refresh token", "refresh_token", "refresh_token", rfc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			var sent string
			h.tokens.reply = func(n int, form url.Values) (*Response, error) {
				if form.Get("grant_type") != tt.grant {
					return jsonResponse(200, h.tokenReply(n, form, 300)), nil
				}
				sent = form.Get(tt.field)
				return jsonResponse(400, tt.body(sent)), nil
			}
			var err error
			if tt.grant == "refresh_token" {
				h.signIn()
				_, err = h.client.Token(context.Background(), TokenOptions{ForceRefresh: true})
			} else {
				_, err = h.handleCallback(h.login(LoginOptions{}))
			}
			require.NotEmpty(t, sent)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.body("")["error"], e.Code, "the provider's code is kept")
			assert.NotContains(t, e.Error(), sent)
			assert.NotContains(t, e.URI, sent)
			assert.Contains(t, e.Description, "withheld")
		})
	}
}
