package fs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

var _ quarantine.SegmentPurger = (*Store)(nil)

// DeleteSegmentsBefore deletes the segment files last modified before cutoff
// (WriteSegment stamps a segment file's modification time with the time its
// batch was written, by Options.Now), then syncs each shard directory it
// deleted from, so the deletions are durable. Temporary files are left to
// New.
func (s *Store) DeleteSegmentsBefore(ctx context.Context, cutoff time.Time) (_ int64, err error) {
	defer classify(&err)
	if s.closed.Load() {
		return 0, errClosed
	}
	shards, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, fmt.Errorf("listing payload dir: %w", err)
	}
	var deleted int64
	for _, sh := range shards {
		if !sh.IsDir() || !isShardName(sh.Name()) {
			continue
		}
		dir := filepath.Join(s.dir, sh.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			return deleted, fmt.Errorf("listing payload shard %s: %w", sh.Name(), err)
		}
		inShard := 0
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return deleted, fmt.Errorf("deleting segments: %w", err)
			}
			if f.IsDir() || strings.Contains(f.Name(), tmpMarker) || quarantine.ValidateSegmentName(f.Name()) != nil {
				continue
			}
			info, err := f.Info()
			if errors.Is(err, os.ErrNotExist) {
				continue // replaced or deleted meanwhile
			}
			if err != nil {
				return deleted, fmt.Errorf("reading segment %s: %w", f.Name(), err)
			}
			if !info.ModTime().Before(cutoff) {
				continue
			}
			if err := os.Remove(filepath.Join(dir, f.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return deleted, fmt.Errorf("deleting segment %s: %w", f.Name(), err)
			}
			deleted++
			inShard++
		}
		if inShard > 0 {
			if err := syncDir(dir); err != nil {
				return deleted, err
			}
		}
	}
	return deleted, nil
}
