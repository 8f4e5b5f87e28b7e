package pkce

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// ChallengeMethod is the only PKCE method mezzo speaks. RFC 7636 §4.2 also
// defines "plain", which protects nothing against a leaked request and is
// never sent.
const ChallengeMethod = "S256"

// NewVerifier returns a fresh code_verifier: 32 bytes from crypto/rand,
// base64url without padding, 43 characters (RFC 7636 §4.1, 256 bits).
func NewVerifier() (string, error) {
	return randomToken(32)
}

// Challenge returns BASE64URL(SHA256(verifier)) (RFC 7636 §4.2, S256).
func Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ValidateVerifier checks a verifier that came from outside: 43 to 128
// characters of [A-Za-z0-9-._~] (RFC 7636 §4.1).
func ValidateVerifier(v string) error {
	if len(v) < 43 || len(v) > 128 { // RFC 7636 §4.1: min 43, max 128 characters
		return newError(CodeInvalidConfig, nil, "code_verifier must be 43 to 128 characters, got %d", len(v))
	}
	for i := 0; i < len(v); i++ {
		if !isUnreserved(v[i]) { // RFC 7636 §4.1: unreserved characters only
			return newError(CodeInvalidConfig, nil, "code_verifier has a character outside [A-Za-z0-9-._~] at position %d", i)
		}
	}
	return nil
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// randomToken returns n random bytes, base64url-encoded without padding.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("mezzo: reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
