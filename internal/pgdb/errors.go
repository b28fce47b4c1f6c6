package pgdb

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dataquarantine/dataquarantine/internal/retry"
)

// Classify marks *errp with retry.ErrUnavailable when it is an outage of
// PostgreSQL, one the same request may survive later: a connection that
// failed or broke (*pgconn.ConnectError, errors pgconn calls safe to retry
// or timeouts), and server errors of SQLSTATE classes 08 (connection), 53
// (insufficient resources), 57 (operator intervention, such as a
// shutdown) and 58 (system error), serialization failures and deadlocks
// (40001, 40P01). Every other error is left as it is. A driver's exported
// methods defer it on their error.
func Classify(errp *error) {
	if outage(*errp) {
		*errp = retry.Unavailable(*errp)
	}
}

func outage(err error) bool {
	if err == nil {
		return false
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
	return errors.As(err, &connErr) || pgconn.Timeout(err) || pgconn.SafeToRetry(err)
}
