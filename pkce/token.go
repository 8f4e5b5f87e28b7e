package pkce

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/url"
	"strings"
	"time"
)

// maxTokenLifetime bounds a lifetime read from a reply: anything longer is
// absurd for an access token (and would overflow time arithmetic).
const maxTokenLifetime = 10 * 365 * 24 * time.Hour

// TokenResponse is a validated token endpoint reply (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken  string
	TokenType    string
	ExpiresIn    *float64 // seconds; nil when the provider did not say
	RefreshToken string
	IDToken      string
	Scope        string
	Date         time.Time // the response's Date header, zero when absent
}

// tokenReply is the wire shape. Fields are json.RawMessage where the type
// must be checked rather than coerced.
type tokenReply struct {
	AccessToken  *string         `json:"access_token"`
	TokenType    *string         `json:"token_type"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	RefreshToken *string         `json:"refresh_token"`
	IDToken      *string         `json:"id_token"`
	Scope        *string         `json:"scope"`
}

// errorReply is both error shapes: RFC 6749 §5.2 and Intermezzo's camelCase.
type errorReply struct {
	Error                 any    `json:"error"`
	ErrorDescription      string `json:"error_description"`
	ErrorDescriptionCamel string `json:"errorDescription"`
	ErrorURI              string `json:"error_uri"`
}

// ParseTokenResponse validates a token endpoint response. Provider errors
// become an *Error whose Code is the provider's error code.
func ParseTokenResponse(resp *Response) (*TokenResponse, error) {
	return parseTokenResponse(resp, nil, false)
}

// parseTokenResponse is ParseTokenResponse for a reply to a request that
// carried the credentials in sent (code, verifier, refresh token): a
// provider's error text that quotes one of them is withheld. With dpop the
// request carried a DPoP proof and the token must be a DPoP token.
func parseTokenResponse(resp *Response, sent []string, dpop bool) (*TokenResponse, error) {
	if len(resp.Body) > MaxResponseBytes {
		return nil, &Error{Code: CodeInvalidTokenResponse, Status: resp.Status, Err: ErrResponseTooLarge, Description: "token response exceeds 1 MiB"}
	}
	body := bytes.TrimSpace(resp.Body)
	if !json.Valid(body) || len(body) == 0 || body[0] != '{' {
		// A gateway page instead of JSON is transient with a transient status.
		return nil, &Error{Code: statusCode(resp.Status, CodeInvalidTokenResponse), Status: resp.Status, Description: "token endpoint did not answer with a JSON object"}
	}
	var er errorReply
	_ = json.Unmarshal(body, &er) // valid JSON object: decoding into any-typed fields cannot fail on shape
	if resp.Status != 200 || er.Error != nil {
		return nil, providerError(resp.Status, er, sent) // RFC 6749 §5.2; a 200 carrying error is an error too
	}

	var r tokenReply
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, &Error{Code: CodeInvalidTokenResponse, Status: resp.Status, Err: err, Description: "token response has a field of the wrong type"}
	}
	if r.AccessToken == nil || *r.AccessToken == "" { // RFC 6749 §5.1: access_token REQUIRED
		return nil, &Error{Code: CodeInvalidTokenResponse, Status: resp.Status, Description: "token response has no access_token"}
	}
	tokenType := "Bearer"
	switch {
	case dpop && (r.TokenType == nil || !strings.EqualFold(*r.TokenType, "DPoP")): // RFC 9449 §5: token_type DPoP, case-insensitive (RFC 6749 §5.1); a Bearer token is refused, never silently accepted
		return nil, &Error{Code: CodeInvalidTokenResponse, Status: resp.Status, Description: "token response token_type is not DPoP although the request carried a DPoP proof"}
	case dpop:
		tokenType = "DPoP"
	case r.TokenType == nil || !strings.EqualFold(*r.TokenType, "Bearer"): // RFC 6749 §5.1, RFC 6750 §4: case-insensitive "Bearer" (a DPoP token unasked for is refused too)
		return nil, &Error{Code: CodeInvalidTokenResponse, Status: resp.Status, Description: "token response token_type is not Bearer"}
	}
	out := &TokenResponse{AccessToken: *r.AccessToken, TokenType: tokenType}
	if len(r.ExpiresIn) > 0 && string(r.ExpiresIn) != "null" {
		var n float64
		if err := json.Unmarshal(r.ExpiresIn, &n); err != nil { // RFC 6749 §5.1: expires_in is a number
			return nil, &Error{Code: CodeInvalidTokenResponse, Status: resp.Status, Description: "token response expires_in is not a number"}
		}
		if n < 0 || math.IsNaN(n) || n > maxTokenLifetime.Seconds() {
			return nil, &Error{Code: CodeInvalidTokenResponse, Status: resp.Status, Description: "token response expires_in is negative or absurd"}
		}
		out.ExpiresIn = &n
	}
	if r.RefreshToken != nil {
		out.RefreshToken = *r.RefreshToken
	}
	if r.IDToken != nil {
		out.IDToken = *r.IDToken
	}
	if r.Scope != nil {
		out.Scope = *r.Scope
	}
	if d, ok := resp.Header["date"]; ok {
		if t, err := time.Parse(time.RFC1123, d); err == nil {
			out.Date = t
		}
	}
	return out, nil
}

func providerError(status int, er errorReply, sent []string) *Error {
	code, _ := er.Error.(string)
	desc := er.ErrorDescription
	if desc == "" {
		desc = er.ErrorDescriptionCamel // Intermezzo: {"error","errorDescription"}
	}
	uri := er.ErrorURI
	if quotesAny(desc+" "+uri, sent) { // errors never carry a credential, even one the provider echoes
		desc, uri = "the provider's error description quoted a credential and was withheld", ""
	}
	e := &Error{Code: sanitizeCode(code), Description: sanitizeText(desc), URI: sanitizeText(uri), Status: status, Err: ErrProviderError}
	if code == "" {
		e.Code = statusCode(status, CodeInvalidTokenResponse)
		e.Description = "token endpoint failed without an error code"
	}
	return e
}

// quotesAny reports whether s contains any of the non-empty secrets.
func quotesAny(s string, secrets []string) bool {
	for _, secret := range secrets {
		if secret != "" && strings.Contains(s, secret) {
			return true
		}
	}
	return false
}

// tokenRequest POSTs form to the token endpoint (RFC 6749 §4.1.3, §6):
// form-encoded, client_id in the body, no Authorization header, no secret.
// With DPoP each request carries a fresh proof (RFC 9449 §5).
func (c *Client) tokenRequest(ctx context.Context, form url.Values) (*TokenResponse, *Response, error) {
	form.Set("client_id", c.cfg.ClientID) // RFC 6749 §2.3: public client identifies itself, no secret
	sent := []string{form.Get("code"), form.Get("code_verifier"), form.Get("refresh_token")}
	newRequest := func() *Request {
		return &Request{
			Method: "POST",
			URL:    c.ep.Token,
			Header: map[string]string{
				"content-type": "application/x-www-form-urlencoded",
				"accept":       "application/json",
			},
			Body: []byte(form.Encode()),
		}
	}
	if c.dpop == nil {
		resp, err := roundTrip(ctx, c.cfg.Transport, newRequest())
		if err != nil {
			return nil, nil, err
		}
		tr, err := parseTokenResponse(resp, sent, false)
		return tr, resp, err
	}
	for retried := false; ; retried = true {
		req := newRequest()
		proof, err := c.dpop.proof(ctx, req.Method, req.URL, "")
		if err != nil {
			return nil, nil, err
		}
		req.Header["dpop"] = proof // RFC 9449 §5: the DPoP header on every token request, any grant
		resp, err := roundTrip(ctx, c.cfg.Transport, req)
		if err != nil {
			return nil, nil, err
		}
		fresh := c.dpop.observe(req.URL, resp) // RFC 9449 §8.2: a new nonce may come with any response
		tr, err := parseTokenResponse(resp, sent, true)
		if resp.Status != 400 || ErrorCode(err) != "use_dpop_nonce" { // RFC 9449 §8: 400 with error use_dpop_nonce asks for a nonce
			return tr, resp, err
		}
		switch {
		case retried: // one retry, never a loop
			return nil, resp, &Error{Code: CodeDPoPNonceFailed, Status: resp.Status, Err: err, Description: "the token endpoint asked for a DPoP nonce again after a retry with one"}
		case !fresh: // RFC 9449 §8: the nonce comes in the DPoP-Nonce header
			return nil, resp, &Error{Code: CodeDPoPNonceFailed, Status: resp.Status, Err: err, Description: "the token endpoint asked for a DPoP nonce without a valid DPoP-Nonce header"}
		}
	}
}

// formOf builds a form from key, value pairs.
func formOf(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}
