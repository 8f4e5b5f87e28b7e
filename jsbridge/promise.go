//go:build js && wasm

package jsbridge

import (
	"context"
	"fmt"

	"github.com/hack-pad/safejs"
)

// Await waits until the JS promise p settles or ctx ends. A rejection
// becomes a *JSError. When ctx ends first the callbacks stay registered
// until p settles (releasing them earlier would make the settlement throw),
// and are released then.
func Await(ctx context.Context, p safejs.Value) (safejs.Value, error) {
	type result struct {
		v   safejs.Value
		err error
	}
	ch := make(chan result, 1) // buffered: the callbacks never block
	onFulfilled, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		ch <- result{v: arg(args, 0)}
		return nil
	})
	if err != nil {
		return safejs.Undefined(), err
	}
	onRejected, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		ch <- result{err: newJSError(arg(args, 0))}
		return nil
	})
	if err != nil {
		onFulfilled.Release()
		return safejs.Undefined(), err
	}
	release := func() { onFulfilled.Release(); onRejected.Release() }
	if _, err := p.Call("then", onFulfilled, onRejected); err != nil {
		release()
		return safejs.Undefined(), err
	}
	select {
	case r := <-ch:
		release()
		return r.v, r.err
	case <-ctx.Done():
		go func() { <-ch; release() }()
		return safejs.Undefined(), ctx.Err()
	}
}

// NewPromise returns a JS Promise settled by fn, which runs in its own
// goroutine so the calling JS callback returns at once. fn's error rejects
// the promise with ErrorValue(err); a panic in fn rejects it too, never
// escaping into JS as an uncaught exception.
func NewPromise(fn func() (any, error)) (safejs.Value, error) {
	executor, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		resolve, reject := arg(args, 0), arg(args, 1)
		go func() {
			v, err := protect(fn)
			if err != nil {
				_, _ = reject.Invoke(ErrorValue(err))
				return
			}
			if _, err := resolve.Invoke(v); err != nil {
				_, _ = reject.Invoke(ErrorValue(fmt.Errorf("jsbridge: converting result: %w", err)))
			}
		}()
		return nil
	})
	if err != nil {
		return safejs.Undefined(), err
	}
	// The executor runs synchronously inside the constructor, so it can be
	// released as soon as the Promise exists.
	defer executor.Release()
	ctor, err := safejs.Global().Get("Promise")
	if err != nil {
		return safejs.Undefined(), err
	}
	return ctor.New(executor)
}

// protect runs fn and turns a panic into an error.
func protect(fn func() (any, error)) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("jsbridge: internal error: %v", r)
		}
	}()
	return fn()
}

func arg(args []safejs.Value, i int) safejs.Value {
	if i < len(args) {
		return args[i]
	}
	return safejs.Undefined()
}
