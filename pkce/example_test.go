package pkce_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mezzo-auth/mezzo/pkce"
	"github.com/mezzo-auth/mezzo/pkce/httptransport"
)

// exampleProvider stands in for the Intermezzo identity API: its ID tokens
// are HS256, signed with a secret a public client cannot hold, so the
// client is configured with SignatureTLS.
func exampleProvider() *httptest.Server {
	var nonce string
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		nonce = q.Get("nonce")
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=c-123&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /api/id/v1/auth/token", func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		idToken, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"iss": "Screening Eagle ID", "sub": "user-42", "aud": "spa", "nonce": nonce,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		}).SignedString([]byte("server-side secret"))
		w.Header().Set("content-type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600,
			"scope": "openid profile email offline_access", "id_token": idToken, "refresh_token": "rt-1",
		})
	})
	return httptest.NewServer(mux)
}

// The whole flow against a provider configured with explicit endpoints.
func Example() {
	idp := exampleProvider()
	defer idp.Close()
	ctx := context.Background()

	client, err := pkce.NewClient(ctx, pkce.Config{
		ClientID:    "spa",
		RedirectURI: "http://localhost:3000/callback",
		Issuer:      "Screening Eagle ID", // the expected iss; not a URL, so nothing is discovered
		Endpoints: pkce.Endpoints{
			Authorization: idp.URL + "/authorize",
			Token:         idp.URL + "/api/id/v1/auth/token",
		},
		IDTokenSignature: pkce.SignatureTLS,
		Transport:        httptransport.Transport{},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// 1. Send the user to the provider, keeping the login's transaction
	// until the user comes back (a browser keeps it in sessionStorage).
	authURL, transaction, err := client.Login(ctx, pkce.LoginOptions{ReturnTo: "/inbox"})
	if err != nil {
		fmt.Println(err)
		return
	}
	// 2. The provider signs the user in and redirects back (a browser
	// would follow this redirect).
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authURL)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	callback := resp.Header.Get("Location")

	// 3. Complete the login with the kept transaction, which serves this
	// one callback; then use the session.
	returnTo, err := client.HandleCallback(ctx, callback, transaction)
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, _ := client.Token(ctx, pkce.TokenOptions{})
	fmt.Println(returnTo, tok.AccessToken, client.Claims()["sub"], client.Authenticated())

	_, _ = client.Logout(ctx, pkce.LogoutOptions{})
	fmt.Println(client.Authenticated())
	// Output:
	// /inbox at-1 user-42 true
	// false
}
