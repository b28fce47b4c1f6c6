package reprocess

import "errors"

// Sentinel errors callers branch on.
var (
	// ErrInvalidRequest: a filter, target or payload the caller must fix;
	// the wrapping error says what is wrong.
	ErrInvalidRequest = errors.New("invalid reprocess request")
	// ErrClosed: the Service's Run has returned, so no job can start.
	ErrClosed = errors.New("reprocess service stopped")
)
