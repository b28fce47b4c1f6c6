package web

import (
	"context"
	"fmt"
	"slices"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// historyLimit bounds a record's history on its page.
const historyLimit = 200

// AuditHistory reads records' histories from the audit trail: the events
// whose target is the record, oldest first.
func AuditHistory(log audit.Log) HistoryReader { return auditHistory{log} }

type auditHistory struct{ log audit.Log }

func (h auditHistory) History(ctx context.Context, id string) ([]HistoryEvent, error) {
	page, err := h.log.List(ctx, audit.Filter{Target: quarantine.AuditTarget(id), Limit: historyLimit})
	if err != nil {
		return nil, fmt.Errorf("listing the audit events of %s: %w", id, err)
	}
	out := make([]HistoryEvent, 0, len(page.Events))
	for _, e := range page.Events {
		out = append(out, HistoryEvent{At: e.At, Actor: e.Actor, Action: e.Action, Detail: e.Reason})
	}
	slices.Reverse(out) // the log lists newest first
	return out, nil
}
