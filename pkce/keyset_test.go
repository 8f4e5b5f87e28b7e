package pkce

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gatedJWKS is a JWKS endpoint whose replies the test scripts one request
// at a time: reply[n] answers request n (1-based), after gate[n] closes when
// there is one. A request whose context ends first returns its error, as a
// real transport must.
type gatedJWKS struct {
	t     testing.TB
	hits  atomic.Int32
	body  []byte
	mu    sync.Mutex
	gates map[int32]chan struct{}
	fail  map[int32]bool
}

func (g *gatedJWKS) Do(ctx context.Context, _ *Request, _ int64) (*Response, error) {
	n := g.hits.Add(1)
	g.mu.Lock()
	gate, fail := g.gates[n], g.fail[n]
	g.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if fail {
		return &Response{Status: 404}, nil
	}
	return &Response{Status: 200, Body: g.body}, nil
}

// Waiters of one fetch get that fetch's result, even when the next fetch
// has already ended with another result by the time they read it.
func TestKeySetWaitersKeepTheirFetchResult(t *testing.T) {
	k := &rsaKey(t, 0).PublicKey
	for round := 0; round < 20; round++ {
		release := make(chan struct{})
		jw := &gatedJWKS{t: t, body: jwksBody(t, jwkJSON(t, k, "a", "", nil)),
			gates: map[int32]chan struct{}{1: release}, fail: map[int32]bool{2: true}}
		ks := NewRemoteKeySet("https://id.example/jwks", jw, nil, RetryPolicy{})
		ctx := context.Background()

		first := make(chan error, 1)
		go func() { first <- ks.refresh(ctx) }() // fetch 1: succeeds once released
		require.Eventually(t, func() bool { return jw.hits.Load() == 1 }, time.Second, time.Millisecond)
		const waiters = 30
		errs := make(chan error, waiters)
		for i := 0; i < waiters; i++ {
			go func() { errs <- ks.refresh(ctx) }() // join fetch 1
		}
		time.Sleep(10 * time.Millisecond) // let them join
		close(release)
		require.NoError(t, <-first)
		// Fetch 2 starts at once and fails (404) while fetch 1's waiters wake.
		require.Error(t, ks.refresh(ctx))
		for i := 0; i < waiters; i++ {
			require.NoError(t, <-errs, "round %d: a waiter of the successful fetch read the next fetch's error", round)
		}
		assert.Equal(t, int32(2), jw.hits.Load())
	}
}

// The fetch is shared, not owned: when the caller that started it gives up,
// a caller waiting on the same fetch still gets the keys.
func TestKeySetFetchOutlivesItsFirstCaller(t *testing.T) {
	k := &rsaKey(t, 0).PublicKey
	release := make(chan struct{})
	jw := &gatedJWKS{t: t, body: jwksBody(t, jwkJSON(t, k, "a", "", nil)), gates: map[int32]chan struct{}{1: release}}
	ks := NewRemoteKeySet("https://id.example/jwks", jw, nil, RetryPolicy{})

	ctxA, cancelA := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := ks.VerificationKeys(ctxA, "a", "RS256"); first <- err }()
	require.Eventually(t, func() bool { return jw.hits.Load() == 1 }, time.Second, time.Millisecond)
	second := make(chan error, 1)
	go func() { _, err := ks.VerificationKeys(context.Background(), "a", "RS256"); second <- err }()
	time.Sleep(20 * time.Millisecond) // let the second caller join the fetch

	cancelA()
	errA := <-first
	require.Error(t, errA, "the first caller stops waiting when its context ends")
	assert.Equal(t, CodeNetworkError, ErrorCode(errA))
	close(release)
	require.NoError(t, <-second, "the second caller still gets the keys")
	assert.Equal(t, int32(1), jw.hits.Load(), "one fetch, shared")
}

func TestStaticKeySet(t *testing.T) {
	k1, k2 := &rsaKey(t, 0).PublicKey, &rsaKey(t, 1).PublicKey
	keys, err := ParseJWKS(jwksBody(t, jwkJSON(t, k1, "a", "", nil), jwkJSON(t, k2, "b", "RS256", nil)))
	require.NoError(t, err)
	var ks KeySet = StaticKeySet{Keys: keys}
	tests := []struct {
		name, kid, alg string
		want           int // keys returned; 0 means invalid_id_token
	}{
		{"kid selects one key", "b", "RS256", 1},
		{"no kid: every compatible key", "", "RS256", 2},
		{"unknown kid", "c", "RS256", 0},
		{"alg the key is restricted against", "b", "PS256", 0},
		{"alg no key suits", "", "ES256", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ks.VerificationKeys(context.Background(), tt.kid, tt.alg)
			if tt.want == 0 {
				assert.Equal(t, CodeInvalidIDToken, ErrorCode(err))
				return
			}
			require.NoError(t, err)
			assert.Len(t, got, tt.want)
		})
	}
}
