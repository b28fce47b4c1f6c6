package auth

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Failed authentication is limited per client address: after maxFailures
// wrong tokens (bearer or login form) within failureWindow, the address is
// refused with 429 until the window ends, so guessing a token over HTTP
// stays impractical even for a short one. The address is the connection's:
// behind a proxy every client shares the proxy's.
const (
	maxFailures   = 10
	failureWindow = time.Minute
	// maxTracked bounds the table; past it, windows that ended are dropped
	// first, then the whole table (a flood of addresses resets it rather
	// than growing it).
	maxTracked = 10_000
)

type failureLimiter struct {
	mu     sync.Mutex
	byAddr map[string]failures
}

type failures struct {
	since time.Time // the window's start
	n     int
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// retryAfter returns how long addr stays refused, 0 when it is not.
func (l *failureLimiter) retryAfter(addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.byAddr[addr]
	if !ok || f.n < maxFailures {
		return 0
	}
	if left := f.since.Add(failureWindow).Sub(now); left > 0 {
		return left
	}
	return 0
}

// failed counts a failed authentication from addr.
func (l *failureLimiter) failed(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byAddr == nil {
		l.byAddr = make(map[string]failures)
	}
	f, ok := l.byAddr[addr]
	if !ok || now.Sub(f.since) >= failureWindow {
		if !ok && len(l.byAddr) >= maxTracked {
			l.prune(now)
		}
		f = failures{since: now}
	}
	f.n++
	l.byAddr[addr] = f
}

func (l *failureLimiter) prune(now time.Time) {
	for a, f := range l.byAddr {
		if now.Sub(f.since) >= failureWindow {
			delete(l.byAddr, a)
		}
	}
	if len(l.byAddr) >= maxTracked {
		clear(l.byAddr)
	}
}

// tooMany answers 429 for an address refused for d more.
func tooMany(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(d.Round(time.Second)/time.Second)+1))
	writeError(w, http.StatusTooManyRequests, "too_many_failures",
		"too many failed authentications from this address; try again later")
}
