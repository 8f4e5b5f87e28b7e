package pkce

import (
	"errors"
	"net/url"
	"strings"
)

var (
	errNotURL      = errors.New("is not a valid URL")
	errOtherOrigin = errors.New("must be on the same origin as the redirect URI")
)

// sameOrigin resolves ref against base (the redirect URI) and returns the
// result when it stays on base's origin: the one rule for every return
// address mezzo accepts (after login and after logout), so that neither
// can become an open redirect. The error is errNotURL or errOtherOrigin.
func sameOrigin(base, ref string) (*url.URL, error) {
	// Browsers read "\" as "/" and drop tabs and newlines, so "/\evil.com"
	// would leave the origin although url.Parse keeps it: refuse outright.
	if strings.ContainsAny(ref, "\\\t\r\n") {
		return nil, errNotURL
	}
	b, err := url.Parse(base)
	if err != nil {
		return nil, errNotURL
	}
	r, err := url.Parse(ref)
	if err != nil {
		return nil, errNotURL
	}
	u := b.ResolveReference(r)
	// RFC 6454 §4: the origin is scheme, host and port. Userinfo is refused
	// too: "https://app.example@evil.example" reads as one host and is another.
	if u.Scheme != b.Scheme || u.Host != b.Host || u.User != nil {
		return nil, errOtherOrigin
	}
	return u, nil
}

// appendQuery adds q to endpoint, keeping any query the endpoint already
// has (RFC 6749 §3.1: an endpoint's query component MUST be retained).
func appendQuery(endpoint string, q url.Values) string {
	sep := "?"
	if strings.Contains(endpoint, "?") {
		sep = "&"
	}
	return endpoint + sep + q.Encode()
}

// endpointName strips the query and fragment from u so that error messages
// never echo parameters (which may carry codes or tokens).
func endpointName(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}
