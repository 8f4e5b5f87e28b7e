//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
)

// callTransaction carries the login transaction of one call between the
// page and pkce: Login saves into it, HandleCallback takes from it. The
// page keeps the transaction itself (sessionStorage is per tab, while one
// runtime may serve many tabs), so it hands it over for one call.
type callTransaction struct {
	data []byte
}

type callTransactionKey struct{}

// withTransaction returns ctx carrying tx, which CallStore reads and writes.
func withTransaction(ctx context.Context, tx *callTransaction) context.Context {
	return context.WithValue(ctx, callTransactionKey{}, tx)
}

// errNoCallTransaction is a bug: a call that logs in or handles a callback
// without withTransaction.
var errNoCallTransaction = errors.New("jsbridge: no login transaction carrier in this call")

// CallStore implements pkce.TransactionStore over the transaction carried
// by each call's context, so one pkce.Client serves calls from many pages,
// each with its own transaction.
type CallStore struct{}

func carried(ctx context.Context) (*callTransaction, error) {
	tx, ok := ctx.Value(callTransactionKey{}).(*callTransaction)
	if !ok || tx == nil {
		return nil, errNoCallTransaction
	}
	return tx, nil
}

// Save implements pkce.TransactionStore: the page stores data after the call.
func (CallStore) Save(ctx context.Context, data []byte) error {
	tx, err := carried(ctx)
	if err != nil {
		return err
	}
	tx.data = data
	return nil
}

// Take implements pkce.TransactionStore: it returns what the page handed
// over (nil when none) and removes it from the carrier.
func (CallStore) Take(ctx context.Context) ([]byte, error) {
	tx, err := carried(ctx)
	if err != nil {
		return nil, err
	}
	data := tx.data
	tx.data = nil
	return data, nil
}
