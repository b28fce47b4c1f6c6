package quarantine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
)

// TestSearch over the real SQLite and file stores: matches in payloads and
// keys, ignoring case, newest first; paging through the matches with the
// cursor; a scan budget that runs out mid-way still pages on correctly.
func TestSearch(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dir, "dq.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = meta.Close() })
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dir, "payloads")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = payloads.Close() })

	base := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	var entries []quarantine.Entry
	var values []quarantine.Payload
	for i := range 30 {
		e := quarantinetest.NewEntry("raw-events", 0, int64(i), base.Add(time.Duration(i)*time.Second))
		value := fmt.Sprintf(`{"n":%d,"city":"Lyon"}`, i)
		if i%3 == 0 {
			value = fmt.Sprintf(`{"n":%d,"city":"PARIS"}`, i)
		}
		e.Key = []byte(fmt.Sprintf("k-%d", i))
		if i == 7 {
			e.Key = []byte("paris-key")
		}
		entries = append(entries, e)
		values = append(values, quarantine.Payload{Value: []byte(value)})
	}
	refs, err := payloads.WriteSegment(ctx, "seg-1", values)
	require.NoError(t, err)
	for i := range entries {
		entries[i].Payload = refs[i]
	}
	require.NoError(t, meta.Insert(ctx, entries))
	// Newest first: offsets 27, 24, ..., 0 by payload, and 7 by its key.
	want := []int64{27, 24, 21, 18, 15, 12, 9, 7, 6, 3, 0}

	res, err := quarantine.Search(ctx, meta, payloads, quarantine.Filter{}, "Paris", 0)
	require.NoError(t, err)
	require.Equal(t, want, offsets(res.Entries))
	require.Empty(t, res.NextCursor)
	require.Equal(t, 30, res.Scanned)

	for _, budget := range []int{0, 4} {
		var got []int64
		f := quarantine.Filter{Limit: 3}
		for range 40 {
			res, err := quarantine.Search(ctx, meta, payloads, f, "paris", budget)
			require.NoError(t, err)
			require.LessOrEqual(t, len(res.Entries), 3)
			got = append(got, offsets(res.Entries)...)
			if res.NextCursor == "" {
				break
			}
			f.Cursor = res.NextCursor
		}
		require.Equal(t, want, got, "budget %d", budget)
	}

	res, err = quarantine.Search(ctx, meta, payloads, quarantine.Filter{}, "nowhere", 0)
	require.NoError(t, err)
	require.Empty(t, res.Entries)
}

func offsets(es []quarantine.Entry) []int64 {
	out := []int64{}
	for _, e := range es {
		out = append(out, e.SourceOffset)
	}
	return out
}
