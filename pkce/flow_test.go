package pkce

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthorizationRequest(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Audience = "https://api.example"
		c.ExtraAuthParams = map[string]string{"ui_locales": "de"}
		c.Endpoints.Authorization = "https://id.example/authorize?tenant=t1"
	})
	maxAge := int64(300)
	u, data, err := h.client.Login(context.Background(), LoginOptions{
		ReturnTo: "/inbox?x=1", Prompt: "login", LoginHint: "a@b.example", MaxAge: &maxAge,
		ExtraParams: map[string]string{"acr_values": "mfa"},
	})
	require.NoError(t, err)
	parsed, err := url.Parse(u)
	require.NoError(t, err)
	assert.Equal(t, "https://id.example/authorize", parsed.Scheme+"://"+parsed.Host+parsed.Path)
	q := parsed.Query()
	for k, want := range map[string]string{
		"tenant": "t1", "response_type": "code", "client_id": hClientID, "redirect_uri": hRedirect,
		"scope": DefaultScope, "code_challenge_method": "S256", "audience": "https://api.example",
		"prompt": "login", "login_hint": "a@b.example", "max_age": "300", "ui_locales": "de", "acr_values": "mfa",
	} {
		assert.Equal(t, want, q.Get(k), k)
	}
	assert.Len(t, q, 15, "no unexpected parameters: %v", q)
	assert.Len(t, q.Get("state"), 43, "state carries 256 bits")
	assert.Len(t, q.Get("nonce"), 43, "nonce carries 256 bits")
	assert.NotEqual(t, q.Get("state"), q.Get("nonce"))

	var tx Transaction
	require.NoError(t, jsonUnmarshal(data, &tx))
	assert.Equal(t, q.Get("state"), tx.State)
	assert.Equal(t, q.Get("nonce"), tx.Nonce)
	assert.Equal(t, Challenge(tx.Verifier), q.Get("code_challenge"))
	assert.NoError(t, ValidateVerifier(tx.Verifier))
	assert.NotContains(t, u, tx.Verifier, "the verifier never leaves the client before the token request")
	assert.Equal(t, "/inbox?x=1", tx.ReturnTo)
	assert.Equal(t, hIssuer, tx.Issuer)
	assert.Equal(t, hRedirect, tx.RedirectURI)
	assert.Equal(t, h.clock.Now().UnixMilli(), tx.CreatedAt)
	require.NotNil(t, tx.MaxAge)
	assert.Equal(t, int64(300), *tx.MaxAge)
}

func TestAuthorizationRequestFreshEveryTime(t *testing.T) {
	h := newHarness(t)
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		u, _, err := h.client.AuthorizationRequest(LoginOptions{})
		require.NoError(t, err)
		p, _ := url.Parse(u)
		for _, k := range []string{"state", "nonce", "code_challenge"} {
			v := p.Query().Get(k)
			require.False(t, seen[v], "%s repeated", k)
			seen[v] = true
		}
	}
}

func TestAuthorizationRequestRejectsOverrides(t *testing.T) {
	h := newHarness(t)
	for _, k := range []string{"state", "nonce", "code_challenge", "code_challenge_method", "redirect_uri", "client_id", "response_type", "scope", "prompt", "max_age"} {
		t.Run(k, func(t *testing.T) {
			_, tx, err := h.client.Login(context.Background(), LoginOptions{ExtraParams: map[string]string{k: "x"}})
			assert.Equal(t, CodeInvalidConfig, ErrorCode(err))
			assert.Nil(t, tx, "no transaction to keep")
		})
	}
}

func TestHandleCallbackExchangesCode(t *testing.T) {
	h := newHarness(t)
	callback := h.login(LoginOptions{ReturnTo: "/inbox"})
	returnTo, err := h.handleCallback(callback)
	require.NoError(t, err)
	assert.Equal(t, "/inbox", returnTo)
	_, err = h.client.HandleCallback(context.Background(), callback, nil)
	assert.ErrorIs(t, err, ErrReplayedCallback, "transaction consumed")

	require.Equal(t, 1, h.tokens.count())
	req := h.tokens.requests[0]
	assert.Equal(t, "POST", req.Method)
	assert.Equal(t, "https://id.example/api/id/v1/auth/token", req.URL)
	assert.Equal(t, map[string]string{"content-type": "application/x-www-form-urlencoded", "accept": "application/json"}, req.Header,
		"no Authorization header, no secret")
	form := h.tokens.form(0)
	assert.Equal(t, url.Values{
		"grant_type": {"authorization_code"}, "code": {"code-1"}, "redirect_uri": {hRedirect},
		"code_verifier": form["code_verifier"], "client_id": {hClientID},
	}, form)
	assert.NoError(t, ValidateVerifier(form.Get("code_verifier")))

	assert.True(t, h.client.Authenticated())
	assert.Equal(t, "user-1", h.client.Claims()["sub"])
	tok, err := h.client.Token(context.Background(), TokenOptions{})
	require.NoError(t, err)
	assert.Equal(t, "at-1", tok.AccessToken)
	assert.Equal(t, h.clock.Now().Add(300*time.Second), tok.ExpiresAt)
	assert.Equal(t, 1, h.tokens.count(), "cached token, no request")
}

func TestHandleCallbackRejections(t *testing.T) {
	type setup struct {
		h        *harness
		callback string // a valid callback for the pending login
	}
	tests := []struct {
		name     string
		prepare  func(*testing.T, *setup) string // returns the URL to handle
		wantCode string
		wantErr  error
	}{
		{"no transaction", func(_ *testing.T, s *setup) string {
			s.h.tx = nil // the host has none
			return s.callback
		}, CodeMissingTransaction, ErrNoTransaction},
		{"transaction expired", func(_ *testing.T, s *setup) string {
			s.h.clock.Advance(TransactionLifetime + time.Second)
			return s.callback
		}, CodeMissingTransaction, ErrTransactionExpired},
		{"state missing", func(_ *testing.T, s *setup) string {
			return hRedirect + "?code=code-1"
		}, CodeStateMismatch, ErrStateMissing},
		{"state different", func(_ *testing.T, s *setup) string {
			return hRedirect + "?code=code-1&state=forged"
		}, CodeStateMismatch, ErrStateMismatch},
		{"parameter given twice", func(_ *testing.T, s *setup) string {
			return s.callback + "&code=other"
		}, CodeInvalidCallback, ErrDuplicateParameter},
		{"iss different", func(_ *testing.T, s *setup) string {
			return s.callback + "&iss=" + url.QueryEscape("https://evil.example")
		}, CodeIssuerMismatch, ErrIssuerMismatch},
		{"iss missing though promised", func(_ *testing.T, s *setup) string {
			s.h.client.issRequired = true
			return s.callback
		}, CodeIssuerMismatch, ErrIssuerMissing},
		{"implicit access_token", func(_ *testing.T, s *setup) string {
			return s.callback + "&access_token=injected"
		}, CodeInvalidCallback, ErrImplicitParameters},
		{"implicit id_token in fragment", func(_ *testing.T, s *setup) string {
			u, _ := url.Parse(s.callback)
			return hRedirect + "#" + u.RawQuery + "&id_token=injected"
		}, CodeInvalidCallback, ErrImplicitParameters},
		{"code missing", func(_ *testing.T, s *setup) string {
			return strings.Replace(s.callback, "code=code-1&", "", 1)
		}, CodeInvalidCallback, ErrCodeMissing},
		{"provider error access_denied", func(_ *testing.T, s *setup) string {
			u, _ := url.Parse(s.callback)
			return hRedirect + "?error=access_denied&error_description=User+said+no&error_uri=https%3A%2F%2Fid.example%2Fe&state=" + url.QueryEscape(u.Query().Get("state"))
		}, "access_denied", ErrProviderError},
		{"provider error login_required", func(_ *testing.T, s *setup) string {
			u, _ := url.Parse(s.callback)
			return hRedirect + "?error=login_required&state=" + url.QueryEscape(u.Query().Get("state"))
		}, "login_required", ErrProviderError},
		{"replayed callback", func(t *testing.T, s *setup) string {
			_, err := s.h.handleCallback(s.callback)
			require.NoError(t, err)
			s.h.tokens.mu.Lock()
			s.h.tokens.forms, s.h.tokens.requests = nil, nil
			s.h.tokens.mu.Unlock()
			return s.callback
		}, CodeInvalidCallback, ErrReplayedCallback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			s := &setup{h: h, callback: h.login(LoginOptions{})}
			target := tt.prepare(t, s)
			_, err := h.handleCallback(target)
			require.Error(t, err)
			assert.Equal(t, tt.wantCode, ErrorCode(err))
			assert.ErrorIs(t, err, tt.wantErr)
			assert.Equal(t, 0, h.tokens.count(), "no token request after a rejection")
			assert.NotContains(t, err.Error(), "code-1", "errors never echo the code")
			if tt.name != "replayed callback" {
				assert.False(t, h.client.Authenticated())
			}
			// The transaction is consumed whatever the outcome: the same
			// callback without it is a replay, unless none was handed over.
			_, err = h.client.HandleCallback(context.Background(), s.callback, nil)
			if tt.wantErr == ErrNoTransaction {
				assert.ErrorIs(t, err, ErrNoTransaction, "nothing was handed over, nothing consumed")
			} else {
				assert.ErrorIs(t, err, ErrReplayedCallback, "the transaction is consumed whatever the outcome")
			}
			assert.Equal(t, 0, h.tokens.count(), "no token request for the replay either")
		})
	}
	t.Run("provider error carries description and uri", func(t *testing.T) {
		h := newHarness(t)
		cb := h.login(LoginOptions{})
		u, _ := url.Parse(cb)
		_, err := h.handleCallback(hRedirect + "?error=access_denied&error_description=User+said+no&error_uri=https%3A%2F%2Fid.example%2Fe&state=" + url.QueryEscape(u.Query().Get("state")))
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "User said no", e.Description)
		assert.Equal(t, "https://id.example/e", e.URI)
	})
	t.Run("iss equal is accepted", func(t *testing.T) {
		h := newHarness(t)
		h.client.issRequired = true
		_, err := h.handleCallback(h.login(LoginOptions{}) + "&iss=" + url.QueryEscape(hIssuer))
		require.NoError(t, err)
	})
}

func TestHandleCallbackTokenReplyRejections(t *testing.T) {
	tests := []struct {
		name     string
		reply    func(h *harness) map[string]any
		wantCode string
	}{
		{"no id_token with openid scope", func(h *harness) map[string]any {
			return map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 60}
		}, CodeInvalidTokenResponse},
		{"id_token with another nonce", func(h *harness) map[string]any {
			return map[string]any{"access_token": "at", "token_type": "Bearer", "id_token": h.idToken(map[string]any{"nonce": "other"})}
		}, CodeInvalidIDToken},
		{"id_token from another issuer", func(h *harness) map[string]any {
			return map[string]any{"access_token": "at", "token_type": "Bearer", "id_token": h.idToken(map[string]any{"iss": "Someone Else"})}
		}, CodeInvalidIDToken},
		{"token_type not Bearer", func(h *harness) map[string]any {
			return map[string]any{"access_token": "at", "token_type": "N_A", "id_token": h.idToken(nil)}
		}, CodeInvalidTokenResponse},
		{"invalid_grant", func(h *harness) map[string]any {
			return map[string]any{"error": "invalid_grant", "errorDescription": "code expired"}
		}, CodeInvalidGrant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.tokens.reply = func(int, url.Values) (*Response, error) {
				r := tt.reply(h)
				status := 200
				if _, isErr := r["error"]; isErr {
					status = 400
				}
				return jsonResponse(status, r), nil
			}
			_, err := h.handleCallback(h.login(LoginOptions{}))
			assert.Equal(t, tt.wantCode, ErrorCode(err), "%v", err)
			assert.False(t, h.client.Authenticated(), "a rejected reply leaves no session")
			assert.Nil(t, h.client.Claims())
		})
	}
}

func TestHandleCallbackMaxAge(t *testing.T) {
	maxAge := int64(60)
	t.Run("auth_time too old", func(t *testing.T) {
		h := newHarness(t)
		h.tokens.reply = func(n int, form url.Values) (*Response, error) {
			r := h.tokenReply(n, form, 300)
			r["id_token"] = h.idToken(map[string]any{"auth_time": h.clock.Now().Add(-10 * time.Minute).Unix()})
			return jsonResponse(200, r), nil
		}
		_, err := h.handleCallback(h.login(LoginOptions{MaxAge: &maxAge}))
		assert.Equal(t, CodeInvalidIDToken, ErrorCode(err))
	})
	t.Run("auth_time missing", func(t *testing.T) {
		h := newHarness(t)
		h.tokens.reply = func(n int, form url.Values) (*Response, error) {
			r := h.tokenReply(n, form, 300)
			r["id_token"] = h.idToken(map[string]any{"auth_time": nil})
			return jsonResponse(200, r), nil
		}
		_, err := h.handleCallback(h.login(LoginOptions{MaxAge: &maxAge}))
		assert.Equal(t, CodeInvalidIDToken, ErrorCode(err))
	})
	t.Run("auth_time recent", func(t *testing.T) {
		h := newHarness(t)
		_, err := h.handleCallback(h.login(LoginOptions{MaxAge: &maxAge}))
		assert.NoError(t, err)
	})
}

// The provider's keys are fetched alongside the code exchange, not after
// it: the token endpoint here answers only once the JWKS request has come.
func TestHandleCallbackFetchesKeysDuringExchange(t *testing.T) {
	const jwksURL = "https://id.example/jwks"
	key := rsaKey(t, 0)
	var h *harness
	jwksSeen := make(chan struct{})
	var once sync.Once
	jwksRequests := 0
	h = newHarness(t, func(cfg *Config) {
		cfg.IDTokenSignature = SignatureJWKS
		cfg.Endpoints.JWKS = jwksURL
		tokens := cfg.Transport
		cfg.Transport = transportFunc(func(ctx context.Context, r *Request, maxBody int64) (*Response, error) {
			if r.URL == jwksURL {
				jwksRequests++
				once.Do(func() { close(jwksSeen) })
				return &Response{Status: 200, Body: jwksBody(t, jwkJSON(t, &key.PublicKey, "k1", "RS256", nil))}, nil
			}
			select {
			case <-jwksSeen:
			case <-time.After(5 * time.Second):
				t.Error("the keys were not fetched while the code was being exchanged")
			}
			return tokens.Do(ctx, r, maxBody)
		})
	})
	h.tokens.reply = func(n int, form url.Values) (*Response, error) {
		now := h.clock.Now()
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": hIssuer, "sub": "user-1", "aud": hClientID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "nonce": h.nonce})
		tok.Header["kid"] = "k1"
		idToken, err := tok.SignedString(key)
		require.NoError(t, err)
		r := h.tokenReply(n, form, 300)
		r["id_token"] = idToken
		return jsonResponse(200, r), nil
	}
	_, err := h.handleCallback(h.login(LoginOptions{}))
	require.NoError(t, err)
	assert.Equal(t, 1, jwksRequests, "one key fetch, shared by the exchange and the signature check")
	assert.Equal(t, "user-1", h.client.Claims()["sub"])
}
