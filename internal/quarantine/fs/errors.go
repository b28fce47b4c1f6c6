package fs

import (
	"errors"
	"syscall"

	"github.com/dataquarantine/dataquarantine/internal/retry"
)

// classify marks *errp with retry.ErrUnavailable when it is an outage of
// the filesystem, one the same write may survive once an operator (or
// retention) has acted: a full disk or quota, an I/O error, too many open
// files. Every other error, such as a missing segment, is left as it is.
// The exported methods defer it on their error.
func classify(errp *error) {
	for _, e := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EIO, syscall.EMFILE, syscall.ENFILE} {
		if errors.Is(*errp, e) {
			*errp = retry.Unavailable(*errp)
			return
		}
	}
}
