package audit

import (
	"context"
	"encoding/json"
	"time"
)

// Event is one audited change.
type Event struct {
	// ID orders events; assigned by the Log on Append (callers leave it 0).
	ID int64 `json:"id"`
	// At is when the change happened; the Log sets it when zero.
	At time.Time `json:"at"`
	// Actor is who made the change: an API token's name, "anonymous" when
	// auth is off, or "system" for the gateway itself.
	Actor string `json:"actor"`
	// Role is the actor's role ("viewer", "operator", "admin"), "" for
	// anonymous and system.
	Role string `json:"role,omitempty"`
	// Action names the change, dotted: "quarantine.reprocess",
	// "quarantine.discard", "quarantine.edit", "reprocess.start",
	// "circuit.resume", "schema.register", "schema.state", "schema.delete",
	// "registry.config", "http.request" (a mutating call no handler audited
	// more precisely).
	Action string `json:"action"`
	// Target is what changed, "kind/name": "quarantine/<id>",
	// "job/<id>", "circuit/<topic>", "schema/<subject>/<version>".
	Target string `json:"target"`
	// Reason is the actor's stated reason, "" when none was given.
	Reason string `json:"reason,omitempty"`
	// Details is a JSON object with the change's specifics (old and new
	// state, job id, HTTP method and path), or nil.
	Details json.RawMessage `json:"details,omitempty"`
}

// Filter selects events for List. Zero fields do not filter.
type Filter struct {
	// Target matches exactly; a Target ending in "/" matches as a prefix
	// ("quarantine/" is every quarantine event).
	Target string
	Action string
	Actor  string
	// Since (inclusive) and Until (exclusive) bound At.
	Since, Until time.Time
	// Limit caps the page; 0 means 100, at most 1000.
	Limit int
	// Cursor is the NextCursor of the previous page, "" for the first.
	Cursor string
}

// Page is one page of events, newest first.
type Page struct {
	Events     []Event `json:"events"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// Log is the append-only audit trail.
//
// Implementations are safe for concurrent use.
type Log interface {
	// Append stores events durably (one transaction), assigning IDs.
	Append(ctx context.Context, events ...Event) error
	// List returns events matching f, newest first.
	List(ctx context.Context, f Filter) (Page, error)
}

// EffectiveLimit returns the page size f asks for, after defaults and clamps.
func (f Filter) EffectiveLimit() int {
	switch {
	case f.Limit <= 0:
		return 100
	case f.Limit > 1000:
		return 1000
	default:
		return f.Limit
	}
}
