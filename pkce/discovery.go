package pkce

import (
	"context"
	"encoding/json"
	"strings"
)

// Metadata is the part of the OpenID Provider metadata (OpenID Connect
// Discovery 1.0 §3, RFC 8414 §2) that mezzo uses.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	DPoPSigningAlgValuesSupported              []string `json:"dpop_signing_alg_values_supported"`
}

// discover fetches the provider metadata (OpenID Connect Discovery 1.0 §4).
func discover(ctx context.Context, cfg *Config) (*Metadata, error) {
	issuer := cfg.Issuer
	if err := checkEndpoint("issuer", issuer, cfg.InsecureAllowHTTP); err != nil {
		return nil, err
	}
	// Discovery §4.1: remove a trailing "/" from the issuer before appending.
	wellKnown := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	resp, err := getDocument(ctx, cfg.Transport, cfg.Retry, cfg.Now, wellKnown, CodeInvalidConfig, "discovery document")
	if err != nil {
		return nil, err
	}
	var md Metadata
	if err := json.Unmarshal(resp.Body, &md); err != nil {
		return nil, &Error{Code: CodeInvalidConfig, Status: resp.Status, Err: err, Description: "discovery document is not valid JSON"}
	}
	if md.Issuer != issuer { // Discovery §4.3: issuer MUST be identical to the URL used for discovery
		return nil, &Error{Code: CodeIssuerMismatch, Err: ErrDiscoveryIssuer,
			Description: "discovery document names issuer " + quoteShort(md.Issuer) + ", expected " + quoteShort(issuer)}
	}
	return &md, nil
}

// resolveEndpoints merges explicit endpoints over discovered ones and checks
// that each is safe to send tokens to.
func resolveEndpoints(explicit Endpoints, md *Metadata, allowHTTP bool) (Endpoints, error) {
	e := explicit
	if md != nil {
		pick := func(dst *string, v string) {
			if *dst == "" {
				*dst = v
			}
		}
		pick(&e.Authorization, md.AuthorizationEndpoint)
		pick(&e.Token, md.TokenEndpoint)
		pick(&e.JWKS, md.JWKSURI)
		pick(&e.EndSession, md.EndSessionEndpoint)
		pick(&e.Revocation, md.RevocationEndpoint)
		pick(&e.Userinfo, md.UserinfoEndpoint)
	}
	if e.Authorization == "" {
		return e, newError(CodeInvalidConfig, nil, "no authorization endpoint configured or discovered")
	}
	if e.Token == "" {
		return e, newError(CodeInvalidConfig, nil, "no token endpoint configured or discovered")
	}
	for _, ep := range []struct{ name, url string }{
		{"authorization endpoint", e.Authorization}, {"token endpoint", e.Token}, {"jwks_uri", e.JWKS},
		{"end-session endpoint", e.EndSession}, {"revocation endpoint", e.Revocation}, {"userinfo endpoint", e.Userinfo},
	} {
		if ep.url == "" {
			continue
		}
		if err := checkEndpoint(ep.name, ep.url, allowHTTP); err != nil {
			return e, err
		}
	}
	return e, nil
}
