package pkce

import (
	"errors"
	"strings"
)

// AuthChallenge is one challenge of a WWW-Authenticate header (RFC 9110
// §11.6.1): an auth-scheme with either auth-params or a token68.
type AuthChallenge struct {
	Scheme  string            // as sent; compare case-insensitively (RFC 9110 §11.1)
	Params  map[string]string // names lower-cased (RFC 9110 §11.2), values unquoted
	Token68 string
}

var errChallengeSyntax = errors.New("malformed WWW-Authenticate header")

// ParseWWWAuthenticate parses a WWW-Authenticate field value (RFC 9110 §11.6.1,
// §11.2; RFC 6750 §3 and RFC 9449 §7.1 for Bearer and DPoP):
//
//	WWW-Authenticate = #challenge
//	challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//	auth-param = token BWS "=" BWS ( token / quoted-string )
//
// Several challenges may share the field, separated by commas, as may the
// parameters of one; empty list elements are allowed (RFC 9110 §5.6.1). A
// malformed value is an error, never a partial answer.
func ParseWWWAuthenticate(v string) ([]AuthChallenge, error) {
	p := challengeParser{s: v}
	var out []AuthChallenge
	for {
		p.skipListSeparators()
		if p.done() {
			return out, nil
		}
		scheme := p.token()
		if scheme == "" { // RFC 9110 §11.1: auth-scheme = token
			return nil, errChallengeSyntax
		}
		ch := AuthChallenge{Scheme: scheme}
		spaced := p.skipSpace()
		if p.done() || p.peek() == ',' {
			out = append(out, ch)
			continue
		}
		if !spaced { // RFC 9110 §11.6.1: 1*SP after the scheme
			return nil, errChallengeSyntax
		}
		if t68, ok := p.token68(); ok {
			ch.Token68 = t68
			out = append(out, ch)
			continue
		}
		params, err := p.params()
		if err != nil {
			return nil, err
		}
		ch.Params = params
		out = append(out, ch)
	}
}

type challengeParser struct {
	s string
	i int
}

func (p *challengeParser) done() bool { return p.i >= len(p.s) }
func (p *challengeParser) peek() byte { return p.s[p.i] }

// skipSpace skips OWS (SP and HTAB, RFC 9110 §5.6.3) and reports whether any.
func (p *challengeParser) skipSpace() bool {
	start := p.i
	for !p.done() && (p.peek() == ' ' || p.peek() == '\t') {
		p.i++
	}
	return p.i > start
}

// skipListSeparators skips OWS and commas: empty list elements (RFC 9110 §5.6.1).
func (p *challengeParser) skipListSeparators() {
	for !p.done() && (p.peek() == ' ' || p.peek() == '\t' || p.peek() == ',') {
		p.i++
	}
}

func (p *challengeParser) token() string {
	start := p.i
	for !p.done() && isTchar(p.peek()) {
		p.i++
	}
	return p.s[start:p.i]
}

// token68 reads a token68 (RFC 9110 §11.2) when one stands alone, up to the
// end or a comma; otherwise it reads nothing.
func (p *challengeParser) token68() (string, bool) {
	start := p.i
	for !p.done() && isToken68Char(p.peek()) {
		p.i++
	}
	end := p.i
	if end == start {
		return "", false
	}
	for !p.done() && p.peek() == '=' {
		p.i++
	}
	end = p.i
	p.skipSpace()
	if p.done() || p.peek() == ',' {
		return p.s[start:end], true
	}
	p.i = start // an auth-param follows instead
	return "", false
}

func isToken68Char(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

// params reads a challenge's auth-params. It stops before a token that is
// not followed by "=": the scheme of the next challenge.
func (p *challengeParser) params() (map[string]string, error) {
	out := map[string]string{}
	for {
		start := p.i
		name := p.token()
		if name == "" {
			return nil, errChallengeSyntax
		}
		p.skipSpace() // BWS
		if p.done() || p.peek() != '=' {
			if len(out) == 0 { // RFC 9110 §11.6.1: the first element after the scheme must be an auth-param
				return nil, errChallengeSyntax
			}
			p.i = start // the next challenge's scheme
			return out, nil
		}
		p.i++ // "="
		p.skipSpace()
		var value string
		if !p.done() && p.peek() == '"' {
			v, err := p.quoted()
			if err != nil {
				return nil, err
			}
			value = v
		} else if value = p.token(); value == "" { // RFC 9110 §11.2: token / quoted-string
			return nil, errChallengeSyntax
		}
		key := strings.ToLower(name) // RFC 9110 §11.2: parameter names are case-insensitive
		if _, dup := out[key]; dup { // RFC 9110 §11.2: each parameter name MUST only occur once per challenge
			return nil, errChallengeSyntax
		}
		out[key] = value
		p.skipSpace()
		if p.done() {
			return out, nil
		}
		if p.peek() != ',' {
			return nil, errChallengeSyntax
		}
		p.skipListSeparators()
		if p.done() {
			return out, nil
		}
	}
}

// quoted reads a quoted-string (RFC 9110 §5.6.4) and returns it unescaped.
func (p *challengeParser) quoted() (string, error) {
	p.i++ // opening DQUOTE
	var b strings.Builder
	for !p.done() {
		c := p.peek()
		p.i++
		switch {
		case c == '"':
			return b.String(), nil
		case c == '\\': // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
			if p.done() || !isQuotedPairChar(p.peek()) {
				return "", errChallengeSyntax
			}
			b.WriteByte(p.peek())
			p.i++
		case c == '\t' || c == ' ' || c == 0x21 || 0x23 <= c && c <= 0x5b || 0x5d <= c && c <= 0x7e || c >= 0x80: // qdtext
			b.WriteByte(c)
		default:
			return "", errChallengeSyntax
		}
	}
	return "", errChallengeSyntax // unterminated
}

func isQuotedPairChar(c byte) bool {
	return c == '\t' || c == ' ' || 0x21 <= c && c <= 0x7e || c >= 0x80
}

// dpopNonceChallenge reports whether a WWW-Authenticate value holds a DPoP
// challenge with error="use_dpop_nonce" (RFC 9449 §9).
func dpopNonceChallenge(v string) bool {
	chs, err := ParseWWWAuthenticate(v)
	if err != nil {
		return false
	}
	for _, ch := range chs {
		if strings.EqualFold(ch.Scheme, "DPoP") && ch.Params["error"] == "use_dpop_nonce" { // RFC 9110 §11.1: scheme case-insensitive; RFC 9449 §9: the error value
			return true
		}
	}
	return false
}
