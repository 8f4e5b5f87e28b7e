//go:build js && wasm

package jsbridge

import (
	"sync"
)

// maxEmbeddedLogins bounds the silent and popup sign-ins a handle keeps
// the transactions of at once; the oldest is dropped for a new one (its
// callback then fails missing_transaction, as an abandoned attempt's
// would). A page runs one silent attempt at a time and a popup per click.
const maxEmbeddedLogins = 16

// embeddedLogins keeps the transactions of a handle's silent and popup
// sign-ins where the session lives, by state (issue 25, finding 4): the
// page gets the authorization URL only, relays the response URL back, and
// never holds the PKCE verifier or the nonce. Each is taken once.
type embeddedLogins struct {
	mu      sync.Mutex
	byState map[string][]byte
	order   []string // oldest first
}

// keep holds tx for the response that carries state.
func (e *embeddedLogins) keep(state string, tx []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.byState == nil {
		e.byState = map[string][]byte{}
	}
	if len(e.order) >= maxEmbeddedLogins {
		delete(e.byState, e.order[0])
		e.order = e.order[1:]
	}
	e.byState[state] = tx
	e.order = append(e.order, state)
}

// take returns and forgets the transaction kept for state, or nil.
func (e *embeddedLogins) take(state string) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	tx, ok := e.byState[state]
	if !ok {
		return nil
	}
	delete(e.byState, state)
	for i, s := range e.order {
		if s == state {
			e.order = append(e.order[:i], e.order[i+1:]...)
			break
		}
	}
	return tx
}
