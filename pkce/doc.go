// Package pkce is mezzo's portable core: the whole OAuth 2.0 / OpenID
// Connect public-client logic for single-page apps, in pure Go.
//
// A Client runs the Authorization Code flow with PKCE (RFC 7636, S256 only):
// Login builds the authorization request and returns its one-time
// Transaction, which the host keeps and hands back to HandleCallback;
// HandleCallback checks the authorization response (state, RFC 9207 iss),
// exchanges the code and validates the ID token (OIDC Core 3.1.3.7); Token
// hands out the access token, renewing it with the rotating refresh token
// before it expires, one request at a time however many callers ask;
// Logout forgets everything, revokes and returns the end-session URL;
// Close forgets everything without a request. Tokens are kept in memory only.
//
// The host plugs in what differs between a browser and a test: a Transport
// (fetch in the browser, net/http natively via package httptransport), a
// clock (Config.Now, Config.AfterFunc) and an event sink (Config.OnEvent).
// Where the transaction is kept between Login and HandleCallback is the
// host's business, not the package's. The package never imports syscall/js
// or net/http, so it builds unchanged for GOOS=js GOARCH=wasm.
//
// Every error a caller may branch on is an *Error with a stable Code;
// descriptions are plain words and never contain a token, code or verifier.
//
// Safe defaults; each opt-out is named for what it gives up:
// Config.InsecureAllowHTTP, and SignatureTLS for providers whose ID tokens a
// public client cannot verify.
//
// Every wait is bounded; the bounds are in one place (CallTimeout and its
// neighbours in timeouts.go).
//
// # The name
//
// The package is the whole OpenID Connect client, of which PKCE is one
// file (verifier.go), yet it keeps the name pkce: the project's layout
// fixes the folder pkce/ for the portable core, and the name says what
// sets this client apart from a confidential one — a public client with no
// secret, whose every code exchange is bound to its request by PKCE
// (RFC 7636). A rename would move every import for no change in behaviour.
package pkce
