package quarantinetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// CheckEarlierRelease checks s, a store just opened on a database an
// earlier release made (each driver's testdata/earlier_release.sql: two
// entries of raw-events, the second claimed by job-1, the job and one
// audit event), and log, its audit log: every row reads back as that
// release wrote it, and the store goes on working.
func CheckEarlierRelease(t *testing.T, s ReprocessStore, log audit.Log) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 3, 10, 0, 0, 123456789, time.UTC)
	e1 := NewEntry("raw-events", 0, 41, at)
	e2 := NewEntry("raw-events", 1, 42, at.Add(time.Minute))
	e2.ErrorType, e2.ErrorField = record.EnumViolation, "/event_type"
	e2.Status, e2.Job = quarantine.StatusReprocessing, "job-1"

	for _, want := range []quarantine.Entry{e1, e2} {
		got, err := s.Get(ctx, want.ID)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	job, err := s.GetJob(ctx, "job-1")
	require.NoError(t, err)
	require.Equal(t, quarantine.JobRunning, job.State)
	require.JSONEq(t, `{}`, string(job.Filter))
	require.True(t, job.CreatedAt.Equal(at), "created at %v", job.CreatedAt)
	events, err := log.List(ctx, audit.Filter{Target: "job-1"})
	require.NoError(t, err)
	require.Len(t, events.Events, 1)
	require.Equal(t, "reprocess.start", events.Events[0].Action)

	// Writing goes on: the job finishes its record, a new record arrives.
	require.NoError(t, s.Finish(ctx, e2.ID, "job-1", quarantine.Outcome{
		Change: quarantine.Change{At: at.Add(time.Hour), Actor: "system"},
		Status: quarantine.StatusReprocessed, ReplayCount: 1,
	}))
	e3 := NewEntry("raw-events", 0, 43, at.Add(2*time.Minute))
	require.NoError(t, s.Insert(ctx, []quarantine.Entry{e3}))
	page, err := s.List(ctx, quarantine.Filter{Topic: "raw-events"})
	require.NoError(t, err)
	require.Len(t, page.Entries, 3)
}
