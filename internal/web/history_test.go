package web_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/web"
)

// AuditHistory over the real SQLite audit log: a record's events only,
// oldest first, the reason as the detail.
func TestAuditHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlite.New(sqlite.Options{Path: filepath.Join(t.TempDir(), "dq.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	t0 := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	require.NoError(t, s.AuditLog().Append(ctx,
		audit.Event{At: t0, Actor: "bo", Action: "quarantine.edit", Target: quarantine.AuditTarget("abc"), Reason: "typo"},
		audit.Event{At: t0.Add(30 * time.Second), Actor: "cy", Action: "quarantine.discard", Target: quarantine.AuditTarget("other")},
		audit.Event{At: t0.Add(time.Minute), Actor: "ana", Action: "quarantine.reprocess", Target: quarantine.AuditTarget("abc"), Reason: "schema fixed"},
	))
	got, err := web.AuditHistory(s.AuditLog()).History(ctx, "abc")
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, []string{"bo", "ana"}, []string{got[0].Actor, got[1].Actor}, "oldest first")
	require.Equal(t, "typo", got[0].Detail)
	require.Equal(t, "quarantine.reprocess", got[1].Action)
	require.True(t, got[1].At.Equal(t0.Add(time.Minute)))
}
