package pkce

import (
	"context"
	"errors"
	"fmt"
)

// The stable error codes (Code…) are generated from api/names.json into
// names_gen.go: the one source Go, the loader and the typings share.

// Error is the one error type callers branch on. Code is stable; Description
// is plain words for people. Neither ever contains a token, code or verifier.
type Error struct {
	Code        string
	Description string
	URI         string // error_uri from the provider, if any
	Status      int    // HTTP status, when an HTTP response was involved
	Err         error  // the cause, for errors.Is / errors.As
}

func (e *Error) Error() string {
	msg := "mezzo: " + e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// newError builds an *Error whose description is formatted from args.
// Callers must never pass secrets (tokens, codes, verifiers) as args.
func newError(code string, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...), Err: cause}
}

// aborted is the error for work given up because its context ended: a
// deadline is a timeout, a cancellation a network_error (the request did
// not complete). what names the work, as in "waiting for …".
func aborted(err error, what string) *Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return newError(CodeTimeout, err, "%s timed out", what)
	}
	return newError(CodeNetworkError, err, "%s was cancelled", what)
}

// ErrorCode returns the stable code of err, or "" when err is not an *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Sentinel causes, one per rejection, so tests and callers can tell apart
// rejections that share a code: errors.Is(err, pkce.ErrReplayedCallback).
var (
	ErrNoTransaction       = errors.New("no login transaction is pending")
	ErrTransactionExpired  = errors.New("login transaction expired")
	ErrReplayedCallback    = errors.New("callback was already processed")
	ErrStateMissing        = errors.New("state parameter missing")
	ErrStateMismatch       = errors.New("state parameter does not match")
	ErrDuplicateParameter  = errors.New("parameter given more than once")
	ErrIssuerMissing       = errors.New("iss parameter missing")
	ErrIssuerMismatch      = errors.New("iss parameter does not match")
	ErrImplicitParameters  = errors.New("implicit-flow parameters in authorization response")
	ErrCodeMissing         = errors.New("code parameter missing")
	ErrProviderError       = errors.New("provider returned an error")
	ErrResponseTooLarge    = errors.New("response body too large")
	ErrDiscoveryIssuer     = errors.New("discovery issuer mismatch")
	ErrSessionEnded        = errors.New("session ended")
	ErrNotAuthenticated    = errors.New("not authenticated")
	ErrRefreshClaimsChange = errors.New("refreshed ID token changed identity claims")
	ErrClientClosed        = errors.New("client closed")
)
