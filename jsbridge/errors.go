//go:build js && wasm

package jsbridge

import (
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"

	"github.com/mezzo-auth/mezzo/pkce"
)

// CodeInvalidArgument is the core's code for a bad argument, which the
// boundary gives too. The codes only the boundary produces (CodeInternalError)
// are generated from api/names.json into names_gen.go.
const CodeInvalidArgument = pkce.CodeInvalidArgument

// JSError is a JS exception or promise rejection seen from Go.
type JSError struct {
	Name, Message string
}

func (e *JSError) Error() string {
	if e.Name == "" {
		return "js: " + e.Message
	}
	return "js: " + e.Name + ": " + e.Message
}

func newJSError(v safejs.Value) *JSError {
	e := &JSError{}
	if v.Type() == safejs.TypeObject {
		if n, err := v.Get("name"); err == nil && n.Type() == safejs.TypeString {
			e.Name, _ = n.String()
		}
		if m, err := v.Get("message"); err == nil && m.Type() == safejs.TypeString {
			e.Message, _ = m.String()
		}
	}
	if e.Message == "" {
		if s, err := v.String(); err == nil {
			e.Message = s
		}
	}
	return e
}

// ErrorValue turns err into the plain object the loader converts to a
// MezzoError: {code, description, status?}. Descriptions come from pkce,
// which never puts a token, code or verifier in them.
func ErrorValue(err error) map[string]any {
	var pe *pkce.Error
	if errors.As(err, &pe) {
		out := map[string]any{"code": pe.Code, "description": pe.Description}
		if pe.Status != 0 {
			out["status"] = pe.Status
		}
		if pe.URI != "" {
			out["uri"] = pe.URI
		}
		return out
	}
	return map[string]any{"code": CodeInternalError, "description": err.Error()}
}

func invalidArgument(format string, args ...any) error {
	return &pkce.Error{Code: CodeInvalidArgument, Description: fmt.Sprintf(format, args...)}
}

func invalidConfig(format string, args ...any) error {
	return &pkce.Error{Code: pkce.CodeInvalidConfig, Description: fmt.Sprintf(format, args...)}
}
