package pkce

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
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

	mu     sync.Mutex
	sess   *session            // nil when not authenticated
	used   map[string]struct{} // states of consumed transactions, to name replays
	flight *flight             // the refresh in progress, if any
	stop   func() bool         // cancels the scheduled renewal
	gen    uint64              // bumped whenever the session is replaced or ended
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
	var supportedAlgs []string
	if md != nil {
		c.issRequired = md.AuthorizationResponseIssParameterSupported
		supportedAlgs = md.IDTokenSigningAlgValuesSupported
		if len(md.CodeChallengeMethodsSupported) > 0 && !slices.Contains(md.CodeChallengeMethodsSupported, ChallengeMethod) {
			return nil, newError(CodeInvalidConfig, nil, "provider does not support PKCE with S256")
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

// HandleCallback completes a login: it consumes the pending transaction,
// checks the authorization response, exchanges the code, validates the ID
// token and starts the session. It returns the return path saved at login.
// The transaction is removed whatever the outcome, and no token request is
// made after any rejection.
func (c *Client) HandleCallback(ctx context.Context, rawURL string) (string, error) {
	if c.cfg.Store == nil {
		return "", newError(CodeInvalidConfig, nil, "a transaction store is required to handle callbacks")
	}
	data, err := c.cfg.Store.Take(ctx) // consumed on first use, whatever follows
	if err != nil {
		return "", &Error{Code: CodeMissingTransaction, Err: err, Description: "login transaction could not be read"}
	}
	p, perr := ParseCallback(rawURL)
	if data == nil {
		if perr == nil && c.consumed(p.State) {
			return "", &Error{Code: CodeInvalidCallback, Err: ErrReplayedCallback, Description: "this callback was already processed"}
		}
		return "", &Error{Code: CodeMissingTransaction, Err: ErrNoTransaction, Description: "no login is pending in this tab"}
	}
	var tx Transaction
	if err := json.Unmarshal(data, &tx); err != nil || tx.State == "" {
		return "", &Error{Code: CodeMissingTransaction, Err: ErrNoTransaction, Description: "stored login transaction is unreadable"}
	}
	// The store is outside our memory (sessionStorage): check what we read.
	if ValidateVerifier(tx.Verifier) != nil { // RFC 7636 §4.1
		return "", &Error{Code: CodeMissingTransaction, Err: ErrNoTransaction, Description: "stored login transaction has a malformed code_verifier"}
	}
	tx.ReturnTo = SafeReturnTo(c.cfg.RedirectURI, tx.ReturnTo) // never an open redirect, even from a tampered store
	c.markConsumed(tx.State)
	if tx.expired(c.cfg.Now()) {
		return "", &Error{Code: CodeMissingTransaction, Err: ErrTransactionExpired, Description: "login transaction is older than 10 minutes"}
	}
	if tx.Issuer != c.cfg.Issuer || tx.RedirectURI != c.cfg.RedirectURI {
		return "", &Error{Code: CodeMissingTransaction, Err: ErrNoTransaction, Description: "pending login was started for another issuer or redirect URI"}
	}
	if perr != nil {
		return "", perr
	}
	if err := c.checkCallback(p, &tx); err != nil {
		return "", err
	}

	// The ID token's signature will need the provider's keys: fetch them
	// alongside the code exchange rather than after it.
	keysReady := make(chan error, 1) // buffered: the fetch never waits for a reader
	if ks := c.keys; ks != nil && hasScope(tx.Scope, "openid") {
		go func() { keysReady <- ks.ensure(ctx) }()
	} else {
		keysReady <- nil
	}
	received := c.cfg.Now()
	tr, _, err := c.tokenRequest(ctx, formOf(
		"grant_type", "authorization_code", // RFC 6749 §4.1.3
		"code", p.Code,
		"redirect_uri", tx.RedirectURI,
		"code_verifier", tx.Verifier, // RFC 7636 §4.5
	))
	if err != nil {
		return "", err
	}
	if tr.IDToken == "" && hasScope(tx.Scope, "openid") { // OIDC Core 3.1.3.3: id_token REQUIRED
		return "", &Error{Code: CodeInvalidTokenResponse, Description: "token response has no id_token although openid was requested"}
	}
	if err := <-keysReady; err != nil {
		return "", err
	}
	var idt *IDToken
	if tr.IDToken != "" {
		chk := IDTokenCheck{Nonce: tx.Nonce, AccessToken: tr.AccessToken}
		if tx.MaxAge != nil {
			d := secondsDuration(float64(*tx.MaxAge))
			chk.MaxAge = &d
		}
		if idt, err = c.verifier.Verify(ctx, tr.IDToken, chk); err != nil {
			return "", err
		}
	}
	s := newSession(tr, idt, tx.Scope, received, c.cfg.RefreshLeeway)
	c.mu.Lock()
	c.installLocked(s)
	c.mu.Unlock()
	// A new access token exists: the host may cache it and show its expiry.
	c.emit(Event{Type: EventTokenRefreshed, ExpiresAt: s.expiresAt, Scope: s.scope, Token: s.token()})
	return tx.ReturnTo, nil
}

func (c *Client) consumed(state string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.used[state]
	return ok
}

func (c *Client) markConsumed(state string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used[state] = struct{}{}
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

func hasScope(scope, want string) bool {
	return slices.Contains(strings.Fields(scope), want)
}
