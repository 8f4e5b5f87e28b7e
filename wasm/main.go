//go:build js && wasm

// Command wasm is mezzo's WebAssembly entry point: it registers the JS API
// (see package jsbridge) and waits for calls. It has no logic of its own.
package main

import (
	"runtime/debug"

	"github.com/mezzo-auth/mezzo/jsbridge"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	// mezzo's live heap is a few hundred KB, but Go lets garbage reach 4 MiB
	// (GOGC=100) before its first collection, and wasm linear memory never
	// shrinks. Collecting at a quarter of that keeps the page's memory near
	// what is live, for a negligible cost: marking so small a heap is quick.
	debug.SetGCPercent(25)
	if err := jsbridge.Register(version); err != nil {
		println("mezzo: cannot register the JS API:", err.Error())
		return
	}
	select {} // serve JS calls until the page goes away
}
