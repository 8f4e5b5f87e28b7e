package pkce

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// Test keys are generated once per test binary (RSA is slow under -race);
// none is ever committed.
var (
	testKeysOnce sync.Once
	testRSA      [2]*rsa.PrivateKey
	testRSASmall *rsa.PrivateKey
)

func rsaKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	testKeysOnce.Do(func() {
		for j := range testRSA {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			testRSA[j] = k
		}
		k, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			panic(err)
		}
		testRSASmall = k
	})
	return testRSA[i]
}

func ecKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	require.NoError(t, err)
	return k
}

func edKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return k
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwkJSON encodes a public key as a JWK; extra fields are merged in.
func jwkJSON(t testing.TB, pub crypto.PublicKey, kid, alg string, extra map[string]any) map[string]any {
	t.Helper()
	m := map[string]any{}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64u(k.N.Bytes()), b64u(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		raw, err := k.Bytes()
		require.NoError(t, err)
		size := (k.Curve.Params().BitSize + 7) / 8
		m["kty"], m["crv"], m["x"], m["y"] = "EC", k.Curve.Params().Name, b64u(raw[1:1+size]), b64u(raw[1+size:])
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64u(k)
	default:
		t.Fatalf("unsupported key %T", pub)
	}
	if kid != "" {
		m["kid"] = kid
	}
	if alg != "" {
		m["alg"] = alg
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func jwksBody(t testing.TB, keys ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	require.NoError(t, err)
	return b
}

// mint signs claims with method and key; kid "" leaves the header without one.
func mint(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// jwksServer serves a replaceable JWK Set at /jwks, asserting each request
// is exactly a GET of that path, and counts the requests.
type jwksServer struct {
	t      testing.TB
	srv    *httptest.Server
	hits   atomic.Int32
	mu     sync.Mutex
	body   []byte
	status int
	gate   chan struct{} // when set, requests wait for it to close
}

func newJWKSServer(t testing.TB, body []byte) *jwksServer {
	s := &jwksServer{t: t, body: body, status: 200}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/jwks" || r.Header.Get("Authorization") != "" {
			t.Errorf("unexpected jwks request %s %s", r.Method, r.URL)
		}
		s.hits.Add(1)
		s.mu.Lock()
		gate, body, status := s.gate, s.body, s.status
		s.mu.Unlock()
		if gate != nil {
			<-gate
		}
		w.Header().Set("content-type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *jwksServer) set(status int, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

func (s *jwksServer) url() string { return s.srv.URL + "/jwks" }

// httpTestTransport adapts net/http for in-package tests (package
// httptransport imports pkce, so it cannot be used here).
type httpTestTransport struct{}

func (httpTestTransport) Do(ctx context.Context, r *Request, maxBody int64) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	h := map[string]string{}
	for k, v := range resp.Header {
		h[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	return &Response{Status: resp.StatusCode, Header: h, Body: body}, err
}
