package reprocess_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
)

func TestDiscardMatching(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// Seven records, a second apart; entry 4 is discarded already.
	entries := e.seed([][]byte{bad(1), bad(2), bad(3), bad(4), bad(5), bad(6)})
	e.seed([][]byte{bad(7)})
	require.NoError(t, e.meta.Discard(ctx, entries[4].ID, quarantine.Change{Actor: "x"}))
	s := e.service()
	c := quarantine.Change{Actor: "carol", Role: "operator", Reason: "load test traffic"}

	t.Run("dry run counts and changes nothing", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			f    reprocess.Filter
			want int64
		}{
			{"everything actionable", reprocess.Filter{}, 6},
			{"by ids", reprocess.Filter{IDs: []string{entries[0].ID, entries[4].ID, "nope", entries[0].ID}}, 1},
			{"by status", reprocess.Filter{Status: quarantine.StatusQuarantined}, 6},
			{"by field", reprocess.Filter{Field: "/nope"}, 0},
			{"by time", reprocess.Filter{Since: entries[2].QuarantinedAt}, 4},
		} {
			res, err := s.DiscardMatching(ctx, tc.f, c, true)
			require.NoError(t, err, tc.name)
			require.Equal(t, reprocess.DiscardResult{Matched: tc.want}, res, tc.name)
		}
		require.Equal(t, quarantine.StatusQuarantined, e.status(entries[0].ID).Status)
	})

	t.Run("refused", func(t *testing.T) {
		_, err := s.DiscardMatching(ctx, reprocess.Filter{}, quarantine.Change{Actor: "carol", Reason: "  "}, false)
		require.ErrorIs(t, err, reprocess.ErrInvalidRequest, "no reason")
		_, err = s.DiscardMatching(ctx, reprocess.Filter{Status: quarantine.StatusReprocessed}, c, true)
		require.ErrorIs(t, err, reprocess.ErrInvalidRequest, "a status that cannot be discarded")
		_, err = s.DiscardMatching(ctx, reprocess.Filter{ErrorType: "NOPE"}, c, false)
		require.ErrorIs(t, err, reprocess.ErrInvalidRequest)
	})

	t.Run("by ids", func(t *testing.T) {
		res, err := s.DiscardMatching(ctx, reprocess.Filter{IDs: []string{entries[0].ID, entries[4].ID, "nope"}}, c, false)
		require.NoError(t, err)
		require.Equal(t, reprocess.DiscardResult{Matched: 1, Discarded: 1}, res)
		got := e.status(entries[0].ID)
		require.Equal(t, quarantine.StatusDiscarded, got.Status)
		require.Equal(t, "carol", got.StatusActor)
		require.Equal(t, "load test traffic", got.StatusReason)
	})

	t.Run("by filter", func(t *testing.T) {
		res, err := s.DiscardMatching(ctx, reprocess.Filter{ErrorType: record.PatternMismatch, Until: entries[3].QuarantinedAt}, c, false)
		require.NoError(t, err)
		require.Equal(t, reprocess.DiscardResult{Matched: 2, Discarded: 2}, res, "1 and 2; 0 is discarded already")
		for i, want := range []quarantine.Status{
			quarantine.StatusDiscarded, quarantine.StatusDiscarded, quarantine.StatusDiscarded,
			quarantine.StatusQuarantined, quarantine.StatusDiscarded, quarantine.StatusQuarantined,
		} {
			require.Equal(t, want, e.status(entries[i].ID).Status, "entry %d", i)
		}
		page, err := e.log.List(ctx, audit.Filter{Action: quarantine.ActionDiscard, Actor: "carol"})
		require.NoError(t, err)
		require.Len(t, page.Events, 3, "each record discarded is audited")
	})
}

// A selection bigger than MaxDiscard is discarded MaxDiscard at a time.
func TestDiscardMatchingStopsAtMax(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("seeds MaxDiscard records")
	}
	e := newEnv(t)
	ctx := context.Background()
	values := make([][]byte, reprocess.MaxDiscard+3)
	for i := range values {
		values[i] = bad(i)
	}
	e.seed(values)
	s := e.service(func(o *reprocess.Options) { o.BatchSize = 500 })
	c := quarantine.Change{Actor: "carol", Reason: "flood"}
	res, err := s.DiscardMatching(ctx, reprocess.Filter{}, c, false)
	require.NoError(t, err)
	require.Equal(t, reprocess.DiscardResult{Matched: reprocess.MaxDiscard, Discarded: reprocess.MaxDiscard, More: true}, res)
	res, err = s.DiscardMatching(ctx, reprocess.Filter{}, c, false)
	require.NoError(t, err)
	require.Equal(t, reprocess.DiscardResult{Matched: 3, Discarded: 3}, res)
	res, err = s.DiscardMatching(ctx, reprocess.Filter{}, c, true)
	require.NoError(t, err)
	require.Zero(t, res.Matched)
}
