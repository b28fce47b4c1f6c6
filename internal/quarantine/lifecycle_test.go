package quarantine_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

func TestJobEndAndDuration(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	now := created.Add(time.Hour)
	running := quarantine.Job{State: quarantine.JobRunning, CreatedAt: created, UpdatedAt: created.Add(time.Minute)}
	require.True(t, running.FinishedAt().IsZero())
	require.Equal(t, time.Hour, running.Duration(now), "so far")
	for _, st := range []quarantine.JobState{quarantine.JobDone, quarantine.JobFailed} {
		ended := quarantine.Job{State: st, CreatedAt: created, UpdatedAt: created.Add(90 * time.Second)}
		require.Equal(t, created.Add(90*time.Second), ended.FinishedAt())
		require.Equal(t, 90*time.Second, ended.Duration(now))
	}
	skewed := quarantine.Job{State: quarantine.JobRunning, CreatedAt: now.Add(time.Second)}
	require.Zero(t, skewed.Duration(now), "never negative")
}
