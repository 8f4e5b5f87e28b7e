package pkce

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// softSigner is a DPoPSigner over a software key, standing in for
// WebCrypto: it signs as WebCrypto does, ES256 as raw r||s.
type softSigner struct {
	key *ecdsa.PrivateKey
	mu  sync.Mutex
	n   int // signatures made
}

func newSoftSigner(t testing.TB) *softSigner {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return &softSigner{key: key}
}

func (s *softSigner) PublicKey() PublicJWK {
	return jwkOf(&s.key.PublicKey)
}

func (s *softSigner) Sign(ctx context.Context, input []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(input)
	r, sv, err := ecdsa.Sign(rand.Reader, s.key, sum[:])
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	sv.FillBytes(out[32:])
	return out, nil
}

// jwkOf is the public JWK of pub, computed independently of the code under test.
func jwkOf(pub *ecdsa.PublicKey) PublicJWK {
	b, err := pub.Bytes()
	if err != nil {
		panic(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return PublicJWK{Kty: "EC", Crv: "P-256", X: enc(b[1:33]), Y: enc(b[33:])}
}

// stubSigner returns a fixed key and signature, or an error.
type stubSigner struct {
	jwk PublicJWK
	sig []byte
	err error
}

func (s stubSigner) PublicKey() PublicJWK { return s.jwk }
func (s stubSigner) Sign(context.Context, []byte) ([]byte, error) {
	return s.sig, s.err
}

// proofParts is a decoded, verified proof.
type proofParts struct {
	header map[string]any
	claims map[string]any
}

// verifyProof checks a proof's ES256 signature with pub by a real ECDSA
// verification and returns its decoded header and claims.
func verifyProof(t testing.TB, proof string, pub PublicJWK) proofParts {
	t.Helper()
	parts := strings.Split(proof, ".")
	require.Len(t, parts, 3, "a compact JWS")
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		require.NoError(t, err, "base64url without padding")
		return b
	}
	x, y := dec(pub.X), dec(pub.Y)
	key, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	require.NoError(t, err)
	sig := dec(parts[2])
	require.Len(t, sig, 64, "ES256 is r||s")
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	require.True(t, ecdsa.Verify(key, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])), "signature verifies")
	var p proofParts
	require.NoError(t, json.Unmarshal(dec(parts[0]), &p.header))
	d := json.NewDecoder(bytes.NewReader(dec(parts[1])))
	d.UseNumber()
	require.NoError(t, d.Decode(&p.claims))
	return p
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func athOf(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// RFC 9449's example key (§4.2, Figure 5's proof).
var rfc9449Key = PublicJWK{Kty: "EC", Crv: "P-256",
	X: "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs", Y: "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}

// rfc9449Figure5 is the DPoP header of RFC 9449 §5 Figure 5, whose decoded
// header and claims are §4.2's example.
const rfc9449Figure5 = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik" +
	"VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCR" +
	"nMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JE" +
	"QSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIj" +
	"oiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwia" +
	"WF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg" +
	"4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg"

// TestDPoPProofRFC9449Example rebuilds RFC 9449's own proof byte for byte:
// given the example's key, jti randomness and time, the signing input is
// the RFC's, and the RFC's signature verifies over it.
func TestDPoPProofRFC9449Example(t *testing.T) {
	parts := strings.Split(rfc9449Figure5, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	jti, err := base64.RawURLEncoding.DecodeString("-BwC3ESc6acc2lTc")
	require.NoError(t, err)
	d, err := newDPoP(stubSigner{jwk: rfc9449Key, sig: sig}, bytes.NewReader(jti), func() time.Time { return time.Unix(1562262616, 0) })
	require.NoError(t, err)

	proof, err := d.proof(context.Background(), "POST", "https://server.example.com/token", "")
	require.NoError(t, err)
	assert.Equal(t, rfc9449Figure5, proof, "RFC 9449 Figure 5, byte for byte")
	p := verifyProof(t, proof, rfc9449Key) // the RFC's signature over our signing input
	assert.Equal(t, map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": map[string]any{"kty": "EC", "crv": "P-256",
		"x": rfc9449Key.X, "y": rfc9449Key.Y}}, p.header)
	assert.Equal(t, "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", d.jkt, "RFC 9449 §6.1: the example key's cnf.jkt")
}

func TestDPoPProof(t *testing.T) {
	const tok = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU" // RFC 9449 §7.1's example access token
	tests := []struct {
		name        string
		method, url string
		accessToken string
		nonces      map[string]string // origin → nonce known beforehand
		wantHTU     string
		wantATH     string
		wantNonce   string
	}{
		{name: "token request: no ath, no nonce", method: "POST", url: "https://server.example.com/token",
			wantHTU: "https://server.example.com/token"},
		{name: "resource request carries ath", method: "GET", url: "https://resource.example.org/protectedresource", accessToken: tok,
			wantHTU: "https://resource.example.org/protectedresource", wantATH: "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"},
		{name: "query and fragment are left out", method: "GET", url: "https://resource.example.org/r?a=1&b=2#frag", accessToken: tok,
			wantHTU: "https://resource.example.org/r", wantATH: athOf(tok)},
		{name: "method is kept as sent", method: "PATCH", url: "https://api.example/x", accessToken: "t",
			wantHTU: "https://api.example/x", wantATH: athOf("t")},
		{name: "nonce of the server is carried", method: "POST", url: "https://server.example.com/token",
			nonces: map[string]string{"https://server.example.com": "eyJ7S_zG.eyJH0-Z.HX4w-7v"}, wantHTU: "https://server.example.com/token", wantNonce: "eyJ7S_zG.eyJH0-Z.HX4w-7v"},
		{name: "another server's nonce is not", method: "POST", url: "https://server.example.com/token",
			nonces: map[string]string{"https://resource.example.org": "n-1", "https://server.example.com:8443": "n-2"}, wantHTU: "https://server.example.com/token"},
		{name: "nonce found through a normalised origin", method: "GET", url: "HTTPS://Server.Example.COM:443/a/../token", accessToken: "t",
			nonces: map[string]string{"https://server.example.com": "n-1"}, wantHTU: "https://server.example.com/token", wantATH: athOf("t"), wantNonce: "n-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSoftSigner(t)
			now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
			d, err := newDPoP(s, rand.Reader, func() time.Time { return now })
			require.NoError(t, err)
			for o, n := range tt.nonces {
				d.nonces[o] = n
			}
			proof, err := d.proof(context.Background(), tt.method, tt.url, tt.accessToken)
			require.NoError(t, err)
			p := verifyProof(t, proof, s.PublicKey())

			// RFC 9449 §4.2: typ, alg, and jwk with public members only.
			pub := s.PublicKey()
			assert.Equal(t, map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": map[string]any{"kty": "EC", "crv": "P-256", "x": pub.X, "y": pub.Y}}, p.header)
			want := []string{"jti", "htm", "htu", "iat"}
			if tt.wantATH != "" {
				want = append(want, "ath")
			}
			if tt.wantNonce != "" {
				want = append(want, "nonce")
			}
			assert.ElementsMatch(t, want, keysOf(p.claims), "exactly the claims RFC 9449 §4.2 asks for")
			assert.Equal(t, tt.method, p.claims["htm"])
			assert.Equal(t, tt.wantHTU, p.claims["htu"])
			assert.Equal(t, json.Number("1777636800"), p.claims["iat"], "iat from the injected clock")
			jti, _ := p.claims["jti"].(string)
			raw, err := base64.RawURLEncoding.DecodeString(jti)
			require.NoError(t, err)
			assert.Len(t, raw, 12, "96 random bits")
			if tt.wantATH != "" {
				assert.Equal(t, tt.wantATH, p.claims["ath"])
			}
			if tt.wantNonce != "" {
				assert.Equal(t, tt.wantNonce, p.claims["nonce"])
			}
		})
	}
}

func TestDPoPProofJTIUnique(t *testing.T) {
	s := newSoftSigner(t)
	d, err := newDPoP(s, rand.Reader, time.Now)
	require.NoError(t, err)
	seen := map[string]bool{}
	for range 1000 {
		proof, err := d.proof(context.Background(), "GET", "https://api.example/x", "t")
		require.NoError(t, err)
		jti := verifyProof(t, proof, s.PublicKey()).claims["jti"].(string)
		require.False(t, seen[jti], "RFC 9449 §4.2: jti unique per proof")
		seen[jti] = true
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestDPoPProofFailures(t *testing.T) {
	good := newSoftSigner(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	signErr := errors.New("key was deleted")
	tests := []struct {
		name     string
		signer   DPoPSigner
		rand     func() *bytes.Reader
		failRand bool
		ctx      context.Context
		method   string
		url      string
		wantCode string
		wantIs   error
	}{
		{name: "method is not a token", signer: good, method: "GET POST", url: "https://a.example/", wantCode: CodeInvalidArgument},
		{name: "empty method", signer: good, method: "", url: "https://a.example/", wantCode: CodeInvalidArgument},
		{name: "relative URL", signer: good, method: "GET", url: "/api/orders", wantCode: CodeInvalidArgument},
		{name: "not http", signer: good, method: "GET", url: "ftp://a.example/", wantCode: CodeInvalidArgument},
		{name: "signer fails", signer: stubSigner{jwk: good.PublicKey(), err: signErr}, method: "GET", url: "https://a.example/", wantCode: CodeDPoPSigningFailed, wantIs: signErr},
		{name: "signer returns DER, not r||s", signer: stubSigner{jwk: good.PublicKey(), sig: make([]byte, 71)}, method: "GET", url: "https://a.example/", wantCode: CodeDPoPSigningFailed},
		{name: "signer returns nothing", signer: stubSigner{jwk: good.PublicKey()}, method: "GET", url: "https://a.example/", wantCode: CodeDPoPSigningFailed},
		{name: "context ended while signing", signer: good, ctx: cancelled, method: "GET", url: "https://a.example/", wantCode: CodeNetworkError},
		{name: "no randomness", signer: good, failRand: true, method: "GET", url: "https://a.example/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r interface{ Read([]byte) (int, error) } = rand.Reader
			if tt.failRand {
				r = failingReader{}
			}
			d, err := newDPoP(tt.signer, r, time.Now)
			require.NoError(t, err)
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			proof, err := d.proof(ctx, tt.method, tt.url, "t")
			require.Error(t, err)
			assert.Empty(t, proof)
			assert.Equal(t, tt.wantCode, ErrorCode(err))
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
		})
	}
}

func TestJWKThumbprint(t *testing.T) {
	tests := []struct {
		name string
		key  PublicJWK
		want string
		code string
	}{
		{name: "RFC 7638 §3.1 RSA example", key: PublicJWK{Kty: "RSA", E: "AQAB",
			N: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
			want: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"},
		{name: "RFC 9449 example EC P-256 key (§6.1 cnf.jkt)", key: rfc9449Key, want: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},
		{name: "EC without y", key: PublicJWK{Kty: "EC", Crv: "P-256", X: rfc9449Key.X}, code: CodeInvalidConfig},
		{name: "EC crv that JSON would escape", key: PublicJWK{Kty: "EC", Crv: `P"256`, X: rfc9449Key.X, Y: rfc9449Key.Y}, code: CodeInvalidConfig},
		{name: "RSA with padded n", key: PublicJWK{Kty: "RSA", E: "AQAB", N: "AQAB=="}, code: CodeInvalidConfig},
		{name: "symmetric key", key: PublicJWK{Kty: "oct"}, code: CodeInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.key.Thumbprint()
			if tt.code != "" {
				assert.Equal(t, tt.code, ErrorCode(err))
				assert.ErrorIs(t, err, ErrDPoPKey)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	t.Run("generated P-256 key: the canonical JSON of RFC 7638 §3.2", func(t *testing.T) {
		k := newSoftSigner(t).PublicKey()
		sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + k.X + `","y":"` + k.Y + `"}`))
		got, err := k.Thumbprint()
		require.NoError(t, err)
		assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum[:]), got)
	})
}

func TestCheckDPoPKey(t *testing.T) {
	k := newSoftSigner(t).PublicKey()
	flipped := []byte(k.Y)
	if flipped[5] == 'A' {
		flipped[5] = 'B'
	} else {
		flipped[5] = 'A'
	}
	tests := []struct {
		name string
		key  PublicJWK
		ok   bool
	}{
		{name: "generated P-256 key", key: k, ok: true},
		{name: "RFC 9449 example key", key: rfc9449Key, ok: true},
		{name: "RSA key", key: PublicJWK{Kty: "RSA", N: "AQAB", E: "AQAB"}},
		{name: "P-384", key: PublicJWK{Kty: "EC", Crv: "P-384", X: k.X, Y: k.Y}},
		{name: "x too short", key: PublicJWK{Kty: "EC", Crv: "P-256", X: k.X[:40], Y: k.Y}},
		{name: "x padded", key: PublicJWK{Kty: "EC", Crv: "P-256", X: k.X + "=", Y: k.Y}},
		{name: "standard base64, not base64url", key: PublicJWK{Kty: "EC", Crv: "P-256", X: strings.NewReplacer("-", "+", "_", "/").Replace(k.X) + "+", Y: k.Y}},
		{name: "point not on the curve", key: PublicJWK{Kty: "EC", Crv: "P-256", X: k.X, Y: string(flipped)}},
		{name: "empty key", key: PublicJWK{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkDPoPKey(tt.key)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			assert.Equal(t, CodeInvalidConfig, ErrorCode(err))
			assert.ErrorIs(t, err, ErrDPoPKey)
		})
	}
}

func TestDPoPHTU(t *testing.T) {
	tests := []struct {
		name, in, want, origin string
	}{
		{"plain", "https://server.example.com/token", "https://server.example.com/token", "https://server.example.com"},
		{"query dropped", "https://a.example/p?x=1", "https://a.example/p", "https://a.example"},
		{"fragment dropped", "https://a.example/p#f", "https://a.example/p", "https://a.example"},
		{"query holding a fragment-like part", "https://a.example/p?x=#y", "https://a.example/p", "https://a.example"},
		{"scheme and host lower-cased", "HTTPS://A.Example/P", "https://a.example/P", "https://a.example"},
		{"default https port dropped", "https://a.example:443/p", "https://a.example/p", "https://a.example"},
		{"default http port dropped", "http://localhost:80/p", "http://localhost/p", "http://localhost"},
		{"other port kept", "https://a.example:8443/p", "https://a.example:8443/p", "https://a.example:8443"},
		{"port with leading zeros", "https://a.example:0443/p", "https://a.example/p", "https://a.example"},
		{"empty port", "https://a.example:/p", "https://a.example/p", "https://a.example"},
		{"empty path is /", "https://a.example", "https://a.example/", "https://a.example"},
		{"empty path with query", "https://a.example?x", "https://a.example/", "https://a.example"},
		{"dot segments removed", "https://a.example/a/./b/../c", "https://a.example/a/c", "https://a.example"},
		{"dot segments above the root", "https://a.example/../../c", "https://a.example/c", "https://a.example"},
		{"trailing dot-dot", "https://a.example/a/b/..", "https://a.example/a/", "https://a.example"},
		{"encoded unreserved decoded", "https://a.example/%7Euser/%41%2d", "https://a.example/~user/A-", "https://a.example"},
		{"encoded reserved kept, hex upper-cased", "https://a.example/a%2fb%3f", "https://a.example/a%2Fb%3F", "https://a.example"},
		{"encoded dot is a dot segment", "https://a.example/a/%2E%2E/b", "https://a.example/b", "https://a.example"},
		{"IPv6 literal", "http://[::1]:8080/cb", "http://[::1]:8080/cb", "http://[::1]:8080"},
		{"IPv4 loopback", "http://127.0.0.1:3000/api", "http://127.0.0.1:3000/api", "http://127.0.0.1:3000"},
		{"trailing slash kept", "https://a.example/p/", "https://a.example/p/", "https://a.example"},
		{"double slash kept", "https://a.example//p", "https://a.example//p", "https://a.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, origin, err := dpopHTU(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.origin, origin)
		})
	}
	for _, bad := range []string{"", "/relative", "a.example/p", "mailto:a@b", "ftp://a.example/", "https://user:pw@a.example/",
		"https://bücher.example/", "https://a.example:99999/", "https://a.example:12ab/", "https://a%41.example/", "https:opaque", "https://[fe80::1%25eth0]/"} {
		t.Run("refused "+bad, func(t *testing.T) {
			_, _, err := dpopHTU(bad)
			assert.Equal(t, CodeInvalidArgument, ErrorCode(err))
			assert.NotContains(t, errString(err), "pw", "no credentials in messages")
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestValidDPoPNonce(t *testing.T) {
	tests := []struct {
		name  string
		nonce string
		ok    bool
	}{
		{"RFC 9449 §8 example", "eyJ7S_zG.eyJH0-Z.HX4w-7v", true},
		{"every NQCHAR", "!#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~", true},
		{"one character", "x", true},
		{"1 KiB", strings.Repeat("n", 1024), true},
		{"empty", "", false},
		{"space", "a b", false},
		{"double quote", `a"b`, false},
		{"backslash", `a\b`, false},
		{"tab", "a\tb", false},
		{"DEL", "a\x7fb", false},
		{"non-ASCII", "nönce", false},
		{"over 1 KiB", strings.Repeat("n", 1025), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.ok, ValidDPoPNonce(tt.nonce))
		})
	}
}

func TestParseWWWAuthenticate(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   []AuthChallenge
		nonce  bool // a DPoP use_dpop_nonce challenge
	}{
		{name: "RFC 9449 §9 Figure 24", header: `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`,
			want: []AuthChallenge{{Scheme: "DPoP", Params: map[string]string{"error": "use_dpop_nonce", "error_description": "Resource server requires nonce in DPoP proof"}}}, nonce: true},
		{name: "RFC 9449 §7.1 Figure 13", header: `DPoP algs="ES256 PS256"`,
			want: []AuthChallenge{{Scheme: "DPoP", Params: map[string]string{"algs": "ES256 PS256"}}}},
		{name: "RFC 6750 §3 Bearer example", header: `Bearer realm="example", error="invalid_token", error_description="The access token expired"`,
			want: []AuthChallenge{{Scheme: "Bearer", Params: map[string]string{"realm": "example", "error": "invalid_token", "error_description": "The access token expired"}}}},
		{name: "token value, not quoted", header: `DPoP error=use_dpop_nonce`,
			want: []AuthChallenge{{Scheme: "DPoP", Params: map[string]string{"error": "use_dpop_nonce"}}}, nonce: true},
		{name: "scheme and names case-insensitive", header: `dpop ERROR="use_dpop_nonce"`,
			want: []AuthChallenge{{Scheme: "dpop", Params: map[string]string{"error": "use_dpop_nonce"}}}, nonce: true},
		{name: "error value is case-sensitive", header: `DPoP error="USE_DPOP_NONCE"`,
			want: []AuthChallenge{{Scheme: "DPoP", Params: map[string]string{"error": "USE_DPOP_NONCE"}}}},
		{name: "two challenges, DPoP second", header: `Bearer realm="api", DPoP algs="ES256", error="use_dpop_nonce"`,
			want: []AuthChallenge{{Scheme: "Bearer", Params: map[string]string{"realm": "api"}}, {Scheme: "DPoP", Params: map[string]string{"algs": "ES256", "error": "use_dpop_nonce"}}}, nonce: true},
		{name: "use_dpop_nonce under Bearer is not a DPoP challenge", header: `Bearer error="use_dpop_nonce", DPoP algs="ES256"`,
			want: []AuthChallenge{{Scheme: "Bearer", Params: map[string]string{"error": "use_dpop_nonce"}}, {Scheme: "DPoP", Params: map[string]string{"algs": "ES256"}}}},
		{name: "commas and escapes inside quotes", header: `DPoP error_description="a, b \"c\" \\ d", error="use_dpop_nonce"`,
			want: []AuthChallenge{{Scheme: "DPoP", Params: map[string]string{"error_description": `a, b "c" \ d`, "error": "use_dpop_nonce"}}}, nonce: true},
		{name: "bare schemes", header: `Basic, DPoP`, want: []AuthChallenge{{Scheme: "Basic"}, {Scheme: "DPoP"}}},
		{name: "token68", header: `Negotiate YIIB/w==, DPoP error="use_dpop_nonce"`,
			want: []AuthChallenge{{Scheme: "Negotiate", Token68: "YIIB/w=="}, {Scheme: "DPoP", Params: map[string]string{"error": "use_dpop_nonce"}}}, nonce: true},
		{name: "empty list elements and BWS", header: ` , DPoP error = "use_dpop_nonce" ,, algs=ES256 ,`,
			want: []AuthChallenge{{Scheme: "DPoP", Params: map[string]string{"error": "use_dpop_nonce", "algs": "ES256"}}}, nonce: true},
		{name: "empty value", header: `DPoP error=""`, want: []AuthChallenge{{Scheme: "DPoP", Params: map[string]string{"error": ""}}}},
		{name: "empty header", header: ``, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWWWAuthenticate(tt.header)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.nonce, dpopNonceChallenge(tt.header))
		})
	}
	for _, bad := range []string{
		`DPoP error="use_dpop_nonce`,                      // unterminated
		`DPoP error="use_dpop_nonce", error="x"`,          // RFC 9110 §11.2: a name once per challenge
		`DPoP error`,                                      // ok as token68 — see below
		`DPoP error=`,                                     // ok as token68 — see below
		`DPoP error="a" junk`,                             // not a list
		`DPoP =x`,                                         // no name
		`"DPoP" error="x"`,                                // scheme is a token
		`DPoP error="a\` + "\x01" + `"`,                   // bad quoted-pair
		"DPoP error=\"a\x01b\"",                           // control character
		`DPoP error=a"b"`,                                 // value is token or quoted-string
		`DPoP error="use_dpop_nonce", algs`,               // algs could be a scheme: fine — see below
		`DPoP error="x", =y`,                              // no name
		`DPoP  abc def`,                                   // neither token68 nor params
		`DPoP error="x"` + "\n" + `, Bearer realm="evil"`, // no line breaks in a field
	} {
		chs, err := ParseWWWAuthenticate(bad)
		switch bad {
		case `DPoP error`, `DPoP error=`: // token68 forms, well formed
			require.NoError(t, err, bad)
			assert.Equal(t, strings.TrimPrefix(bad, "DPoP "), chs[0].Token68)
		case `DPoP error="use_dpop_nonce", algs`: // a second, bare challenge named "algs"
			require.NoError(t, err, bad)
			assert.Len(t, chs, 2)
		default:
			assert.Error(t, err, bad)
			assert.Nil(t, chs, bad)
			assert.False(t, dpopNonceChallenge(bad), bad)
		}
	}
}

// formatChallenges writes challenges back as a WWW-Authenticate value.
func formatChallenges(chs []AuthChallenge) string {
	var parts []string
	for _, ch := range chs {
		s := ch.Scheme
		switch {
		case ch.Token68 != "":
			s += " " + ch.Token68
		case len(ch.Params) > 0:
			var ps []string
			for _, k := range sortedKeys(ch.Params) {
				v := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(ch.Params[k])
				ps = append(ps, k+`="`+v+`"`)
			}
			s += " " + strings.Join(ps, ", ")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// FuzzParseWWWAuthenticate: whatever a resource server sends, the parser
// never panics, and what it accepts is well formed and survives being
// written back and parsed again unchanged; a nonce challenge is exactly a
// DPoP challenge with error use_dpop_nonce.
func FuzzParseWWWAuthenticate(f *testing.F) {
	for _, s := range []string{
		`DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`,
		`Bearer realm="api", DPoP algs="ES256 PS256", error="use_dpop_nonce"`,
		`Negotiate YIIB/w==, DPoP error=use_dpop_nonce`, `Basic, DPoP`, ` ,, dpop ERROR = "a\"b\\c" ,`,
		`DPoP error="x`, `DPoP error="a", error="b"`, "DPoP e=\"\x80\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		chs, err := ParseWWWAuthenticate(header)
		nonce := dpopNonceChallenge(header)
		if err != nil {
			require.Nil(t, chs)
			require.False(t, nonce)
			return
		}
		want := false
		for _, ch := range chs {
			require.True(t, isToken(ch.Scheme), "scheme %q", ch.Scheme)
			require.False(t, ch.Token68 != "" && ch.Params != nil, "token68 or params, not both")
			for k := range ch.Params {
				require.True(t, isToken(k) && k == strings.ToLower(k), "param name %q", k)
			}
			want = want || strings.EqualFold(ch.Scheme, "DPoP") && ch.Params["error"] == "use_dpop_nonce"
		}
		require.Equal(t, want, nonce)
		again, err := ParseWWWAuthenticate(formatChallenges(chs))
		require.NoError(t, err, "written back: %q", formatChallenges(chs))
		require.Equal(t, chs, again)
	})
}

// FuzzDPoPNonce: a DPoP-Nonce header is remembered exactly when it is
// NQCHAR (RFC 9449 §8.1), and the next proof carries it byte for byte.
func FuzzDPoPNonce(f *testing.F) {
	for _, s := range []string{"eyJ7S_zG.eyJH0-Z.HX4w-7v", "", "a b", `"q"`, "\\", "ü", "<&>", strings.Repeat("n", 1025)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, nonce string) {
		d, err := newDPoP(stubSigner{jwk: rfc9449Key, sig: make([]byte, 64)}, rand.Reader, time.Now)
		require.NoError(t, err)
		stored := d.observe("https://api.example/x", &Response{Status: 200, Header: map[string]string{"dpop-nonce": nonce}})
		require.Equal(t, ValidDPoPNonce(nonce), stored)
		if stored {
			for i := 0; i < len(nonce); i++ {
				c := nonce[i]
				require.True(t, c == 0x21 || 0x23 <= c && c <= 0x5b || 0x5d <= c && c <= 0x7e, "NQCHAR")
			}
		}
		proof, err := d.proof(context.Background(), "GET", "https://api.example/y", "")
		require.NoError(t, err)
		payload, err := base64.RawURLEncoding.DecodeString(strings.Split(proof, ".")[1])
		require.NoError(t, err)
		var c dpopClaims
		require.NoError(t, json.Unmarshal(payload, &c))
		if stored {
			require.Equal(t, nonce, c.Nonce)
		} else {
			require.Empty(t, c.Nonce)
		}
	})
}

// FuzzDPoPHTU: an htu is an absolute http(s) URL without query or fragment,
// under its origin, and already normal: normalising it again changes nothing.
func FuzzDPoPHTU(f *testing.F) {
	for _, s := range []string{
		"https://server.example.com/token", "HTTPS://A.Example:443/a/./b/../%7e%2f?q#f", "http://[::1]:8080", "http://127.0.0.1:0080/",
		"https://a.example/%2E%2E/x", "https://a.example:/", "https://a.example/a//..", "https://user@a.example/", "//a.example/", "https://a.example/ü",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		htu, origin, err := dpopHTU(raw)
		if err != nil {
			requireTyped(t, err, CodeInvalidArgument)
			return
		}
		require.NotContains(t, htu, "?")
		require.NotContains(t, htu, "#")
		require.True(t, strings.HasPrefix(htu, origin+"/"), "%q under %q", htu, origin)
		require.True(t, strings.HasPrefix(origin, "https://") || strings.HasPrefix(origin, "http://"))
		u, err := url.Parse(htu)
		require.NoError(t, err)
		require.True(t, u.IsAbs())
		again, origin2, err := dpopHTU(htu)
		require.NoError(t, err, "htu %q", htu)
		require.Equal(t, htu, again, "idempotent")
		require.Equal(t, origin, origin2)
	})
}
