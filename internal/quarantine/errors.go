package quarantine

import "errors"

// Sentinel errors callers branch on.
var (
	// ErrNotFound: no entry with that id, or no payload at that ref.
	ErrNotFound = errors.New("not found")
	// ErrBadCursor: a List cursor that this store did not issue.
	ErrBadCursor = errors.New("malformed cursor")
	// ErrCorrupt: stored bytes that do not decode (a damaged segment).
	ErrCorrupt = errors.New("corrupt payload data")
	// ErrConflict: the record's status does not allow the change (it was
	// already reprocessed, discarded, or claimed by another job).
	ErrConflict = errors.New("status conflict")
)
