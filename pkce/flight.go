package pkce

import (
	"context"
	"sync"
)

// singleFlight shares one run of a function among every caller that asks
// while it runs: the session refresh (one token request however many
// callers) and the key fetch. The zero value is ready to use.
//
// The run belongs to no caller: it goes on in its own goroutine, so it
// must bound itself (see backgroundDeadline) rather than rely on the
// context of whoever started it. Each run's result is its own, read only
// after it ends, so a caller never sees the result of a later run.
type singleFlight[T any] struct {
	mu  sync.Mutex
	cur *flightRun[T] // the run under way, nil between runs
}

// flightRun is one run; val and err are written once, before done closes.
type flightRun[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// join returns the run under way, or starts fn as a new one.
func (g *singleFlight[T]) join(fn func() (T, error)) *flightRun[T] {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cur != nil {
		return g.cur
	}
	r := &flightRun[T]{done: make(chan struct{})}
	g.cur = r
	go func() {
		r.val, r.err = fn()
		g.mu.Lock()
		g.cur = nil // before done closes: a later caller starts afresh, never joins an ended run
		g.mu.Unlock()
		close(r.done)
	}()
	return r
}

// wait returns the run's result, or an error when ctx ends first; the run
// goes on for the other callers.
func (r *flightRun[T]) wait(ctx context.Context, what string) (T, error) {
	select {
	case <-r.done:
		return r.val, r.err
	case <-ctx.Done():
		var zero T
		return zero, aborted(ctx.Err(), what)
	}
}

// do joins or starts fn and waits for its result.
func (g *singleFlight[T]) do(ctx context.Context, what string, fn func() (T, error)) (T, error) {
	return g.join(fn).wait(ctx, what)
}
