package s3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/retry"
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

// TestBackendErr: the service's outages are marked (and stay marked once
// redacted); its refusals are not.
func TestBackendErr(t *testing.T) {
	t.Parallel()
	s := &Store{accessKey: "AKIAEXAMPLE", secretKey: "s3cr3t/Key+Value"}
	for name, tc := range map[string]struct {
		err  error
		want bool
	}{
		"503":           {fmt.Errorf("x: %w", minio.ErrorResponse{StatusCode: 503, Code: "ServiceUnavailable"}), true},
		"slow down":     {minio.ErrorResponse{StatusCode: 503, Code: "SlowDown"}, true},
		"500":           {minio.ErrorResponse{StatusCode: 500}, true},
		"429":           {minio.ErrorResponse{StatusCode: 429}, true},
		"access denied": {minio.ErrorResponse{StatusCode: 403, Code: "AccessDenied"}, false},
		"no bucket":     {minio.ErrorResponse{StatusCode: 404, Code: "NoSuchBucket"}, false},
		"refused":       {&url.Error{Op: "Put", URL: "http://x/y", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, true},
		"redacted":      {&url.Error{Op: "Put", URL: "http://AKIAEXAMPLE@x/y", Err: errors.New("EOF")}, true},
		"other":         {errors.New("something odd"), false},
	} {
		got := s.backendErr(tc.err)
		require.Equal(t, tc.want, errors.Is(got, retry.ErrUnavailable), name)
		require.Equal(t, tc.want, retry.Transient(got), name)
		require.NotContains(t, got.Error(), "AKIAEXAMPLE", name)
	}
}
