package httpapi

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/audit"
)

type auditedKey struct{}

// WithAuditScope returns ctx in which a handler can report, with
// MarkAudited, that it recorded its change in the audit log itself, and a
// function telling whether one did. The auth middleware opens a scope for
// every change and records a generic http.request event only for changes
// no handler recorded more precisely.
func WithAuditScope(ctx context.Context) (context.Context, func() bool) {
	done := new(atomic.Bool)
	return context.WithValue(ctx, auditedKey{}, done), done.Load
}

// MarkAudited reports, to the scope in ctx if any, that the change was
// recorded.
func MarkAudited(ctx context.Context) {
	if done, ok := ctx.Value(auditedKey{}).(*atomic.Bool); ok {
		done.Store(true)
	}
}

// AuditEvent returns the event of a change made by ctx's principal, now:
// action and target as audit.Event names them, details marshalled to JSON
// (nil for none).
func AuditEvent(ctx context.Context, action, target, reason string, details any) audit.Event {
	actor, role := ActorFrom(ctx)
	ev := audit.Event{At: time.Now().UTC(), Actor: actor, Role: role, Action: action, Target: target, Reason: reason}
	if details != nil {
		ev.Details, _ = json.Marshal(details) // callers pass maps and structs of plain values
	}
	return ev
}
