package pkce

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseUserinfo(t *testing.T) {
	jsonHdr := map[string]string{"content-type": "application/json; charset=utf-8"}
	tests := []struct {
		name   string
		resp   *Response
		code   string
		cause  error
		status int
	}{
		{"matching sub", &Response{Status: 200, Header: jsonHdr, Body: []byte(`{"sub":"user-1","email":"a@b.c"}`)}, "", nil, 0},
		{"other sub is refused (OIDC Core 5.3.2)", &Response{Status: 200, Header: jsonHdr, Body: []byte(`{"sub":"user-2"}`)}, CodeInvalidUserinfo, ErrUserinfoSubject, 200},
		{"missing sub", &Response{Status: 200, Header: jsonHdr, Body: []byte(`{"email":"a@b.c"}`)}, CodeInvalidUserinfo, nil, 200},
		{"sub not a string", &Response{Status: 200, Header: jsonHdr, Body: []byte(`{"sub":1}`)}, CodeInvalidUserinfo, nil, 200},
		{"not JSON", &Response{Status: 200, Header: jsonHdr, Body: []byte(`<html>`)}, CodeInvalidUserinfo, nil, 200},
		{"JSON array", &Response{Status: 200, Header: jsonHdr, Body: []byte(`[{"sub":"user-1"}]`)}, CodeInvalidUserinfo, nil, 200},
		{"trailing data", &Response{Status: 200, Header: jsonHdr, Body: []byte(`{"sub":"user-1"}{}`)}, CodeInvalidUserinfo, nil, 200},
		{"signed userinfo", &Response{Status: 200, Header: map[string]string{"content-type": "application/jwt"}, Body: []byte(`a.b.c`)}, CodeInvalidUserinfo, nil, 200},
		{"signed userinfo, type with parameters and capitals", &Response{Status: 200, Header: map[string]string{"content-type": " Application/JWT; charset=utf-8"}, Body: []byte(`a.b.c`)}, CodeInvalidUserinfo, nil, 200},
		{"401", &Response{Status: 401, Body: []byte(`{}`)}, CodeInvalidUserinfo, nil, 401},
		{"503", &Response{Status: 503}, CodeNetworkError, nil, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := ParseUserinfo(tt.resp, "user-1")
			if tt.code == "" {
				require.NoError(t, err)
				assert.Equal(t, "user-1", claims["sub"])
				return
			}
			assert.Nil(t, claims)
			assert.Equal(t, tt.code, ErrorCode(err))
			var e *Error
			require.True(t, errors.As(err, &e))
			assert.Equal(t, tt.status, e.Status)
			if tt.cause != nil {
				assert.ErrorIs(t, err, tt.cause)
			}
		})
	}
}

func TestUserinfoSendsTheAccessToken(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Endpoints.Userinfo = "https://id.example/me" })
	h.signIn()
	var got *Request
	h.tokens.reply = func(int, url.Values) (*Response, error) { return nil, errors.New("unused") }
	h.client.cfg.Transport = transportFunc(func(_ context.Context, r *Request, _ int64) (*Response, error) {
		got = r
		return jsonResponse(200, map[string]any{"sub": "user-1", "name": "Ada"}), nil
	})
	claims, err := h.client.Userinfo(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "Ada", claims["name"])
	assert.Equal(t, &Request{Method: "GET", URL: "https://id.example/me",
		Header: map[string]string{"authorization": "Bearer at-1", "accept": "application/json"}}, got)
}

func TestUserinfoWithoutSessionOrEndpoint(t *testing.T) {
	h := newHarness(t)
	_, err := h.client.Userinfo(context.Background())
	assert.Equal(t, CodeInvalidConfig, ErrorCode(err), "no endpoint")

	h = newHarness(t, func(c *Config) { c.Endpoints.Userinfo = "https://id.example/me" })
	_, err = h.client.Userinfo(context.Background())
	assert.Equal(t, CodeLoginRequired, ErrorCode(err), "no session")
}

func FuzzParseUserinfo(f *testing.F) {
	for _, s := range []string{`{"sub":"user-1"}`, `{"sub":"x"}`, `[]`, `null`, `{"sub":null}`, "\xff"} {
		f.Add(200, "application/json", []byte(s))
	}
	f.Add(200, "application/jwt", []byte("a.b.c"))
	f.Fuzz(func(t *testing.T, status int, ct string, body []byte) {
		claims, err := ParseUserinfo(&Response{Status: status, Header: map[string]string{"content-type": ct}, Body: body}, "user-1")
		if err == nil && (status != 200 || claims["sub"] != "user-1") {
			t.Fatalf("accepted status %d sub %v", status, claims["sub"])
		}
		if err != nil {
			requireTyped(t, err, CodeInvalidUserinfo, CodeNetworkError)
		}
	})
}
