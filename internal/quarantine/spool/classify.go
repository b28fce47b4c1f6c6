package spool

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/minio/minio-go/v7"
)

// IsOperational reports whether err, returned by a primary store, is an
// operational failure (the backend is unreachable, overloaded or timing
// out) rather than a problem with the request itself. It is the one place
// that decides what spools: operational errors spool, every other error is
// returned to the caller.
//
// Operational:
//   - context.DeadlineExceeded (the per-attempt timeout; a caller's own
//     cancelled context is checked separately and never spools);
//   - network errors: net.Error, *url.Error from an HTTP transport, refused,
//     reset, aborted or unreachable connections, broken pipes, io.EOF and
//     io.ErrUnexpectedEOF on a dropped connection;
//   - PostgreSQL: connection failures (*pgconn.ConnectError, errors pgconn
//     calls safe to retry or timeouts) and server errors of SQLSTATE classes
//     08 (connection), 53 (insufficient resources), 57 (operator
//     intervention, such as a shutdown), 58 (system error), plus
//     serialization failures and deadlocks (40001, 40P01);
//   - S3: responses with status 5xx or 429, and the codes SlowDown,
//     ServiceUnavailable, InternalError and RequestTimeout.
//
// Everything else, including every unknown error, is not operational: it is
// returned, so the pipeline retries without committing. An unknown error is
// thus never lost, only not spooled.
func IsOperational(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
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
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "40001", pgErr.Code == "40P01":
			return true
		case len(pgErr.Code) == 5:
			switch pgErr.Code[:2] {
			case "08", "53", "57", "58":
				return true
			}
		}
		return false
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return true
	}
	var s3Err minio.ErrorResponse
	if errors.As(err, &s3Err) {
		switch s3Err.Code {
		case "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout":
			return true
		}
		return s3Err.StatusCode >= 500 || s3Err.StatusCode == 429
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return true
	}
	// Drivers that flatten errors to text (the s3 driver's redaction keeps
	// only context causes) still say what happened.
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset", "broken pipe", "no such host", "i/o timeout"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
