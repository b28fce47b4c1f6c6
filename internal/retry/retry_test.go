package retry_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/dataquarantine/dataquarantine/internal/retry"
)

func TestBackoffGrowsWithinJitterAndCaps(t *testing.T) {
	t.Parallel()
	b := retry.Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	for attempt, want := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		want *= time.Millisecond
		seen := map[time.Duration]bool{}
		for range 200 {
			d := b.Delay(attempt)
			require.GreaterOrEqual(t, d, want/2, "attempt %d", attempt)
			require.LessOrEqual(t, d, want, "attempt %d", attempt)
			seen[d] = true
		}
		require.Greater(t, len(seen), 1, "attempt %d: no jitter", attempt)
	}
	require.LessOrEqual(t, b.Delay(1000), time.Second, "a huge attempt number must not overflow")
}

func TestBackoffDefaults(t *testing.T) {
	t.Parallel()
	var b retry.Backoff
	require.LessOrEqual(t, b.Delay(0), 100*time.Millisecond)
	require.GreaterOrEqual(t, b.Delay(0), 50*time.Millisecond)
	require.LessOrEqual(t, b.Delay(40), 10*time.Second)
	require.GreaterOrEqual(t, b.Delay(40), 5*time.Second)
}

func TestSleepEndsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.False(t, retry.Sleep(ctx, time.Hour))
	require.True(t, retry.Sleep(context.Background(), time.Millisecond))
}

func TestTransient(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"cancelled", fmt.Errorf("writing: %w", context.Canceled), false},
		{"deadline", fmt.Errorf("writing: %w", context.DeadlineExceeded), true},
		{"driver outage", fmt.Errorf("inserting rows: %w: %w", retry.ErrUnavailable, errors.New("conn closed")), true},
		{"marked outage", fmt.Errorf("inserting rows: %w", retry.Unavailable(errors.New("disk I/O error"))), true},
		{"retriable kafka", fmt.Errorf("producing: %w", kerr.NotLeaderForPartition), true},
		{"kafka authorization", kerr.TopicAuthorizationFailed, false},
		{"kafka too large", kerr.MessageTooLarge, false},
		{"refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{"unknown", errors.New("constraint violated"), false},
	}
	for _, c := range cases {
		require.Equal(t, c.want, retry.Transient(c.err), c.name)
	}
}

func TestRecordRejected(t *testing.T) {
	t.Parallel()
	require.True(t, retry.RecordRejected(fmt.Errorf("%w (uncompressed_bytes=1000100)", kerr.MessageTooLarge)))
	require.True(t, retry.RecordRejected(kerr.InvalidRecord))
	require.True(t, retry.RecordRejected(kerr.InvalidTimestamp))
	require.False(t, retry.RecordRejected(kerr.NotLeaderForPartition))
	require.False(t, retry.RecordRejected(kerr.TopicAuthorizationFailed))
	require.False(t, retry.RecordRejected(errors.New("boom")))
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	require.NoError(t, retry.Unavailable(nil))
	cause := &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}
	err := retry.Unavailable(fmt.Errorf("connecting: %w", cause))
	require.ErrorIs(t, err, retry.ErrUnavailable)
	require.ErrorIs(t, err, syscall.ECONNREFUSED, "the cause is still there")
	var op *net.OpError
	require.ErrorAs(t, err, &op)
	require.Equal(t, "connecting: dial: connection refused", err.Error(), "the message is the cause's")
	require.Equal(t, err, retry.Unavailable(err), "marked once")
	require.ErrorIs(t, retry.Unavailable(context.Canceled), context.Canceled)
}
