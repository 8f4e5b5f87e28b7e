//go:build js && wasm

// Command wasm is mezzo's WebAssembly entry point: it registers the JS API
// (see package jsbridge) and waits for calls. It has no logic of its own.
package main

import "github.com/mezzo-auth/mezzo/jsbridge"

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if err := jsbridge.Register(version); err != nil {
		println("mezzo: cannot register the JS API:", err.Error())
		return
	}
	select {} // serve JS calls until the page goes away
}
