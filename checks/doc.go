// Package checks holds mezzo's repository-wide checks, as tests that read
// the tree rather than run it:
//
//   - boundary_test.go: the JS boundary — only jsbridge touches JavaScript,
//     every jsbridge file is wasm-only, and the wasm binary never links
//     net/http;
//   - seam_test.go: what api/names.json cannot generate — that Go, the
//     loader (web/src) and the typings use its names and no literal of
//     their own, and that every generated option and method name is read
//     and served.
//
// `make lint` checks that what api/names.json generates is fresh
// (scripts/build/gen-names.mjs --check). The package has no code.
package checks
