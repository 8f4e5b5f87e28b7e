package pkce

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// DPoP (RFC 9449) sender-constrains tokens: every token request, and every
// request that presents the access token, carries a proof signed with a key
// pair the client holds, so a token copied elsewhere is useless without the
// key. mezzo never holds the private key: a DPoPSigner does the signing (in
// the browser, WebCrypto with a non-extractable key), and this file builds
// what is signed.

// DPoPAlgorithm is the only proof algorithm mezzo speaks: ECDSA P-256 with
// SHA-256 (RFC 7518 §3.4), the one every browser's WebCrypto signs with.
const DPoPAlgorithm = "ES256"

// dpopJTIBytes is the randomness of a proof's jti: 96 bits, the least
// RFC 9449 §4.2 asks for (its example jti, "-BwC3ESc6acc2lTc", is 12 bytes).
const dpopJTIBytes = 12

// maxDPoPNonce bounds a server's DPoP-Nonce, which goes into every later
// proof: RFC 9449 §8.1 sets no length, a hostile server must not set ours.
const maxDPoPNonce = 1024

// maxDPoPServers bounds the remembered nonces: one per server (origin).
const maxDPoPServers = 32

// DPoPSigner holds a DPoP key pair and signs proofs with its private key,
// which it never reveals. The key is ECDSA P-256 (ES256).
type DPoPSigner interface {
	// PublicKey returns the public key: kty "EC", crv "P-256", x and y.
	// It is read once, by NewClient.
	PublicKey() PublicJWK
	// Sign returns the ES256 signature of signingInput (the JWS signing
	// input, RFC 7515 §5.1): ECDSA with SHA-256 over signingInput, as the
	// 64-byte big-endian r||s of RFC 7518 §3.4 — what WebCrypto's
	// crypto.subtle.sign({name: "ECDSA", hash: "SHA-256"}, …) returns, not
	// ASN.1 DER. It must honour ctx.
	Sign(ctx context.Context, signingInput []byte) ([]byte, error)
}

// PublicJWK is a public JSON Web Key (RFC 7517): the members RFC 7638 §3.2
// requires for a thumbprint. DPoP keys are EC (crv, x, y); N and E let
// Thumbprint serve RSA keys too. It has no member for private key material.
type PublicJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

// ErrDPoPKey is the cause when a DPoPSigner's public key is unusable.
var ErrDPoPKey = errors.New("DPoP public key is not an EC P-256 key")

// Thumbprint returns the key's JWK SHA-256 thumbprint (RFC 7638 §3),
// base64url without padding: the dpop_jkt of RFC 9449 §10 and the jkt of an
// access token's cnf claim (§6.1).
func (k PublicJWK) Thumbprint() (string, error) {
	var canonical string
	// RFC 7638 §3.2: the required members only, in lexicographic order, no
	// whitespace. Every value is base64url or a fixed name, so none needs
	// escaping (§3.3); anything else is refused rather than escaped.
	switch k.Kty {
	case "EC": // RFC 7638 §3.2: crv, kty, x, y
		if !jwkName(k.Crv) || !isBase64URL(k.X) || !isBase64URL(k.Y) {
			return "", newError(CodeInvalidConfig, ErrDPoPKey, "EC key needs crv, x and y")
		}
		canonical = `{"crv":"` + k.Crv + `","kty":"EC","x":"` + k.X + `","y":"` + k.Y + `"}`
	case "RSA": // RFC 7638 §3.2: e, kty, n
		if !isBase64URL(k.E) || !isBase64URL(k.N) {
			return "", newError(CodeInvalidConfig, ErrDPoPKey, "RSA key needs e and n")
		}
		canonical = `{"e":"` + k.E + `","kty":"RSA","n":"` + k.N + `"}`
	default:
		return "", newError(CodeInvalidConfig, ErrDPoPKey, "key type %s has no thumbprint here", quoteShort(k.Kty))
	}
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// isBase64URL reports whether s is non-empty unpadded base64url (RFC 7515 §2).
func isBase64URL(s string) bool {
	if s == "" {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil
}

// jwkName reports whether s is a name such as "P-256": printable ASCII with
// nothing JSON would escape.
func jwkName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// checkDPoPKey validates a signer's public key: an EC P-256 public key
// whose point is on the curve (RFC 7518 §6.2.1), so no proof is ever sent
// with a key no server can verify.
func checkDPoPKey(k PublicJWK) error {
	if k.Kty != "EC" || k.Crv != "P-256" { // RFC 7518 §3.4: ES256 is ECDSA on P-256
		return newError(CodeInvalidConfig, ErrDPoPKey, "DPoP key must be kty EC, crv P-256 (ES256)")
	}
	x, errX := base64.RawURLEncoding.Strict().DecodeString(k.X)
	y, errY := base64.RawURLEncoding.Strict().DecodeString(k.Y)
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 { // RFC 7518 §6.2.1.2: x, y are the full 32 octets
		return newError(CodeInvalidConfig, ErrDPoPKey, "DPoP key x and y must be 32 bytes, base64url")
	}
	point := append(append([]byte{4}, x...), y...)
	if _, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point); err != nil {
		return newError(CodeInvalidConfig, errors.Join(ErrDPoPKey, err), "DPoP key is not a point on P-256")
	}
	return nil
}

// dpopState is a Client's DPoP machinery: the signer, the proof header
// (fixed for the key), the key's thumbprint, and the latest nonce of each
// server.
type dpopState struct {
	signer DPoPSigner
	header string // base64url of the proof's JOSE header
	jkt    string // RFC 7638 thumbprint of the public key
	rand   io.Reader
	now    func() time.Time

	mu     sync.Mutex
	nonces map[string]string // origin → the latest DPoP-Nonce it sent (RFC 9449 §8.2, §9)
}

// newDPoP validates the signer's key and encodes the header every proof
// shares. rand supplies jti values; now, iat.
func newDPoP(signer DPoPSigner, rand io.Reader, now func() time.Time) (*dpopState, error) {
	k := signer.PublicKey()
	if err := checkDPoPKey(k); err != nil {
		return nil, err
	}
	jkt, err := k.Thumbprint()
	if err != nil {
		return nil, err
	}
	// RFC 9449 §4.2: typ dpop+jwt, an asymmetric alg, and the public key as
	// jwk. The jwk is built here from the public members alone, so a private
	// key cannot reach a proof (§4.2: MUST NOT contain a private key). The
	// member order is that of the RFC's own example (Figure 5).
	type ecJWK struct {
		Kty string `json:"kty"`
		X   string `json:"x"`
		Y   string `json:"y"`
		Crv string `json:"crv"`
	}
	header, err := json.Marshal(struct {
		Typ string `json:"typ"`
		Alg string `json:"alg"`
		JWK ecJWK  `json:"jwk"`
	}{"dpop+jwt", DPoPAlgorithm, ecJWK{"EC", k.X, k.Y, "P-256"}})
	if err != nil {
		return nil, fmt.Errorf("mezzo: encoding DPoP header: %w", err)
	}
	return &dpopState{
		signer: signer, header: base64.RawURLEncoding.EncodeToString(header), jkt: jkt,
		rand: rand, now: now, nonces: map[string]string{},
	}, nil
}

// dpopClaims is a proof's payload (RFC 9449 §4.2), in the RFC's order.
type dpopClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// proof builds and signs a fresh proof for a request of method to rawURL,
// with the latest nonce rawURL's server supplied. accessToken, when not
// empty, is hashed into ath: a request that presents an access token.
func (d *dpopState) proof(ctx context.Context, method, rawURL, accessToken string) (string, error) {
	if !isToken(method) { // RFC 9110 §9.1: a method is a token
		return "", newError(CodeInvalidArgument, nil, "%s is not an HTTP method", quoteShort(method))
	}
	htu, origin, err := dpopHTU(rawURL)
	if err != nil {
		return "", err
	}
	jti := make([]byte, dpopJTIBytes)
	if _, err := io.ReadFull(d.rand, jti); err != nil { // RFC 9449 §4.2: jti unique per proof, at least 96 random bits
		return "", fmt.Errorf("mezzo: reading random bytes for a DPoP proof: %w", err)
	}
	claims := dpopClaims{
		JTI:   base64.RawURLEncoding.EncodeToString(jti),
		HTM:   method, // RFC 9449 §4.2: the request's method, as sent (methods are case-sensitive)
		HTU:   htu,    // RFC 9449 §4.2: target URI without query and fragment
		IAT:   d.now().Unix(),
		Nonce: d.nonce(origin), // RFC 9449 §8.2, §9: the latest nonce this server supplied
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken)) // RFC 9449 §4.2: ath = base64url(SHA-256(ASCII(access token)))
		claims.ATH = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("mezzo: encoding DPoP claims: %w", err)
	}
	input := d.header + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := d.signer.Sign(ctx, []byte(input))
	if err != nil {
		if ctx.Err() != nil {
			return "", aborted(ctx.Err(), "signing a DPoP proof")
		}
		return "", &Error{Code: CodeDPoPSigningFailed, Err: err, Description: "the DPoP key could not sign a proof"}
	}
	if len(sig) != 64 { // RFC 7518 §3.4: an ES256 signature is R||S, 64 octets
		return "", &Error{Code: CodeDPoPSigningFailed, Description: fmt.Sprintf("the DPoP signer returned %d bytes, not a 64-byte ES256 signature", len(sig))}
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// nonce returns the latest nonce origin supplied, "" when none.
func (d *dpopState) nonce(origin string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nonces[origin]
}

// observe remembers the DPoP-Nonce of a response from rawURL's server, on
// any status (RFC 9449 §8.2: a new nonce may come with a success), and
// reports whether resp carried a usable one. A nonce that is not NQCHAR
// (§8.1) is ignored: it could not be sent back in a proof anyway.
func (d *dpopState) observe(rawURL string, resp *Response) bool {
	n, ok := resp.Header["dpop-nonce"]
	if !ok || !ValidDPoPNonce(n) {
		return false
	}
	_, origin, err := dpopHTU(rawURL)
	if err != nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, known := d.nonces[origin]; !known && len(d.nonces) >= maxDPoPServers {
		for o := range d.nonces { // full: forget one server's nonce; it will ask again
			delete(d.nonces, o)
			break
		}
	}
	d.nonces[origin] = n // RFC 9449 §8.2: the new nonce is used from the next request on
	return true
}

// ValidDPoPNonce reports whether s is a DPoP-Nonce value (RFC 9449 §8.1:
// nonce = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E) of at most 1 KiB.
func ValidDPoPNonce(s string) bool {
	if s == "" || len(s) > maxDPoPNonce { // RFC 9449 §8.1: at least one NQCHAR
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' { // RFC 9449 §8.1: NQCHAR excludes SP, DQUOTE and backslash
			return false
		}
	}
	return true
}

// isToken reports whether s is an RFC 9110 §5.6.2 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

// isTchar: RFC 9110 §5.6.2 tchar.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}
