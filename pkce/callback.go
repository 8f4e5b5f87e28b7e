package pkce

import (
	"crypto/subtle"
	"net/url"
	"strings"
)

// CallbackParams are the parameters of an authorization response.
type CallbackParams struct {
	Code, State, Issuer     string
	HasIssuer               bool
	Error, ErrorDescription string
	ErrorURI                string
	HasImplicit             bool // access_token or id_token present
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

// IsCallback reports whether rawURL is an authorization response addressed
// to the configured redirect URI.
func (c *Client) IsCallback(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	r, err := url.Parse(c.cfg.RedirectURI)
	if err != nil || u.Scheme != r.Scheme || u.Host != r.Host || u.EscapedPath() != r.EscapedPath() {
		return false
	}
	return hasResponseParams(u.RawQuery) || hasResponseParams(u.Fragment)
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

// callbackParams are removed from the address bar after a callback, so a
// code never lingers in history, bookmarks or Referer headers.
var callbackParams = []string{"code", "state", "iss", "error", "error_description", "error_uri", "session_state"}

// StripCallbackParams returns rawURL without the authorization response
// parameters, in the query or the fragment; other parameters are kept.
func StripCallbackParams(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	strip := func(raw string) string {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return raw
		}
		for _, k := range callbackParams {
			q.Del(k)
		}
		return q.Encode()
	}
	if hasResponseParams(u.RawQuery) {
		u.RawQuery = strip(u.RawQuery)
	}
	if hasResponseParams(u.Fragment) {
		u.Fragment = strip(u.Fragment)
		u.RawFragment = ""
	}
	return u.String()
}
