package httpapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/audit"
)

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
