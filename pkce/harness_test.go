package pkce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// fakeClock is an injectable clock whose timers fire on Advance.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// Advance moves the clock and runs, in order, the timers that fall due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	keep := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.at.After(c.now):
			t.stopped = true
			due = append(due, t)
		default:
			keep = append(keep, t)
		}
	}
	c.timers = keep
	c.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.f()
	}
}

// Jump moves the clock without running any timer: a machine that was
// asleep, whose timers could not fire meanwhile.
func (c *fakeClock) Jump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// pending counts armed timers.
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

// tokenEndpoint is a scripted token endpoint: reply decides each answer and
// every request is recorded for exact assertions.
type tokenEndpoint struct {
	mu       sync.Mutex
	requests []*Request
	forms    []url.Values
	reply    func(n int, form url.Values) (*Response, error)
}

func (e *tokenEndpoint) Do(_ context.Context, r *Request, _ int64) (*Response, error) {
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.requests = append(e.requests, r)
	e.forms = append(e.forms, form)
	n := len(e.forms)
	e.mu.Unlock()
	return e.reply(n, form)
}

func (e *tokenEndpoint) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.forms)
}

func (e *tokenEndpoint) form(i int) url.Values {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.forms[i]
}

func jsonResponse(status int, v any) *Response {
	b, _ := json.Marshal(v)
	return &Response{Status: status, Header: map[string]string{"content-type": "application/json"}, Body: b}
}

const (
	hIssuer   = "Screening Eagle ID"
	hClientID = "spa"
	hRedirect = "https://app.example/callback"
)

// harness is a Client in SignatureTLS mode (HS256 ID tokens, as Intermezzo
// issues them) with a fake clock and a scripted token endpoint.
type harness struct {
	t      *testing.T
	clock  *fakeClock
	tx     []byte // the transaction of the last login, kept as a host keeps it
	tokens *tokenEndpoint
	client *Client
	nonce  string
	sleeps []time.Duration
	mu     sync.Mutex
	events []Event
}

func newHarness(t *testing.T, mutate ...func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, clock: newFakeClock(), tokens: &tokenEndpoint{}}
	h.tokens.reply = func(n int, form url.Values) (*Response, error) {
		return jsonResponse(200, h.tokenReply(n, form, 300)), nil
	}
	cfg := Config{
		ClientID: hClientID, RedirectURI: hRedirect, Issuer: hIssuer,
		Endpoints:        Endpoints{Authorization: "https://id.example/authorize", Token: "https://id.example/api/id/v1/auth/token", Revocation: "https://id.example/revoke", EndSession: "https://id.example/logout"},
		IDTokenSignature: SignatureTLS,
		Transport:        h.tokens, Now: h.clock.Now, AfterFunc: h.clock.AfterFunc,
		Retry: RetryPolicy{Sleep: func(_ context.Context, d time.Duration) error {
			h.mu.Lock()
			h.sleeps = append(h.sleeps, d)
			h.mu.Unlock()
			return nil
		}},
		OnEvent: func(e Event) {
			h.mu.Lock()
			h.events = append(h.events, e)
			h.mu.Unlock()
		},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := NewClient(context.Background(), cfg)
	require.NoError(t, err)
	h.client = c
	return h
}

// idToken mints an HS256 ID token; claims override the defaults, and a nil
// value deletes a claim.
func (h *harness) idToken(claims map[string]any) string {
	now := h.clock.Now()
	c := jwt.MapClaims{"iss": hIssuer, "sub": "user-1", "aud": hClientID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "nonce": h.nonce, "auth_time": now.Add(-time.Minute).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte("a secret only the provider has"))
	require.NoError(h.t, err)
	return s
}

// tokenReply is the default reply: access token at-N, refresh token rt-N,
// and on the code grant an ID token for the pending nonce.
func (h *harness) tokenReply(n int, form url.Values, ttl int) map[string]any {
	r := map[string]any{
		"access_token": "at-" + strconv.Itoa(n), "token_type": "Bearer", "expires_in": ttl,
		"scope": DefaultScope, "refresh_token": "rt-" + strconv.Itoa(n),
	}
	if form.Get("grant_type") == "authorization_code" {
		r["id_token"] = h.idToken(nil)
	}
	return r
}

// login runs Login, keeps its transaction in h.tx and returns the callback
// URL the provider would send.
func (h *harness) login(opts LoginOptions) string {
	h.t.Helper()
	u, tx, err := h.client.Login(context.Background(), opts)
	require.NoError(h.t, err)
	require.NotEmpty(h.t, tx)
	h.tx = tx
	parsed, err := url.Parse(u)
	require.NoError(h.t, err)
	q := parsed.Query()
	h.nonce = q.Get("nonce")
	return hRedirect + "?code=code-1&state=" + url.QueryEscape(q.Get("state"))
}

// handleCallback hands the kept transaction to HandleCallback, as a host
// does: once, dropping it as it goes (nil when none is kept).
func (h *harness) handleCallback(rawURL string) (string, error) {
	tx := h.tx
	h.tx = nil
	return h.client.HandleCallback(context.Background(), rawURL, tx)
}

// signIn completes a whole login; the session holds at-1 / rt-1.
func (h *harness) signIn() {
	h.t.Helper()
	_, err := h.handleCallback(h.login(LoginOptions{}))
	require.NoError(h.t, err)
}

func (h *harness) eventTypes() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.events {
		out = append(out, e.Type)
	}
	return out
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// queryOf parses rawURL and returns its query.
func queryOf(t testing.TB, rawURL string) url.Values {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	return u.Query()
}

// stableCodes are the core's codes, the ones mezzo itself gives: read from
// the Code… constants that names_gen.go declares (generated from
// api/names.json), so a code added there is known here with no list to
// keep in step.
var stableCodes = sync.OnceValues(func() ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "names_gen.go", nil, 0)
	if err != nil {
		return nil, err
	}
	var codes []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			for i, name := range v.Names {
				if !strings.HasPrefix(name.Name, "Code") || i >= len(v.Values) {
					continue
				}
				lit, ok := v.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return nil, fmt.Errorf("names_gen.go: %s is not a string literal", name.Name)
				}
				code, err := strconv.Unquote(lit.Value)
				if err != nil {
					return nil, err
				}
				codes = append(codes, code)
			}
		}
	}
	if len(codes) == 0 {
		return nil, errors.New("names_gen.go declares no Code… constant")
	}
	return codes, nil
})

// requireTyped fails unless err is an *Error with one of codes (any stable
// code when none is given) or, passed through from the provider, a provider
// error code in RFC 6749 §5.2's form: what every fuzz target holds errors to.
func requireTyped(t testing.TB, err error, codes ...string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("untyped error: %v", err)
	}
	if len(codes) == 0 {
		stable, err := stableCodes()
		require.NoError(t, err)
		codes = stable
	}
	if slices.Contains(codes, e.Code) {
		return
	}
	if errors.Is(err, ErrProviderError) && sanitizeCode(e.Code) == e.Code {
		return
	}
	t.Fatalf("error code %q is none of %v: %v", e.Code, codes, err)
}

// TestStableCodes: the codes requireTyped accepts are names_gen.go's (a sample
// of its constants, by value, the first and the last among them), each once,
// and no provider's.
func TestStableCodes(t *testing.T) {
	codes, err := stableCodes()
	require.NoError(t, err)
	require.Len(t, codes, len(slices.Compact(slices.Sorted(slices.Values(codes)))), "a code declared twice: %v", codes)
	for _, c := range []string{CodeInvalidConfig, CodeTimeout, CodeClientClosed, CodeDPoPNonceFailed, CodeDPoPSigningFailed} {
		require.Contains(t, codes, c)
	}
	require.NotContains(t, codes, "access_denied", "a provider's code is passed through, not one of mezzo's")
}
