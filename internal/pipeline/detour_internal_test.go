package pipeline

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A committed batch's detours go at once; a detour whose batch never comes
// back goes after detourTTL, found by a sweep that runs once a minute, not
// on every batch.
func TestDetoursForget(t *testing.T) {
	at := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	rec := func(off int64) *kgo.Record { return &kgo.Record{Topic: "raw", Partition: 1, Offset: off} }
	committed := &batch{recs: []*kgo.Record{rec(1)}}
	ds := newDetours()
	ds.m[coord{"raw", 1, 1}] = detour{at: at}
	ds.m[coord{"raw", 1, 2}] = detour{at: at} // another member took its batch

	ds.forget(committed, at)
	_, ok := ds.of(rec(1))
	require.False(t, ok, "a committed batch's detour is forgotten")
	_, ok = ds.of(rec(2))
	require.True(t, ok)

	ds.forget(committed, at.Add(detourTTL+30*time.Second))
	_, ok = ds.of(rec(2))
	require.False(t, ok, "older than detourTTL at a sweep a minute after the last")

	ds.m[coord{"raw", 1, 3}] = detour{at: at}
	ds.forget(committed, at.Add(detourTTL+40*time.Second))
	_, ok = ds.of(rec(3))
	require.True(t, ok, "no sweep within a minute of the last")
	ds.forget(committed, at.Add(detourTTL+91*time.Second))
	_, ok = ds.of(rec(3))
	require.False(t, ok)
}
