//go:build js && wasm

package jsbridge

import (
	"math"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/mezzo-auth/mezzo/pkce"
)

// object reads typed fields from a JS options object and remembers the
// first type error, so parsing code stays linear.
type object struct {
	v    safejs.Value
	name string // for messages: "options", "login options"
	err  error
	mk   func(format string, args ...any) error
}

func newObject(v safejs.Value, name string, mk func(string, ...any) error, allowed ...string) (*object, error) {
	o := &object{v: v, name: name, mk: mk}
	switch v.Type() {
	case safejs.TypeUndefined, safejs.TypeNull:
		return o, nil
	case safejs.TypeObject:
	default:
		return nil, mk("%s must be an object", name)
	}
	keys, err := objectKeys(v)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, k := range allowed {
		known[k] = true
	}
	for _, k := range keys { // a typo such as "clientID" fails loudly instead of being ignored
		if !known[k] {
			return nil, mk("%s has unknown field %q", name, k)
		}
	}
	return o, nil
}

func objectKeys(v safejs.Value) ([]string, error) {
	obj, err := safejs.Global().Get("Object")
	if err != nil {
		return nil, err
	}
	arr, err := obj.Call("keys", v)
	if err != nil {
		return nil, err
	}
	n, err := arr.Length()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		k, err := arr.Index(i)
		if err != nil {
			return nil, err
		}
		s, err := k.String()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// field returns the field's value, or undefined when absent, null or o is empty.
func (o *object) field(k string) (safejs.Value, bool) {
	if o.err != nil || o.v.IsUndefined() || o.v.IsNull() {
		return safejs.Undefined(), false
	}
	f, err := o.v.Get(k)
	if err != nil {
		o.err = err
		return f, false
	}
	if f.IsUndefined() || f.IsNull() {
		return f, false
	}
	return f, true
}

func (o *object) str(k string) string {
	f, ok := o.field(k)
	if !ok {
		return ""
	}
	if f.Type() != safejs.TypeString {
		o.err = o.mk("%s.%s must be a string", o.name, k)
		return ""
	}
	s, _ := f.String()
	return s
}

func (o *object) boolean(k string) (bool, bool) {
	f, ok := o.field(k)
	if !ok {
		return false, false
	}
	if f.Type() != safejs.TypeBoolean {
		o.err = o.mk("%s.%s must be a boolean", o.name, k)
		return false, false
	}
	b, _ := f.Bool()
	return b, true
}

// seconds reads a non-negative finite number of seconds.
func (o *object) seconds(k string) (float64, bool) {
	f, ok := o.field(k)
	if !ok {
		return 0, false
	}
	n, err := f.Float()
	if f.Type() != safejs.TypeNumber || err != nil || math.IsNaN(n) || math.IsInf(n, 0) || n < 0 {
		o.err = o.mk("%s.%s must be a non-negative number", o.name, k)
		return 0, false
	}
	return n, true
}

// strings reads a Record<string, string>.
func (o *object) strings(k string) map[string]string {
	f, ok := o.field(k)
	if !ok {
		return nil
	}
	if f.Type() != safejs.TypeObject {
		o.err = o.mk("%s.%s must be an object of strings", o.name, k)
		return nil
	}
	keys, err := objectKeys(f)
	if err != nil {
		o.err = err
		return nil
	}
	out := make(map[string]string, len(keys))
	for _, key := range keys {
		v, err := f.Get(key)
		if err != nil || v.Type() != safejs.TypeString {
			o.err = o.mk("%s.%s.%s must be a string", o.name, k, key)
			return nil
		}
		out[key], _ = v.String()
	}
	return out
}

// stringList reads a string[].
func (o *object) stringList(k string) []string {
	f, ok := o.field(k)
	if !ok {
		return nil
	}
	isArray, err := safejs.Global().Get("Array")
	if err == nil {
		var b safejs.Value
		if b, err = isArray.Call("isArray", f); err == nil {
			ok, err = b.Bool()
		}
	}
	if err != nil || !ok {
		o.err = o.mk("%s.%s must be an array of strings", o.name, k)
		return nil
	}
	n, err := f.Length()
	if err != nil {
		o.err = err
		return nil
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		v, err := f.Index(i)
		if err != nil || v.Type() != safejs.TypeString {
			o.err = o.mk("%s.%s[%d] must be a string", o.name, k, i)
			return nil
		}
		s, _ := v.String()
		out = append(out, s)
	}
	return out
}

// clientOptions are the parsed ClientOptions: the core's Config and what
// only the bridge uses.
type clientOptions struct {
	pkce.Config
	RequestTimeout time.Duration // one fetch; 0 means pkce.DefaultRequestTimeout
	DPoP           bool          // sender-constrained tokens (RFC 9449) with the runtime's key
}

// parseClientOptions maps ClientOptions onto pkce.Config; pkce validates
// the values, this only checks JS types.
func parseClientOptions(v safejs.Value) (clientOptions, error) {
	o, err := newObject(v, "options", invalidConfig, optFields...)
	if err != nil {
		return clientOptions{}, err
	}
	cfg := pkce.Config{
		ClientID:          o.str(optClientID),
		RedirectURI:       o.str(optRedirectURI),
		SilentRedirectURI: o.str(optSilentRedirectURI),
		Issuer:            o.str(optIssuer),
		Endpoints: pkce.Endpoints{
			Authorization: o.str(optAuthorizationEndpoint),
			Token:         o.str(optTokenEndpoint),
			JWKS:          o.str(optJWKSURI),
			EndSession:    o.str(optEndSessionEndpoint),
			Revocation:    o.str(optRevocationEndpoint),
			Userinfo:      o.str(optUserinfoEndpoint),
		},
		Scope:            o.str(optScope),
		Audience:         o.str(optAudience),
		ExtraAuthParams:  o.strings(optExtraAuthParams),
		IDTokenSignature: pkce.SignatureMode(o.str(optIDTokenSignature)),
	}
	if s, ok := o.seconds(optRefreshLeewaySeconds); ok {
		cfg.RefreshLeeway = secondsOrTiny(s)
	}
	if s, ok := o.seconds(optClockSkewSeconds); ok {
		cfg.ClockSkew = secondsOrTiny(s)
	}
	if b, ok := o.boolean(optInsecureAllowHTTP); ok {
		cfg.InsecureAllowHTTP = b
	}
	out := clientOptions{Config: cfg}
	if b, ok := o.boolean(optDPoP); ok {
		out.DPoP = b
	}
	if s, ok := o.seconds(optRequestTimeoutSeconds); ok && s > 0 {
		out.RequestTimeout = time.Duration(s * float64(time.Second))
	}
	// The loader's own (where the module and the runtime run): type-checked
	// here only.
	_ = o.str(optWasmURL)
	_ = o.str(optRuntime)
	_ = o.str(optWorkerURL)
	_, _ = o.boolean(optWorkerOnly)
	// The loader's too (it runs the iframe and the popup, see
	// web/src/client-embedded.js).
	_, _ = o.seconds(optSilentTimeoutSeconds)
	_, _ = o.seconds(optPopupTimeoutSeconds)
	_, _ = o.boolean(optSilentRestore)
	// The loader's too (client.fetch sends the token only there, see
	// web/src/client-fetch.js).
	_ = o.stringList(optAPIOrigins)
	return out, o.err
}

// secondsOrTiny converts seconds; an explicit 0 becomes 1 ns because a zero
// Duration means "use the default" in pkce.Config.
func secondsOrTiny(s float64) time.Duration {
	d := time.Duration(s * float64(time.Second))
	if d == 0 {
		return time.Nanosecond
	}
	return d
}

func parseLoginOptions(v safejs.Value) (pkce.LoginOptions, error) {
	o, err := newObject(v, "login options", invalidArgument, loginOptFields...)
	if err != nil {
		return pkce.LoginOptions{}, err
	}
	opts := pkce.LoginOptions{
		ReturnTo:    o.str(loginOptReturnTo),
		Prompt:      o.str(loginOptPrompt),
		LoginHint:   o.str(loginOptLoginHint),
		ExtraParams: o.strings(loginOptExtraParams),
	}
	if s, ok := o.seconds(loginOptMaxAge); ok {
		n := int64(s)
		opts.MaxAge = &n
	}
	return opts, o.err
}

// Login modes: how the authorization response comes back (handle.login's
// second argument).
const (
	loginRedirect = "redirect" // the page navigates; the response returns to redirectUri
	loginSilent   = "silent"   // a hidden iframe, prompt=none; returns to silentRedirectUri
	loginPopup    = "popup"    // a popup window; returns to silentRedirectUri
)

// parseMode reads a mode argument (absent: a redirect), one of the login
// modes, the one rule for handle.login and handle.handleRedirectCallback.
func parseMode(v safejs.Value) (string, error) {
	mode, ok, err := optionalString(v, "mode")
	if err != nil {
		return "", err
	}
	switch {
	case !ok:
		return loginRedirect, nil
	case mode == loginRedirect, mode == loginSilent, mode == loginPopup:
		return mode, nil
	}
	return "", invalidArgument("mode must be %q, %q or %q", loginRedirect, loginSilent, loginPopup)
}

// parseLoginMode reads handle.login's mode and applies it to opts.
func parseLoginMode(v safejs.Value, opts *pkce.LoginOptions) error {
	mode, err := parseMode(v)
	if err != nil {
		return err
	}
	switch mode {
	case loginSilent:
		// OIDC Core 3.1.2.1: prompt=none, no user interaction at all; the
		// provider answers login_required, consent_required, … instead.
		if opts.Prompt != "" && opts.Prompt != "none" {
			return invalidArgument("a silent sign-in sends prompt=none; prompt %q is not allowed", opts.Prompt)
		}
		opts.Prompt, opts.Embedded = "none", true
	case loginPopup:
		opts.Embedded = true
	}
	return nil
}

func parseLogoutOptions(v safejs.Value) (pkce.LogoutOptions, error) {
	o, err := newObject(v, "logout options", invalidArgument, logoutOptFields...)
	if err != nil {
		return pkce.LogoutOptions{}, err
	}
	opts := pkce.LogoutOptions{ReturnTo: o.str(logoutOptReturnTo), Revoke: true}
	if b, ok := o.boolean(logoutOptRevoke); ok {
		opts.Revoke = b
	}
	// The runtime's (it deletes the DPoP key after the logout, see
	// forgetDevice in web/src/dpop-keys.js): type-checked here only.
	_, _ = o.boolean(logoutOptForgetDpopKey)
	return opts, o.err
}
