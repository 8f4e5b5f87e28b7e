package pkce

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"math"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SignatureMode selects how ID token signatures are checked.
type SignatureMode string

const (
	// SignatureJWKS verifies the signature with the provider's keys from
	// jwks_uri. It is the default.
	SignatureJWKS SignatureMode = "jwks"
	// SignatureTLS skips ONLY the signature check, for providers that sign
	// ID tokens with a client secret a public client cannot hold (the
	// Intermezzo identity API signs HS256, iss "Screening Eagle ID"). It
	// relies on the token having come straight from the token endpoint over
	// TLS (OIDC Core 3.1.3.7 step 6). Every claim check still runs, and
	// alg "none" is still rejected.
	SignatureTLS SignatureMode = "tls"
)

// asymmetricAlgs are the signature algorithms mezzo verifies with JWKS.
var asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// hmacAlgs are accepted, unverified, in SignatureTLS mode only.
var hmacAlgs = []string{"HS256", "HS384", "HS512"}

// AllowedAlgorithms returns RS256 plus the algorithms the provider
// advertises (id_token_signing_alg_values_supported) and extra names,
// limited to the asymmetric ones mezzo can verify. "none" and HS* never
// appear.
func AllowedAlgorithms(supported, extra []string) []string {
	out := []string{"RS256"} // OIDC Core 15.1: RS256 MUST be supported
	for _, alg := range append(slices.Clone(supported), extra...) {
		if slices.Contains(asymmetricAlgs, alg) && !slices.Contains(out, alg) {
			out = append(out, alg)
		}
	}
	return out
}

// IDToken is a validated ID token.
type IDToken struct {
	Raw             string
	Issuer          string
	Subject         string
	Audience        []string
	AuthorizedParty string
	Nonce           string
	Expiry          time.Time
	IssuedAt        time.Time
	AuthTime        time.Time // zero when absent
	Claims          map[string]any
}

// IDTokenCheck is what one validation expects beyond the verifier's
// configuration.
type IDTokenCheck struct {
	Nonce       string         // the nonce sent in the authorization request
	MaxAge      *time.Duration // when max_age was sent: auth_time required and checked
	AccessToken string         // checked against at_hash when the token has one
	Previous    *IDToken       // set for an ID token returned by a refresh (OIDC Core 12.2)
}

// IDTokenVerifier validates ID tokens (OIDC Core 3.1.3.7).
type IDTokenVerifier struct {
	Issuer           string
	ClientID         string
	TrustedAudiences []string
	Algorithms       []string // see AllowedAlgorithms
	Mode             SignatureMode
	Keys             KeySet // required in SignatureJWKS mode
	Leeway           time.Duration
	Now              func() time.Time
}

func idTokenError(cause error, format string, args ...any) *Error {
	return newError(CodeInvalidIDToken, cause, "id_token "+format, args...)
}

// Verify checks raw's signature and claims and returns the token.
func (v *IDTokenVerifier) Verify(ctx context.Context, raw string, chk IDTokenCheck) (*IDToken, error) {
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(jwt.WithoutClaimsValidation(), jwt.WithJSONNumber())
	var tok *jwt.Token
	var err error
	if v.Mode == SignatureTLS {
		tok, _, err = parser.ParseUnverified(raw, claims)
		if err != nil {
			return nil, idTokenError(err, "is not a well-formed JWT")
		}
		alg := tok.Method.Alg()
		if !slices.Contains(v.Algorithms, alg) && !slices.Contains(hmacAlgs, alg) { // 3.1.3.7 step 7: alg as registered; "none" never
			return nil, idTokenError(nil, "alg %s is not allowed", quoteShort(alg))
		}
	} else {
		var keyErr error
		tok, err = jwt.NewParser(jwt.WithValidMethods(v.Algorithms), jwt.WithoutClaimsValidation(), jwt.WithJSONNumber()).
			ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
				kid, _ := t.Header["kid"].(string)
				if v.Keys == nil {
					keyErr = newError(CodeInvalidConfig, nil, "no key set to check ID token signatures with")
					return nil, keyErr
				}
				keys, err := v.Keys.VerificationKeys(ctx, kid, t.Method.Alg())
				if err != nil {
					keyErr = err
					return nil, err
				}
				set := jwt.VerificationKeySet{}
				for _, k := range keys {
					set.Keys = append(set.Keys, k)
				}
				return set, nil
			})
		switch {
		case keyErr != nil:
			return nil, keyErr // network_error/timeout stay as they are
		case errors.Is(err, jwt.ErrTokenMalformed):
			return nil, idTokenError(err, "is not a well-formed JWT")
		case err != nil && tok != nil && tok.Method != nil && !slices.Contains(v.Algorithms, tok.Method.Alg()): // 3.1.3.7 step 7
			return nil, idTokenError(nil, "alg %s is not allowed", quoteShort(tok.Method.Alg()))
		case err != nil: // 3.1.3.7 step 6: signature MUST validate
			return nil, idTokenError(err, "signature is invalid")
		}
	}
	return v.checkClaims(raw, tok.Method.Alg(), claims, chk)
}

func (v *IDTokenVerifier) checkClaims(raw, alg string, claims jwt.MapClaims, chk IDTokenCheck) (*IDToken, error) {
	now := v.Now()
	t := &IDToken{Raw: raw, Claims: plainClaims(claims)}
	var err error

	if t.Issuer, err = stringClaim(claims, "iss"); err != nil || t.Issuer != v.Issuer { // 3.1.3.7 step 2: iss MUST exactly match
		return nil, idTokenError(nil, "iss %s does not match the issuer %s", quoteShort(t.Issuer), quoteShort(v.Issuer))
	}
	if t.Audience, err = audienceClaim(claims); err != nil || len(t.Audience) == 0 { // 3.1.3.7 step 3: aud REQUIRED
		return nil, idTokenError(nil, "has no valid aud")
	}
	if !slices.Contains(t.Audience, v.ClientID) { // 3.1.3.7 step 3: aud MUST contain client_id
		return nil, idTokenError(nil, "aud does not contain this client")
	}
	for _, a := range t.Audience {
		if a != v.ClientID && !slices.Contains(v.TrustedAudiences, a) { // 3.1.3.7 step 3: reject untrusted audiences
			return nil, idTokenError(nil, "aud names an untrusted audience %s", quoteShort(a))
		}
	}
	if _, has := claims["azp"]; has {
		if t.AuthorizedParty, err = stringClaim(claims, "azp"); err != nil || t.AuthorizedParty != v.ClientID { // 3.1.3.7 step 5
			return nil, idTokenError(nil, "azp is not this client")
		}
	}
	exp, ok := timeClaim(claims, "exp")
	if !ok { // OIDC Core 2: exp REQUIRED
		return nil, idTokenError(nil, "has no valid exp")
	}
	t.Expiry = exp
	if !now.Before(exp.Add(v.Leeway)) { // 3.1.3.7 step 9: current time MUST be before exp
		return nil, idTokenError(nil, "expired at %s", exp.UTC().Format(time.RFC3339))
	}
	iat, ok := timeClaim(claims, "iat")
	if !ok { // OIDC Core 2: iat REQUIRED
		return nil, idTokenError(nil, "has no valid iat")
	}
	t.IssuedAt = iat
	if iat.After(now.Add(v.Leeway)) { // 3.1.3.7 step 10: iat not in the future
		return nil, idTokenError(nil, "iat is in the future")
	}
	if t.Subject, err = stringClaim(claims, "sub"); err != nil || t.Subject == "" { // OIDC Core 2: sub REQUIRED
		return nil, idTokenError(nil, "has no sub")
	}
	if _, has := claims["nonce"]; has {
		if t.Nonce, err = stringClaim(claims, "nonce"); err != nil {
			return nil, idTokenError(nil, "nonce is not a string")
		}
	}
	if chk.Nonce != "" && subtle.ConstantTimeCompare([]byte(t.Nonce), []byte(chk.Nonce)) != 1 { // 3.1.3.7 step 11: nonce MUST match
		if t.Nonce == "" {
			return nil, idTokenError(nil, "has no nonce")
		}
		return nil, idTokenError(nil, "nonce does not match the login request")
	}
	if _, has := claims["auth_time"]; has {
		at, ok := timeClaim(claims, "auth_time")
		if !ok {
			return nil, idTokenError(nil, "auth_time is not a number")
		}
		t.AuthTime = at
	}
	if chk.MaxAge != nil {
		if t.AuthTime.IsZero() { // 3.1.3.7 step 13: auth_time REQUIRED with max_age
			return nil, idTokenError(nil, "has no auth_time although max_age was requested")
		}
		if now.After(t.AuthTime.Add(*chk.MaxAge + v.Leeway)) { // 3.1.3.7 step 13: re-authenticate after max_age
			return nil, idTokenError(nil, "auth_time is older than max_age")
		}
	}
	if _, has := claims["at_hash"]; has && chk.AccessToken != "" {
		want, _ := stringClaim(claims, "at_hash")
		if !atHashMatches(alg, chk.AccessToken, want) { // 3.2.2.9 / 3.1.3.8: at_hash binds the access token
			return nil, idTokenError(nil, "at_hash does not match the access token")
		}
	}
	if p := chk.Previous; p != nil { // OIDC Core 12.2: a refreshed ID token keeps the identity
		switch {
		case t.Issuer != p.Issuer:
			return nil, &Error{Code: CodeInvalidIDToken, Err: ErrRefreshClaimsChange, Description: "refreshed id_token has another iss"}
		case t.Subject != p.Subject:
			return nil, &Error{Code: CodeInvalidIDToken, Err: ErrRefreshClaimsChange, Description: "refreshed id_token has another sub"}
		case !sameSet(t.Audience, p.Audience):
			return nil, &Error{Code: CodeInvalidIDToken, Err: ErrRefreshClaimsChange, Description: "refreshed id_token has another aud"}
		case !p.AuthTime.IsZero() && !t.AuthTime.Equal(p.AuthTime):
			return nil, &Error{Code: CodeInvalidIDToken, Err: ErrRefreshClaimsChange, Description: "refreshed id_token has another auth_time"}
		case t.Nonce != "" && t.Nonce != p.Nonce:
			return nil, &Error{Code: CodeInvalidIDToken, Err: ErrRefreshClaimsChange, Description: "refreshed id_token has another nonce"}
		}
	}
	return t, nil
}

func stringClaim(c jwt.MapClaims, name string) (string, error) {
	s, ok := c[name].(string)
	if !ok {
		return "", errors.New(name + " is not a string")
	}
	return s, nil
}

func audienceClaim(c jwt.MapClaims) ([]string, error) {
	switch a := c["aud"].(type) {
	case string:
		return []string{a}, nil
	case []any:
		out := make([]string, 0, len(a))
		for _, v := range a {
			s, ok := v.(string)
			if !ok {
				return nil, errors.New("aud member is not a string")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, errors.New("aud is missing or not a string")
}

// timeClaim reads a NumericDate claim: a JSON number, see numericDate.
func timeClaim(c jwt.MapClaims, name string) (time.Time, bool) {
	n, ok := c[name].(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return numericDate(f)
}

// maxNumericDate bounds a NumericDate's magnitude: 10^11 seconds from the
// epoch is the year 5138, beyond any real date, and keeps every time sum
// mezzo makes with it (leeways, lifetimes capped at 10 years) far from
// overflow.
const maxNumericDate = 1e11

// numericDate converts a NumericDate (RFC 7519 §2: seconds since the epoch,
// non-integer values allowed) to a time; false when it is not finite or
// beyond maxNumericDate either way.
func numericDate(f float64) (time.Time, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > maxNumericDate {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// atHashMatches computes at_hash: the left half of the hash of the access
// token, with the hash of the signing algorithm (OIDC Core 3.2.2.9;
// SHA-512 for EdDSA with Ed25519).
func atHashMatches(alg, accessToken, want string) bool {
	var h hash.Hash
	switch alg[len(alg)-3:] {
	case "256":
		h = sha256.New()
	case "384":
		h = sha512.New384()
	case "512", "DSA":
		h = sha512.New()
	default:
		return false
	}
	h.Write([]byte(accessToken))
	sum := h.Sum(nil)
	got := base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// plainClaims converts json.Number values back to float64 so claims read
// like JSON.parse output in JS.
func plainClaims(c jwt.MapClaims) map[string]any {
	out := make(map[string]any, len(c))
	for k, v := range c {
		out[k] = plainValue(v)
	}
	return out
}

func plainValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = plainValue(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = plainValue(e)
		}
		return s
	}
	return v
}
