package httptransport

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mezzo-auth/mezzo/pkce"
)

func TestDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/echo":
			assert.Equal(t, "POST", r.Method)
			assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
			assert.Equal(t, "a=1", string(body))
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(503)
			_, _ = w.Write([]byte("ok"))
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", 5000)))
		case "/slow":
			time.Sleep(200 * time.Millisecond)
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	resp, err := Transport{}.Do(ctx, &pkce.Request{Method: "POST", URL: srv.URL + "/echo",
		Header: map[string]string{"content-type": "application/x-www-form-urlencoded"}, Body: []byte("a=1")}, 100)
	require.NoError(t, err)
	assert.Equal(t, 503, resp.Status)
	assert.Equal(t, "3", resp.Header["retry-after"], "header names are lower-case")
	assert.Equal(t, "ok", string(resp.Body))

	resp, err = Transport{}.Do(ctx, &pkce.Request{Method: "GET", URL: srv.URL + "/big"}, 100)
	require.NoError(t, err)
	assert.Len(t, resp.Body, 101, "reads one byte past the limit, no more")

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = Transport{}.Do(short, &pkce.Request{Method: "GET", URL: srv.URL + "/slow"}, 100)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
