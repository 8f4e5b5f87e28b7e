package pkce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
)

// ErrUserinfoSubject is the cause when the userinfo sub is not the ID token's.
var ErrUserinfoSubject = errors.New("userinfo sub does not match the ID token")

// ParseUserinfo validates a userinfo response (OIDC Core 5.3.2) for the
// subject wantSub and returns its claims.
func ParseUserinfo(resp *Response, wantSub string) (map[string]any, error) {
	if resp.Status != 200 {
		return nil, &Error{Code: statusCode(resp.Status, CodeInvalidUserinfo), Status: resp.Status, Description: "the userinfo endpoint refused the request"}
	}
	if mediaType(resp.Header["content-type"]) == "application/jwt" { // OIDC Core 5.3.2: signed or encrypted userinfo
		return nil, &Error{Code: CodeInvalidUserinfo, Status: resp.Status, Description: "signed or encrypted userinfo responses are not supported"}
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(resp.Body))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil || claims == nil || dec.More() {
		return nil, &Error{Code: CodeInvalidUserinfo, Status: resp.Status, Err: err, Description: "the userinfo response is not a JSON object"}
	}
	sub, ok := claims["sub"].(string)
	if !ok || sub == "" { // OIDC Core 5.3.2: sub MUST always be returned
		return nil, &Error{Code: CodeInvalidUserinfo, Status: resp.Status, Description: "the userinfo response has no sub"}
	}
	if sub != wantSub { // OIDC Core 5.3.2: sub MUST match the ID token's, else the response MUST NOT be used
		return nil, &Error{Code: CodeInvalidUserinfo, Status: resp.Status, Err: ErrUserinfoSubject, Description: "the userinfo sub is not the signed-in user's"}
	}
	return claims, nil
}

// Userinfo fetches the signed-in user's claims from the userinfo endpoint
// with the current access token (OIDC Core 5.3).
func (c *Client) Userinfo(ctx context.Context) (map[string]any, error) {
	if err := c.checkOpen(); err != nil {
		return nil, err
	}
	if c.ep.Userinfo == "" {
		return nil, &Error{Code: CodeInvalidConfig, Description: "the provider has no userinfo endpoint"}
	}
	tok, err := c.Token(ctx, TokenOptions{})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	var sub string
	if c.sess != nil && c.sess.idToken != nil {
		sub, _ = c.sess.idToken.Claims["sub"].(string)
	}
	c.mu.Unlock()
	if sub == "" {
		return nil, &Error{Code: CodeInvalidUserinfo, Description: "no ID token to compare the userinfo sub with"}
	}
	resp, err := c.resourceRequest(ctx, &Request{
		Method: "GET", URL: c.ep.Userinfo,
		Header: map[string]string{"accept": "application/json"},
	}, tok.AccessToken) // Bearer, or DPoP with a proof (RFC 9449 §7.1)
	if err != nil {
		return nil, err
	}
	return ParseUserinfo(resp, sub)
}

// mediaType returns the lower-case type/subtype of a Content-Type value
// (RFC 9110 §8.3.1), without parameters. Package mime would do the same but
// costs the wasm binary its MIME tables and file loading.
func mediaType(contentType string) string {
	t, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(t))
}
