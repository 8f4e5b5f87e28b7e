//go:build js && wasm

package jsbridge

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/url"
	"strings"
	"testing"

	"github.com/hack-pad/safejs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mezzo-auth/mezzo/pkce"
)

// newTestDPoPKey makes what the loader's dpopKey hands to createClient: a
// WebCrypto ECDSA P-256 pair, the private key non-extractable, and the
// public JWK.
func newTestDPoPKey(t *testing.T) safejs.Value {
	t.Helper()
	global := safejs.Global()
	crypto, err := global.Get("crypto")
	require.NoError(t, err)
	subtle, err := crypto.Get("subtle")
	require.NoError(t, err)
	gen, err := subtle.Call("generateKey", map[string]any{"name": "ECDSA", "namedCurve": "P-256"}, false, []any{"sign", "verify"})
	require.NoError(t, err)
	pair, err := Await(context.Background(), gen)
	require.NoError(t, err)
	priv, err := pair.Get("privateKey")
	require.NoError(t, err)
	pub, err := pair.Get("publicKey")
	require.NoError(t, err)
	exp, err := subtle.Call("exportKey", "jwk", pub)
	require.NoError(t, err)
	jwk, err := Await(context.Background(), exp)
	require.NoError(t, err)
	ctor, err := global.Get("Object")
	require.NoError(t, err)
	v, err := ctor.New()
	require.NoError(t, err)
	require.NoError(t, v.Set("privateKey", priv))
	require.NoError(t, v.Set("jwk", jwk))
	return v
}

// decodeProof splits a compact JWS, checks its ES256 signature with the
// header's jwk, and returns header and claims.
func decodeProof(t *testing.T, proof string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(proof, ".")
	require.Len(t, parts, 3)
	part := func(i int, into any) {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, into))
	}
	part(0, &header)
	part(1, &claims)
	jwk := header["jwk"].(map[string]any)
	coord := func(k string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(jwk[k].(string))
		require.NoError(t, err)
		return b
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	require.Len(t, sig, 64, "r||s, not DER")
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, coord("x")...), coord("y")...))
	require.NoError(t, err)
	assert.True(t, ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])), "WebCrypto's signature verifies with the proof's jwk")
	return header, claims
}

// TestDPoPHandle: with dpop on, the handle signs proofs with the WebCrypto
// key it was given, binds the authorization request to it, and refuses to
// start without one.
func TestDPoPHandle(t *testing.T) {
	th := newTestHandleWith(t, map[string]any{"dpop": true})

	proof := th.call(t, "dpopProof", "POST", "https://api.example/things?x=1#f", "tok")
	s, err := proof.String()
	require.NoError(t, err, "a proof, not a rejection")
	header, claims := decodeProof(t, s)
	assert.Equal(t, "dpop+jwt", header["typ"])
	assert.Equal(t, "ES256", header["alg"])
	assert.Equal(t, "POST", claims["htm"])
	assert.Equal(t, "https://api.example/things", claims["htu"], "no query, no fragment")
	ath := sha256.Sum256([]byte("tok"))
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(ath[:]), claims["ath"])

	jkt, err := th.call(t, "dpopThumbprint").String()
	require.NoError(t, err)
	jwk := header["jwk"].(map[string]any)
	want, err := pkce.PublicJWK{Kty: "EC", Crv: "P-256", X: jwk["x"].(string), Y: jwk["y"].(string)}.Thumbprint()
	require.NoError(t, err)
	assert.Equal(t, want, jkt)

	for mode, want := range map[string]string{"silent": jkt, "popup": jkt, "redirect": ""} {
		login := th.call(t, "login", nil, mode)
		u, err := url.Parse(str(t, login, "url"))
		require.NoError(t, err)
		assert.Equal(t, want, u.Query().Get("dpop_jkt"), "RFC 9449 §10: an embedded sign-in's code is bound to the key, a redirect's is not (%s)", mode)
	}

	t.Run("resourceResponse retries once on a nonce challenge", func(t *testing.T) {
		challenge := map[string]any{"status": 401, "headers": map[string]any{
			"dpop-nonce": "n-1", "www-authenticate": `DPoP error="use_dpop_nonce"`,
		}}
		again, err := th.call(t, "resourceResponse", "https://api.example/things", challenge, false).Bool()
		require.NoError(t, err)
		assert.True(t, again)
		r := th.call(t, "resourceResponse", "https://api.example/things", challenge, true)
		assert.Equal(t, pkce.CodeDPoPNonceFailed, str(t, r, "code"))
		_, claims := decodeProof(t, mustString(t, th.call(t, "dpopProof", "GET", "https://api.example/other", nil)))
		assert.Equal(t, "n-1", claims["nonce"], "the server's latest nonce goes into its next proof")
	})
	t.Run("bad arguments are typed", func(t *testing.T) {
		for _, c := range []struct {
			method string
			args   []any
		}{
			{"dpopProof", []any{}},
			{"dpopProof", []any{"GET", 5}},
			{"dpopProof", []any{"G ET", "https://api.example/"}},
			{"dpopProof", []any{"GET", "https://api.example/", 5}},
			{"resourceResponse", []any{"https://api.example/", map[string]any{"status": 99}}},
			{"resourceResponse", []any{"https://api.example/", map[string]any{"status": 200.5}}},
			{"resourceResponse", []any{"https://api.example/", map[string]any{"status": 200, "headers": map[string]any{"a": 1}}}},
			{"resourceResponse", []any{"https://api.example/", map[string]any{"status": 200, "body": "x"}}},
		} {
			r := th.call(t, c.method, c.args...)
			assert.Equal(t, CodeInvalidArgument, str(t, r, "code"), "%s %v", c.method, c.args)
		}
	})
}

func TestDPoPKeyRequired(t *testing.T) {
	emit, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any { return nil })
	require.NoError(t, err)
	defer emit.Release()
	opts, err := safejs.ValueOf(map[string]any{
		"clientId": "spa", "redirectUri": testRedirect, "issuer": "https://idp.example", "dpop": true,
		"authorizationEndpoint": testIdP + "authorize", "tokenEndpoint": testIdP + "token", "idTokenSignature": "tls",
	})
	require.NoError(t, err)
	for name, key := range map[string]any{
		"no key":         nil,
		"no private key": map[string]any{"jwk": map[string]any{"kty": "EC"}},
		"no public key":  map[string]any{"privateKey": map[string]any{}},
		"malformed jwk":  map[string]any{"privateKey": map[string]any{}, "jwk": map[string]any{"kty": 5}},
	} {
		t.Run(name, func(t *testing.T) {
			k, err := safejs.ValueOf(key)
			require.NoError(t, err)
			_, err = newHandle(opts, emit.Value(), k)
			assert.Equal(t, CodeDPoPKeyUnavailable, pkce.ErrorCode(err), "no silent downgrade to Bearer")
		})
	}
	t.Run("a key off the curve", func(t *testing.T) {
		bad := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
		k, err := safejs.ValueOf(map[string]any{"privateKey": map[string]any{}, "jwk": map[string]any{"kty": "EC", "crv": "P-256", "x": bad, "y": bad}})
		require.NoError(t, err)
		_, err = newHandle(opts, emit.Value(), k)
		assert.Equal(t, pkce.CodeInvalidConfig, pkce.ErrorCode(err))
	})
}

func mustString(t *testing.T, v safejs.Value) string {
	t.Helper()
	s, err := v.String()
	require.NoError(t, err, "a string, not a rejection")
	return s
}
