package s3

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRedact: should an error ever carry a key, it leaves without it, and
// without a path back to the original through Unwrap.
func TestRedact(t *testing.T) {
	t.Parallel()
	s := &Store{accessKey: "AKIAEXAMPLE", secretKey: "s3cr3t/Key+Value"}

	plain := errors.New("connection refused")
	require.Same(t, plain, s.redact(plain), "an error without keys is kept as is")

	leaky := fmt.Errorf("writing: %w", fmt.Errorf("signing with AKIAEXAMPLE:s3cr3t/Key+Value failed: %w", context.DeadlineExceeded))
	got := s.redact(leaky)
	require.Equal(t, "writing: signing with [REDACTED]:[REDACTED] failed: context deadline exceeded", got.Error())
	require.ErrorIs(t, got, context.DeadlineExceeded, "still a timeout to the caller")
	for e := error(got); e != nil; e = errors.Unwrap(e) {
		require.NotContains(t, fmt.Sprintf("%+v", e), "s3cr3t")
	}

	short := &Store{accessKey: "ab", secretKey: ""}
	tab := errors.New("no route to host tab-1")
	require.Same(t, tab, short.redact(tab), "keys too short to redact meaningfully are left")
}
