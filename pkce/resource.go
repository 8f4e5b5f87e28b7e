package pkce

import "context"

// Requests to resource servers: the access token is presented as a Bearer
// token (RFC 6750 §2.1) or, with DPoP, as a DPoP token with a proof bound
// to it (RFC 9449 §7.1).

// ResourceHeaders returns the headers that present the current access
// token in a request of method to rawURL: "authorization: Bearer <token>",
// or with DPoP "authorization: DPoP <token>" and a fresh "dpop" proof whose
// ath is the token's hash (RFC 9449 §7.1). The token is renewed first when
// due, as by Token. Each call makes a new proof: send it once.
func (c *Client) ResourceHeaders(ctx context.Context, method, rawURL string) (map[string]string, error) {
	tok, err := c.Token(ctx, TokenOptions{})
	if err != nil {
		return nil, err
	}
	return c.authHeaders(ctx, method, rawURL, tok.AccessToken)
}

func (c *Client) authHeaders(ctx context.Context, method, rawURL, accessToken string) (map[string]string, error) {
	if c.dpop == nil {
		return map[string]string{"authorization": "Bearer " + accessToken}, nil // RFC 6750 §2.1
	}
	proof, err := c.dpop.proof(ctx, method, rawURL, accessToken) // RFC 9449 §7.1: a proof with ath for every request that presents the token
	if err != nil {
		return nil, err
	}
	return map[string]string{"authorization": "DPoP " + accessToken, "dpop": proof}, nil // RFC 9449 §7.1: the DPoP scheme
}

// DPoPProof returns a fresh DPoP proof (RFC 9449 §4.2) for a request of
// method to rawURL, for an app that sends the request with its own HTTP
// client. With accessToken it carries ath, as a request that presents the
// token must (§7.1); it carries the latest nonce rawURL's server supplied
// (§8.2, §9), learnt from the client's own requests and from
// ResourceResponse. method is the request's method exactly as sent. It
// fails with invalid_config when the client has no DPoP key.
func (c *Client) DPoPProof(ctx context.Context, method, rawURL, accessToken string) (string, error) {
	if err := c.checkOpen(); err != nil {
		return "", err
	}
	if c.dpop == nil {
		return "", newError(CodeInvalidConfig, nil, "DPoP is not enabled for this client")
	}
	return c.dpop.proof(ctx, method, rawURL, accessToken)
}

// DPoPThumbprint returns the DPoP key's JWK thumbprint (RFC 7638), which a
// provider puts in a bound token's cnf.jkt (RFC 9449 §6.1), or "" when the
// client has no DPoP key.
func (c *Client) DPoPThumbprint() string {
	if c.dpop == nil {
		return ""
	}
	return c.dpop.jkt
}

// ResourceResponse tells the client what the resource server at rawURL
// answered to a request made with ResourceHeaders or DPoPProof. A valid
// DPoP-Nonce header is remembered for that server's later proofs (RFC 9449
// §9, §8.2). It reports whether to send the request once more, with fresh
// headers: a 401 with a DPoP challenge whose error is use_dpop_nonce and a
// new nonce (§9). Retry at most once. Without DPoP it always says no.
func (c *Client) ResourceResponse(rawURL string, resp *Response) (retry bool) {
	if c.dpop == nil {
		return false
	}
	fresh := c.dpop.observe(rawURL, resp) // RFC 9449 §9: resource servers supply nonces as authorization servers do (§8.2)
	return resp.Status == 401 && fresh && // RFC 9449 §9: a 401 with a DPoP-Nonce header
		dpopNonceChallenge(resp.Header["www-authenticate"]) // RFC 9449 §9: WWW-Authenticate: DPoP error="use_dpop_nonce"
}

// Fetch sends req to a resource server through Config.Transport with the
// current access token (see ResourceHeaders, which set or replace
// req.Header's authorization and dpop). When a DPoP server asks for a nonce
// (RFC 9449 §9), Fetch sends it once more with a fresh proof; asked again,
// it fails with dpop_nonce_failed. At most MaxResponseBytes of the body are
// read. Any other answer, 401 included, is returned as it is.
func (c *Client) Fetch(ctx context.Context, req *Request) (*Response, error) {
	tok, err := c.Token(ctx, TokenOptions{})
	if err != nil {
		return nil, err
	}
	return c.resourceRequest(ctx, req, tok.AccessToken)
}

// resourceRequest sends req with accessToken, retrying once on a DPoP
// nonce challenge.
func (c *Client) resourceRequest(ctx context.Context, req *Request, accessToken string) (*Response, error) {
	for retried := false; ; retried = true {
		auth, err := c.authHeaders(ctx, req.Method, req.URL, accessToken)
		if err != nil {
			return nil, err
		}
		r := *req
		r.Header = make(map[string]string, len(req.Header)+len(auth))
		for k, v := range req.Header {
			r.Header[k] = v
		}
		for k, v := range auth {
			r.Header[k] = v
		}
		resp, err := roundTrip(ctx, c.cfg.Transport, &r)
		if err != nil {
			return nil, err
		}
		retry, err := c.ResourceRetry(req.URL, resp, retried)
		if err != nil {
			return nil, err
		}
		if !retry {
			return resp, nil
		}
	}
}

// ResourceRetry is ResourceResponse for a request that was already sent
// once more (retried): a second nonce challenge then fails with
// dpop_nonce_failed instead of asking for another retry.
func (c *Client) ResourceRetry(rawURL string, resp *Response, retried bool) (bool, error) {
	retry := c.ResourceResponse(rawURL, resp)
	if retry && retried { // RFC 9449 §9: one retry with the new nonce, never a loop
		return false, &Error{Code: CodeDPoPNonceFailed, Status: resp.Status, Description: "the resource server asked for a DPoP nonce again after a retry with one"}
	}
	return retry, nil
}
