package pkce

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseJWKS(t *testing.T) {
	rsaPub := &rsaKey(t, 0).PublicKey
	p256 := &ecKey(t, elliptic.P256()).PublicKey
	p384 := &ecKey(t, elliptic.P384()).PublicKey
	p521 := &ecKey(t, elliptic.P521()).PublicKey
	ed := edKey(t).Public()
	rsaKey(t, 0)
	small := &testRSASmall.PublicKey
	offCurve := jwkJSON(t, p256, "bad", "", nil)
	offCurve["y"] = offCurve["x"]

	tests := []struct {
		name     string
		keys     []map[string]any
		raw      string // used instead of keys when set
		wantKids []string
		wantErr  string
	}{
		{name: "RSA", keys: []map[string]any{jwkJSON(t, rsaPub, "r1", "RS256", nil)}, wantKids: []string{"r1"}},
		{name: "EC P-256, P-384, P-521", keys: []map[string]any{jwkJSON(t, p256, "e1", "", nil), jwkJSON(t, p384, "e2", "", nil), jwkJSON(t, p521, "e3", "", nil)}, wantKids: []string{"e1", "e2", "e3"}},
		{name: "Ed25519", keys: []map[string]any{jwkJSON(t, ed, "o1", "EdDSA", nil)}, wantKids: []string{"o1"}},
		{name: "use sig kept", keys: []map[string]any{jwkJSON(t, rsaPub, "r1", "", map[string]any{"use": "sig"})}, wantKids: []string{"r1"}},
		{name: "use enc skipped", keys: []map[string]any{jwkJSON(t, rsaPub, "r1", "", map[string]any{"use": "enc"})}, wantKids: nil},
		{name: "oct skipped", keys: []map[string]any{{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}}, wantKids: nil},
		{name: "unknown kty skipped", keys: []map[string]any{{"kty": "PQC", "kid": "q"}, jwkJSON(t, rsaPub, "r1", "", nil)}, wantKids: []string{"r1"}},
		{name: "X25519 skipped", keys: []map[string]any{{"kty": "OKP", "crv": "X25519", "x": b64u(make([]byte, 32)), "kid": "x"}}, wantKids: nil},
		{name: "secp256k1 skipped", keys: []map[string]any{{"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}}, wantKids: nil},
		{name: "RSA under 2048 bits", keys: []map[string]any{jwkJSON(t, small, "weak", "", nil)}, wantErr: "2048"},
		{name: "RSA even exponent", keys: []map[string]any{jwkJSON(t, rsaPub, "r", "", map[string]any{"e": "Ag"})}, wantErr: "exponent"},
		{name: "RSA bad base64", keys: []map[string]any{{"kty": "RSA", "n": "!!", "e": "AQAB"}}, wantErr: "modulus"},
		{name: "EC off the curve", keys: []map[string]any{offCurve}, wantErr: "not on the curve"},
		{name: "EC short coordinate", keys: []map[string]any{jwkJSON(t, p256, "s", "", map[string]any{"x": "AAAA"})}, wantErr: "coordinates"},
		{name: "Ed25519 short key", keys: []map[string]any{{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}}, wantErr: "Ed25519"},
		{name: "key not an object", raw: `{"keys":[42]}`, wantErr: "malformed"},
		{name: "no keys array", raw: `{"kty":"RSA"}`, wantErr: "no \"keys\""},
		{name: "not JSON", raw: `<html>`, wantErr: "not a JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.raw)
			if tt.raw == "" {
				data = jwksBody(t, tt.keys...)
			}
			got, err := ParseJWKS(data)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Equal(t, CodeInvalidIDToken, ErrorCode(err))
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			var kids []string
			for _, k := range got {
				kids = append(kids, k.KeyID)
			}
			assert.Equal(t, tt.wantKids, kids)
		})
	}
	t.Run("key values round-trip", func(t *testing.T) {
		got, err := ParseJWKS(jwksBody(t, jwkJSON(t, rsaPub, "r", "", nil), jwkJSON(t, p384, "e", "", nil)))
		require.NoError(t, err)
		assert.True(t, rsaPub.Equal(got[0].Key.(*rsa.PublicKey)))
		assert.True(t, p384.Equal(got[1].Key.(*ecdsa.PublicKey)))
	})
}

func TestKeySet(t *testing.T) {
	ctx := context.Background()
	k1, k2 := &rsaKey(t, 0).PublicKey, &rsaKey(t, 1).PublicKey

	t.Run("fetches on first use and matches kid", func(t *testing.T) {
		srv := newJWKSServer(t, jwksBody(t, jwkJSON(t, k1, "a", "", nil), jwkJSON(t, k2, "b", "", nil)))
		ks := NewRemoteKeySet(srv.url(), httpTestTransport{}, newFakeClock().Now, RetryPolicy{})
		keys, err := ks.VerificationKeys(ctx, "b", "RS256")
		require.NoError(t, err)
		require.Len(t, keys, 1)
		assert.True(t, k2.Equal(keys[0]))
		_, err = ks.VerificationKeys(ctx, "a", "RS256")
		require.NoError(t, err)
		assert.Equal(t, int32(1), srv.hits.Load(), "cached")
	})
	t.Run("a single key is used for a token without kid", func(t *testing.T) {
		srv := newJWKSServer(t, jwksBody(t, jwkJSON(t, k1, "a", "", nil)))
		keys, err := NewRemoteKeySet(srv.url(), httpTestTransport{}, nil, RetryPolicy{}).VerificationKeys(ctx, "", "RS256")
		require.NoError(t, err)
		assert.Len(t, keys, 1)
	})
	t.Run("several keys without kid are all candidates", func(t *testing.T) {
		ec := &ecKey(t, elliptic.P256()).PublicKey
		srv := newJWKSServer(t, jwksBody(t, jwkJSON(t, k1, "", "", nil), jwkJSON(t, k2, "", "", nil), jwkJSON(t, ec, "", "", nil)))
		keys, err := NewRemoteKeySet(srv.url(), httpTestTransport{}, nil, RetryPolicy{}).VerificationKeys(ctx, "", "RS256")
		require.NoError(t, err)
		assert.Len(t, keys, 2, "both RSA keys, not the EC one")
	})
	t.Run("alg must suit the key", func(t *testing.T) {
		srv := newJWKSServer(t, jwksBody(t, jwkJSON(t, k1, "a", "RS256", nil)))
		_, err := NewRemoteKeySet(srv.url(), httpTestTransport{}, nil, RetryPolicy{}).VerificationKeys(ctx, "a", "PS256")
		assert.Equal(t, CodeInvalidIDToken, ErrorCode(err), "the JWK's alg restricts it")
		p384 := &ecKey(t, elliptic.P384()).PublicKey
		srv2 := newJWKSServer(t, jwksBody(t, jwkJSON(t, p384, "e", "", nil)))
		_, err = NewRemoteKeySet(srv2.url(), httpTestTransport{}, nil, RetryPolicy{}).VerificationKeys(ctx, "e", "ES256")
		assert.Equal(t, CodeInvalidIDToken, ErrorCode(err), "ES256 needs P-256")
	})
	t.Run("unknown kid refetches once, then at most every 10 s", func(t *testing.T) {
		clock := newFakeClock()
		srv := newJWKSServer(t, jwksBody(t, jwkJSON(t, k1, "a", "", nil)))
		ks := NewRemoteKeySet(srv.url(), httpTestTransport{}, clock.Now, RetryPolicy{})
		_, err := ks.VerificationKeys(ctx, "a", "RS256")
		require.NoError(t, err)

		srv.set(200, jwksBody(t, jwkJSON(t, k1, "a", "", nil), jwkJSON(t, k2, "b", "", nil))) // rotated just before signing
		keys, err := ks.VerificationKeys(ctx, "b", "RS256")
		require.NoError(t, err, "refetched at once although the set is fresh")
		assert.True(t, k2.Equal(keys[0]))
		assert.Equal(t, int32(2), srv.hits.Load())

		_, err = ks.VerificationKeys(ctx, "c", "RS256")
		assert.Equal(t, CodeInvalidIDToken, ErrorCode(err))
		assert.Equal(t, int32(2), srv.hits.Load(), "a further unknown kid within 10 s: no fetch")
		clock.Advance(5 * time.Second)
		_, err = ks.VerificationKeys(ctx, "c", "RS256")
		assert.Equal(t, CodeInvalidIDToken, ErrorCode(err))
		assert.Equal(t, int32(2), srv.hits.Load(), "still rate-limited")
		clock.Advance(5 * time.Second)
		_, _ = ks.VerificationKeys(ctx, "c", "RS256")
		assert.Equal(t, int32(3), srv.hits.Load(), "allowed again after 10 s")
	})
	t.Run("concurrent lookups share one request", func(t *testing.T) {
		srv := newJWKSServer(t, jwksBody(t, jwkJSON(t, k1, "a", "", nil)))
		gate := make(chan struct{})
		srv.mu.Lock()
		srv.gate = gate
		srv.mu.Unlock()
		ks := NewRemoteKeySet(srv.url(), httpTestTransport{}, nil, RetryPolicy{})
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := ks.VerificationKeys(ctx, "a", "RS256")
				errs <- err
			}()
		}
		require.Eventually(t, func() bool { return srv.hits.Load() == 1 }, time.Second, time.Millisecond)
		time.Sleep(20 * time.Millisecond)
		close(gate)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		assert.Equal(t, int32(1), srv.hits.Load())
	})
	t.Run("cached keys survive a failed refetch", func(t *testing.T) {
		srv := newJWKSServer(t, jwksBody(t, jwkJSON(t, k1, "a", "", nil)))
		ks := NewRemoteKeySet(srv.url(), httpTestTransport{}, newFakeClock().Now, RetryPolicy{})
		_, err := ks.VerificationKeys(ctx, "a", "RS256")
		require.NoError(t, err)
		srv.set(500, []byte(`oops`))
		_, err = ks.VerificationKeys(ctx, "new", "RS256")
		require.Error(t, err)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 500, e.Status)
		keys, err := ks.VerificationKeys(ctx, "a", "RS256")
		require.NoError(t, err, "the old key is still there")
		assert.Len(t, keys, 1)
	})
	t.Run("transient failures are retried a bounded number of times", func(t *testing.T) {
		good := jwksBody(t, jwkJSON(t, k1, "a", "", nil))
		tests := []struct {
			name       string
			status     int
			body       []byte
			wantHits   int32
			wantCode   string
			wantStatus int
		}{
			{"503 every time: network_error after 3 attempts", 503, []byte(`busy`), 3, CodeNetworkError, 503},
			{"429 every time: network_error after 3 attempts", 429, nil, 3, CodeNetworkError, 429},
			{"404: invalid_id_token, not retried", 404, nil, 1, CodeInvalidIDToken, 404},
			{"over 1 MiB: invalid_id_token, not retried", 200, bytes.Repeat([]byte("a"), MaxResponseBytes+10), 1, CodeInvalidIDToken, 200},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				srv := newJWKSServer(t, tt.body)
				srv.set(tt.status, tt.body)
				ks := NewRemoteKeySet(srv.url(), httpTestTransport{}, nil, RetryPolicy{Sleep: func(context.Context, time.Duration) error { return nil }})
				_, err := ks.VerificationKeys(ctx, "a", "RS256")
				assert.Equal(t, tt.wantHits, srv.hits.Load())
				assert.Equal(t, tt.wantCode, ErrorCode(err))
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, tt.wantStatus, e.Status)

				srv.set(200, good) // the provider recovers: the next lookup fetches again
				keys, err := ks.VerificationKeys(ctx, "a", "RS256")
				require.NoError(t, err)
				assert.Len(t, keys, 1)
			})
		}
	})
	t.Run("first fetch failures", func(t *testing.T) {
		srv := newJWKSServer(t, []byte(`not json`))
		_, err := NewRemoteKeySet(srv.url(), httpTestTransport{}, nil, RetryPolicy{}).VerificationKeys(ctx, "a", "RS256")
		assert.Equal(t, CodeInvalidIDToken, ErrorCode(err))
		_, err = NewRemoteKeySet("http://127.0.0.1:1/jwks", httpTestTransport{}, nil, RetryPolicy{}).VerificationKeys(ctx, "a", "RS256")
		assert.Equal(t, CodeNetworkError, ErrorCode(err))
	})
}

func FuzzParseJWKS(f *testing.F) {
	rsaPub := &rsaKey(f, 0).PublicKey
	p256 := &ecKey(f, elliptic.P256()).PublicKey
	f.Add(jwksBody(f, jwkJSON(f, rsaPub, "a", "RS256", nil), jwkJSON(f, p256, "b", "ES256", nil), jwkJSON(f, edKey(f).Public(), "c", "", nil)))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AA"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseJWKS(data)
		if err != nil {
			requireTyped(t, err, CodeInvalidIDToken)
			return
		}
		for _, k := range keys {
			if k.Key == nil {
				t.Fatal("nil key accepted")
			}
			if pub, ok := k.Key.(*rsa.PublicKey); ok && pub.N.BitLen() < minRSABits {
				t.Fatal("short RSA key accepted")
			}
		}
		_ = json.Valid(data)
	})
}
