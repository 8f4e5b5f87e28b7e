//go:build js && wasm

package jsbridge

import "runtime"

// runtimeStats reports the Go heap. Linear memory never shrinks, but the
// heap does when garbage is collected, so a leak shows as a rising floor
// of goHeapBytes. It runs inside a JS call and does not block.
func runtimeStats() map[string]any {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return map[string]any{
		"goHeapBytes":  float64(m.HeapAlloc),
		"goGCCycles":   float64(m.NumGC),
		"goGoroutines": float64(runtime.NumGoroutine()),
	}
}
