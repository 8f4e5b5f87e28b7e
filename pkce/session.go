package pkce

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// Token is an access token with the times that govern its use, all on the
// local clock.
type Token struct {
	AccessToken string
	Scope       string
	ExpiresAt   time.Time // the provider's lifetime, as measured locally
	RefreshAt   time.Time // Client.Token renews from this moment on
}

// The event types delivered to Config.OnEvent (Event…) are generated from
// api/names.json into names_gen.go. tokenRefreshed is sent whenever a new
// access token is installed: at sign-in and at every renewal.

// Event is a session event. Only Token carries a secret: it is set on
// tokenRefreshed so the host can refresh its own cache of the access token,
// and must not be passed on to application listeners.
type Event struct {
	Type      string
	ExpiresAt time.Time // tokenRefreshed: the new token's expiry
	Scope     string    // tokenRefreshed: the granted scope
	Token     Token     // tokenRefreshed: the new token, for the host's cache only
	Err       error     // sessionExpired, error: why
}

// session is the in-memory state of a signed-in user. It is replaced whole,
// never edited in place, so a rejected response cannot leave it half-written.
type session struct {
	accessToken  string
	refreshToken string
	scope        string // granted scope
	askedScope   string // scope asked at login; refreshes never ask for more
	expiresAt    time.Time
	refreshAt    time.Time
	idToken      *IDToken
}

func (s *session) token() Token {
	return Token{AccessToken: s.accessToken, Scope: s.scope, ExpiresAt: s.expiresAt, RefreshAt: s.refreshAt}
}

// newSession builds a session from a validated token response received at
// local time received. prev, when set, supplies what the reply may omit.
func newSession(tr *TokenResponse, idt *IDToken, askedScope string, received time.Time, leeway time.Duration) *session {
	s := &session{accessToken: tr.AccessToken, refreshToken: tr.RefreshToken, scope: tr.Scope, askedScope: askedScope, idToken: idt}
	if s.scope == "" {
		s.scope = askedScope // RFC 6749 §5.1: scope omitted means as requested
	}
	lifetime := tokenLifetime(tr, idt)
	s.expiresAt = received.Add(lifetime)
	// Renew leeway before expiry, but use at least half of a short token's
	// life, so a 30 s token with a 60 s leeway is not renewed in a loop.
	s.refreshAt = s.expiresAt.Add(-min(leeway, lifetime/2))
	return s
}

// tokenLifetime is expires_in when given. Otherwise the access token's own
// exp when it is a JWT, converted to a duration with the provider's idea of
// now (its Date header, else the ID token's iat) so that clock skew between
// client and provider drops out; otherwise DefaultTokenLifetime.
func tokenLifetime(tr *TokenResponse, idt *IDToken) time.Duration {
	if tr.ExpiresIn != nil {
		return secondsDuration(*tr.ExpiresIn)
	}
	if exp, ok := jwtExpiry(tr.AccessToken); ok {
		serverNow := tr.Date
		if serverNow.IsZero() && idt != nil {
			serverNow = idt.IssuedAt
		}
		if !serverNow.IsZero() && exp.After(serverNow) && exp.Sub(serverNow) <= maxTokenLifetime {
			return exp.Sub(serverNow)
		}
	}
	return DefaultTokenLifetime
}

// jwtExpiry reads exp from a JWT's payload without verifying it; it is used
// only for timing, never for trust.
func jwtExpiry(tok string) (time.Time, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp *float64 `json:"exp"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Exp == nil {
		return time.Time{}, false
	}
	return numericDate(*c.Exp)
}

func secondsDuration(s float64) time.Duration {
	return time.Duration(s * float64(time.Second))
}

// TokenOptions control Client.Token.
type TokenOptions struct {
	// ForceRefresh renews the token even while the cached one is valid, and
	// reports a failed renewal instead of falling back to the cached token.
	ForceRefresh bool
}

// renewal is the outcome of one refresh, shared by every caller that waited
// for it.
type renewal struct {
	tok      Token
	fallback *Token // the still-valid current token, when the refresh failed but the session lives
}

// Token returns an access token: the cached one while it is valid beyond
// the renewal leeway, else a fresh one from a refresh. Any number of
// concurrent callers share one token request.
func (c *Client) Token(ctx context.Context, opts TokenOptions) (Token, error) {
	run, tok, err := c.cachedOrRenewal(opts.ForceRefresh)
	if run == nil {
		return tok, err
	}
	r, err := run.wait(ctx, "waiting for token renewal")
	if err != nil && !opts.ForceRefresh && r.fallback != nil {
		return *r.fallback, nil
	}
	return r.tok, err
}

// cachedOrRenewal returns the cached token (or why there is none), or the
// renewal to wait for, joining the one under way.
func (c *Client) cachedOrRenewal(force bool) (*flightRun[renewal], Token, error) {
	var emit *Event
	defer c.emitPending(&emit) // after the unlock below
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, Token{}, errClosed()
	}
	s := c.sess
	if s == nil {
		return nil, Token{}, &Error{Code: CodeLoginRequired, Err: ErrNotAuthenticated, Description: "not signed in"}
	}
	now := c.cfg.Now()
	switch {
	case !force && now.Before(s.refreshAt):
		return nil, s.token(), nil
	case s.refreshToken != "":
		gen := c.gen
		return c.renewals.join(func() (renewal, error) { return c.refresh(gen, s) }), Token{}, nil
	case !now.Before(s.expiresAt): // expired, and nothing to renew with
		c.endLocked()
		err := &Error{Code: CodeLoginRequired, Err: ErrSessionEnded, Description: "access token expired and there is no refresh token"}
		emit = &Event{Type: EventSessionExpired, Err: err}
		return nil, Token{}, err
	case force:
		return nil, Token{}, &Error{Code: CodeLoginRequired, Description: "no refresh token; sign in again to renew"}
	}
	return nil, s.token(), nil // cannot renew, but still good
}

// refresh runs one refresh-token grant (RFC 6749 §6) with bounded retries
// and installs the result, unless the session changed meanwhile. It runs
// for every caller that waits, none of whom owns it: backgroundDeadline
// bounds it. What to emit is decided under the lock and emitted after it.
func (c *Client) refresh(gen uint64, prev *session) (renewal, error) {
	ctx, cancel := context.WithTimeout(context.Background(), backgroundDeadline)
	defer cancel()

	var received time.Time
	// scope is omitted: RFC 6749 §6 then grants the original scope, never more.
	form := formOf("grant_type", "refresh_token", "refresh_token", prev.refreshToken)
	tr, err := withRetry(ctx, c.cfg.Retry, c.cfg.Now, func() (*TokenResponse, *Response, error) {
		received = c.cfg.Now()
		return c.tokenRequest(ctx, form)
	})
	var next *session
	if err == nil {
		next, err = c.sessionFromRefresh(ctx, tr, prev, received)
	}

	var emit *Event
	defer c.emitPending(&emit) // after the unlock below
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return renewal{}, errClosed()
	case c.gen != gen: // logged out or signed in anew meanwhile: drop the result
		return renewal{}, &Error{Code: CodeLoginRequired, Err: ErrSessionEnded, Description: "session ended while renewing"}
	case err == nil:
		c.installLocked(next)
		emit = &Event{Type: EventTokenRefreshed, ExpiresAt: next.expiresAt, Scope: next.scope, Token: next.token()}
		return renewal{tok: next.token()}, nil
	case ErrorCode(err) == CodeInvalidGrant: // RFC 6749 §5.2: refresh token invalid, expired or revoked
		c.endLocked()
		ended := &Error{Code: CodeLoginRequired, Err: err, Description: "session expired; sign in again"}
		emit = &Event{Type: EventSessionExpired, Err: ended}
		return renewal{}, ended
	}
	// Keep the session and its refresh token; a later call may succeed.
	var r renewal
	if now := c.cfg.Now(); now.Before(prev.expiresAt) {
		t := prev.token()
		r.fallback = &t
		if transient(err) { // try once more in the background while the token lasts
			c.scheduleLocked(min(c.cfg.Retry.MaxDelay, prev.expiresAt.Sub(now)), gen)
		}
	}
	emit = &Event{Type: EventError, Err: err}
	return r, err
}

// sessionFromRefresh validates a refresh reply into a new session.
func (c *Client) sessionFromRefresh(ctx context.Context, tr *TokenResponse, prev *session, received time.Time) (*session, error) {
	if tr.RefreshToken == "" {
		tr.RefreshToken = prev.refreshToken // RFC 6749 §6: no new refresh token means keep the old one
	}
	idt := prev.idToken
	if tr.IDToken != "" {
		// OIDC Core 12.2: same iss, sub, aud and auth_time as the original ID token.
		next, err := c.verifier.Verify(ctx, tr.IDToken, IDTokenCheck{AccessToken: tr.AccessToken, Previous: prev.idToken})
		if err != nil {
			return nil, err
		}
		idt = next
	}
	return newSession(tr, idt, prev.askedScope, received, c.cfg.RefreshLeeway), nil
}

// dueAt is when the session of s needs the timer: its renewal, or its end
// when there is nothing to renew with.
func (s *session) dueAt() time.Time {
	if s.refreshToken == "" {
		return s.expiresAt
	}
	return s.refreshAt
}

// installLocked replaces the session and schedules its renewal.
func (c *Client) installLocked(s *session) {
	c.gen++
	c.sess = s
	c.scheduleLocked(s.dueAt().Sub(c.cfg.Now()), c.gen)
}

// scheduleLocked (re)arms the single renewal timer for the session of gen,
// at most maxTimerStep ahead.
func (c *Client) scheduleLocked(d time.Duration, gen uint64) {
	if c.stop != nil {
		c.stop()
	}
	c.stop = c.cfg.AfterFunc(min(max(d, 0), maxTimerStep), func() { c.renewInBackground(gen) })
}

// renewInBackground is the proactive renewal once the session is due. A
// timer that fires early (one step of a long wait) re-arms for the rest.
func (c *Client) renewInBackground(gen uint64) {
	c.mu.Lock()
	if c.gen != gen || c.sess == nil {
		c.mu.Unlock()
		return
	}
	if wait := c.sess.dueAt().Sub(c.cfg.Now()); wait > 0 {
		c.scheduleLocked(wait, gen)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	_, _ = c.Token(context.Background(), TokenOptions{}) // outcome is reported through events
}

// endLocked drops the session and everything tied to it.
func (c *Client) endLocked() {
	c.gen++
	c.sess = nil
	if c.stop != nil {
		c.stop()
		c.stop = nil
	}
}

// emitPending emits *e when set. Deferred before a deferred unlock, it
// sends what was decided under the lock once the lock is free.
func (c *Client) emitPending(e **Event) {
	if *e != nil {
		c.emit(**e)
	}
}

func (c *Client) emit(e Event) {
	if c.cfg.OnEvent != nil {
		c.cfg.OnEvent(e)
	}
}
