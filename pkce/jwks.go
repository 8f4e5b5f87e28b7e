package pkce

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"sync"
	"time"
)

// JWK is one usable public key from a JWK Set (RFC 7517).
type JWK struct {
	KeyID     string
	Algorithm string
	Use       string
	Key       crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

type rawJWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3: 2048 bits or larger).
const minRSABits = 2048

// ParseJWKS parses a JWK Set, keeping the signature keys mezzo can use:
// RSA, EC (P-256, P-384, P-521) and OKP (Ed25519). Keys of other types,
// symmetric keys, and keys whose "use" is not "sig" are skipped; a
// malformed usable key is an error.
func ParseJWKS(data []byte) ([]JWK, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, newError(CodeInvalidIDToken, err, "jwks: not a JSON JWK Set")
	}
	if set.Keys == nil { // RFC 7517 §5: "keys" member REQUIRED
		return nil, newError(CodeInvalidIDToken, nil, "jwks: no \"keys\" array")
	}
	var out []JWK
	for i, raw := range set.Keys {
		var k rawJWK
		if err := json.Unmarshal(raw, &k); err != nil {
			return nil, newError(CodeInvalidIDToken, err, "jwks: key %d is malformed", i)
		}
		if k.Use != "" && k.Use != "sig" { // RFC 7517 §4.2: only signature keys verify signatures
			continue
		}
		key, err := k.publicKey()
		if err != nil {
			return nil, newError(CodeInvalidIDToken, err, "jwks: key %d (kid %s): %v", i, quoteShort(k.Kid), err)
		}
		if key == nil {
			continue // a type or curve we do not use
		}
		out = append(out, JWK{KeyID: k.Kid, Algorithm: k.Alg, Use: k.Use, Key: key})
	}
	return out, nil
}

func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

type jwkError string

func (e jwkError) Error() string { return string(e) }

// publicKey returns the key, nil for a type we skip, or an error.
func (k rawJWK) publicKey() (crypto.PublicKey, error) {
	switch k.Kty {
	case "RSA": // RFC 7518 §6.3.1
		n, err := b64(k.N)
		if err != nil || len(n) == 0 {
			return nil, jwkError("bad RSA modulus")
		}
		e, err := b64(k.E)
		if err != nil || len(e) == 0 || len(e) > 4 {
			return nil, jwkError("bad RSA exponent")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < minRSABits {
			return nil, jwkError("RSA modulus shorter than 2048 bits")
		}
		if pub.E < 3 || pub.E%2 == 0 {
			return nil, jwkError("bad RSA exponent")
		}
		return pub, nil
	case "EC": // RFC 7518 §6.2.1
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, nil
		}
		size := (curve.Params().BitSize + 7) / 8
		x, errX := b64(k.X)
		y, errY := b64(k.Y)
		if errX != nil || errY != nil || len(x) != size || len(y) != size { // RFC 7518 §6.2.1.2: full-length coordinates
			return nil, jwkError("bad EC coordinates")
		}
		// ParseUncompressedPublicKey rejects points that are not on the curve.
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append([]byte{4}, append(x, y...)...))
		if err != nil {
			return nil, jwkError("EC point is not on the curve")
		}
		return pub, nil
	case "OKP": // RFC 8037 §2
		if k.Crv != "Ed25519" {
			return nil, nil
		}
		x, err := b64(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, jwkError("bad Ed25519 key")
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, nil // "oct" and unknown types are skipped
}

// compatible reports whether key k can verify alg.
func (k JWK) compatible(alg string) bool {
	if k.Algorithm != "" && k.Algorithm != alg { // RFC 7517 §4.4: a key's alg restricts its use
		return false
	}
	switch key := k.Key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return key.Curve == elliptic.P256()
		case "ES384":
			return key.Curve == elliptic.P384()
		case "ES512":
			return key.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// unknownKidRefetchInterval rate-limits refetches caused by unknown kids
// after the first one.
const unknownKidRefetchInterval = 10 * time.Second

// KeySet supplies the public keys that may have signed an ID token.
// RemoteKeySet fetches them from the provider's jwks_uri; StaticKeySet
// holds keys the caller pins (and tests use).
type KeySet interface {
	// VerificationKeys returns the keys that may verify a token signed with
	// alg whose header names kid ("" when it names none), in the order to
	// try them. Errors are *Error: invalid_id_token when no key fits, or
	// the transport's network_error or timeout.
	VerificationKeys(ctx context.Context, kid, alg string) ([]crypto.PublicKey, error)
}

// StaticKeySet is a fixed set of keys, never fetched or refreshed.
type StaticKeySet struct {
	Keys []JWK
}

// VerificationKeys implements KeySet.
func (s StaticKeySet) VerificationKeys(_ context.Context, kid, alg string) ([]crypto.PublicKey, error) {
	if keys := matchKeys(s.Keys, kid, alg); len(keys) > 0 {
		return keys, nil
	}
	return nil, noKeyError(kid, alg)
}

// matchKeys returns the keys compatible with alg: the one with kid, or for
// a token without kid every compatible key (to be tried in turn).
func matchKeys(keys []JWK, kid, alg string) []crypto.PublicKey {
	var out []crypto.PublicKey
	for _, k := range keys {
		if kid != "" && k.KeyID != kid { // OIDC Core 10.1: kid selects the key
			continue
		}
		if k.compatible(alg) {
			out = append(out, k.Key)
		}
	}
	return out
}

func noKeyError(kid, alg string) *Error {
	if kid != "" {
		return newError(CodeInvalidIDToken, nil, "no key with kid %s for %s in the provider's key set", quoteShort(kid), alg)
	}
	return newError(CodeInvalidIDToken, nil, "no key for %s in the provider's key set", alg)
}

// RemoteKeySet caches the provider's keys from jwks_uri. It fetches on
// first use and again when a token names a kid it does not know (keys
// rotate just before they sign), sharing one request among concurrent
// callers.
type RemoteKeySet struct {
	url       string
	transport Transport
	now       func() time.Time
	retry     RetryPolicy // transient fetch failures
	fetches   singleFlight[[]JWK]

	mu          sync.Mutex
	keys        []JWK
	fetched     bool
	lastUnknown time.Time // last refetch caused by an unknown kid
}

// NewRemoteKeySet returns a RemoteKeySet for jwksURL. now defaults to
// time.Now, and retry's zero fields to its defaults.
func NewRemoteKeySet(jwksURL string, t Transport, now func() time.Time, retry RetryPolicy) *RemoteKeySet {
	if now == nil {
		now = time.Now
	}
	return &RemoteKeySet{url: jwksURL, transport: t, now: now, retry: retry.withDefaults()}
}

// ensure fetches the set unless it is cached, joining a fetch under way.
func (ks *RemoteKeySet) ensure(ctx context.Context) error {
	ks.mu.Lock()
	fetched := ks.fetched
	ks.mu.Unlock()
	if fetched {
		return nil
	}
	return ks.refresh(ctx)
}

// VerificationKeys implements KeySet.
func (ks *RemoteKeySet) VerificationKeys(ctx context.Context, kid, alg string) ([]crypto.PublicKey, error) {
	if err := ks.ensure(ctx); err != nil {
		return nil, err
	}
	if keys := ks.match(kid, alg); len(keys) > 0 {
		return keys, nil
	}
	if kid != "" && ks.mayRefetchForUnknownKid() {
		if err := ks.refresh(ctx); err != nil {
			return nil, err
		}
		if keys := ks.match(kid, alg); len(keys) > 0 {
			return keys, nil
		}
	}
	return nil, noKeyError(kid, alg)
}

// mayRefetchForUnknownKid allows the first unknown-kid refetch at once and
// later ones at most every unknownKidRefetchInterval.
func (ks *RemoteKeySet) mayRefetchForUnknownKid() bool {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	now := ks.now()
	if !ks.lastUnknown.IsZero() && now.Sub(ks.lastUnknown) < unknownKidRefetchInterval {
		return false
	}
	ks.lastUnknown = now
	return true
}

func (ks *RemoteKeySet) match(kid, alg string) []crypto.PublicKey {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return matchKeys(ks.keys, kid, alg)
}

// refresh fetches the set, joining a fetch already under way. The fetch
// belongs to no caller: it runs detached from ctx, bounded by
// backgroundDeadline, so a caller that gives up does not fail the others.
// A failed fetch keeps the keys cached before it.
func (ks *RemoteKeySet) refresh(ctx context.Context) error {
	_, err := ks.fetches.do(ctx, "waiting for the provider's keys", func() ([]JWK, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), backgroundDeadline)
		defer cancel()
		keys, err := ks.fetch(ctx)
		if err == nil {
			ks.mu.Lock()
			ks.keys, ks.fetched = keys, true
			ks.mu.Unlock()
		}
		return keys, err
	})
	return err
}

func (ks *RemoteKeySet) fetch(ctx context.Context) ([]JWK, error) {
	// Without keys no ID token can be judged: failures are invalid_id_token.
	resp, err := getDocument(ctx, ks.transport, ks.retry, ks.now, ks.url, CodeInvalidIDToken, "jwks: key set")
	if err != nil {
		return nil, err
	}
	return ParseJWKS(resp.Body)
}
