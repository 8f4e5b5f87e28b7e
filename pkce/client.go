package pkce

import (
	"context"
	"slices"
	"sync"
)

// Client is an OAuth 2.0 / OpenID Connect public client for one provider.
// It keeps tokens in memory only. All methods are safe for concurrent use.
type Client struct {
	cfg         Config
	ep          Endpoints
	issRequired bool // RFC 9207: metadata promises iss in authorization responses
	verifier    *IDTokenVerifier
	keys        *RemoteKeySet // nil in SignatureTLS mode
	dpop        *dpopState    // nil when DPoP is off

	renewals singleFlight[renewal] // the refresh under way, shared by its callers

	mu     sync.Mutex
	sess   *session            // nil when not authenticated
	used   map[string]struct{} // states of consumed transactions, to name replays
	stop   func() bool         // cancels the scheduled renewal
	gen    uint64              // bumped whenever the session is replaced or ended
	closed bool                // set by Close, for good
}

// NewClient validates cfg, discovers the provider when needed, and returns
// a Client with no session.
func NewClient(ctx context.Context, cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	var md *Metadata
	if cfg.needsDiscovery() {
		var err error
		if md, err = discover(ctx, &cfg); err != nil {
			return nil, err
		}
	}
	ep, err := resolveEndpoints(cfg.Endpoints, md, cfg.InsecureAllowHTTP)
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, ep: ep, used: map[string]struct{}{}}
	if cfg.DPoP != nil {
		if c.dpop, err = newDPoP(cfg.DPoP, cfg.Rand, cfg.Now); err != nil {
			return nil, err
		}
	}
	var supportedAlgs []string
	if md != nil {
		c.issRequired = md.AuthorizationResponseIssParameterSupported
		supportedAlgs = md.IDTokenSigningAlgValuesSupported
		if len(md.CodeChallengeMethodsSupported) > 0 && !slices.Contains(md.CodeChallengeMethodsSupported, ChallengeMethod) {
			return nil, newError(CodeInvalidConfig, nil, "provider does not support PKCE with S256")
		}
		if algs := md.DPoPSigningAlgValuesSupported; c.dpop != nil && len(algs) > 0 && !slices.Contains(algs, DPoPAlgorithm) { // RFC 9449 §5.1
			return nil, newError(CodeInvalidConfig, nil, "provider does not accept DPoP proofs signed with ES256")
		}
	}
	c.verifier = &IDTokenVerifier{
		Issuer: cfg.Issuer, ClientID: cfg.ClientID, TrustedAudiences: cfg.TrustedAudiences,
		Algorithms: AllowedAlgorithms(supportedAlgs, cfg.Algorithms),
		Mode:       cfg.IDTokenSignature, Leeway: cfg.ClockSkew, Now: cfg.Now,
	}
	if cfg.IDTokenSignature == SignatureJWKS {
		if ep.JWKS == "" {
			return nil, newError(CodeInvalidConfig, nil, "no jwks_uri configured or discovered (needed to check ID token signatures)")
		}
		c.keys = NewRemoteKeySet(ep.JWKS, cfg.Transport, cfg.Now, cfg.Retry)
		c.verifier.Keys = c.keys
	}
	return c, nil
}

// Endpoints returns the provider endpoints in use.
func (c *Client) Endpoints() Endpoints { return c.ep }

// Close ends the client for good: it forgets the session and stops its
// renewal, with no request and no end-session URL (that is Logout), and
// later calls fail with CodeClientClosed. A refresh under way is dropped
// when it ends. Closing again does nothing.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.endLocked()
}

// errClosed is the error of every call after Close.
func errClosed() *Error {
	return &Error{Code: CodeClientClosed, Err: ErrClientClosed, Description: "this client was closed; create a new one"}
}

// checkOpen fails once the client is closed.
func (c *Client) checkOpen() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed()
	}
	return nil
}

// Authenticated reports whether there is a session whose access token is
// valid or can be renewed.
func (c *Client) Authenticated() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess != nil && (c.sess.refreshToken != "" || c.cfg.Now().Before(c.sess.expiresAt))
}

// Claims returns a copy of the ID token's claims, or nil without a session.
func (c *Client) Claims() map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == nil || c.sess.idToken == nil {
		return nil
	}
	out := make(map[string]any, len(c.sess.idToken.Claims))
	for k, v := range c.sess.idToken.Claims {
		out[k] = v
	}
	return out
}
