//go:build !(js && wasm)

package checks

import (
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const jsBuildTag = "//go:build js && wasm"

// goFiles lists the .go files under root, skipping node_modules and dist.
func goFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "dist" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") {
			out = append(out, path)
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func TestJSBridgeFilesAreWasmOnly(t *testing.T) {
	files := goFiles(t, "../jsbridge")
	require.NotEmpty(t, files)
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		first, _, _ := bytes.Cut(src, []byte("\n"))
		assert.Equal(t, jsBuildTag, string(bytes.TrimSpace(first)), "%s must start with %q", f, jsBuildTag)
	}
}

func TestOnlyJSBridgeTouchesJavaScript(t *testing.T) {
	fset := token.NewFileSet()
	for _, f := range goFiles(t, "..") {
		rel, _ := filepath.Rel("..", f)
		if strings.HasPrefix(rel, "jsbridge"+string(filepath.Separator)) {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		require.NoError(t, err, rel)
		for _, imp := range file.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			assert.False(t, path == "syscall/js" || strings.HasPrefix(path, "github.com/hack-pad/safejs"),
				"%s imports %s; only jsbridge/ may touch JavaScript", rel, path)
		}
	}
}

func TestWasmBinaryDoesNotLinkNetHTTP(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "../wasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/mezzo-auth/mezzo/jsbridge", "go list saw the wasm build")
	for _, banned := range []string{"net/http", "net/http/httptrace", "crypto/tls"} {
		assert.NotContains(t, deps, banned, "the wasm binary must not link %s (fetch goes through jsbridge)", banned)
	}
}
