//go:build !(js && wasm)

package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mezzo-auth/mezzo/pkce"
)

// callbackTable is the one table of URLs both versions of
// isRedirectCallback's rule answer: pkce.Client.IsCallback here, and the
// loader's JS twin in scripts/test/node/callback-rule.test.mjs.
const callbackTable = "../scripts/test/lib/callback-urls.json"

type callbackCase struct {
	Name        string `json:"name"`
	RedirectURI string `json:"redirectUri"`
	URL         string `json:"url"`
	Callback    bool   `json:"callback"`
}

// readCallbackTable is shared by the tests of this package that need it.
func readCallbackTable(t *testing.T) []callbackCase {
	t.Helper()
	b, err := os.ReadFile(callbackTable)
	require.NoError(t, err)
	var table struct {
		Cases []callbackCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(b, &table))
	require.NotEmpty(t, table.Cases)
	return table.Cases
}

type noTransport struct{}

func (noTransport) Do(context.Context, *pkce.Request, int64) (*pkce.Response, error) {
	return nil, errors.New("no requests here")
}

func TestCallbackRule(t *testing.T) {
	for _, tc := range readCallbackTable(t) {
		t.Run(tc.Name, func(t *testing.T) {
			c, err := pkce.NewClient(context.Background(), pkce.Config{
				ClientID: "spa", RedirectURI: tc.RedirectURI, Issuer: "https://idp.example",
				Endpoints:        pkce.Endpoints{Authorization: "https://idp.example/authorize", Token: "https://idp.example/token"},
				IDTokenSignature: pkce.SignatureTLS, Transport: noTransport{},
			})
			require.NoError(t, err)
			assert.Equal(t, tc.Callback, c.IsCallback(tc.URL), "IsCallback(%q) for redirect URI %q", tc.URL, tc.RedirectURI)
		})
	}
}
