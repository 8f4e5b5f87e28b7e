//go:build js && wasm

package jsbridge

import (
	"context"

	"github.com/hack-pad/safejs"
)

// TransactionKey is the one sessionStorage key mezzo ever writes: the
// pending login transaction, removed by the callback. No token goes there.
const TransactionKey = "mezzo.transaction"

// SessionStore implements pkce.TransactionStore over sessionStorage, which
// survives the redirect to the provider but is private to the tab.
type SessionStore struct{}

func sessionStorage() (safejs.Value, error) {
	return safejs.Global().Get("sessionStorage")
}

// Save implements pkce.TransactionStore.
func (SessionStore) Save(_ context.Context, data []byte) error {
	s, err := sessionStorage()
	if err != nil {
		return err
	}
	_, err = s.Call("setItem", TransactionKey, string(data))
	return err
}

// Take implements pkce.TransactionStore: it reads and removes the entry.
func (SessionStore) Take(_ context.Context) ([]byte, error) {
	s, err := sessionStorage()
	if err != nil {
		return nil, err
	}
	v, err := s.Call("getItem", TransactionKey)
	if err != nil {
		return nil, err
	}
	if _, err := s.Call("removeItem", TransactionKey); err != nil {
		return nil, err
	}
	if v.Type() != safejs.TypeString {
		return nil, nil
	}
	str, err := v.String()
	return []byte(str), err
}
