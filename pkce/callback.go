package pkce

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// HandleCallback completes a login with transaction, what Login returned
// and the host kept (nil when it has none): it checks the authorization
// response against it, exchanges the code, validates the ID token and
// starts the session. It returns the return path saved at login. A
// transaction serves one callback, whatever the outcome: the host drops it
// as it hands it over, and a later callback for its state, with none, is
// refused as a replay. No token request is made after any rejection.
func (c *Client) HandleCallback(ctx context.Context, rawURL string, transaction []byte) (string, error) {
	tx, p, err := c.takeTransaction(rawURL, transaction)
	if err != nil {
		return "", err
	}
	if err := c.completeLogin(ctx, tx, p.Code); err != nil {
		return "", err
	}
	return tx.ReturnTo, nil
}

// takeTransaction consumes the transaction data (on first use, whatever
// follows) and checks the authorization response in rawURL against it.
// Only a sound transaction matched by a sound response comes back.
func (c *Client) takeTransaction(rawURL string, data []byte) (*Transaction, *CallbackParams, error) {
	if err := c.checkOpen(); err != nil {
		return nil, nil, err
	}
	p, perr := ParseCallback(rawURL)
	if data == nil {
		if perr == nil && c.consumed(p.State) {
			return nil, nil, &Error{Code: CodeInvalidCallback, Err: ErrReplayedCallback, Description: "this callback was already processed"}
		}
		return nil, nil, &Error{Code: CodeMissingTransaction, Err: ErrNoTransaction, Description: "no login is pending in this tab"}
	}
	tx, err := c.decodeTransaction(data)
	if err != nil {
		return nil, nil, err
	}
	c.markConsumed(tx.State)
	if err := c.checkTransaction(tx); err != nil {
		return nil, nil, err
	}
	if perr != nil {
		return nil, nil, perr
	}
	if err := c.checkCallback(p, tx); err != nil {
		return nil, nil, err
	}
	return tx, p, nil
}

// decodeTransaction reads a transaction the host kept. The host's storage is
// outside our memory: what it held is checked, not trusted.
func (c *Client) decodeTransaction(data []byte) (*Transaction, error) {
	var tx Transaction
	if err := json.Unmarshal(data, &tx); err != nil || tx.State == "" {
		return nil, &Error{Code: CodeMissingTransaction, Err: ErrNoTransaction, Description: "stored login transaction is unreadable"}
	}
	if ValidateVerifier(tx.Verifier) != nil { // RFC 7636 §4.1
		return nil, &Error{Code: CodeMissingTransaction, Err: ErrNoTransaction, Description: "stored login transaction has a malformed code_verifier"}
	}
	tx.ReturnTo = SafeReturnTo(c.cfg.RedirectURI, tx.ReturnTo) // never an open redirect, even from tampered storage
	return &tx, nil
}

// checkTransaction refuses a transaction that is too old or was started
// for another issuer or redirect URI.
func (c *Client) checkTransaction(tx *Transaction) error {
	if tx.expired(c.cfg.Now()) {
		return &Error{Code: CodeMissingTransaction, Err: ErrTransactionExpired, Description: "login transaction is older than 10 minutes"}
	}
	if tx.Issuer != c.cfg.Issuer || !c.cfg.knownRedirectURI(tx.RedirectURI) {
		return &Error{Code: CodeMissingTransaction, Err: ErrNoTransaction, Description: "pending login was started for another issuer or redirect URI"}
	}
	return nil
}

// completeLogin exchanges code for tokens, validates the ID token and
// starts the session.
func (c *Client) completeLogin(ctx context.Context, tx *Transaction, code string) error {
	openid := hasScope(tx.Scope, "openid")
	// The ID token's signature will need the provider's keys: fetch them
	// alongside the code exchange rather than after it.
	keysReady := make(chan error, 1) // buffered: the fetch never waits for a reader
	if c.keys != nil && openid {
		go func() { keysReady <- c.keys.ensure(ctx) }()
	} else {
		keysReady <- nil
	}
	received := c.cfg.Now()
	tr, _, err := c.tokenRequest(ctx, formOf(
		"grant_type", "authorization_code", // RFC 6749 §4.1.3
		"code", code,
		"redirect_uri", tx.RedirectURI,
		"code_verifier", tx.Verifier, // RFC 7636 §4.5
	))
	if err != nil {
		return err
	}
	if tr.IDToken == "" && openid { // OIDC Core 3.1.3.3: id_token REQUIRED
		return &Error{Code: CodeInvalidTokenResponse, Description: "token response has no id_token although openid was requested"}
	}
	if err := <-keysReady; err != nil {
		return err
	}
	var idt *IDToken
	if tr.IDToken != "" {
		if idt, err = c.verifier.Verify(ctx, tr.IDToken, loginCheck(tx, tr.AccessToken)); err != nil {
			return err
		}
	}
	return c.startSession(newSession(tr, idt, tx.Scope, received, c.cfg.RefreshLeeway))
}

// loginCheck is what the login's ID token must match beyond the verifier's
// configuration.
func loginCheck(tx *Transaction, accessToken string) IDTokenCheck {
	chk := IDTokenCheck{Nonce: tx.Nonce, AccessToken: accessToken}
	if tx.MaxAge != nil {
		d := secondsDuration(float64(*tx.MaxAge))
		chk.MaxAge = &d
	}
	return chk
}

// startSession installs s, unless the client was closed meanwhile, and
// tells the host: a new access token exists, to cache and show its expiry.
func (c *Client) startSession(s *session) error {
	var emit *Event
	defer c.emitPending(&emit) // after the unlock below
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed()
	}
	c.installLocked(s)
	emit = &Event{Type: EventTokenRefreshed, ExpiresAt: s.expiresAt, Scope: s.scope, Token: s.token()}
	return nil
}

// CallbackParams are the parameters of an authorization response.
type CallbackParams struct {
	Code, State, Issuer     string
	HasIssuer               bool
	Error, ErrorDescription string
	ErrorURI                string
	HasImplicit             bool // access_token or id_token present
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

func hasScope(scope, want string) bool {
	return slices.Contains(strings.Fields(scope), want)
}

// ParseCallback reads the authorization response from rawURL's query, or
// from its fragment when the query carries no response. Every parameter may
// appear at most once.
func ParseCallback(rawURL string) (*CallbackParams, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, newError(CodeInvalidCallback, err, "callback URL cannot be parsed")
	}
	raw := u.RawQuery
	if !hasResponseParams(raw) && hasResponseParams(u.Fragment) {
		raw = u.Fragment
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, newError(CodeInvalidCallback, err, "callback parameters cannot be parsed")
	}
	for k, v := range q {
		if len(v) > 1 { // RFC 6749 §3.1: parameters MUST NOT be included more than once
			return nil, &Error{Code: CodeInvalidCallback, Err: ErrDuplicateParameter,
				Description: "callback parameter " + quoteShort(k) + " given more than once"}
		}
	}
	_, hasIss := q["iss"]
	_, hasAT := q["access_token"]
	_, hasIDT := q["id_token"]
	return &CallbackParams{
		Code: q.Get("code"), State: q.Get("state"),
		Issuer: q.Get("iss"), HasIssuer: hasIss,
		Error: q.Get("error"), ErrorDescription: q.Get("error_description"), ErrorURI: q.Get("error_uri"),
		HasImplicit: hasAT || hasIDT,
	}, nil
}

// hasResponseParams reports whether a raw query carries an authorization
// response (code, error or state).
func hasResponseParams(raw string) bool {
	q, _ := url.ParseQuery(raw)
	return q.Has("code") || q.Has("error") || q.Has("state")
}

// checkCallback applies the authorization-response checks to p against tx.
func (c *Client) checkCallback(p *CallbackParams, tx *Transaction) error {
	if p.State == "" { // RFC 6749 §4.1.2: state REQUIRED when sent in the request
		return &Error{Code: CodeStateMismatch, Err: ErrStateMissing, Description: "callback has no state parameter"}
	}
	if subtle.ConstantTimeCompare([]byte(p.State), []byte(tx.State)) != 1 { // RFC 6749 §10.12: CSRF protection
		return &Error{Code: CodeStateMismatch, Err: ErrStateMismatch, Description: "callback state does not match the pending login"}
	}
	if p.HasIssuer && p.Issuer != tx.Issuer { // RFC 9207 §2.4: iss MUST equal the expected issuer
		return &Error{Code: CodeIssuerMismatch, Err: ErrIssuerMismatch,
			Description: "callback iss " + quoteShort(p.Issuer) + " does not match expected issuer " + quoteShort(tx.Issuer)}
	}
	if !p.HasIssuer && c.issRequired { // RFC 9207 §2.4: iss required when the metadata says it is supported
		return &Error{Code: CodeIssuerMismatch, Err: ErrIssuerMissing, Description: "callback has no iss parameter, but the provider promises one"}
	}
	if p.Error != "" { // RFC 6749 §4.1.2.1: error response
		return &Error{Code: sanitizeCode(p.Error), Description: sanitizeText(p.ErrorDescription), URI: sanitizeText(p.ErrorURI), Err: ErrProviderError}
	}
	if p.HasImplicit { // RFC 9700 §2.1.2: tokens in the front channel mean a mix-up or injection
		return &Error{Code: CodeInvalidCallback, Err: ErrImplicitParameters, Description: "callback carries access_token or id_token; only the code flow is allowed"}
	}
	if p.Code == "" { // RFC 6749 §4.1.2: code REQUIRED
		return &Error{Code: CodeInvalidCallback, Err: ErrCodeMissing, Description: "callback has no code parameter"}
	}
	return nil
}

// sanitizeCode keeps a provider error code if it has the RFC 6749 §5.2 form
// (%x20-21 / %x23-5B / %x5D-7E, here without spaces) and a sane length.
func sanitizeCode(s string) string {
	if s == "" || len(s) > 64 {
		return "provider_error"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c == '"' || c == '\\' || c > 0x7e {
			return "provider_error"
		}
	}
	return s
}

// sanitizeText bounds provider-controlled text in error messages.
func sanitizeText(s string) string {
	const max = 300
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
