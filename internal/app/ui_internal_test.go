package app

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/web"
)

type fakeAudit struct{ f audit.Filter }

func (l *fakeAudit) Append(context.Context, ...audit.Event) error { return nil }

func (l *fakeAudit) List(_ context.Context, f audit.Filter) (audit.Page, error) {
	l.f = f
	t0 := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	return audit.Page{Events: []audit.Event{
		{At: t0.Add(time.Minute), Actor: "ana", Action: "quarantine.reprocess", Reason: "schema fixed"},
		{At: t0, Actor: "bo", Action: "quarantine.edit", Reason: "typo"},
	}}, nil
}

func TestAuditHistory(t *testing.T) {
	t.Parallel()
	l := &fakeAudit{}
	got, err := auditHistory{l}.History(context.Background(), "abc")
	require.NoError(t, err)
	require.Equal(t, "quarantine/abc", l.f.Target)
	t0 := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	require.Equal(t, []web.HistoryEvent{
		{At: t0, Actor: "bo", Action: "quarantine.edit", Detail: "typo"},
		{At: t0.Add(time.Minute), Actor: "ana", Action: "quarantine.reprocess", Detail: "schema fixed"},
	}, got, "oldest first")
}
