package auth

import (
	"container/list"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Failed authentication is limited per client: after maxFailures wrong
// tokens (bearer or login form) within failureWindow, the client is refused
// with 429 until the window ends, so guessing a token over HTTP stays
// impractical even for a short one. The client is the connection's address
// (behind a proxy every client shares the proxy's), except that every
// loopback address is one client (the machine itself: 127.0.0.0/8 holds
// sixteen million addresses) and an IPv6 address counts with its /64, which
// one host or customer usually holds whole.
const (
	maxFailures   = 10
	failureWindow = time.Minute
	// maxTracked bounds the table of clients with failures in their
	// window.
	maxTracked = 10_000
)

// failureLimiter is the table of clients with failures. It is bounded
// without letting a flood of addresses buy back guesses: windows that
// ended are dropped first (they are the oldest, and hold nothing that
// matters any more); when every entry is still live, the table keeps them,
// locked ones included, and refuses new clients instead, until the oldest
// window ends. A flood of at least maxTracked clients within a minute thus
// costs clients with no failure behind them their bearer and form logins
// for at most a minute (session cookies are not limited), while no
// client's count or lockout is ever forgotten early.
type failureLimiter struct {
	mu sync.Mutex
	// max is the table's bound: maxTracked unless a test sets it.
	max   int
	byKey map[string]*list.Element // of *failures
	order list.List                // of *failures, by window start, oldest first
}

type failures struct {
	key   string
	since time.Time // the window's start
	n     int
}

// Why a client is refused.
const (
	reasonLockedOut = "locked_out" // its own failures
	reasonTableFull = "table_full" // a flood of other clients' failures
)

// limitKey is the client a request's failures count for.
func limitKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap().WithZone("")
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.Is6():
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// dropEnded forgets the clients whose window ended.
func (l *failureLimiter) dropEnded(now time.Time) {
	for e := l.order.Front(); e != nil; e = l.order.Front() {
		f := e.Value.(*failures)
		if now.Sub(f.since) < failureWindow {
			return
		}
		l.order.Remove(e)
		delete(l.byKey, f.key)
	}
}

func (l *failureLimiter) bound() int {
	if l.max > 0 {
		return l.max
	}
	return maxTracked
}

// refused returns how long key stays refused and why, or 0.
func (l *failureLimiter) refused(key string, now time.Time) (time.Duration, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropEnded(now)
	if e, ok := l.byKey[key]; ok {
		f := e.Value.(*failures)
		if f.n < maxFailures {
			return 0, ""
		}
		return f.since.Add(failureWindow).Sub(now), reasonLockedOut
	}
	if l.order.Len() < l.bound() {
		return 0, ""
	}
	oldest := l.order.Front().Value.(*failures)
	return oldest.since.Add(failureWindow).Sub(now), reasonTableFull
}

// failed counts a failed authentication of key and reports whether it
// locked key out, and whether it filled the table.
func (l *failureLimiter) failed(key string, now time.Time) (lockedOut, filled bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropEnded(now)
	if l.byKey == nil {
		l.byKey = make(map[string]*list.Element)
	}
	e, ok := l.byKey[key]
	if !ok {
		if l.order.Len() >= l.bound() {
			// Full of live windows: refused already, unless the table
			// filled since; the next request is.
			return false, false
		}
		e = l.order.PushBack(&failures{key: key, since: now})
		l.byKey[key] = e
		filled = l.order.Len() == l.bound()
	}
	f := e.Value.(*failures)
	f.n++
	return f.n == maxFailures, filled
}

// tooMany answers 429 for a client refused for d more.
func tooMany(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(d.Round(time.Second)/time.Second)+1))
	writeError(w, http.StatusTooManyRequests, "too_many_failures",
		"too many failed authentications from this address; try again later")
}
