package retry

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrUnavailable marks an operational failure: the backend is unreachable,
// overloaded or timing out, and the same request may succeed later. Drivers
// mark their outages with it (Unavailable), so nothing above a driver needs
// to know its error types.
var ErrUnavailable = errors.New("unavailable")

// Unavailable marks err as an outage: the result matches ErrUnavailable
// with errors.Is, and err and its causes as before, and says what err
// says. A driver calls it on the errors its backend's outages cause;
// nil stays nil.
func Unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	return unavailable{err}
}

type unavailable struct{ err error }

func (u unavailable) Error() string   { return u.err.Error() }
func (u unavailable) Unwrap() []error { return []error{u.err, ErrUnavailable} }

// Backoff is a jittered exponential back-off: the wait before retry number
// attempt (0 for the first) is a random duration in [d/2, d], where
// d = min(Max, Min·2^attempt). The jitter spreads the retries of many
// gateways hitting the same outage.
type Backoff struct {
	// Min is the first wait's upper bound. Default 100ms.
	Min time.Duration
	// Max caps every wait. Default 10s (at least Min).
	Max time.Duration
}

// Delay returns the wait before retry number attempt.
func (b Backoff) Delay(attempt int) time.Duration {
	lo, hi := b.bounds()
	d := min(lo<<min(max(attempt, 0), 30), hi)
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1) // jitter, not a secret: math/rand is right
}

func (b Backoff) bounds() (lo, hi time.Duration) {
	lo, hi = b.Min, b.Max
	if lo <= 0 {
		lo = 100 * time.Millisecond
	}
	if hi < lo {
		hi = max(10*time.Second, lo)
	}
	return lo, hi
}

// Sleep waits d, or until ctx ends; it reports whether ctx is still live.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Transient reports whether err is an outage that retrying after a wait can
// fix: ErrUnavailable from a driver, a retriable Kafka error (or one
// franz-go's client calls retryable: a broker that went away, a controller
// not elected yet), a timeout, or a network failure. Everything else is permanent: retrying the same request
// will fail the same way, so the caller surfaces it (log, metric, health)
// instead of looping on it quietly. A cancelled context is neither: the
// caller is shutting down.
func Transient(err error) bool {
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return true
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Retriable
	}
	if kgo.IsRetryableBrokerErr(err) {
		return true
	}
	for _, e := range []error{
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ETIMEDOUT,
		io.EOF, io.ErrUnexpectedEOF,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// RecordRejected reports whether a broker refused one record for what it is
// (too large, malformed, a timestamp out of range) rather than for the
// broker's state: producing the same record again fails the same way, so
// the record must take another route instead of being retried.
func RecordRejected(err error) bool {
	for _, e := range []error{
		kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidRecord,
		kerr.CorruptMessage, kerr.InvalidTimestamp,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
