package pkce

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const hUserinfo = "https://id.example/userinfo"

// newDPoPHarness is the harness with a DPoP key; reply answers each
// request, by default with a DPoP token from the token endpoint.
func newDPoPHarness(t *testing.T, reply func(h *harness, n int, req *Request, form url.Values) *Response) (*harness, *softSigner) {
	t.Helper()
	s := newSoftSigner(t)
	h := newHarness(t, func(c *Config) {
		c.DPoP = s
		c.Endpoints.Userinfo = hUserinfo
	})
	h.tokens.reply = func(n int, form url.Values) (*Response, error) {
		req := h.tokens.request(n - 1)
		if reply != nil {
			if resp := reply(h, n, req, form); resp != nil {
				return resp, nil
			}
		}
		return dpopTokenReply(h, n, form, nil), nil
	}
	return h, s
}

// dpopTokenReply is a successful DPoP token response, with a DPoP-Nonce
// header when nonce is set.
func dpopTokenReply(h *harness, n int, form url.Values, header map[string]string) *Response {
	r := h.tokenReply(n, form, 300)
	r["token_type"] = "DPoP"
	resp := jsonResponse(200, r)
	for k, v := range header {
		resp.Header[k] = v
	}
	return resp
}

func nonceError(status int, nonce string) *Response {
	resp := jsonResponse(status, map[string]any{"error": "use_dpop_nonce", "error_description": "Authorization server requires nonce in DPoP proof"})
	if nonce != "" {
		resp.Header["dpop-nonce"] = nonce
	}
	return resp
}

func (e *tokenEndpoint) request(i int) *Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests[i]
}

// proofOf verifies the DPoP proof request i carries and returns its claims.
func (h *harness) proofOf(i int, s *softSigner) map[string]any {
	h.t.Helper()
	req := h.tokens.request(i)
	require.NotEmpty(h.t, req.Header["dpop"], "request %d carries a DPoP proof", i)
	return verifyProof(h.t, req.Header["dpop"], s.PublicKey()).claims
}

func TestDPoPTokenRequestsCarryProofs(t *testing.T) {
	h, s := newDPoPHarness(t, nil)
	jkt, err := s.PublicKey().Thumbprint()
	require.NoError(t, err)
	for _, tt := range []struct {
		name     string
		embedded bool
		want     string
	}{
		{"an embedded sign-in binds its code to the key", true, jkt},
		{"a redirect, whose runtime may not outlive the page, does not", false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			authURL, _, err := h.client.Login(context.Background(), LoginOptions{Embedded: tt.embedded})
			require.NoError(t, err)
			assert.Equal(t, tt.want, queryOf(t, authURL).Get("dpop_jkt"), "RFC 9449 §10: dpop_jkt is the key's RFC 7638 thumbprint")
		})
	}
	assert.Equal(t, jkt, h.client.DPoPThumbprint())

	h.signIn()
	_, err = h.client.Token(context.Background(), TokenOptions{ForceRefresh: true})
	require.NoError(t, err)
	require.Equal(t, 2, h.tokens.count())
	jtis := map[any]bool{}
	for i, grant := range []string{"authorization_code", "refresh_token"} {
		assert.Equal(t, grant, h.tokens.form(i).Get("grant_type"))
		c := h.proofOf(i, s)
		assert.Equal(t, "POST", c["htm"], "RFC 9449 §4.2: htm")
		assert.Equal(t, "https://id.example/api/id/v1/auth/token", c["htu"], "RFC 9449 §4.2: htu")
		assert.NotContains(t, c, "ath", "RFC 9449 §4.2: ath only with an access token")
		assert.NotContains(t, c, "nonce", "no nonce was supplied")
		assert.NotContains(t, h.tokens.request(i).Header, "authorization", "a public client sends no Authorization header")
		jtis[c["jti"]] = true
	}
	assert.Len(t, jtis, 2, "a fresh proof per request")
	tok, err := h.client.Token(context.Background(), TokenOptions{})
	require.NoError(t, err)
	assert.Equal(t, "at-2", tok.AccessToken)
}

func TestDPoPTokenType(t *testing.T) {
	tests := []struct {
		name      string
		dpop      bool
		tokenType any // nil: absent
		wantCode  string
	}{
		{name: "DPoP with DPoP", dpop: true, tokenType: "DPoP"},
		{name: "DPoP in lower case (RFC 6749 §5.1: case-insensitive)", dpop: true, tokenType: "dpop"},
		{name: "Bearer although DPoP was used", dpop: true, tokenType: "Bearer", wantCode: CodeInvalidTokenResponse},
		{name: "token_type missing with DPoP", dpop: true, tokenType: nil, wantCode: CodeInvalidTokenResponse},
		{name: "DPoP with a trailing space", dpop: true, tokenType: "DPoP ", wantCode: CodeInvalidTokenResponse},
		{name: "token_type not a string", dpop: true, tokenType: 1, wantCode: CodeInvalidTokenResponse},
		{name: "DPoP although DPoP was not used", dpop: false, tokenType: "DPoP", wantCode: CodeInvalidTokenResponse},
		{name: "Bearer without DPoP", dpop: false, tokenType: "Bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mutate []func(*Config)
			if tt.dpop {
				mutate = append(mutate, func(c *Config) { c.DPoP = newSoftSigner(t) })
			}
			h := newHarness(t, mutate...)
			h.tokens.reply = func(n int, form url.Values) (*Response, error) {
				r := h.tokenReply(n, form, 300)
				r["token_type"] = tt.tokenType
				if tt.tokenType == nil {
					delete(r, "token_type")
				}
				return jsonResponse(200, r), nil
			}
			_, err := h.handleCallback(h.login(LoginOptions{}))
			if tt.wantCode == "" {
				require.NoError(t, err)
				assert.True(t, h.client.Authenticated())
				return
			}
			assert.Equal(t, tt.wantCode, ErrorCode(err))
			assert.False(t, h.client.Authenticated())
		})
	}
}

func TestDPoPTokenEndpointNonce(t *testing.T) {
	tests := []struct {
		name string
		// replies answers request n (1-based) of the code exchange; nil means success.
		replies     map[int]*Response
		wantCode    string
		wantCount   int
		wantNonces  []any // the nonce claim of each request's proof (nil: none)
		wantErrCode string
	}{
		{name: "asked once: one retry with the nonce (RFC 9449 §8)",
			replies:   map[int]*Response{1: nonceError(400, "eyJ7S_zG.eyJH0-Z.HX4w-7v")},
			wantCount: 2, wantNonces: []any{nil, "eyJ7S_zG.eyJH0-Z.HX4w-7v"}},
		{name: "asked again after the retry: dpop_nonce_failed, never a loop",
			replies:   map[int]*Response{1: nonceError(400, "n-1"), 2: nonceError(400, "n-2"), 3: nonceError(400, "n-3")},
			wantCode:  CodeDPoPNonceFailed,
			wantCount: 2, wantNonces: []any{nil, "n-1"}},
		{name: "asked without a DPoP-Nonce header: no retry",
			replies:  map[int]*Response{1: nonceError(400, "")},
			wantCode: CodeDPoPNonceFailed, wantCount: 1, wantNonces: []any{nil}},
		{name: "nonce that is not NQCHAR (RFC 9449 §8.1): no retry",
			replies:  map[int]*Response{1: nonceError(400, "two words")},
			wantCode: CodeDPoPNonceFailed, wantCount: 1, wantNonces: []any{nil}},
		{name: "use_dpop_nonce on another status than 400 is the provider's error",
			replies:  map[int]*Response{1: nonceError(401, "n-1")},
			wantCode: "use_dpop_nonce", wantCount: 1, wantNonces: []any{nil}},
		{name: "another error with a nonce: no retry, nonce kept for later",
			replies: map[int]*Response{1: func() *Response {
				r := nonceError(400, "n-1")
				r.Body = []byte(`{"error":"invalid_dpop_proof"}`)
				return r
			}()},
			wantCode: "invalid_dpop_proof", wantCount: 1, wantNonces: []any{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, s := newDPoPHarness(t, func(h *harness, n int, _ *Request, _ url.Values) *Response { return tt.replies[n] })
			_, err := h.handleCallback(h.login(LoginOptions{}))
			assert.Equal(t, tt.wantCode, ErrorCode(err))
			require.Equal(t, tt.wantCount, h.tokens.count())
			for i, want := range tt.wantNonces {
				assert.Equal(t, want, h.proofOf(i, s)["nonce"], "request %d", i+1)
			}
			if tt.wantCode == CodeDPoPNonceFailed {
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, 400, e.Status)
				assert.False(t, h.client.Authenticated())
			}
		})
	}
}

func TestDPoPNonceIsRemembered(t *testing.T) {
	// Request 1 (code) is asked for a nonce, 2 succeeds; 3 (refresh) must
	// carry n-1 unasked; 3's success brings n-2 (RFC 9449 §8.2), which 4 carries.
	h, s := newDPoPHarness(t, func(h *harness, n int, _ *Request, form url.Values) *Response {
		switch n {
		case 1:
			return nonceError(400, "n-1")
		case 3:
			return dpopTokenReply(h, n, form, map[string]string{"dpop-nonce": "n-2"})
		case 4:
			return dpopTokenReply(h, n, form, map[string]string{"dpop-nonce": "bad nonce"}) // not NQCHAR: ignored
		}
		return nil
	})
	h.signIn()
	for range 3 {
		_, err := h.client.Token(context.Background(), TokenOptions{ForceRefresh: true})
		require.NoError(t, err)
	}
	require.Equal(t, 5, h.tokens.count())
	var got []any
	for i := range 5 {
		got = append(got, h.proofOf(i, s)["nonce"])
	}
	assert.Equal(t, []any{nil, "n-1", "n-1", "n-2", "n-2"}, got)
}

func TestDPoPRefreshNonceFailureKeepsSession(t *testing.T) {
	h, _ := newDPoPHarness(t, func(_ *harness, n int, _ *Request, _ url.Values) *Response {
		if n > 1 {
			return nonceError(400, "n-"+string(rune('0'+n)))
		}
		return nil
	})
	h.signIn()
	_, err := h.client.Token(context.Background(), TokenOptions{ForceRefresh: true})
	assert.Equal(t, CodeDPoPNonceFailed, ErrorCode(err))
	assert.Equal(t, 3, h.tokens.count(), "one retry, and no transient retries of a 400")
	assert.True(t, h.client.Authenticated(), "a nonce failure is no invalid_grant: the session stays")
	assert.Contains(t, h.eventTypes(), EventError)
}

// resourceReply answers requests to the API at api.example.
func TestDPoPResourceRequests(t *testing.T) {
	const api = "https://api.example/orders"
	challenge := func(nonce string) *Response {
		r := &Response{Status: 401, Header: map[string]string{"www-authenticate": `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`}}
		if nonce != "" {
			r.Header["dpop-nonce"] = nonce
		}
		return r
	}
	ok := &Response{Status: 200, Header: map[string]string{}, Body: []byte("[]")}
	tests := []struct {
		name       string
		replies    []*Response // to the resource requests, in order
		wantStatus int
		wantCode   string
		wantNonces []any
	}{
		{name: "no challenge", replies: []*Response{ok}, wantStatus: 200, wantNonces: []any{nil}},
		{name: "nonce challenge: one retry with the nonce (RFC 9449 §9)", replies: []*Response{challenge("r-1"), ok}, wantStatus: 200, wantNonces: []any{nil, "r-1"}},
		{name: "challenged again: dpop_nonce_failed", replies: []*Response{challenge("r-1"), challenge("r-2"), ok}, wantCode: CodeDPoPNonceFailed, wantNonces: []any{nil, "r-1"}},
		{name: "challenge without a nonce is returned as it is", replies: []*Response{challenge("")}, wantStatus: 401, wantNonces: []any{nil}},
		{name: "a nonce with a Bearer challenge is no DPoP challenge", replies: []*Response{{Status: 401, Header: map[string]string{"www-authenticate": `Bearer error="use_dpop_nonce"`, "dpop-nonce": "r-1"}}}, wantStatus: 401, wantNonces: []any{nil}},
		{name: "403 with a DPoP challenge is not retried", replies: []*Response{func() *Response { r := challenge("r-1"); r.Status = 403; return r }()}, wantStatus: 403, wantNonces: []any{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resourceCalls []int
			h, s := newDPoPHarness(t, func(_ *harness, n int, req *Request, _ url.Values) *Response {
				if !strings.HasPrefix(req.URL, "https://api.example/") {
					return nil
				}
				resourceCalls = append(resourceCalls, n-1)
				return tt.replies[len(resourceCalls)-1]
			})
			h.signIn()
			resp, err := h.client.Fetch(context.Background(), &Request{Method: "GET", URL: api + "?page=2#top", Header: map[string]string{"accept": "application/json"}})
			assert.Equal(t, tt.wantCode, ErrorCode(err))
			if tt.wantCode == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.wantStatus, resp.Status)
			}
			require.Len(t, resourceCalls, len(tt.wantNonces))
			for i, idx := range resourceCalls {
				req := h.tokens.request(idx)
				assert.Equal(t, "DPoP at-1", req.Header["authorization"], "RFC 9449 §7.1: the DPoP scheme")
				assert.Equal(t, "application/json", req.Header["accept"], "the caller's headers are kept")
				c := h.proofOf(idx, s)
				assert.Equal(t, "GET", c["htm"])
				assert.Equal(t, api, c["htu"], "RFC 9449 §4.2: without query and fragment")
				assert.Equal(t, athOf("at-1"), c["ath"], "RFC 9449 §7.1: ath of the access token")
				assert.Equal(t, tt.wantNonces[i], c["nonce"], "resource request %d", i+1)
			}
			// The resource server's nonce is never sent to the token endpoint (RFC 9449 §9).
			_, err = h.client.Token(context.Background(), TokenOptions{ForceRefresh: true})
			require.NoError(t, err)
			assert.NotContains(t, h.proofOf(h.tokens.count()-1, s), "nonce")
		})
	}
}

func TestDPoPUserinfo(t *testing.T) {
	h, s := newDPoPHarness(t, func(_ *harness, _ int, req *Request, _ url.Values) *Response {
		if req.URL == hUserinfo {
			return jsonResponse(200, map[string]any{"sub": "user-1"})
		}
		return nil
	})
	h.signIn()
	_, err := h.client.Userinfo(context.Background())
	require.NoError(t, err)
	req := h.tokens.request(1)
	assert.Equal(t, "DPoP at-1", req.Header["authorization"])
	c := h.proofOf(1, s)
	assert.Equal(t, "GET", c["htm"])
	assert.Equal(t, hUserinfo, c["htu"])
	assert.Equal(t, athOf("at-1"), c["ath"])
}

func TestDPoPOffKeepsBearer(t *testing.T) {
	h := newHarness(t)
	h.tokens.reply = func(n int, form url.Values) (*Response, error) {
		if form.Get("grant_type") == "" {
			return &Response{Status: 200, Header: map[string]string{}}, nil
		}
		return jsonResponse(200, h.tokenReply(n, form, 300)), nil
	}
	authURL, _, err := h.client.Login(context.Background(), LoginOptions{})
	require.NoError(t, err)
	assert.NotContains(t, queryOf(t, authURL), "dpop_jkt")
	h.signIn()
	assert.NotContains(t, h.tokens.request(0).Header, "dpop")
	resp, err := h.client.Fetch(context.Background(), &Request{Method: "GET", URL: "https://api.example/x"})
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status)
	assert.Equal(t, map[string]string{"authorization": "Bearer at-1"}, h.tokens.request(1).Header)
	hdr, err := h.client.ResourceHeaders(context.Background(), "GET", "https://api.example/x")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"authorization": "Bearer at-1"}, hdr)
	_, err = h.client.DPoPProof(context.Background(), "GET", "https://api.example/x", "at-1")
	assert.Equal(t, CodeInvalidConfig, ErrorCode(err))
	assert.Empty(t, h.client.DPoPThumbprint())
	assert.False(t, h.client.ResourceResponse("https://api.example/x", &Response{Status: 401, Header: map[string]string{
		"www-authenticate": `DPoP error="use_dpop_nonce"`, "dpop-nonce": "n"}}))
}

func TestDPoPProofForOwnHTTPClient(t *testing.T) {
	h, s := newDPoPHarness(t, nil)
	h.signIn()
	assert.True(t, h.client.ResourceResponse("https://api.example/a", &Response{Status: 401, Header: map[string]string{
		"www-authenticate": `Bearer realm="x", DPoP error="use_dpop_nonce"`, "dpop-nonce": "r-9"}}), "a nonce challenge is worth a retry")
	proof, err := h.client.DPoPProof(context.Background(), "DELETE", "https://API.example:443/a/b?c", "at-1")
	require.NoError(t, err)
	c := verifyProof(t, proof, s.PublicKey()).claims
	assert.Equal(t, "DELETE", c["htm"])
	assert.Equal(t, "https://api.example/a/b", c["htu"])
	assert.Equal(t, athOf("at-1"), c["ath"])
	assert.Equal(t, "r-9", c["nonce"], "the nonce ResourceResponse learnt")

	hdr, err := h.client.ResourceHeaders(context.Background(), "GET", "https://api.example/a")
	require.NoError(t, err)
	assert.Equal(t, "DPoP at-1", hdr["authorization"])
	assert.Equal(t, athOf("at-1"), verifyProof(t, hdr["dpop"], s.PublicKey()).claims["ath"])

	h.client.Close()
	_, err = h.client.DPoPProof(context.Background(), "GET", "https://api.example/a", "at-1")
	assert.Equal(t, CodeClientClosed, ErrorCode(err))
}

func TestResourceResponse(t *testing.T) {
	const chal = `DPoP error="use_dpop_nonce"`
	tests := []struct {
		name   string
		status int
		header map[string]string
		retry  bool
		nonce  any // the nonce the next proof to the server carries
	}{
		{"401, DPoP challenge and nonce", 401, map[string]string{"www-authenticate": chal, "dpop-nonce": "n-1"}, true, "n-1"},
		{"200 with a nonce: remembered, no retry (RFC 9449 §8.2)", 200, map[string]string{"dpop-nonce": "n-1"}, false, "n-1"},
		{"401 without a nonce", 401, map[string]string{"www-authenticate": chal}, false, nil},
		{"401 with an invalid nonce", 401, map[string]string{"www-authenticate": chal, "dpop-nonce": "n 1"}, false, nil},
		{"401 with another DPoP error", 401, map[string]string{"www-authenticate": `DPoP error="invalid_token"`, "dpop-nonce": "n-1"}, false, "n-1"},
		{"401 with a malformed challenge", 401, map[string]string{"www-authenticate": `DPoP error="use_dpop_nonce`, "dpop-nonce": "n-1"}, false, "n-1"},
		{"400 with a DPoP challenge", 400, map[string]string{"www-authenticate": chal, "dpop-nonce": "n-1"}, false, "n-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, s := newDPoPHarness(t, nil)
			got := h.client.ResourceResponse("https://api.example/x?q", &Response{Status: tt.status, Header: tt.header})
			assert.Equal(t, tt.retry, got)
			proof, err := h.client.DPoPProof(context.Background(), "GET", "https://api.example/y", "t")
			require.NoError(t, err)
			assert.Equal(t, tt.nonce, verifyProof(t, proof, s.PublicKey()).claims["nonce"])
		})
	}
}

func TestResourceRetry(t *testing.T) {
	chal := map[string]string{"www-authenticate": `DPoP error="use_dpop_nonce"`, "dpop-nonce": "n-1"}
	tests := []struct {
		name     string
		status   int
		retried  bool
		want     bool
		wantCode string
	}{
		{"a first challenge asks for a retry", 401, false, true, ""},
		{"a challenge after the retry fails (RFC 9449 §9: never a loop)", 401, true, false, CodeDPoPNonceFailed},
		{"a success after the retry is the answer", 200, true, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newDPoPHarness(t, nil)
			got, err := h.client.ResourceRetry("https://api.example/x", &Response{Status: tt.status, Header: chal}, tt.retried)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantCode, ErrorCode(err))
		})
	}
}

func TestDPoPConfig(t *testing.T) {
	ctx := context.Background()
	good := newSoftSigner(t)
	md := func(extra string) Transport {
		return jsonTransport(200, `{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/auth","token_endpoint":"https://idp.example/token","jwks_uri":"https://idp.example/jwks"`+extra+`}`, nil)
	}
	tests := []struct {
		name     string
		signer   DPoPSigner
		t        Transport
		wantCode string
	}{
		{name: "valid key, no DPoP metadata", signer: good, t: md("")},
		{name: "provider accepts ES256 (RFC 9449 §5.1)", signer: good, t: md(`,"dpop_signing_alg_values_supported":["RS256","ES256"]`)},
		{name: "provider does not accept ES256", signer: good, t: md(`,"dpop_signing_alg_values_supported":["RS256","PS256"]`), wantCode: CodeInvalidConfig},
		{name: "ES256 missing is no concern without DPoP", signer: nil, t: md(`,"dpop_signing_alg_values_supported":["RS256"]`)},
		{name: "RSA key", signer: stubSigner{jwk: PublicJWK{Kty: "RSA", N: "AQAB", E: "AQAB"}}, t: md(""), wantCode: CodeInvalidConfig},
		{name: "point off the curve", signer: stubSigner{jwk: PublicJWK{Kty: "EC", Crv: "P-256", X: rfc9449Key.Y, Y: rfc9449Key.X}}, t: md(""), wantCode: CodeInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewClient(ctx, Config{ClientID: "c", RedirectURI: "http://localhost:3000/cb", Issuer: "https://idp.example", Transport: tt.t, DPoP: tt.signer})
			assert.Equal(t, tt.wantCode, ErrorCode(err))
		})
	}
	t.Run("extraParams may not set dpop_jkt", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.DPoP = good })
		_, _, err := h.client.Login(ctx, LoginOptions{ExtraParams: map[string]string{"dpop_jkt": "attacker"}})
		assert.Equal(t, CodeInvalidConfig, ErrorCode(err))
	})
}
