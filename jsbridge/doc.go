//go:build js && wasm

// Package jsbridge is the only code in mezzo that touches JavaScript. It
// implements the pkce core's port to the network (Transport, over fetch)
// and exposes the JS API that web/src/runtime.js wraps. It uses nothing that
// only a page has (location, history, sessionStorage): it returns the URLs
// to navigate to or to show and the transaction to keep, takes the
// transaction back as an argument, and the loader's page half acts on
// them, so the same module runs in a page or a worker.
//
// Every call into JS goes through github.com/hack-pad/safejs, so a JS
// exception becomes a Go error instead of a panic. Every js.Func is
// released, and no callback blocks: work runs in a goroutine and reports
// through a Promise.
package jsbridge
