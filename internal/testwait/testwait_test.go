package testwait

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestUntil(t *testing.T) {
	t.Parallel()
	t.Run("returns once check passes", func(t *testing.T) {
		t.Parallel()
		n := 0
		require.NoError(t, Until(time.Minute, func() error {
			if n++; n < 3 {
				return fmt.Errorf("only %d", n)
			}
			return nil
		}))
		require.Equal(t, 3, n)
	})
	t.Run("times out with the last error", func(t *testing.T) {
		t.Parallel()
		n := 0
		err := Until(5*Interval, func() error { n++; return fmt.Errorf("try %d", n) })
		require.EqualError(t, err, fmt.Sprintf("try %d", n))
		require.Greater(t, n, 1, "checked more than once")
	})
	t.Run("stops at once", func(t *testing.T) {
		t.Parallel()
		gone := errors.New("exited")
		n := 0
		err := Until(time.Minute, func() error { n++; return Stop(gone) })
		require.Equal(t, gone, err)
		require.Equal(t, 1, n)
	})
}

// fakeTB records a failure without stopping the real test.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Fatalf(format string, args ...any) { f.failed = fmt.Sprintf(format, args...) }

func TestFor(t *testing.T) {
	t.Parallel()
	f := &fakeTB{TB: t}
	For(f, 3*Interval, "the answer", func() error { return errors.New("still 41") })
	require.Contains(t, f.failed, "the answer")
	require.Contains(t, f.failed, "still 41")

	f = &fakeTB{TB: t}
	For(f, time.Minute, "the answer", func() error { return nil })
	require.Empty(t, f.failed)
}

func TestRecv(t *testing.T) {
	t.Parallel()
	ch := make(chan int, 1)
	ch <- 42
	require.Equal(t, 42, Recv(t, time.Minute, "the answer", ch))

	f := &fakeTB{TB: t}
	require.Zero(t, Recv(f, Interval, "the answer", make(chan int)))
	require.Contains(t, f.failed, "the answer")
}
