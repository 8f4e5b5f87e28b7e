package pkce

import (
	"crypto/rand"
	"io"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Defaults for Config fields left zero.
const (
	DefaultScope         = "openid profile email offline_access"
	DefaultRefreshLeeway = 60 * time.Second
	DefaultClockSkew     = 60 * time.Second
	DefaultTokenLifetime = time.Hour        // used when the token response has no expires_in
	TransactionLifetime  = 10 * time.Minute // a login transaction expires after this
)

// Endpoints are the provider's URLs. Any field set here overrides discovery.
type Endpoints struct {
	Authorization string
	Token         string
	JWKS          string
	EndSession    string
	Revocation    string
	Userinfo      string
}

// Config configures a Client. ClientID and RedirectURI are required, and
// either Issuer (for discovery) or the authorization and token endpoints.
type Config struct {
	ClientID    string
	RedirectURI string // sent byte-exact as given; must be absolute, no fragment
	// SilentRedirectURI is where the provider returns inside an iframe or a
	// popup (LoginOptions.Embedded); default RedirectURI. It must be on
	// RedirectURI's origin (see checkRedirectURI).
	SilentRedirectURI string

	// Issuer is the expected "iss" of ID tokens and authorization responses.
	// When the authorization and token endpoints (and JWKS in jwks signature
	// mode) are given explicitly, nothing is discovered and Issuer need not
	// be a URL; otherwise metadata is fetched from
	// Issuer + "/.well-known/openid-configuration".
	Issuer    string
	Endpoints Endpoints

	Scope           string            // default DefaultScope
	Audience        string            // optional "audience" authorization parameter
	ExtraAuthParams map[string]string // may not override protocol parameters

	RefreshLeeway time.Duration // renew this long before expiry; default 60 s
	ClockSkew     time.Duration // leeway for ID token time claims; default 60 s

	// IDTokenSignature selects how ID token signatures are checked; default
	// SignatureJWKS. See SignatureTLS for the one documented opt-out.
	IDTokenSignature SignatureMode
	// Algorithms adds ID token signing algorithms to RS256 and the metadata's list.
	Algorithms []string
	// TrustedAudiences are audiences besides ClientID an ID token may name.
	TrustedAudiences []string

	// InsecureAllowHTTP permits http:// endpoints on non-loopback hosts.
	// Never set it in production: tokens would cross the network in clear.
	InsecureAllowHTTP bool

	Transport Transport // required
	// Now reads the clock; default wallClock (time.Now without its
	// monotonic reading).
	Now func() time.Time
	// AfterFunc schedules proactive renewal; default time.AfterFunc. No
	// wait passed to it is longer than maxTimerStep.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
	// Retry bounds retries of transient token, JWKS and discovery failures.
	Retry RetryPolicy
	// OnEvent receives session events; it must not block.
	OnEvent func(Event)

	// DPoP, when set, sender-constrains the tokens to the signer's key
	// (RFC 9449): an embedded sign-in's authorization request carries
	// dpop_jkt, every token and resource request a fresh proof, and replies
	// must be DPoP tokens.
	// Nil (the default) uses Bearer tokens.
	DPoP DPoPSigner
	// Rand supplies the random jti of each DPoP proof; default crypto/rand.Reader.
	Rand io.Reader
}

// wallClock is time.Now without its monotonic reading, so that every
// comparison and difference of the session's times is on the wall clock.
// Token lifetimes are wall-clock times at the provider, and a monotonic
// clock may stand still while the machine sleeps: in a browser Go's
// monotonic clock is performance.now(), which on Linux and macOS does not
// count suspended time, so after a night's sleep a token's expiry would
// still look hours away.
func wallClock() time.Time { return time.Now().Round(0) }

// withDefaults returns a copy of c with zero fields defaulted.
func (c Config) withDefaults() Config {
	if c.Scope == "" {
		c.Scope = DefaultScope
	}
	if c.SilentRedirectURI == "" {
		c.SilentRedirectURI = c.RedirectURI
	}
	if c.RefreshLeeway == 0 {
		c.RefreshLeeway = DefaultRefreshLeeway
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = DefaultClockSkew
	}
	if c.IDTokenSignature == "" {
		c.IDTokenSignature = SignatureJWKS
	}
	if c.Now == nil {
		c.Now = wallClock
	}
	if c.AfterFunc == nil {
		c.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	c.Retry = c.Retry.withDefaults()
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	return c
}

// validate checks the static configuration, before any discovery.
func (c *Config) validate() error {
	if c.ClientID == "" {
		return newError(CodeInvalidConfig, nil, "clientId is required")
	}
	if c.Transport == nil {
		return newError(CodeInvalidConfig, nil, "a transport is required")
	}
	if err := validateRedirectURI("redirectUri", c.RedirectURI); err != nil {
		return err
	}
	if err := validateRedirectURI("silentRedirectUri", c.SilentRedirectURI); err != nil {
		return err
	}
	if _, err := sameOrigin(c.RedirectURI, c.SilentRedirectURI); err != nil {
		// The return page hands its URL to the parent or opener by
		// postMessage, which accepts only its own origin.
		return newError(CodeInvalidConfig, nil, "silentRedirectUri must be on the same origin as redirectUri")
	}
	if c.Issuer == "" {
		return newError(CodeInvalidConfig, nil, "issuer is required (the expected iss of ID tokens)")
	}
	if c.IDTokenSignature != SignatureJWKS && c.IDTokenSignature != SignatureTLS {
		return newError(CodeInvalidConfig, nil, "idTokenSignature must be %q or %q", SignatureJWKS, SignatureTLS)
	}
	if c.RefreshLeeway < 0 || c.ClockSkew < 0 {
		return newError(CodeInvalidConfig, nil, "refreshLeeway and clockSkew must not be negative")
	}
	for k := range c.ExtraAuthParams {
		if protocolParams[k] {
			return newError(CodeInvalidConfig, nil, "extraAuthParams may not set %q", k)
		}
	}
	return nil
}

func validateRedirectURI(name, raw string) error {
	if raw == "" {
		return newError(CodeInvalidConfig, nil, "%s is required", name)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return newError(CodeInvalidConfig, nil, "%s must be an absolute URL", name)
	}
	if strings.Contains(raw, "#") { // RFC 6749 §3.1.2: MUST NOT include a fragment component
		return newError(CodeInvalidConfig, nil, "%s must not contain a fragment", name)
	}
	return nil
}

// redirectURIFor is the redirect URI of one authorization request: the
// configured RedirectURI, or SilentRedirectURI for a response that returns
// inside an iframe or a popup. The transaction records it, and the code
// exchange sends it again (RFC 6749 §4.1.3: it must be identical).
func (c *Config) redirectURIFor(embedded bool) string {
	if embedded {
		return c.SilentRedirectURI
	}
	return c.RedirectURI
}

// knownRedirectURI reports whether a transaction's redirect URI is one this
// configuration sends: a transaction for another one was not ours.
func (c *Config) knownRedirectURI(raw string) bool {
	return raw == c.RedirectURI || raw == c.SilentRedirectURI
}

// needsDiscovery reports whether explicit endpoints are enough on their own.
func (c *Config) needsDiscovery() bool {
	e := c.Endpoints
	if e.Authorization == "" || e.Token == "" {
		return true
	}
	return c.IDTokenSignature == SignatureJWKS && e.JWKS == ""
}

// checkEndpoint requires https, except on loopback hosts (RFC 8252 §8.3
// treats loopback as not crossing the network) or with InsecureAllowHTTP.
func checkEndpoint(name, raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return newError(CodeInvalidConfig, nil, "%s is not an absolute URL", name)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme != "http":
		return newError(CodeInsecureEndpoint, nil, "%s must use https, not %s", name, u.Scheme)
	case isLoopback(u.Hostname()) || allowHTTP:
		return nil
	}
	return newError(CodeInsecureEndpoint, nil, "%s must use https (http is allowed only for loopback hosts or with insecureAllowHttp)", name)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback() // 127.0.0.0/8 and ::1
}

// quoteShort quotes s for an error message, truncated so a hostile server
// cannot flood messages.
func quoteShort(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "…"
	}
	return `"` + s + `"`
}
