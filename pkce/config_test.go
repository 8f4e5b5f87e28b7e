package pkce

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// transportFunc adapts a function to Transport, for tests that need no HTTP.
type transportFunc func(ctx context.Context, r *Request, maxBody int64) (*Response, error)

func (f transportFunc) Do(ctx context.Context, r *Request, maxBody int64) (*Response, error) {
	return f(ctx, r, maxBody)
}

// jsonTransport answers every request with status and body, recording the requests.
func jsonTransport(status int, body string, seen *[]*Request) Transport {
	return transportFunc(func(_ context.Context, r *Request, _ int64) (*Response, error) {
		if seen != nil {
			*seen = append(*seen, r)
		}
		return &Response{Status: status, Header: map[string]string{"content-type": "application/json"}, Body: []byte(body)}, nil
	})
}

func TestCheckEndpoint(t *testing.T) {
	tests := []struct {
		name      string
		url       string
		allowHTTP bool
		wantCode  string
	}{
		{"https", "https://idp.example/token", false, ""},
		{"http localhost", "http://localhost:9000/token", false, ""},
		{"http LOCALHOST", "http://LOCALHOST/token", false, ""},
		{"http 127.0.0.1", "http://127.0.0.1:9000/token", false, ""},
		{"http 127.8.9.10", "http://127.8.9.10/token", false, ""},
		{"http [::1]", "http://[::1]:9000/token", false, ""},
		{"http remote", "http://idp.example/token", false, CodeInsecureEndpoint},
		{"http private range", "http://192.168.1.2/token", false, CodeInsecureEndpoint},
		{"http localhost lookalike", "http://localhost.evil.example/token", false, CodeInsecureEndpoint},
		{"http 127 lookalike", "http://127.0.0.1.evil.example/token", false, CodeInsecureEndpoint},
		{"http remote with opt-in", "http://idp.example/token", true, ""},
		{"ftp", "ftp://idp.example/token", true, CodeInsecureEndpoint},
		{"relative", "/token", false, CodeInvalidConfig},
		{"garbage", "::", false, CodeInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkEndpoint("token endpoint", tt.url, tt.allowHTTP)
			assert.Equal(t, tt.wantCode, ErrorCode(err))
		})
	}
}

func TestConfigValidate(t *testing.T) {
	base := func() Config {
		return Config{ClientID: "c", RedirectURI: "https://app.example/cb", Issuer: "https://idp.example", Transport: jsonTransport(200, "{}", nil)}
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string // substring of the description; "" = valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no client id", func(c *Config) { c.ClientID = "" }, "clientId"},
		{"no redirect uri", func(c *Config) { c.RedirectURI = "" }, "redirectUri is required"},
		{"relative redirect uri", func(c *Config) { c.RedirectURI = "/cb" }, "absolute"},
		{"redirect uri with fragment", func(c *Config) { c.RedirectURI = "https://app.example/cb#x" }, "fragment"},
		{"redirect uri with empty fragment", func(c *Config) { c.RedirectURI = "https://app.example/cb#" }, "fragment"},
		{"silent redirect uri on the same origin", func(c *Config) { c.SilentRedirectURI = "https://app.example/silent.html" }, ""},
		{"relative silent redirect uri", func(c *Config) { c.SilentRedirectURI = "/silent" }, "silentRedirectUri must be an absolute URL"},
		{"silent redirect uri with fragment", func(c *Config) { c.SilentRedirectURI = "https://app.example/silent#x" }, "silentRedirectUri must not contain a fragment"},
		{"silent redirect uri on another host", func(c *Config) { c.SilentRedirectURI = "https://evil.example/silent" }, "same origin"},
		{"silent redirect uri on another port", func(c *Config) { c.SilentRedirectURI = "https://app.example:8443/silent" }, "same origin"},
		{"silent redirect uri on another scheme", func(c *Config) { c.SilentRedirectURI = "http://app.example/silent" }, "same origin"},
		{"silent redirect uri with userinfo", func(c *Config) { c.SilentRedirectURI = "https://app.example@evil.example/silent" }, "same origin"},
		{"no issuer", func(c *Config) { c.Issuer = "" }, "issuer"},
		{"no transport", func(c *Config) { c.Transport = nil }, "transport"},
		{"bad signature mode", func(c *Config) { c.IDTokenSignature = "none" }, "idTokenSignature"},
		{"extra param overrides state", func(c *Config) { c.ExtraAuthParams = map[string]string{"state": "x"} }, `"state"`},
		{"extra param overrides code_challenge_method", func(c *Config) { c.ExtraAuthParams = map[string]string{"code_challenge_method": "plain"} }, "code_challenge_method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base()
			tt.mutate(&cfg)
			cfg = cfg.withDefaults()
			err := cfg.validate()
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, CodeInvalidConfig, ErrorCode(err))
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestDiscovery(t *testing.T) {
	const iss = "https://idp.example"
	good := `{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/authorize","token_endpoint":"https://idp.example/token","jwks_uri":"https://idp.example/jwks","authorization_response_iss_parameter_supported":true}`
	tests := []struct {
		name     string
		issuer   string
		status   int
		body     string
		wantURL  string
		wantCode string
		wantErr  error
	}{
		{"ok", iss, 200, good, iss + "/.well-known/openid-configuration", "", nil},
		{"trailing slash issuer", iss + "/", 200, `{"issuer":"https://idp.example/"}`, iss + "/.well-known/openid-configuration", "", nil},
		{"issuer mismatch", iss, 200, `{"issuer":"https://evil.example"}`, "", CodeIssuerMismatch, ErrDiscoveryIssuer},
		{"issuer missing", iss, 200, `{}`, "", CodeIssuerMismatch, ErrDiscoveryIssuer},
		{"issuer differs by trailing slash", iss, 200, `{"issuer":"https://idp.example/"}`, "", CodeIssuerMismatch, ErrDiscoveryIssuer},
		{"not found", iss, 404, `{}`, "", CodeInvalidConfig, nil},
		{"not json", iss, 200, `<html>`, "", CodeInvalidConfig, nil},
		{"http issuer", "http://idp.example", 200, good, "", CodeInsecureEndpoint, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen []*Request
			md, err := discoverWith(jsonTransport(tt.status, tt.body, &seen), tt.issuer)
			if tt.wantCode != "" {
				require.Error(t, err)
				assert.Equal(t, tt.wantCode, ErrorCode(err))
				if tt.wantErr != nil {
					assert.ErrorIs(t, err, tt.wantErr)
				}
				return
			}
			require.NoError(t, err)
			require.Len(t, seen, 1)
			assert.Equal(t, "GET", seen[0].Method)
			assert.Equal(t, tt.wantURL, seen[0].URL)
			assert.Equal(t, tt.issuer, md.Issuer)
		})
	}
	t.Run("network failure keeps its code", func(t *testing.T) {
		_, err := discoverWith(transportFunc(func(context.Context, *Request, int64) (*Response, error) {
			return nil, errors.New("connection refused")
		}), iss)
		assert.Equal(t, CodeNetworkError, ErrorCode(err))
	})
	t.Run("timeout keeps its code", func(t *testing.T) {
		_, err := discoverWith(transportFunc(func(context.Context, *Request, int64) (*Response, error) {
			return nil, context.DeadlineExceeded
		}), iss)
		assert.Equal(t, CodeTimeout, ErrorCode(err))
	})
	retries := []struct {
		name         string
		statuses     []int // answers in turn; the last repeats
		wantAttempts int
		wantCode     string
		wantStatus   int
	}{
		{"503 three times: bounded retries, network_error", []int{503}, 3, CodeNetworkError, 503},
		{"429 three times: bounded retries, network_error", []int{429}, 3, CodeNetworkError, 429},
		{"502 then 200: retried, works", []int{502, 200}, 2, "", 0},
		{"404: permanent, not retried", []int{404}, 1, CodeInvalidConfig, 404},
	}
	for _, tt := range retries {
		t.Run(tt.name, func(t *testing.T) {
			attempts := 0
			md, err := discoverWith(transportFunc(func(context.Context, *Request, int64) (*Response, error) {
				st := tt.statuses[min(attempts, len(tt.statuses)-1)]
				attempts++
				return &Response{Status: st, Body: []byte(good)}, nil
			}), iss)
			assert.Equal(t, tt.wantAttempts, attempts)
			if tt.wantCode == "" {
				require.NoError(t, err)
				assert.Equal(t, iss, md.Issuer)
				return
			}
			assert.Equal(t, tt.wantCode, ErrorCode(err))
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.wantStatus, e.Status)
		})
	}
}

// discoverWith runs discovery of issuer over t with retries that do not wait.
func discoverWith(t Transport, issuer string) (*Metadata, error) {
	cfg := Config{Issuer: issuer, Transport: t, Retry: RetryPolicy{Sleep: func(context.Context, time.Duration) error { return nil }}}.withDefaults()
	return discover(context.Background(), &cfg)
}

func TestNewClientEndpoints(t *testing.T) {
	ctx := context.Background()
	t.Run("explicit endpoints skip discovery; issuer need not be a URL", func(t *testing.T) {
		var seen []*Request
		c, err := NewClient(ctx, Config{
			ClientID: "c", RedirectURI: "http://localhost:3000/cb", Issuer: "Screening Eagle ID",
			Endpoints:        Endpoints{Authorization: "https://id.example/auth", Token: "https://id.example/api/id/v1/auth/token"},
			IDTokenSignature: SignatureTLS,
			Transport:        jsonTransport(500, "{}", &seen),
		})
		require.NoError(t, err)
		assert.Empty(t, seen, "nothing discovered")
		assert.Equal(t, "https://id.example/api/id/v1/auth/token", c.Endpoints().Token)
	})
	t.Run("jwks mode without jwks_uri discovers", func(t *testing.T) {
		var seen []*Request
		_, err := NewClient(ctx, Config{
			ClientID: "c", RedirectURI: "http://localhost:3000/cb", Issuer: "https://idp.example",
			Endpoints: Endpoints{Authorization: "https://idp.example/auth", Token: "https://idp.example/token"},
			Transport: jsonTransport(200, `{"issuer":"https://idp.example","jwks_uri":"https://idp.example/jwks"}`, &seen),
		})
		require.NoError(t, err)
		assert.Len(t, seen, 1)
	})
	t.Run("explicit endpoints override discovery", func(t *testing.T) {
		c, err := NewClient(ctx, Config{
			ClientID: "c", RedirectURI: "http://localhost:3000/cb", Issuer: "https://idp.example",
			Endpoints: Endpoints{Token: "https://proxy.example/token"},
			Transport: jsonTransport(200, `{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/auth","token_endpoint":"https://idp.example/token","jwks_uri":"https://idp.example/jwks","revocation_endpoint":"https://idp.example/revoke"}`, nil),
		})
		require.NoError(t, err)
		assert.Equal(t, Endpoints{Authorization: "https://idp.example/auth", Token: "https://proxy.example/token",
			JWKS: "https://idp.example/jwks", Revocation: "https://idp.example/revoke"}, c.Endpoints())
	})
	t.Run("insecure discovered endpoint", func(t *testing.T) {
		_, err := NewClient(ctx, Config{
			ClientID: "c", RedirectURI: "http://localhost:3000/cb", Issuer: "https://idp.example",
			Transport: jsonTransport(200, `{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/auth","token_endpoint":"http://idp.example/token","jwks_uri":"https://idp.example/jwks"}`, nil),
		})
		assert.Equal(t, CodeInsecureEndpoint, ErrorCode(err))
	})
	t.Run("provider without S256", func(t *testing.T) {
		_, err := NewClient(ctx, Config{
			ClientID: "c", RedirectURI: "http://localhost:3000/cb", Issuer: "https://idp.example",
			Transport: jsonTransport(200, `{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/auth","token_endpoint":"https://idp.example/token","jwks_uri":"https://idp.example/jwks","code_challenge_methods_supported":["plain"]}`, nil),
		})
		assert.Equal(t, CodeInvalidConfig, ErrorCode(err))
	})
	t.Run("missing token endpoint", func(t *testing.T) {
		_, err := NewClient(ctx, Config{
			ClientID: "c", RedirectURI: "http://localhost:3000/cb", Issuer: "https://idp.example",
			Transport: jsonTransport(200, `{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/auth","jwks_uri":"https://idp.example/jwks"}`, nil),
		})
		assert.Equal(t, CodeInvalidConfig, ErrorCode(err))
	})
}

// FuzzDiscovery: whatever the discovery document says, the result is a
// typed error or metadata for exactly our issuer whose endpoints, once
// resolved, are all safe to send tokens to.
func FuzzDiscovery(f *testing.F) {
	const iss = "https://idp.example"
	f.Add(200, []byte(`{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/a","token_endpoint":"https://idp.example/t","jwks_uri":"https://idp.example/k"}`))
	f.Add(200, []byte(`{"issuer":"https://idp.example","authorization_endpoint":"http://evil.example/a","token_endpoint":"https://idp.example/t"}`))
	f.Add(200, []byte(`{"issuer":"https://idp.example/","code_challenge_methods_supported":["plain"]}`))
	f.Add(200, []byte(`{"issuer":1}`))
	f.Add(503, []byte(``))
	f.Add(200, []byte(`<html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		md, err := discoverWith(transportFunc(func(context.Context, *Request, int64) (*Response, error) {
			return &Response{Status: status, Body: body}, nil
		}), iss)
		if err != nil {
			requireTyped(t, err, CodeInvalidConfig, CodeIssuerMismatch, CodeNetworkError, CodeInsecureEndpoint)
			return
		}
		require.Equal(t, iss, md.Issuer)
		ep, err := resolveEndpoints(Endpoints{}, md, false)
		if err != nil {
			requireTyped(t, err, CodeInvalidConfig, CodeInsecureEndpoint)
			return
		}
		for name, u := range map[string]string{"authorization": ep.Authorization, "token": ep.Token, "jwks": ep.JWKS, "end_session": ep.EndSession, "revocation": ep.Revocation, "userinfo": ep.Userinfo} {
			if u != "" {
				require.NoError(t, checkEndpoint(name, u, false), "unsafe %s endpoint %q accepted", name, u)
			}
		}
	})
}
