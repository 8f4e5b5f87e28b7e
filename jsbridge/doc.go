//go:build js && wasm

// Package jsbridge is the only code in mezzo that touches JavaScript. It
// implements the pkce core's ports — fetch (Transport), and the login
// transaction the page hands over for each call (TransactionStore) — and
// exposes the JS API that web/src/loader.js wraps. It uses nothing that
// only a page has (location, history, sessionStorage): it returns the URLs
// to navigate to or to show and the transaction to keep, and the loader's
// page half acts on them, so the same module runs in a page or a worker.
//
// Every call into JS goes through github.com/hack-pad/safejs, so a JS
// exception becomes a Go error instead of a panic. Every js.Func is
// released, and no callback blocks: work runs in a goroutine and reports
// through a Promise.
package jsbridge
