package pkce

import (
	"context"
	"net/url"
)

// LogoutOptions control Client.Logout.
type LogoutOptions struct {
	// ReturnTo is the post_logout_redirect_uri: absolute or relative to the
	// redirect URI, same origin only; default the redirect URI.
	ReturnTo string
	// Revoke revokes the refresh token (or, without one, the access token)
	// at the revocation endpoint (RFC 7009) when one is known.
	Revoke bool
}

// Logout ends the session. Bad options are refused before anything
// changes; otherwise all in-memory state is cleared first, whatever the
// network does; then the token is revoked if asked, and the provider's
// end-session URL is returned ("" when the provider has none) for the host
// to navigate to. A revocation failure is returned alongside the URL.
func (c *Client) Logout(ctx context.Context, opts LogoutOptions) (string, error) {
	if err := c.checkOpen(); err != nil {
		return "", err
	}
	returnTo, err := c.postLogoutURI(opts.ReturnTo)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	s := c.sess
	c.endLocked()
	c.mu.Unlock()

	var revokeErr error
	if opts.Revoke && s != nil && c.ep.Revocation != "" {
		revokeErr = c.revoke(ctx, s)
	}
	if c.ep.EndSession == "" {
		return "", revokeErr
	}
	q := url.Values{}
	if s != nil && s.idToken != nil {
		q.Set("id_token_hint", s.idToken.Raw) // RP-Initiated Logout 1.0 §2: RECOMMENDED
	}
	q.Set("client_id", c.cfg.ClientID)
	q.Set("post_logout_redirect_uri", returnTo)
	return appendQuery(c.ep.EndSession, q), revokeErr
}

// revoke revokes the session's longest-lived token (RFC 7009 §2.1).
func (c *Client) revoke(ctx context.Context, s *session) error {
	tok, hint := s.refreshToken, "refresh_token"
	if tok == "" {
		tok, hint = s.accessToken, "access_token"
	}
	form := formOf("token", tok, "token_type_hint", hint, "client_id", c.cfg.ClientID)
	resp, err := roundTrip(ctx, c.cfg.Transport, &Request{
		Method: "POST", URL: c.ep.Revocation,
		Header: map[string]string{"content-type": "application/x-www-form-urlencoded"},
		Body:   []byte(form.Encode()),
	})
	if err != nil {
		return err
	}
	if resp.Status != 200 { // RFC 7009 §2.2: 200 whether or not the token was valid
		_, perr := parseTokenResponse(resp, []string{tok}, false)
		if e, ok := perr.(*Error); ok && e.Err == ErrProviderError {
			return e
		}
		return &Error{Code: CodeNetworkError, Status: resp.Status, Description: "token revocation failed"}
	}
	return nil
}

// postLogoutURI resolves returnTo against the redirect URI and refuses
// other origins, so logout cannot become an open redirect.
func (c *Client) postLogoutURI(returnTo string) (string, error) {
	if returnTo == "" {
		return c.cfg.RedirectURI, nil
	}
	u, err := sameOrigin(c.cfg.RedirectURI, returnTo)
	if err != nil {
		return "", newError(CodeInvalidArgument, nil, "logout returnTo %v", err)
	}
	return u.String(), nil
}
