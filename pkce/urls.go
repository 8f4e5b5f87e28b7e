package pkce

import (
	"errors"
	"net/netip"
	"net/url"
	"strconv"
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

// dpopHTU returns a DPoP proof's htu for a request to raw, and the origin
// whose nonces the request uses: the absolute http(s) URI without query and
// fragment (RFC 9449 §4.2), in the normal form a server compares it in
// (RFC 9449 §4.3 step 9: RFC 3986 §6.2.2 syntax-based and §6.2.3
// scheme-based normalisation), so a proof matches whatever spelling the
// caller used.
func dpopHTU(raw string) (htu, origin string, err error) {
	bad := func(why string) (string, string, error) {
		return "", "", newError(CodeInvalidArgument, nil, "DPoP request URL %s", why) // the URL itself may carry credentials
	}
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i] // RFC 9449 §4.2: htu is without query and fragment
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return bad("is not a URL")
	}
	scheme := strings.ToLower(u.Scheme) // RFC 3986 §6.2.2.1: scheme is case-insensitive
	if scheme != "https" && scheme != "http" {
		return bad("is not an absolute http(s) URL")
	}
	if u.User != nil { // a request URI has no userinfo (RFC 9110 §4.2.4); fetch refuses it too
		return bad("has userinfo")
	}
	host := strings.ToLower(u.Hostname()) // RFC 3986 §6.2.2.1: host is case-insensitive
	if !validHTUHost(host) {
		return bad("host is not an ASCII name or an IP address (use the punycode form)")
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if port != "" && !allDigits(port) {
		return bad("has a bad port")
	}
	port = strings.TrimLeft(port, "0")
	switch {
	case port == "" && u.Port() != "": // ":0" and ":00" are port 0, no default
		port = "0"
	case scheme == "https" && port == "443", scheme == "http" && port == "80": // RFC 3986 §6.2.3: drop the default port
		port = ""
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n > 65535 { // RFC 3986 §3.2.3 with TCP's range
			return bad("has a bad port")
		}
		host += ":" + port
	}
	path, ok := normalizePercent(u.EscapedPath())
	if !ok {
		return bad("has bad percent-encoding")
	}
	path = removeDotSegments(path) // RFC 3986 §6.2.2.3
	if path == "" {
		path = "/" // RFC 3986 §6.2.3: an empty http(s) path is "/"
	}
	origin = scheme + "://" + host
	return origin + path, origin, nil
}

// validHTUHost accepts a lower-case DNS name of RFC 3986 unreserved
// characters or an IP address; anything else (non-ASCII, percent-encoded)
// would have several spellings.
func validHTUHost(host string) bool {
	if host == "" {
		return false
	}
	if strings.Contains(host, ":") {
		ip, err := netip.ParseAddr(host)
		return err == nil && ip.Is6() && ip.Zone() == ""
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; c != '.' && !isUnreserved(c) || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// normalizePercent decodes percent-encoded unreserved characters and
// upper-cases the hex of the rest (RFC 3986 §6.2.2.1, §6.2.2.2).
func normalizePercent(p string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			b.WriteByte(p[i])
			continue
		}
		if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			return "", false
		}
		c := unhex(p[i+1])<<4 | unhex(p[i+2])
		if isUnreserved(c) {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(p[i+1:i+3]))
		}
		i += 2
	}
	return b.String(), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// removeDotSegments is RFC 3986 §5.2.4's algorithm.
func removeDotSegments(in string) string {
	var out []string // output segments, each with its leading "/"
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"): // A
			in = in[3:]
		case strings.HasPrefix(in, "./"): // A
			in = in[2:]
		case strings.HasPrefix(in, "/./"): // B
			in = in[2:]
		case in == "/.": // B
			in = "/"
		case strings.HasPrefix(in, "/../"): // C
			in = in[3:]
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "/..": // C
			in = "/"
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "." || in == "..": // D
			in = ""
		default: // E: move the first segment, with its leading "/", to the output
			j := strings.IndexByte(in[1:], '/')
			if j < 0 {
				out = append(out, in)
				in = ""
			} else {
				out = append(out, in[:j+1])
				in = in[j+1:]
			}
		}
	}
	return strings.Join(out, "")
}
