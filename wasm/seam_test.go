//go:build !(js && wasm)

// The seam between Go, the loader and the typings: error codes, event names
// and option names are written in Go (pkce/, jsbridge/), in
// web/src/loader.js and in web/mezzo.d.ts. Go owns them; these tests read
// all three as source text (jsbridge is js && wasm only, so it is parsed,
// not imported) and fail, naming the name and the side that lacks it, when
// they disagree in either direction.
package main

import (
	"fmt"
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
	typingsPath = "../web/mezzo.d.ts"
	loaderPath  = "../web/src/loader.js"
	webSrcDir   = "../web/src" // loader.js and the files built with it (rpc.js, worker.js)
)

// providerCodes are the error codes a provider may send, which mezzo passes
// through unchanged: mezzo.d.ts may name them although no side of mezzo
// produces them.
var providerCodes = names(
	// RFC 6749 §4.1.2.1 (authorization response) and §5.2 (token endpoint).
	"invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
	"invalid_scope", "server_error", "temporarily_unavailable",
	"invalid_client", "invalid_grant", "unsupported_grant_type",
	// OpenID Connect Core 1.0 §3.1.2.6.
	"interaction_required", "login_required", "account_selection_required", "consent_required",
	"invalid_request_uri", "invalid_request_object", "request_not_supported",
	"request_uri_not_supported", "registration_not_supported",
)

// optionObjects maps the name jsbridge gives an options object in its
// messages (newObject's second argument) to the mezzo.d.ts interface that
// declares it.
var optionObjects = map[string]string{
	"options":        "ClientOptions",
	"login options":  "LoginOptions",
	"logout options": "LogoutOptions",
}

// nameSet is a set of names, each with where it was found.
type nameSet map[string]string

func names(ns ...string) nameSet {
	s := nameSet{}
	for _, n := range ns {
		s[n] = ""
	}
	return s
}

func (s nameSet) sorted() []string {
	out := make([]string, 0, len(s))
	for n := range s {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// assertSameNames fails once for every name one side has and the other lacks.
func assertSameNames(t *testing.T, what, sideA string, a nameSet, sideB string, b nameSet) {
	t.Helper()
	for _, n := range a.sorted() {
		assert.Contains(t, b, n, "%s %q is in %s but missing from %s", what, n, found(sideA, a[n]), sideB)
	}
	for _, n := range b.sorted() {
		assert.Contains(t, a, n, "%s %q is in %s but missing from %s", what, n, found(sideB, b[n]), sideA)
	}
}

// found names a side, and where on it a name was found when that says more.
func found(side, where string) string {
	if where == "" || where == side {
		return side
	}
	return side + " (" + where + ")"
}

// goSource is every non-test Go file of pkce/ and jsbridge/, parsed whatever
// its build tags, with a resolver for string constants.
type goSource struct {
	fset   *token.FileSet
	files  []*ast.File
	consts map[string]*goConst // "pkg.Name"
}

type goConst struct {
	pkg, name, typ, file string
	expr                 ast.Expr
	imports              map[string]string // local name → package name
	value                *string
}

func parseGo(t *testing.T) *goSource {
	t.Helper()
	src := &goSource{fset: token.NewFileSet(), consts: map[string]*goConst{}}
	for _, dir := range []string{"../pkce", "../jsbridge"} {
		for _, path := range goFiles(t, dir) {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(src.fset, path, nil, parser.SkipObjectResolution)
			require.NoError(t, err)
			src.files = append(src.files, f)
			src.collectConsts(f, path)
		}
	}
	require.NotEmpty(t, src.consts, "no constants found in pkce/ and jsbridge/")
	return src
}

func (s *goSource) collectConsts(f *ast.File, path string) {
	imports := map[string]string{}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		local := p[strings.LastIndex(p, "/")+1:]
		if imp.Name != nil {
			imports[imp.Name.Name] = local
		} else {
			imports[local] = local
		}
	}
	rel, _ := filepath.Rel("..", path)
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		var lastType ast.Expr
		var lastValues []ast.Expr
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if len(vs.Values) > 0 { // a spec without values repeats the previous one's
				lastType, lastValues = vs.Type, vs.Values
			}
			for i, n := range vs.Names {
				c := &goConst{pkg: f.Name.Name, name: n.Name, typ: typeName(lastType), file: rel, imports: imports}
				if i < len(lastValues) {
					c.expr = lastValues[i]
				}
				s.consts[c.pkg+"."+c.name] = c
			}
		}
	}
}

// typeName is the bare name of a declared type: Code for Code or pkce.Code.
func typeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	}
	return ""
}

// stringValue resolves a constant to its string value: a literal, another
// constant (of this package or an imported one), a conversion or a sum.
func (s *goSource) stringValue(c *goConst) (string, error) {
	if c.value != nil {
		return *c.value, nil
	}
	var eval func(e ast.Expr, depth int) (string, error)
	eval = func(e ast.Expr, depth int) (string, error) {
		if depth > 20 {
			return "", fmt.Errorf("%s.%s: constant cycle", c.pkg, c.name)
		}
		lookup := func(key string) (string, error) {
			d, ok := s.consts[key]
			if !ok {
				return "", fmt.Errorf("%s.%s refers to unknown constant %s", c.pkg, c.name, key)
			}
			return eval(d.expr, depth+1)
		}
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind == token.STRING {
				return strconv.Unquote(e.Value)
			}
		case *ast.Ident:
			return lookup(c.pkg + "." + e.Name)
		case *ast.SelectorExpr:
			if x, ok := e.X.(*ast.Ident); ok {
				return lookup(c.imports[x.Name] + "." + e.Sel.Name)
			}
		case *ast.CallExpr: // a conversion such as Code("x")
			if len(e.Args) == 1 {
				return eval(e.Args[0], depth+1)
			}
		case *ast.BinaryExpr:
			if e.Op == token.ADD {
				l, err := eval(e.X, depth+1)
				if err != nil {
					return "", err
				}
				r, err := eval(e.Y, depth+1)
				return l + r, err
			}
		case *ast.ParenExpr:
			return eval(e.X, depth+1)
		}
		return "", fmt.Errorf("%s.%s = %T is not a string constant", c.pkg, c.name, e)
	}
	v, err := eval(c.expr, 0)
	if err == nil {
		c.value = &v
	}
	return v, err
}

// constsNamed returns the string values of the constants whose declared type
// is one of types, or which are untyped and named prefix + an upper-case
// letter (CodeTimeout, EventError).
func (s *goSource) constsNamed(t *testing.T, prefix string, types ...string) nameSet {
	t.Helper()
	out := nameSet{}
	for _, c := range s.consts {
		named := strings.HasPrefix(c.name, prefix) && len(c.name) > len(prefix) &&
			c.name[len(prefix)] >= 'A' && c.name[len(prefix)] <= 'Z'
		if !slices.Contains(types, c.typ) && !(c.typ == "" && named) {
			continue
		}
		v, err := s.stringValue(c)
		if !assert.NoError(t, err) {
			continue
		}
		out[v] = fmt.Sprintf("Go %s.%s in %s", c.pkg, c.name, c.file)
	}
	return out
}

// goCodes are the error codes Go produces: every Code… constant (or constant
// of a Code type) in pkce/ and jsbridge/.
func (s *goSource) goCodes(t *testing.T) nameSet {
	t.Helper()
	codes := s.constsNamed(t, "Code", "Code", "ErrorCode")
	require.NotEmpty(t, codes, "no error code constants found in pkce/ or jsbridge/")
	return codes
}

// goEvents are the event names jsbridge emits: every Event… constant (or
// constant of an EventType type), which jsbridge forwards as pkce.Event.Type,
// and any literal event name jsbridge passes to emit.Invoke itself.
func (s *goSource) goEvents(t *testing.T) nameSet {
	t.Helper()
	events := s.constsNamed(t, "Event", "EventType")
	invokes := 0
	for _, f := range s.files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Invoke" || !strings.Contains(strings.ToLower(exprString(sel.X)), "emit") {
				return true
			}
			invokes++
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				v, _ := strconv.Unquote(lit.Value)
				events[v] = "jsbridge emit.Invoke at " + s.fset.Position(lit.Pos()).String()
			}
			return true
		})
	}
	require.NotZero(t, invokes, "no emit.Invoke call found in jsbridge/: how does it emit events now?")
	require.NotEmpty(t, events, "no event name constants found in pkce/ or jsbridge/")
	return events
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	}
	return ""
}

// goOptionObjects finds every newObject(v, "<name>", mk, allowed...) call in
// jsbridge/ and returns, by name, the field names it allows (the variadic
// arguments, or the []string variable they spread) and the field names read
// from the object it returns (o.str("clientId"), o.seconds(…), …).
func (s *goSource) goOptionObjects(t *testing.T) (allowed, read map[string]nameSet) {
	t.Helper()
	stringSlices := s.stringSliceVars(t)
	allowed, read = map[string]nameSet{}, map[string]nameSet{}
	for _, f := range s.files {
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				assign, ok := n.(*ast.AssignStmt)
				if !ok || len(assign.Rhs) != 1 || len(assign.Lhs) == 0 {
					return true
				}
				call, ok := assign.Rhs[0].(*ast.CallExpr)
				if !ok || exprString(call.Fun) != "newObject" || len(call.Args) < 3 {
					return true
				}
				lit, ok := call.Args[1].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				name, _ := strconv.Unquote(lit.Value)
				where := fmt.Sprintf("Go %s, %s", fn.Name.Name, filepath.Base(s.fset.Position(lit.Pos()).Filename))
				allow := nameSet{}
				for _, a := range call.Args[3:] {
					switch a := a.(type) {
					case *ast.BasicLit:
						v, _ := strconv.Unquote(a.Value)
						allow[v] = where + " allows it"
					case *ast.Ident:
						vs, ok := stringSlices[a.Name]
						require.True(t, ok, "%s: newObject's allowed names come from %s, which is not a []string of literals", where, a.Name)
						for _, v := range vs {
							allow[v] = where + " allows it (" + a.Name + ")"
						}
					default:
						t.Errorf("%s: cannot read newObject's allowed names from %T", where, a)
					}
				}
				allowed[name] = allow
				read[name] = s.fieldsRead(fn.Body, exprString(assign.Lhs[0]), "Go "+fn.Name.Name+" reads it")
				return true
			})
		}
	}
	for name := range optionObjects {
		require.Contains(t, allowed, name, "no newObject(v, %q, …) in jsbridge/: how are these options parsed now?", name)
	}
	return allowed, read
}

// fieldsRead returns the string literals passed as the only argument of a
// method called on obj inside body: o.str("scope") reads "scope".
func (s *goSource) fieldsRead(body *ast.BlockStmt, obj, where string) nameSet {
	out := nameSet{}
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || exprString(sel.X) != obj {
			return true
		}
		if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			v, _ := strconv.Unquote(lit.Value)
			out[v] = where
		}
		return true
	})
	return out
}

// stringSliceVars returns the package-level []string{…} variables made of
// string literals only.
func (s *goSource) stringSliceVars(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, f := range s.files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					cl, ok := vs.Values[i].(*ast.CompositeLit)
					if !ok {
						continue
					}
					var vals []string
					for _, el := range cl.Elts {
						lit, ok := el.(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING {
							vals = nil
							break
						}
						v, _ := strconv.Unquote(lit.Value)
						vals = append(vals, v)
					}
					if vals != nil {
						out[n.Name] = vals
					}
				}
			}
		}
	}
	return out
}

// typings is web/mezzo.d.ts with its comments removed.
type typings struct{ src string }

var (
	blockComment = regexp.MustCompile(`(?s)/\*.*?\*/`)
	lineComment  = regexp.MustCompile(`(?m)^\s*//.*$`)
	quoted       = regexp.MustCompile(`"([^"\\]*)"`)
	memberName   = regexp.MustCompile(`^\s*(?:readonly\s+)?([A-Za-z_$][\w$]*)\??\s*[:(<]`)
)

func readTypings(t *testing.T) typings {
	t.Helper()
	b, err := os.ReadFile(typingsPath)
	require.NoError(t, err)
	src := blockComment.ReplaceAllString(string(b), "")
	return typings{lineComment.ReplaceAllString(src, "")}
}

// union returns the string literals of `export type <name> = "a" | "b" …;`.
func (d typings) union(t *testing.T, name string) nameSet {
	t.Helper()
	m := regexp.MustCompile(`(?s)\btype\s+` + name + `\s*=(.*?);`).FindStringSubmatch(d.src)
	require.NotNil(t, m, "mezzo.d.ts declares no type %s", name)
	out := nameSet{}
	for _, q := range quoted.FindAllStringSubmatch(m[1], -1) {
		out[q[1]] = "mezzo.d.ts " + name
	}
	require.NotEmpty(t, out, "mezzo.d.ts: type %s has no string literals", name)
	return out
}

// members returns the member names of `interface <name> { … }`, at its
// top level only (not those of nested object types or parameter lists).
func (d typings) members(t *testing.T, name string) nameSet {
	t.Helper()
	loc := regexp.MustCompile(`\binterface\s+` + name + `\b[^{]*\{`).FindStringIndex(d.src)
	require.NotNil(t, loc, "mezzo.d.ts declares no interface %s", name)
	out := nameSet{}
	member := func(line string) {
		if m := memberName.FindStringSubmatch(line); m != nil {
			out[m[1]] = "mezzo.d.ts " + name
		}
	}
	body := d.src[loc[1]:]
	depth, line := 1, strings.Builder{}
	for i, r := range body {
		if depth == 1 {
			line.WriteRune(r)
		}
		switch {
		case r == '{' || r == '(' || r == '<':
			depth++
		case r == '}' || r == ')' || (r == '>' && (i == 0 || body[i-1] != '=')):
			depth--
		case depth == 1 && (r == ';' || r == '\n'):
			member(line.String())
			line.Reset()
		}
		if depth == 0 {
			member(line.String())
			require.NotEmpty(t, out, "mezzo.d.ts: interface %s has no members", name)
			return out
		}
	}
	t.Fatalf("mezzo.d.ts: interface %s is not closed", name)
	return nil
}

// loader is web/src/loader.js, or every web/src/*.js.
type loader struct{ src string }

func readLoader(t *testing.T) loader {
	t.Helper()
	b, err := os.ReadFile(loaderPath)
	require.NoError(t, err)
	return loader{string(b)}
}

// readWebSrc is every web/src/*.js the build concatenates: the codes they
// make are all produced by mezzo. (Options and events stay loader.js's:
// rpc.js reads its own options object.)
func readWebSrc(t *testing.T) loader {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(webSrcDir, "*.js"))
	require.NoError(t, err)
	require.Contains(t, paths, filepath.Join(webSrcDir, "loader.js"))
	var all strings.Builder
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		all.Write(b)
		all.WriteString("\n")
	}
	return loader{all.String()}
}

func (l loader) matches(t *testing.T, re, where string) nameSet {
	t.Helper()
	out := nameSet{}
	for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(l.src, -1) {
		out[m[1]] = where
	}
	return out
}

// codesMade are the codes of the MezzoErrors loader.js constructs itself.
func (l loader) codesMade(t *testing.T) nameSet {
	t.Helper()
	out := l.matches(t, `new MezzoError\(\s*['"]([a-z_]+)['"]`, "loader.js new MezzoError")
	require.NotEmpty(t, out, "loader.js constructs no MezzoError with a literal code")
	return out
}

// codesCompared are the codes loader.js branches on (err.code === 'x').
func (l loader) codesCompared(t *testing.T) nameSet {
	t.Helper()
	out := nameSet{}
	for _, m := range regexp.MustCompile(`(typeof\s+)?[\w$.]*\.code\s*[!=]==?\s*['"]([a-z_]+)['"]`).FindAllStringSubmatch(l.src, -1) {
		if m[1] == "" { // typeof e.code === 'string' is no code
			out[m[2]] = "loader.js compares with it"
		}
	}
	return out
}

// events are the names in loader.js's `const EVENTS = [...]`.
func (l loader) events(t *testing.T) nameSet {
	t.Helper()
	m := regexp.MustCompile(`const EVENTS\s*=\s*\[([^\]]*)\]`).FindStringSubmatch(l.src)
	require.NotNil(t, m, "loader.js has no const EVENTS = [...]")
	out := nameSet{}
	for _, q := range regexp.MustCompile(`['"]([^'"]+)['"]`).FindAllStringSubmatch(m[1], -1) {
		out[q[1]] = "loader.js EVENTS"
	}
	require.NotEmpty(t, out, "loader.js EVENTS is empty")
	return out
}

// optionsRead are the ClientOptions fields loader.js reads itself
// (options.wasmUrl).
func (l loader) optionsRead(t *testing.T) nameSet {
	t.Helper()
	return l.matches(t, `\boptions\??\.([A-Za-z_$][\w$]*)`, "loader.js reads it")
}

func TestSeamErrorCodes(t *testing.T) {
	src, dts, js := parseGo(t), readTypings(t), readWebSrc(t)
	declared := dts.union(t, "MezzoErrorCode")

	produced := src.goCodes(t)
	for code, where := range js.codesMade(t) {
		if _, ok := produced[code]; !ok {
			produced[code] = where
		}
	}
	for _, code := range produced.sorted() {
		assert.Contains(t, declared, code, "error code %q is produced by %s but missing from mezzo.d.ts MezzoErrorCode", code, produced[code])
	}
	for _, code := range declared.sorted() {
		_, made := produced[code]
		_, passed := providerCodes[code]
		assert.True(t, made || passed, "error code %q is in mezzo.d.ts MezzoErrorCode but missing from Go (pkce/, jsbridge/) and loader.js, and is no provider code of RFC 6749 or OIDC Core", code)
	}
	for _, code := range js.codesCompared(t).sorted() {
		_, made := produced[code]
		assert.True(t, made, "loader.js branches on error code %q, which is missing from Go (pkce/, jsbridge/) and from the codes loader.js makes", code)
	}
}

func TestSeamEvents(t *testing.T) {
	src, dts, js := parseGo(t), readTypings(t), readLoader(t)
	goEvents := src.goEvents(t)
	assertSameNames(t, "event", "Go (pkce/, jsbridge/)", goEvents, "mezzo.d.ts EventMap", dts.members(t, "EventMap"))
	assertSameNames(t, "event", "Go (pkce/, jsbridge/)", goEvents, "loader.js EVENTS", js.events(t))
}

func TestSeamOptions(t *testing.T) {
	src, dts, js := parseGo(t), readTypings(t), readLoader(t)
	allowed, read := src.goOptionObjects(t)
	for object, iface := range optionObjects {
		t.Run(iface, func(t *testing.T) {
			declared := dts.members(t, iface)
			assertSameNames(t, iface+" field", "Go's allowed names", allowed[object], "mezzo.d.ts "+iface, declared)
			assertSameNames(t, iface+" field", "Go's allowed names", allowed[object], "the fields Go reads", read[object])
		})
	}
	declared := dts.members(t, "ClientOptions")
	for _, opt := range js.optionsRead(t).sorted() {
		assert.Contains(t, declared, opt, "option %q is read by loader.js but missing from mezzo.d.ts ClientOptions", opt)
		assert.Contains(t, allowed["options"], opt, "option %q is read by loader.js but missing from Go's allowed ClientOptions (jsbridge rejects unknown fields)", opt)
	}
}

// hostWrittenMethods are the Go handle's methods that each runtime host
// writes itself instead of passing them on (see RUNTIME_METHODS in
// loader.js): logout (forgetDpopKey), state and close.
var hostWrittenMethods = names("logout", "state", "close")

// goHandleMethods are the keys of jsbridge's method table: the map literal
// in jsbridge/api.go whose string keys include "login".
func (s *goSource) goHandleMethods(t *testing.T) nameSet {
	t.Helper()
	out := nameSet{}
	for _, f := range s.files {
		if s.fset.File(f.Pos()).Name() != filepath.Join("..", "jsbridge", "api.go") {
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
			keys := nameSet{}
			for _, el := range cl.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					return true
				}
				lit, ok := kv.Key.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				k, _ := strconv.Unquote(lit.Value)
				keys[k] = "jsbridge/api.go's method table"
			}
			if _, ok := keys["login"]; ok {
				out = keys
			}
			return true
		})
	}
	require.NotEmpty(t, out, "no method table (a map literal with a \"login\" key) in jsbridge/api.go")
	return out
}

// TestSeamRuntimeMethods: every method of the Go handle is either in
// loader.js's RUNTIME_METHODS, which the page host and the SharedWorker pass
// on, or one each host writes itself; and RUNTIME_METHODS names no method Go
// lacks.
func TestSeamRuntimeMethods(t *testing.T) {
	src, js := parseGo(t), readLoader(t)
	m := regexp.MustCompile(`const RUNTIME_METHODS\s*=\s*Object\.freeze\(\[([^\]]*)\]\)`).FindStringSubmatch(js.src)
	require.NotNil(t, m, "loader.js has no const RUNTIME_METHODS = Object.freeze([...])")
	passed := nameSet{}
	for _, q := range regexp.MustCompile(`['"]([^'"]+)['"]`).FindAllStringSubmatch(m[1], -1) {
		passed[q[1]] = "loader.js RUNTIME_METHODS"
	}
	require.NotEmpty(t, passed, "loader.js RUNTIME_METHODS is empty")
	both := nameSet{}
	for k, v := range passed {
		_, twice := hostWrittenMethods[k]
		assert.False(t, twice, "%q is in RUNTIME_METHODS and written by each host too", k)
		both[k] = v
	}
	for k := range hostWrittenMethods {
		both[k] = "written by each host"
	}
	assertSameNames(t, "handle method", "Go (jsbridge/api.go)", src.goHandleMethods(t), "the runtime hosts (loader.js, worker.js)", both)
}
