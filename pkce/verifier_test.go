package pkce

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestChallengeRFC7636AppendixB(t *testing.T) {
	// RFC 7636 Appendix B test vector.
	assert.Equal(t, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"))
}

func TestNewVerifier(t *testing.T) {
	wellFormed := regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		v, err := NewVerifier()
		require.NoError(t, err)
		require.Regexp(t, wellFormed, v)
		require.NoError(t, ValidateVerifier(v))
		require.False(t, seen[v], "verifiers must not repeat")
		seen[v] = true
	}
}

func TestValidateVerifier(t *testing.T) {
	long := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = 'a'
		}
		return string(b)
	}
	tests := []struct {
		name string
		v    string
		ok   bool
	}{
		{"rfc vector", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", true},
		{"43 chars", long(43), true},
		{"128 chars", long(128), true},
		{"all unreserved", "ABCXYZabcxyz0189-._~" + long(23), true},
		{"42 chars", long(42), false},
		{"129 chars", long(129), false},
		{"empty", "", false},
		{"plus sign", "+" + long(42), false},
		{"slash", "/" + long(42), false},
		{"padding", "=" + long(42), false},
		{"space", " " + long(42), false},
		{"non-ascii", "é" + long(42), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateVerifier(tt.v)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, CodeInvalidConfig, ErrorCode(err))
		})
	}
}
