package pkce

import "time"

// Every wait in mezzo is bounded. These are the bounds, in one place; the
// host (package jsbridge) uses them too.
//
//	one API call (CallTimeout, 60 s)
//	└─ work no caller owns: the shared refresh or key fetch (backgroundDeadline, also 60 s)
//	   └─ up to DefaultRetryAttempts (3) attempts, with at most DefaultRetryMaxDelay (5 s) between them
//	      └─ one HTTP request (DefaultRequestTimeout, 10 s; requestTimeoutSeconds in JS)
//
// and apart from calls, the renewal timer: armed at most maxTimerStep (a
// minute) ahead, however far the renewal is.
const (
	// CallTimeout bounds one call into the client from the host (each JS
	// method), retries and waits included.
	CallTimeout = 60 * time.Second

	// DefaultRequestTimeout bounds one HTTP request to the provider when the
	// host sets no other (jsbridge.Fetch.Timeout).
	DefaultRequestTimeout = 10 * time.Second

	// DefaultRetryAttempts, DefaultRetryBaseDelay and DefaultRetryMaxDelay
	// are RetryPolicy's defaults: attempts in all, the first backoff, and the
	// cap on any one wait (a longer Retry-After fails the call at once).
	DefaultRetryAttempts  = 3
	DefaultRetryBaseDelay = 250 * time.Millisecond
	DefaultRetryMaxDelay  = 5 * time.Second

	// backgroundDeadline bounds a run that no caller owns (the refresh and
	// the key fetch shared by concurrent callers, see singleFlight). It is
	// as long as a call may wait, because the host may raise the request
	// timeout (requestTimeoutSeconds) and every attempt must still fit.
	// Callers stop waiting on their own context; the run stops here.
	backgroundDeadline = CallTimeout

	// maxTimerStep bounds every wait armed with Config.AfterFunc: a renewal
	// due later is reached in steps, each of which looks at the clock again.
	// So no timer exceeds what a host can arm (a browser's setTimeout holds at
	// most 2^31-1 ms, 24.8 days; Go's js/wasm runtime caps its own idle wait at
	// 1e9 ms), and a timer that a sleeping machine or a throttled background
	// tab delays costs at most one step once the clock runs again: the
	// renewal due meanwhile starts within a minute of waking. A shorter step
	// would gain nothing in a hidden tab: Chrome's intensive throttling runs
	// its timers at most once a minute.
	maxTimerStep = time.Minute
)
