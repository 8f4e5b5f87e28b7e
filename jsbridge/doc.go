//go:build js && wasm

// Package jsbridge is the only code in mezzo that touches JavaScript. It
// implements the pkce core's ports over browser APIs — fetch (Transport),
// sessionStorage (TransactionStore), location and history (navigation) —
// and exposes the JS API that web/src/loader.js wraps.
//
// Every call into JS goes through github.com/hack-pad/safejs, so a JS
// exception becomes a Go error instead of a panic. Every js.Func is
// released, and no callback blocks: work runs in a goroutine and reports
// through a Promise.
package jsbridge
