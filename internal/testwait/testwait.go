// Package testwait is how tests wait for something to happen: on a channel
// (Recv, the shape of River's WaitOrTimeout) or on a condition checked until
// a deadline (For in a test, Until in a helper that returns errors). A test
// never sleeps for a fixed time in the hope that the thing is done by then,
// and never writes its own poll loop.
package testwait

import (
	"errors"
	"testing"
	"time"
)

// Interval is how often For and Until check their condition: short enough
// to act between two batches of a running pipeline, long enough to leave
// the machine to the code under test.
const Interval = 10 * time.Millisecond

// stopError ends a wait at once.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

// Stop wraps err so that Until returns it at once instead of checking again:
// the condition can no longer come true (the process it waits for exited).
func Stop(err error) error { return &stopError{err} }

// Until calls check every Interval until it returns nil, and then returns
// nil. check's error says what it saw instead; Until returns the last one
// once timeout has passed, or at once an error made by Stop (unwrapped).
// check runs on the calling goroutine.
func Until(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(Interval)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		var stop *stopError
		if errors.As(err, &stop) {
			return stop.err
		}
		if !time.Now().Before(deadline) {
			return err
		}
		<-tick.C
	}
}

// For is Until in a test: t fails, saying what it waited for and what check
// last said, when check has not returned nil within timeout. check runs on
// the test's goroutine, so it may also stop t itself.
func For(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	if err := Until(timeout, check); err != nil {
		t.Fatalf("waited %v for %s: %v", timeout, what, err)
	}
}

// Recv returns the next value received from ch, failing t, saying what it
// waited for, when none comes within timeout. A closed ch gives its zero
// value at once, as a receive does.
func Recv[T any](t testing.TB, timeout time.Duration, what string, ch <-chan T) T {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("waited %v for %s, in vain", timeout, what)
		var zero T
		return zero
	}
}
