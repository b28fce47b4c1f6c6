// Package fs is the local-filesystem payload store of embedded mode: one
// file per segment under a data directory, written atomically and durably.
//
// Layout: <Dir>/<shard>/<segment name>, where shard is two hex digits derived
// from a hash of the name, so no directory grows past ~1/256 of the segments.
// A segment being written is a temporary file in its shard directory whose
// name contains '~', a character segment names cannot contain.
//
// A directory belongs to one Store at a time: New removes temporary files
// left behind by a crash.
//
// A full disk or quota, an I/O error and running out of file descriptors
// are marked with retry.ErrUnavailable: outages an operator ends, not
// faults of the segment.
package fs

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// Options configure a Store.
type Options struct {
	// Dir is the directory segments are kept in. Required; created (with
	// its parents) if missing.
	Dir string
	// Now is the clock a segment's write time is read from: when set,
	// WriteSegment sets the file's modification time to it (tests), and
	// DeleteSegmentsBefore compares that time. Default: the filesystem's
	// own modification time, set by the write itself (no extra call).
	Now func() time.Time
}

// Store is a quarantine.PayloadStore on a local filesystem.
type Store struct {
	dir    string
	now    func() time.Time // nil: the filesystem's clock
	closed atomic.Bool
	// shards records which shard directories are known to exist durably,
	// so WriteSegment creates and syncs each one only once.
	shards [256]atomic.Bool
	// mkdirMu serialises shard creation.
	mkdirMu sync.Mutex
}

var _ quarantine.PayloadStore = (*Store)(nil)

var errClosed = errors.New("fs payload store is closed")

const tmpMarker = "~"

// New opens the store in opts.Dir.
func New(opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, errors.New("fs payload store: Options.Dir is required")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("resolving payload dir %s: %w", opts.Dir, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating payload dir: %w", err)
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return nil, err
	}
	if err := removeTemps(dir); err != nil {
		return nil, err
	}
	return &Store{dir: dir, now: opts.Now}, nil
}

// removeTemps deletes the temporary files of writes a crash interrupted.
func removeTemps(dir string) error {
	shards, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("listing payload dir: %w", err)
	}
	for _, sh := range shards {
		if !sh.IsDir() || !isShardName(sh.Name()) {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, sh.Name()))
		if err != nil {
			return fmt.Errorf("listing payload shard %s: %w", sh.Name(), err)
		}
		for _, f := range files {
			if strings.Contains(f.Name(), tmpMarker) {
				if err := os.Remove(filepath.Join(dir, sh.Name(), f.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("removing stale temporary segment: %w", err)
				}
			}
		}
	}
	return nil
}

func isShardName(s string) bool {
	const hexdigits = "0123456789abcdef"
	return len(s) == 2 && strings.IndexByte(hexdigits, s[0]) >= 0 && strings.IndexByte(hexdigits, s[1]) >= 0
}

func shardOf(name string) uint8 {
	h := fnv.New32a()
	_, _ = io.WriteString(h, name)
	return uint8(h.Sum32())
}

func (s *Store) shardDir(shard uint8) string {
	return filepath.Join(s.dir, fmt.Sprintf("%02x", shard))
}

// WriteSegment writes payloads as the segment name: one temporary file,
// written, stamped with the write time (Options.Now) and fsynced, renamed
// over name, and the directory fsynced. A segment of the same name is
// replaced atomically: readers see the old segment or the new one, never a
// mix.
func (s *Store) WriteSegment(ctx context.Context, name string, payloads []quarantine.Payload) (_ []quarantine.PayloadRef, err error) {
	defer classify(&err)
	if s.closed.Load() {
		return nil, errClosed
	}
	if err := quarantine.ValidateSegmentName(name); err != nil {
		return nil, err
	}
	data, refs, err := quarantine.EncodeSegment(payloads)
	if err != nil {
		return nil, fmt.Errorf("encoding segment %s: %w", name, err)
	}
	shard := shardOf(name)
	if err := s.ensureShard(shard); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dir := s.shardDir(shard)
	var written time.Time
	if s.now != nil {
		written = s.now()
	}
	if err := writeFileAtomic(dir, name, data, written); err != nil {
		return nil, fmt.Errorf("writing segment %s: %w", name, err)
	}
	for i := range refs {
		refs[i].Segment = name
	}
	return refs, nil
}

func writeFileAtomic(dir, name string, data []byte, written time.Time) (err error) {
	f, err := os.CreateTemp(dir, name+tmpMarker+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	// The modification time is the segment's write time for retention;
	// the rename keeps it, the fsync makes it durable. The write set it
	// already unless a clock other than the filesystem's is given.
	if !written.IsZero() {
		if err := os.Chtimes(tmp, time.Time{}, written); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// ensureShard creates the shard directory durably the first time this
// store writes to it.
func (s *Store) ensureShard(shard uint8) error {
	if s.shards[shard].Load() {
		return nil
	}
	s.mkdirMu.Lock()
	defer s.mkdirMu.Unlock()
	if s.shards[shard].Load() {
		return nil
	}
	if err := os.Mkdir(s.shardDir(shard), 0o750); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("creating payload shard: %w", err)
	}
	// Sync the parent even if the shard existed: it may have been created
	// by a run that crashed before syncing.
	if err := syncDir(s.dir); err != nil {
		return err
	}
	s.shards[shard].Store(true)
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening dir %s to sync: %w", dir, err)
	}
	defer d.Close() //nolint:errcheck // opened read-only to fsync; the Sync error is checked
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing dir %s: %w", dir, err)
	}
	return nil
}

// Read returns the payload at ref. A segment that does not exist, or a range
// that lies outside it, is quarantine.ErrNotFound; a range inside it that
// does not decode is quarantine.ErrCorrupt.
func (s *Store) Read(ctx context.Context, ref quarantine.PayloadRef) (quarantine.Payload, error) {
	buf, err := s.readRange(ctx, ref, ref.Length)
	if err != nil {
		return quarantine.Payload{}, err
	}
	p, err := quarantine.DecodeFrame(buf)
	if err != nil {
		return quarantine.Payload{}, fmt.Errorf("segment %s at %d: %w", ref.Segment, ref.Offset, err)
	}
	return p, nil
}

// Preview returns the first n bytes of the value at ref, reading only the
// start of its frame; errors as Read.
func (s *Store) Preview(ctx context.Context, ref quarantine.PayloadRef, n int) (quarantine.Preview, error) {
	buf, err := s.readRange(ctx, ref, quarantine.PreviewLen(ref, n))
	if err != nil {
		return quarantine.Preview{}, err
	}
	p, err := quarantine.DecodePreview(buf, ref, n)
	if err != nil {
		return quarantine.Preview{}, fmt.Errorf("segment %s at %d: %w", ref.Segment, ref.Offset, err)
	}
	return p, nil
}

// readRange reads the first length bytes of ref's range, after checking
// that the whole range lies inside its segment.
func (s *Store) readRange(ctx context.Context, ref quarantine.PayloadRef, length int64) (_ []byte, err error) {
	defer classify(&err)
	if s.closed.Load() {
		return nil, errClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if quarantine.ValidateSegmentName(ref.Segment) != nil {
		return nil, fmt.Errorf("segment %q: %w", ref.Segment, quarantine.ErrNotFound)
	}
	f, err := os.Open(filepath.Join(s.shardDir(shardOf(ref.Segment)), ref.Segment))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("segment %s: %w", ref.Segment, quarantine.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("opening segment %s: %w", ref.Segment, err)
	}
	defer f.Close() //nolint:errcheck // read-only: a close error loses nothing
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading segment %s: %w", ref.Segment, err)
	}
	if ref.Offset < 0 || ref.Length <= 0 || ref.Offset > fi.Size() || ref.Length > fi.Size()-ref.Offset {
		return nil, fmt.Errorf("range [%d, +%d) outside segment %s of %d bytes: %w",
			ref.Offset, ref.Length, ref.Segment, fi.Size(), quarantine.ErrNotFound)
	}
	buf := make([]byte, length)
	if _, err := f.ReadAt(buf, ref.Offset); err != nil {
		return nil, fmt.Errorf("reading segment %s: %w", ref.Segment, err)
	}
	return buf, nil
}

// Close marks the store closed; it holds no open files between calls.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}
