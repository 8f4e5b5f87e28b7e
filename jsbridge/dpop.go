//go:build js && wasm

package jsbridge

import (
	"context"

	"github.com/hack-pad/safejs"

	"github.com/mezzo-auth/mezzo/pkce"
)

// DPoP (RFC 9449) on the JS side: the key pair is WebCrypto's, made and
// kept by the loader's runtime half (dpopKey in web/src/dpop-keys.js: ECDSA
// P-256, the private key non-extractable, in the runtime's memory only).
// The handle gets {privateKey: CryptoKey, jwk: {kty, crv, x, y}} and signs
// every proof with crypto.subtle.sign: the private key is used here, never
// read. Without a usable key the client is refused with
// CodeDPoPKeyUnavailable: there is no fallback to Bearer tokens.

// webCryptoSigner is a pkce.DPoPSigner over a non-extractable CryptoKey.
type webCryptoSigner struct {
	key safejs.Value // the private CryptoKey
	pub pkce.PublicJWK
}

// newWebCryptoSigner reads the loader's key object: a private CryptoKey
// that can sign with ECDSA, and its public JWK (pkce checks the point).
func newWebCryptoSigner(v safejs.Value) (*webCryptoSigner, error) {
	unavailable := func(why string) error {
		return &pkce.Error{Code: CodeDPoPKeyUnavailable, Description: "options.dpop is on, but " + why}
	}
	if v.Type() != safejs.TypeObject {
		return nil, unavailable("the runtime has no DPoP key")
	}
	key, err := v.Get("privateKey")
	if err != nil || key.Type() != safejs.TypeObject {
		return nil, unavailable("the DPoP key has no private key")
	}
	jwk, err := v.Get("jwk")
	if err != nil || jwk.Type() != safejs.TypeObject {
		return nil, unavailable("the DPoP key has no public JWK")
	}
	o := &object{v: jwk, name: "DPoP public key", mk: invalidConfig}
	s := &webCryptoSigner{key: key, pub: pkce.PublicJWK{Kty: o.str("kty"), Crv: o.str("crv"), X: o.str("x"), Y: o.str("y")}}
	if o.err != nil {
		return nil, unavailable("its public JWK is malformed")
	}
	return s, nil
}

// PublicKey implements pkce.DPoPSigner.
func (s *webCryptoSigner) PublicKey() pkce.PublicJWK { return s.pub }

// Sign implements pkce.DPoPSigner: ECDSA with SHA-256, whose WebCrypto
// result is already the 64-byte r||s that JWS wants (RFC 7518 §3.4).
func (s *webCryptoSigner) Sign(ctx context.Context, input []byte) ([]byte, error) {
	global := safejs.Global()
	crypto, err := global.Get("crypto")
	if err != nil {
		return nil, err
	}
	subtle, err := crypto.Get("subtle")
	if err != nil {
		return nil, err
	}
	u8, err := global.Get("Uint8Array")
	if err != nil {
		return nil, err
	}
	data, err := u8.New(len(input))
	if err != nil {
		return nil, err
	}
	if _, err := safejs.CopyBytesToJS(data, input); err != nil {
		return nil, err
	}
	p, err := subtle.Call("sign", map[string]any{"name": "ECDSA", "hash": "SHA-256"}, s.key, data)
	if err != nil {
		return nil, err
	}
	buf, err := Await(ctx, p)
	if err != nil {
		return nil, err
	}
	sig, err := u8.New(buf) // the ArrayBuffer, as bytes
	if err != nil {
		return nil, err
	}
	return goBytes(sig)
}

// dpopProof: createDpopProof(method, url, accessToken|null) → the proof.
func (h *handle) dpopProof(args []safejs.Value) (any, error) {
	method, url, err := methodAndURL(args)
	if err != nil {
		return nil, err
	}
	token, _, err := optionalString(arg(args, 2), "accessToken")
	if err != nil {
		return nil, err
	}
	ctx, cancel := callContext()
	defer cancel()
	return h.c.DPoPProof(ctx, method, url, token)
}

// resourceHeaders(method, url) → {authorization, dpop?}: what presents
// the current access token in that request (renewed first when due).
func (h *handle) resourceHeaders(args []safejs.Value) (any, error) {
	method, url, err := methodAndURL(args)
	if err != nil {
		return nil, err
	}
	ctx, cancel := callContext()
	defer cancel()
	headers, err := h.c.ResourceHeaders(ctx, method, url)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(headers))
	for k, v := range headers {
		out[k] = v
	}
	return out, nil
}

// resourceResponse(url, {status, headers}, retried) → whether to send the
// request once more with fresh headers (a DPoP nonce challenge, RFC 9449
// §9); a second challenge after a retry rejects dpop_nonce_failed.
func (h *handle) resourceResponse(args []safejs.Value) (any, error) {
	url, ok, err := optionalString(arg(args, 0), "url")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalidArgument("url is required")
	}
	o, err := newObject(arg(args, 1), "response", invalidArgument, "status", "headers")
	if err != nil {
		return nil, err
	}
	status, _ := o.seconds("status") // a non-negative finite number
	resp := &pkce.Response{Status: int(status), Header: o.strings("headers")}
	if o.err != nil {
		return nil, o.err
	}
	if float64(resp.Status) != status || resp.Status < 100 || resp.Status > 599 { // RFC 9110 §15: three digits
		return nil, invalidArgument("response.status must be an HTTP status code")
	}
	return h.c.ResourceRetry(url, resp, truthy(arg(args, 2)))
}

// dpopThumbprint() → the DPoP key's RFC 7638 thumbprint, or null.
func (h *handle) dpopThumbprint([]safejs.Value) (any, error) {
	if jkt := h.c.DPoPThumbprint(); jkt != "" {
		return jkt, nil
	}
	return nil, nil
}

// methodAndURL reads the (method, url) arguments every proof needs.
func methodAndURL(args []safejs.Value) (string, string, error) {
	method, okM, err := optionalString(arg(args, 0), "method")
	if err != nil {
		return "", "", err
	}
	url, okU, err := optionalString(arg(args, 1), "url")
	if err != nil {
		return "", "", err
	}
	if !okM || !okU {
		return "", "", invalidArgument("method and url are required")
	}
	return method, url, nil
}
