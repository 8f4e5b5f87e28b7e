package pkce

import (
	"context"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/sha512"
	"math"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	vIssuer = "https://idp.example"
	vClient = "spa"
	vNonce  = "n-0S6_WzA2Mj"
	vAT     = "access-token-value"
)

func atHash256(at string) string {
	sum := sha256.Sum256([]byte(at))
	return b64u(sum[:16])
}

func TestAllowedAlgorithms(t *testing.T) {
	assert.Equal(t, []string{"RS256"}, AllowedAlgorithms(nil, nil))
	assert.Equal(t, []string{"RS256", "ES256", "PS384", "EdDSA"},
		AllowedAlgorithms([]string{"RS256", "ES256", "HS256", "none"}, []string{"PS384", "EdDSA", "HS512", "ES256"}))
}

func TestIDTokenVerify(t *testing.T) {
	rsa0, rsa1 := rsaKey(t, 0), rsaKey(t, 1)
	ec := ecKey(t, elliptic.P256())
	ed := edKey(t)
	srv := newJWKSServer(t, jwksBody(t,
		jwkJSON(t, &rsa0.PublicKey, "r0", "", nil),
		jwkJSON(t, &ec.PublicKey, "e0", "", nil),
		jwkJSON(t, ed.Public(), "o0", "", nil),
	))
	clock := newFakeClock()
	now := clock.Now()
	verifier := func(algs ...string) *IDTokenVerifier {
		return &IDTokenVerifier{
			Issuer: vIssuer, ClientID: vClient, TrustedAudiences: []string{"https://api.example"},
			Algorithms: AllowedAlgorithms(nil, algs), Mode: SignatureJWKS,
			Keys: NewRemoteKeySet(srv.url(), httpTestTransport{}, clock.Now, RetryPolicy{}), Leeway: time.Minute, Now: clock.Now,
		}
	}
	base := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": vIssuer, "sub": "u1", "aud": vClient, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
			"nonce": vNonce, "auth_time": now.Add(-time.Minute).Unix(), "at_hash": atHash256(vAT)}
	}
	with := func(changes map[string]any) jwt.MapClaims {
		c := base()
		for k, v := range changes {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	rs := func(c jwt.MapClaims) string { return mint(t, jwt.SigningMethodRS256, rsa0, "r0", c) }
	maxAge := 5 * time.Minute
	prev := &IDToken{Issuer: vIssuer, Subject: "u1", Audience: []string{vClient}, AuthTime: time.Unix(now.Add(-time.Minute).Unix(), 0), Nonce: vNonce}
	noneToken := func(c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
		require.NoError(t, err)
		return s
	}

	tests := []struct {
		name    string
		token   string
		algs    []string
		chk     *IDTokenCheck // default: nonce and access token
		wantErr string        // substring; "" = valid
	}{
		{name: "valid RS256", token: rs(base())},
		{name: "wrong iss", token: rs(with(map[string]any{"iss": "https://evil.example"})), wantErr: "iss"},
		{name: "missing iss", token: rs(with(map[string]any{"iss": nil})), wantErr: "iss"},
		{name: "iss differs by trailing slash", token: rs(with(map[string]any{"iss": vIssuer + "/"})), wantErr: "iss"},
		{name: "missing sub", token: rs(with(map[string]any{"sub": nil})), wantErr: "no sub"},
		{name: "empty sub", token: rs(with(map[string]any{"sub": ""})), wantErr: "no sub"},
		{name: "wrong aud", token: rs(with(map[string]any{"aud": "other"})), wantErr: "does not contain this client"},
		{name: "missing aud", token: rs(with(map[string]any{"aud": nil})), wantErr: "no valid aud"},
		{name: "aud array with client", token: rs(with(map[string]any{"aud": []string{vClient}}))},
		{name: "untrusted extra aud", token: rs(with(map[string]any{"aud": []string{vClient, "https://evil.example"}})), wantErr: "untrusted audience"},
		{name: "trusted extra aud", token: rs(with(map[string]any{"aud": []string{vClient, "https://api.example"}, "azp": vClient}))},
		{name: "azp mismatch", token: rs(with(map[string]any{"azp": "other"})), wantErr: "azp"},
		{name: "exp in the past", token: rs(with(map[string]any{"exp": now.Add(-2 * time.Minute).Unix()})), wantErr: "expired"},
		{name: "exp within leeway", token: rs(with(map[string]any{"exp": now.Add(-30 * time.Second).Unix()}))},
		{name: "missing exp", token: rs(with(map[string]any{"exp": nil})), wantErr: "no valid exp"},
		{name: "exp not a number", token: rs(with(map[string]any{"exp": "tomorrow"})), wantErr: "no valid exp"},
		{name: "fractional exp", token: rs(with(map[string]any{"exp": float64(now.Add(time.Hour).Unix()) + 0.5}))},
		{name: "missing iat", token: rs(with(map[string]any{"iat": nil})), wantErr: "no valid iat"},
		{name: "iat in the future", token: rs(with(map[string]any{"iat": now.Add(5 * time.Minute).Unix()})), wantErr: "future"},
		{name: "iat within leeway", token: rs(with(map[string]any{"iat": now.Add(30 * time.Second).Unix()}))},
		{name: "nonce wrong", token: rs(with(map[string]any{"nonce": "other"})), wantErr: "nonce does not match"},
		{name: "nonce missing", token: rs(with(map[string]any{"nonce": nil})), wantErr: "no nonce"},
		{name: "auth_time missing with max_age", token: rs(with(map[string]any{"auth_time": nil})), chk: &IDTokenCheck{Nonce: vNonce, MaxAge: &maxAge}, wantErr: "no auth_time"},
		{name: "auth_time too old", token: rs(with(map[string]any{"auth_time": now.Add(-time.Hour).Unix()})), chk: &IDTokenCheck{Nonce: vNonce, MaxAge: &maxAge}, wantErr: "older than max_age"},
		{name: "auth_time recent with max_age", token: rs(base()), chk: &IDTokenCheck{Nonce: vNonce, MaxAge: &maxAge}},
		{name: "at_hash mismatch", token: rs(with(map[string]any{"at_hash": atHash256("other")})), wantErr: "at_hash"},
		{name: "at_hash absent is fine", token: rs(with(map[string]any{"at_hash": nil}))},
		{name: "alg none", token: noneToken(base()), wantErr: "not allowed"},
		{name: "HS256 in jwks mode", token: mint(t, jwt.SigningMethodHS256, []byte("secret"), "r0", base()), wantErr: "not allowed"},
		{name: "RS256 signed by another key", token: mint(t, jwt.SigningMethodRS256, rsa1, "r0", base()), wantErr: "signature"},
		{name: "RS256 tampered payload", token: func() string {
			tok := rs(base())
			other := rs(with(map[string]any{"sub": "admin"}))
			return tok[:len(tok)-len(tok[lastDot(tok):])] + other[lastDot(other):]
		}(), wantErr: "signature"},
		{name: "ES256 ok when allowed", token: mint(t, jwt.SigningMethodES256, ec, "e0", base()), algs: []string{"ES256"}},
		{name: "ES256 not allowed by default", token: mint(t, jwt.SigningMethodES256, ec, "e0", base()), wantErr: "not allowed"},
		{name: "ES256 bad signature", token: mint(t, jwt.SigningMethodES256, ecKey(t, elliptic.P256()), "e0", base()), algs: []string{"ES256"}, wantErr: "signature"},
		{name: "PS256 ok when allowed", token: mint(t, jwt.SigningMethodPS256, rsa0, "r0", with(map[string]any{"at_hash": nil})), algs: []string{"PS256"}},
		{name: "EdDSA ok when allowed", token: mint(t, jwt.SigningMethodEdDSA, ed, "o0", with(map[string]any{"at_hash": func() string {
			sum := sha512.Sum512([]byte(vAT))
			return b64u(sum[:32])
		}()})), algs: []string{"EdDSA"}},
		{name: "unknown kid", token: mint(t, jwt.SigningMethodRS256, rsa0, "nope", base()), wantErr: "no key with kid"},
		{name: "not a JWT", token: "not.a.jwt", wantErr: "well-formed"},
		{name: "refresh keeps identity", token: rs(with(map[string]any{"nonce": nil})), chk: &IDTokenCheck{Previous: prev}},
		{name: "refresh sub changed", token: rs(with(map[string]any{"sub": "u2", "nonce": nil})), chk: &IDTokenCheck{Previous: prev}, wantErr: "another sub"},
		{name: "refresh iss changed", token: rs(with(map[string]any{"nonce": nil})), chk: &IDTokenCheck{Previous: &IDToken{Issuer: "https://old.example", Subject: "u1", Audience: []string{vClient}}}, wantErr: "another iss"},
		{name: "refresh aud changed", token: rs(with(map[string]any{"aud": []string{vClient, "https://api.example"}, "nonce": nil})), chk: &IDTokenCheck{Previous: prev}, wantErr: "another aud"},
		{name: "refresh auth_time changed", token: rs(with(map[string]any{"auth_time": now.Unix(), "nonce": nil})), chk: &IDTokenCheck{Previous: prev}, wantErr: "another auth_time"},
		{name: "refresh nonce changed", token: rs(with(map[string]any{"nonce": "other"})), chk: &IDTokenCheck{Previous: prev}, wantErr: "another nonce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chk := IDTokenCheck{Nonce: vNonce, AccessToken: vAT}
			if tt.chk != nil {
				chk = *tt.chk
				chk.AccessToken = vAT
			}
			got, err := verifier(tt.algs...).Verify(context.Background(), tt.token, chk)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, "u1", got.Subject)
				assert.Equal(t, tt.token, got.Raw)
				assert.Equal(t, vIssuer, got.Claims["iss"])
				return
			}
			require.Error(t, err)
			assert.Equal(t, CodeInvalidIDToken, ErrorCode(err))
			assert.Contains(t, err.Error(), tt.wantErr)
			if len(tt.token) > 20 {
				assert.NotContains(t, err.Error(), tt.token[:20], "the token never appears in errors")
			}
			if chk.Previous != nil {
				assert.ErrorIs(t, err, ErrRefreshClaimsChange)
			}
		})
	}
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return 0
}

func TestIDTokenKeyRotation(t *testing.T) {
	rsa0, rsa1 := rsaKey(t, 0), rsaKey(t, 1)
	srv := newJWKSServer(t, jwksBody(t, jwkJSON(t, &rsa0.PublicKey, "old", "", nil)))
	clock := newFakeClock()
	v := &IDTokenVerifier{Issuer: vIssuer, ClientID: vClient, Algorithms: []string{"RS256"}, Mode: SignatureJWKS,
		Keys: NewRemoteKeySet(srv.url(), httpTestTransport{}, clock.Now, RetryPolicy{}), Leeway: time.Minute, Now: clock.Now}
	claims := jwt.MapClaims{"iss": vIssuer, "sub": "u1", "aud": vClient, "exp": clock.Now().Add(time.Hour).Unix(), "iat": clock.Now().Unix()}
	_, err := v.Verify(context.Background(), mint(t, jwt.SigningMethodRS256, rsa0, "old", claims), IDTokenCheck{})
	require.NoError(t, err)

	srv.set(200, jwksBody(t, jwkJSON(t, &rsa0.PublicKey, "old", "", nil), jwkJSON(t, &rsa1.PublicKey, "new", "", nil)))
	_, err = v.Verify(context.Background(), mint(t, jwt.SigningMethodRS256, rsa1, "new", claims), IDTokenCheck{})
	require.NoError(t, err, "accepted after refetching the rotated keys")
	assert.Equal(t, int32(2), srv.hits.Load())
}

func TestIDTokenSeveralKeysWithoutKid(t *testing.T) {
	rsa0, rsa1 := rsaKey(t, 0), rsaKey(t, 1)
	srv := newJWKSServer(t, jwksBody(t, jwkJSON(t, &rsa0.PublicKey, "", "", nil), jwkJSON(t, &rsa1.PublicKey, "", "", nil)))
	clock := newFakeClock()
	v := &IDTokenVerifier{Issuer: vIssuer, ClientID: vClient, Algorithms: []string{"RS256"}, Mode: SignatureJWKS,
		Keys: NewRemoteKeySet(srv.url(), httpTestTransport{}, clock.Now, RetryPolicy{}), Leeway: time.Minute, Now: clock.Now}
	claims := jwt.MapClaims{"iss": vIssuer, "sub": "u1", "aud": vClient, "exp": clock.Now().Add(time.Hour).Unix(), "iat": clock.Now().Unix()}
	_, err := v.Verify(context.Background(), mint(t, jwt.SigningMethodRS256, rsa1, "", claims), IDTokenCheck{})
	assert.NoError(t, err, "the second key is tried after the first fails")
	_, err = v.Verify(context.Background(), mint(t, jwt.SigningMethodRS256, ecKeyRSAStandIn(t), "", claims), IDTokenCheck{})
	assert.Equal(t, CodeInvalidIDToken, ErrorCode(err), "no key verifies: rejected")
}

// ecKeyRSAStandIn is an RSA key that is in no key set.
func ecKeyRSAStandIn(t *testing.T) any {
	rsaKey(t, 0)
	return testRSASmall
}

func TestIDTokenTLSMode(t *testing.T) {
	clock := newFakeClock()
	now := clock.Now()
	v := &IDTokenVerifier{Issuer: "Screening Eagle ID", ClientID: vClient, Algorithms: AllowedAlgorithms(nil, nil), Mode: SignatureTLS, Leeway: time.Minute, Now: clock.Now}
	claims := func(changes map[string]any) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "Screening Eagle ID", "sub": "u1", "aud": vClient, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nonce": vNonce}
		for k, val := range changes {
			c[k] = val
		}
		return c
	}
	hs := func(c jwt.MapClaims) string {
		return mint(t, jwt.SigningMethodHS256, []byte("a secret we do not have"), "", c)
	}
	tests := []struct {
		name    string
		token   string
		wantErr string
	}{
		{"HS256 with a signature we cannot check", hs(claims(nil)), ""},
		{"RS256 accepted too", mint(t, jwt.SigningMethodRS256, rsaKey(t, 0), "", claims(nil)), ""},
		{"wrong iss still rejected", hs(claims(map[string]any{"iss": "Other"})), "iss"},
		{"expired still rejected", hs(claims(map[string]any{"exp": now.Add(-time.Hour).Unix()})), "expired"},
		{"nonce still checked", hs(claims(map[string]any{"nonce": "x"})), "nonce"},
		{"aud still checked", hs(claims(map[string]any{"aud": "x"})), "aud"},
		{"alg none still rejected", func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}(), "not allowed"},
		{"garbage", "a.b.c", "well-formed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tt.token, IDTokenCheck{Nonce: vNonce})
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.Equal(t, CodeInvalidIDToken, ErrorCode(err))
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func FuzzVerifyIDToken(f *testing.F) {
	key := rsaKey(f, 0)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	claims := jwt.MapClaims{"iss": vIssuer, "sub": "u1", "aud": vClient, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nonce": vNonce}
	f.Add(mint(f, jwt.SigningMethodRS256, key, "k", claims))
	f.Add(mint(f, jwt.SigningMethodHS256, []byte("s"), "", claims))
	f.Add(mint(f, jwt.SigningMethodRS256, key, "", jwt.MapClaims{"aud": []any{1, "x"}, "exp": "x", "auth_time": true}))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("..")
	keys, err := ParseJWKS(jwksBody(f, jwkJSON(f, &key.PublicKey, "k", "", nil)))
	require.NoError(f, err)
	static := StaticKeySet{Keys: keys}
	jwksMode := &IDTokenVerifier{Issuer: vIssuer, ClientID: vClient, Algorithms: []string{"RS256"}, Mode: SignatureJWKS, Keys: static, Leeway: time.Minute, Now: func() time.Time { return now }}
	tlsMode := &IDTokenVerifier{Issuer: vIssuer, ClientID: vClient, Algorithms: []string{"RS256"}, Mode: SignatureTLS, Leeway: time.Minute, Now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, v := range []*IDTokenVerifier{jwksMode, tlsMode} {
			tok, err := v.Verify(context.Background(), raw, IDTokenCheck{Nonce: vNonce})
			if err != nil {
				requireTyped(t, err, CodeInvalidIDToken)
				continue
			}
			if tok.Issuer != vIssuer || tok.Subject == "" || tok.Nonce != vNonce {
				t.Fatalf("accepted a token with bad claims: %+v", tok)
			}
		}
	})
}

func TestNumericDate(t *testing.T) {
	tests := []struct {
		name   string
		in     float64
		want   time.Time
		wantOK bool
	}{
		{"integer", 1795341600, time.Unix(1795341600, 0), true},
		{"fraction", 1795341600.25, time.Unix(1795341600, 250_000_000), true},
		{"the epoch", 0, time.Unix(0, 0), true},
		{"before the epoch", -86400, time.Unix(-86400, 0), true},
		{"the bound", maxNumericDate, time.Unix(1e11, 0), true},
		{"beyond the bound", maxNumericDate + 1, time.Time{}, false},
		{"beyond the bound, negative", -maxNumericDate - 1, time.Time{}, false},
		{"NaN", math.NaN(), time.Time{}, false},
		{"infinity", math.Inf(1), time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := numericDate(tt.in)
			assert.Equal(t, tt.wantOK, ok)
			assert.True(t, tt.want.Equal(got), "got %v", got)
		})
	}
}

func TestIDTokenVerifierWithoutKeySet(t *testing.T) {
	clock := newFakeClock()
	v := &IDTokenVerifier{Issuer: vIssuer, ClientID: vClient, Algorithms: []string{"RS256"}, Mode: SignatureJWKS, Leeway: time.Minute, Now: clock.Now}
	claims := jwt.MapClaims{"iss": vIssuer, "sub": "u1", "aud": vClient, "exp": clock.Now().Add(time.Hour).Unix(), "iat": clock.Now().Unix()}
	_, err := v.Verify(context.Background(), mint(t, jwt.SigningMethodRS256, rsaKey(t, 0), "k", claims), IDTokenCheck{})
	assert.Equal(t, CodeInvalidConfig, ErrorCode(err), "a typed error, not a nil dereference")
}
