package pkce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Transaction is the one-time state of a login. Login returns it encoded;
// the host keeps it across the redirect and hands it back, once, to
// HandleCallback.
type Transaction struct {
	State       string `json:"state"`
	Nonce       string `json:"nonce"`
	Verifier    string `json:"verifier"`
	RedirectURI string `json:"redirect_uri"`
	Issuer      string `json:"issuer"`
	ReturnTo    string `json:"return_to"`
	Scope       string `json:"scope"`
	MaxAge      *int64 `json:"max_age,omitempty"` // seconds, when max_age was sent
	CreatedAt   int64  `json:"created_at"`        // Unix milliseconds
}

// LoginOptions are the per-login authorization request options.
type LoginOptions struct {
	ReturnTo    string // where to go after the callback; same origin as RedirectURI, else "/"
	Prompt      string
	LoginHint   string
	MaxAge      *int64 // seconds; makes auth_time required in the ID token
	ExtraParams map[string]string
	// Embedded: the response returns inside an iframe or a popup, to
	// Config.SilentRedirectURI (a silent or popup sign-in).
	Embedded bool
}

// protocolParams may not be set through ExtraAuthParams or ExtraParams: they
// carry the protocol's guarantees or have their own option.
var protocolParams = map[string]bool{
	"response_type": true, "client_id": true, "redirect_uri": true, "scope": true,
	"state": true, "nonce": true, "code_challenge": true, "code_challenge_method": true,
	"audience": true, "prompt": true, "login_hint": true, "max_age": true,
	"response_mode": true, "request": true, "request_uri": true,
	"dpop_jkt": true,
}

// AuthorizationRequest builds the authorization URL (RFC 6749 §4.1.1,
// RFC 7636 §4.3, OIDC Core 3.1.2.1) and its transaction. Client.Login
// returns the same, with the transaction encoded for the host to keep.
func (c *Client) AuthorizationRequest(opts LoginOptions) (string, *Transaction, error) {
	for k := range opts.ExtraParams {
		if protocolParams[k] {
			return "", nil, newError(CodeInvalidConfig, nil, "extraParams may not set %q", k)
		}
	}
	if opts.MaxAge != nil && *opts.MaxAge < 0 {
		return "", nil, newError(CodeInvalidConfig, nil, "maxAge must not be negative")
	}
	state, err := randomToken(32) // ≥128 bits (RFC 6749 §10.10)
	if err != nil {
		return "", nil, err
	}
	nonce, err := randomToken(32) // OIDC Core 15.5.2
	if err != nil {
		return "", nil, err
	}
	verifier, err := NewVerifier()
	if err != nil {
		return "", nil, err
	}
	redirectURI := c.cfg.redirectURIFor(opts.Embedded)
	tx := &Transaction{
		State: state, Nonce: nonce, Verifier: verifier,
		RedirectURI: redirectURI, Issuer: c.cfg.Issuer,
		ReturnTo: SafeReturnTo(c.cfg.RedirectURI, opts.ReturnTo),
		Scope:    c.cfg.Scope, MaxAge: opts.MaxAge,
		CreatedAt: c.cfg.Now().UnixMilli(),
	}

	q := url.Values{}
	for k, v := range c.cfg.ExtraAuthParams {
		q.Set(k, v)
	}
	for k, v := range opts.ExtraParams {
		q.Set(k, v)
	}
	q.Set("response_type", "code")
	q.Set("client_id", c.cfg.ClientID)
	q.Set("redirect_uri", redirectURI) // byte-exact (RFC 6749 §3.1.2); the code exchange repeats it (§4.1.3)
	q.Set("scope", c.cfg.Scope)
	q.Set("state", state)
	q.Set("nonce", nonce)
	q.Set("code_challenge", Challenge(verifier))
	q.Set("code_challenge_method", ChallengeMethod)
	setIf(q, "audience", c.cfg.Audience)
	setIf(q, "prompt", opts.Prompt)
	setIf(q, "login_hint", opts.LoginHint)
	if opts.MaxAge != nil {
		q.Set("max_age", strconv.FormatInt(*opts.MaxAge, 10))
	}
	// RFC 9449 §10: dpop_jkt binds the code to the DPoP key, so it is sent
	// only when the runtime that asks is the one that will exchange the
	// code: an embedded (silent, popup) sign-in. A redirect leaves the page,
	// and with it, perhaps, the runtime and its key, which lives in memory
	// only; its code is bound to the request by PKCE, and its tokens to the
	// key of the runtime that exchanges it (a proof at the token endpoint).
	if c.dpop != nil && opts.Embedded {
		q.Set("dpop_jkt", c.dpop.jkt)
	}

	return appendQuery(c.ep.Authorization, q), tx, nil
}

func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// Login builds the authorization request and returns the URL the host must
// navigate to, with the encoded transaction it must keep and hand back to
// HandleCallback.
func (c *Client) Login(ctx context.Context, opts LoginOptions) (url string, transaction []byte, err error) {
	if err := c.checkOpen(); err != nil {
		return "", nil, err
	}
	u, tx, err := c.AuthorizationRequest(opts)
	if err != nil {
		return "", nil, err
	}
	data, err := json.Marshal(tx)
	if err != nil {
		return "", nil, fmt.Errorf("mezzo: encoding transaction: %w", err)
	}
	return u, data, nil
}

// SafeReturnTo resolves returnTo against redirectURI and returns its path,
// query and fragment when it is same-origin; anything else yields "/", so
// the callback can never become an open redirect.
func SafeReturnTo(redirectURI, returnTo string) string {
	if returnTo == "" {
		return "/"
	}
	u, err := sameOrigin(redirectURI, returnTo)
	if err != nil {
		return "/"
	}
	out := u.EscapedPath()
	if out == "" {
		out = "/"
	}
	if strings.HasPrefix(out, "//") { // a scheme-relative path would leave the origin
		return "/"
	}
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		out += "#" + u.EscapedFragment()
	}
	return out
}

// expired reports whether the transaction is past TransactionLifetime.
func (tx *Transaction) expired(now time.Time) bool {
	return now.Sub(time.UnixMilli(tx.CreatedAt)) > TransactionLifetime
}
