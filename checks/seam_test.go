//go:build !(js && wasm)

// The seam between Go, the loader and the typings. api/names.json is the
// one source of the names they share, and scripts/build/gen-names.mjs
// writes Go's constants, web/src/names.js and mezzo.d.ts's regions from it
// (`make lint` fails when one is stale). What a generator cannot see is
// checked here: that each side uses the generated names rather than
// literals of its own, that every id the loader refers to exists, and that
// every generated option and method name is read and served.
package checks

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	namesPath = "../api/names.json"
	webSrcDir = "../web/src"
)

// apiNames is api/names.json, the parts these checks read.
type apiNames struct {
	ErrorCodes []struct {
		ID, Code, By string
	} `json:"errorCodes"`
	ProviderCodes struct {
		Codes []string `json:"codes"`
	} `json:"providerCodes"`
	Events []struct {
		ID, Name string
	} `json:"events"`
	Options []struct {
		Interface string `json:"interface"`
		GoPrefix  string `json:"goPrefix"`
		JSName    string `json:"jsName"`
		Fields    []struct {
			ID, Name string
		} `json:"fields"`
	} `json:"options"`
	HandleMethods struct {
		Methods []struct {
			ID, Name string
			Passed   bool
		} `json:"methods"`
	} `json:"handleMethods"`
}

func readNames(t *testing.T) apiNames {
	t.Helper()
	b, err := os.ReadFile(namesPath)
	require.NoError(t, err)
	var n apiNames
	require.NoError(t, json.Unmarshal(b, &n))
	require.NotEmpty(t, n.ErrorCodes, "api/names.json has no errorCodes")
	require.NotEmpty(t, n.Events, "api/names.json has no events")
	require.NotEmpty(t, n.Options, "api/names.json has no options")
	require.NotEmpty(t, n.HandleMethods.Methods, "api/names.json has no handleMethods")
	return n
}

// jsIDs maps each name object of web/src/names.js (Code, Event, Option, …)
// to its ids.
func (n apiNames) jsIDs() map[string][]string {
	out := map[string][]string{}
	for _, c := range n.ErrorCodes {
		out["Code"] = append(out["Code"], c.ID)
	}
	for _, e := range n.Events {
		out["Event"] = append(out["Event"], e.ID)
	}
	for _, o := range n.Options {
		for _, f := range o.Fields {
			out[o.JSName] = append(out[o.JSName], f.ID)
		}
	}
	return out
}

// rpcOwnMethods are the calls a page makes of a worker runtime besides the
// handle's methods (see web/src/host-worker.js).
var rpcOwnMethods = []string{"hello", "watch", "attach", "ready", "detach"}

// rfcProviderCodes are the error codes a provider may send (RFC 6749
// §4.1.2.1 and §5.2, OIDC Core 1.0 §3.1.2.6), which mezzo passes through
// unchanged: api/names.json may name only these as provider codes.
var rfcProviderCodes = []string{
	"invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
	"invalid_scope", "server_error", "temporarily_unavailable",
	"invalid_client", "invalid_grant", "unsupported_grant_type",
	"interaction_required", "login_required", "account_selection_required", "consent_required",
	"invalid_request_uri", "invalid_request_object", "request_not_supported",
	"request_uri_not_supported", "registration_not_supported",
}

func TestSeamProviderCodesAreRFCCodes(t *testing.T) {
	for _, c := range readNames(t).ProviderCodes.Codes {
		assert.Contains(t, rfcProviderCodes, c, "api/names.json names %q as a provider code; it is none of RFC 6749's or OIDC Core's", c)
	}
}

// jsFile is one web/src file with its comments blanked out.
type jsFile struct{ path, src string }

var jsComment = regexp.MustCompile(`(?s:/\*.*?\*/)|(?m:^\s*//.*$)|(?m:\s//[^'"\x60\n]*$)`)

// readWebSrc returns every hand-written web/src/**/*.js (not names.js).
func readWebSrc(t *testing.T) []jsFile {
	t.Helper()
	var out []jsFile
	err := filepath.WalkDir(webSrcDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".js") || filepath.Base(path) == "names.js" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(webSrcDir, path)
		out = append(out, jsFile{rel, jsComment.ReplaceAllString(string(b), "")})
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, len(out), 5, "web/src has its modules")
	return out
}

// TestSeamLoaderUsesGeneratedNames: the loader writes no error code, event
// or option name of its own; each Code.X, Event.X, Option.X… it refers to
// exists in api/names.json (a missing one would be undefined at run time,
// not a build error), and each file that refers to one imports it.
func TestSeamLoaderUsesGeneratedNames(t *testing.T) {
	n := readNames(t)
	ids := n.jsIDs()
	var clientOptions []string
	for _, o := range n.Options {
		if o.Interface == "ClientOptions" {
			for _, f := range o.Fields {
				clientOptions = append(clientOptions, f.Name)
			}
		}
	}
	require.NotEmpty(t, clientOptions)
	objects := make([]string, 0, len(ids))
	for k := range ids {
		objects = append(objects, k)
	}
	slices.Sort(objects)
	ref := regexp.MustCompile(`\b(` + strings.Join(objects, "|") + `)\.([A-Za-z_$][\w$]*)`)
	// (typeof e.code === 'string' is no code.)
	literalCode := regexp.MustCompile(`new MezzoError\(\s*['"\x60]|(typeof\s+)?[\w$?.]*\.code\s*[!=]==?\s*['"\x60]|\bcode:\s*['"\x60]`)
	optionRead := regexp.MustCompile(`\boptions\??\.([A-Za-z_$][\w$]*)`)
	for _, f := range readWebSrc(t) {
		t.Run(f.path, func(t *testing.T) {
			used := map[string]bool{}
			for _, m := range ref.FindAllStringSubmatch(f.src, -1) {
				used[m[1]] = true
				assert.Contains(t, ids[m[1]], m[2], "%s refers to %s.%s, which api/names.json does not define", f.path, m[1], m[2])
			}
			for obj := range used {
				imported := regexp.MustCompile(`(?s)import\s*\{[^}]*\b` + obj + `\b[^}]*\}\s*from\s*'(\.\./|\./)names\.js'`)
				assert.Regexp(t, imported, f.src, "%s uses %s without importing it from names.js", f.path, obj)
			}
			for _, loc := range literalCode.FindAllStringSubmatchIndex(f.src, -1) {
				if loc[2] >= 0 {
					continue // typeof …code
				}
				t.Errorf("%s writes an error code as a literal (%q): use Code.… from names.js", f.path, f.src[loc[0]:min(loc[1]+24, len(f.src))])
			}
			for _, m := range optionRead.FindAllStringSubmatch(f.src, -1) {
				assert.NotContains(t, clientOptions, m[1], "%s reads options.%s: read options[Option.…] (names.js), so that a rename is one edit", f.path, m[1])
			}
		})
	}
}

// TestSeamLoaderCallsServedMethods: every method the page calls on a
// handle or a worker by name is a handle method of api/names.json or one
// of the worker's own, and the worker serves each of its own.
func TestSeamLoaderCallsServedMethods(t *testing.T) {
	n := readNames(t)
	known := slices.Clone(rpcOwnMethods)
	for _, m := range n.HandleMethods.Methods {
		known = append(known, m.Name)
	}
	named := regexp.MustCompile(`\b(?:call|invoke)\(\s*'([A-Za-z]+)'`)
	calls := 0
	var worker string
	for _, f := range readWebSrc(t) {
		for _, m := range named.FindAllStringSubmatch(f.src, -1) {
			calls++
			assert.Contains(t, known, m[1], "%s calls %q, which is no handle method (api/names.json) and none of the worker's own", f.path, m[1])
		}
		if f.path == "host-worker.js" {
			worker = f.src
		}
	}
	require.NotZero(t, calls, "no call('…') or invoke('…') in web/src: how does the page call its runtime now?")
	require.NotEmpty(t, worker, "web/src/host-worker.js is missing")
	for _, m := range rpcOwnMethods {
		assert.Regexp(t, `(?m)^\s*(async\s+)?`+m+`\(params, ctx\)`, worker, "host-worker.js serves no %s", m)
	}
}

// goSource is every non-test, non-generated Go file of pkce/ and jsbridge/,
// parsed whatever its build tags.
type goSource struct {
	fset  *token.FileSet
	files map[string]*ast.File // by path
}

func parseGo(t *testing.T) goSource {
	t.Helper()
	src := goSource{fset: token.NewFileSet(), files: map[string]*ast.File{}}
	for _, dir := range []string{"../pkce", "../jsbridge"} {
		for _, path := range goFiles(t, dir) {
			if strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, "_gen.go") {
				continue
			}
			f, err := parser.ParseFile(src.fset, path, nil, parser.SkipObjectResolution)
			require.NoError(t, err)
			src.files[path] = f
		}
	}
	require.NotEmpty(t, src.files)
	return src
}

func (s goSource) pos(n ast.Node) string { return s.fset.Position(n.Pos()).String() }

func isStringLit(e ast.Expr) bool {
	lit, ok := e.(*ast.BasicLit)
	return ok && lit.Kind == token.STRING
}

func exprName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprName(e.X) + "." + e.Sel.Name
	}
	return ""
}

// TestSeamGoUsesGeneratedNames: Go gives no error code and emits no event
// under a literal of its own: every Error{Code: …}, newError(…) and
// emit.Invoke(…) names a constant (generated from api/names.json).
func TestSeamGoUsesGeneratedNames(t *testing.T) {
	src := parseGo(t)
	errorsBuilt, invokes := 0, 0
	for _, f := range src.files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if name := exprName(n.Type); name == "Error" || name == "pkce.Error" {
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok && exprName(kv.Key) == "Code" {
							errorsBuilt++
							assert.False(t, isStringLit(kv.Value), "%s: an Error with a literal Code; use a Code… constant (api/names.json)", src.pos(kv.Value))
						}
					}
				}
			case *ast.CallExpr:
				name := exprName(n.Fun)
				if name == "newError" && len(n.Args) > 0 {
					errorsBuilt++
					assert.False(t, isStringLit(n.Args[0]), "%s: newError with a literal code; use a Code… constant (api/names.json)", src.pos(n))
				}
				if strings.HasSuffix(name, ".Invoke") && strings.Contains(strings.ToLower(name), "emit") && len(n.Args) > 0 {
					invokes++
					assert.False(t, isStringLit(n.Args[0]), "%s: an event emitted under a literal name; use an Event… constant (api/names.json)", src.pos(n))
				}
			}
			return true
		})
	}
	require.NotZero(t, errorsBuilt, "no Error{Code: …} or newError in pkce/ and jsbridge/: how are errors made now?")
	// Nor a constant of its own with a generated name's value.
	generated := map[string]bool{}
	n := readNames(t)
	for _, c := range n.ErrorCodes {
		generated[c.Code] = true
	}
	for _, e := range n.Events {
		generated[e.Name] = true
	}
	for _, f := range src.files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				for _, v := range spec.(*ast.ValueSpec).Values {
					if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						assert.False(t, generated[s], "%s: a hand-written constant %q, which api/names.json generates (names_gen.go)", src.pos(lit), s)
					}
				}
			}
		}
	}
	require.NotZero(t, invokes, "no emit.Invoke in jsbridge/: how are events emitted now?")
}

// funcUsing returns the function declaration whose body uses the
// identifier name, and fails unless there is exactly one.
func (s goSource) funcUsing(t *testing.T, name string) *ast.FuncDecl {
	t.Helper()
	var found []*ast.FuncDecl
	for _, f := range s.files {
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			uses := false
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && id.Name == name {
					uses = true
				}
				return !uses
			})
			if uses {
				found = append(found, fn)
			}
		}
	}
	require.Len(t, found, 1, "exactly one function in jsbridge/ must use %s", name)
	return found[0]
}

// TestSeamGoReadsEveryOption: the function that parses each options object
// (the one that passes newObject its generated …Fields) reads every field
// of it, each by its generated constant, and nothing else.
func TestSeamGoReadsEveryOption(t *testing.T) {
	src := parseGo(t)
	for _, o := range readNames(t).Options {
		t.Run(o.Interface, func(t *testing.T) {
			fn := src.funcUsing(t, o.GoPrefix+"Fields")
			read := map[string]bool{}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) != 1 {
					return true
				}
				if _, isMethod := call.Fun.(*ast.SelectorExpr); !isMethod {
					return true
				}
				if id, ok := call.Args[0].(*ast.Ident); ok && strings.HasPrefix(id.Name, o.GoPrefix) {
					read[strings.TrimPrefix(id.Name, o.GoPrefix)] = true
				}
				assert.False(t, isStringLit(call.Args[0]), "%s: %s reads a field by a literal name; use its %s… constant", src.pos(call), fn.Name.Name, o.GoPrefix)
				return true
			})
			for _, f := range o.Fields {
				assert.True(t, read[f.ID], "%s never reads %s.%s (%s%s): jsbridge would accept it and ignore it", fn.Name.Name, o.Interface, f.Name, o.GoPrefix, f.ID)
				delete(read, f.ID)
			}
			assert.Empty(t, read, "%s reads constants api/names.json does not define for %s", fn.Name.Name, o.Interface)
		})
	}
}

// TestSeamGoServesEveryMethod: jsbridge/api.go's method table has one
// entry per handle method of api/names.json, each keyed by its generated
// constant.
func TestSeamGoServesEveryMethod(t *testing.T) {
	src := parseGo(t)
	var keys []string
	for path, f := range src.files {
		if filepath.Base(path) != "api.go" {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			cl, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			if _, isMap := cl.Type.(*ast.MapType); !isMap {
				return true
			}
			var ks []string
			for _, el := range cl.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					return true
				}
				if id, ok := kv.Key.(*ast.Ident); ok && strings.HasPrefix(id.Name, "method") {
					ks = append(ks, strings.TrimPrefix(id.Name, "method"))
				} else if isStringLit(kv.Key) {
					v, _ := strconv.Unquote(kv.Key.(*ast.BasicLit).Value)
					ks = append(ks, "literal "+v)
				}
			}
			if slices.Contains(ks, "Login") {
				keys = ks
			}
			return true
		})
	}
	require.NotEmpty(t, keys, "no method table (a map literal keyed by methodLogin, …) in jsbridge/api.go")
	var want []string
	for _, m := range readNames(t).HandleMethods.Methods {
		want = append(want, m.ID)
	}
	slices.Sort(keys)
	slices.Sort(want)
	assert.Equal(t, want, keys, "jsbridge/api.go's method table, by generated constant (method…), against api/names.json's handleMethods")
}
