package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/retry"
)

// PayloadOptions configure a Payloads.
type PayloadOptions struct {
	// Primary is the store segments belong in. Required; closed by Close.
	Primary quarantine.PayloadStore
	// Dir is the local spool directory, one file per spooled segment (see
	// the package comment). Required; created if missing. The spool keeps
	// its own flat directory, rather than an fs.Store, so that it can list
	// and delete segments.
	Dir string
	// Timeout bounds each attempt on the primary, by WriteSegment, Read and
	// the syncer. Default 5s.
	Timeout time.Duration
	// SyncInterval is how often the syncer tries to drain. Default 1s.
	SyncInterval time.Duration
	// Logger receives spool and drain events. Default: discard.
	Logger *slog.Logger
}

// Payloads is a quarantine.PayloadStore that spools segments locally while
// its primary is unavailable; see the package comment.
type Payloads struct {
	primary      quarantine.PayloadStore
	dir          string
	timeout      time.Duration
	syncInterval time.Duration
	logger       *slog.Logger

	// mu guards the spooled segments and the write-order counter.
	mu       sync.Mutex
	segments map[string]segInfo // by segment name
	order    uint64
	rows     int64
	bytes    int64

	drainMu sync.Mutex
	closed  atomic.Bool
}

type segInfo struct {
	order       uint64
	rows, bytes int64
}

var _ quarantine.PayloadStore = (*Payloads)(nil)

// NewPayloads opens the spool in opts.Dir, taking over any segments an
// earlier process left there (drained in modification-time order).
func NewPayloads(opts PayloadOptions) (*Payloads, error) {
	if opts.Primary == nil {
		return nil, errors.New("payload spool: PayloadOptions.Primary is required")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = DefaultSyncInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	dir, err := openDir(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("payload spool: %w", err)
	}
	p := &Payloads{
		primary: opts.Primary, dir: dir, timeout: opts.Timeout,
		syncInterval: opts.SyncInterval, logger: opts.Logger,
		segments: map[string]segInfo{},
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("payload spool: listing %s: %w", dir, err)
	}
	type found struct {
		name string
		mod  time.Time
	}
	var files []found
	for _, e := range ents {
		if !e.Type().IsRegular() || quarantine.ValidateSegmentName(e.Name()) != nil {
			continue // temporaries and set-aside files contain '~'
		}
		fi, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("payload spool: %w", err)
		}
		files = append(files, found{e.Name(), fi.ModTime()})
	}
	slices.SortFunc(files, func(a, b found) int {
		if c := a.mod.Compare(b.mod); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	for _, f := range files {
		info := segInfo{}
		if data, err := os.ReadFile(filepath.Join(dir, f.name)); err == nil {
			info.bytes = int64(len(data))
			if payloads, err := quarantine.DecodeSegment(data); err == nil {
				info.rows = int64(len(payloads))
			}
		}
		p.putLocked(f.name, info)
	}
	if len(p.segments) > 0 {
		p.logger.Info("payload spool holds segments from an earlier run", "dir", dir, "segments", len(p.segments), "payloads", p.rows)
	}
	return p, nil
}

// putLocked records a spooled segment, replacing one of the same name.
func (p *Payloads) putLocked(name string, info segInfo) {
	if old, ok := p.segments[name]; ok {
		p.rows -= old.rows
		p.bytes -= old.bytes
	}
	p.order++
	info.order = p.order
	p.segments[name] = info
	p.rows += info.rows
	p.bytes += info.bytes
}

// forget drops name from the books if it is still the spooled version order.
func (p *Payloads) forget(name string, order uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if info, ok := p.segments[name]; ok && info.order == order {
		delete(p.segments, name)
		p.rows -= info.rows
		p.bytes -= info.bytes
	}
}

// Depth returns what the spool holds: segments, payloads and bytes.
func (p *Payloads) Depth() (segments, payloads, bytes int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int64(len(p.segments)), p.rows, p.bytes
}

// WriteSegment writes the segment to the primary or, when the primary fails
// operationally or the spool is not empty, durably to the local spool under
// the same name. The refs are the same either way (the encoding is
// deterministic), and stay valid after the syncer moves the segment.
func (p *Payloads) WriteSegment(ctx context.Context, name string, payloads []quarantine.Payload) ([]quarantine.PayloadRef, error) {
	if p.closed.Load() {
		return nil, errClosed
	}
	if err := quarantine.ValidateSegmentName(name); err != nil {
		return nil, err
	}
	if segs, _, _ := p.Depth(); segs == 0 {
		actx, cancel := context.WithTimeout(ctx, p.timeout)
		refs, err := p.primary.WriteSegment(actx, name, payloads)
		cancel()
		if err == nil {
			return refs, nil
		}
		if ctx.Err() != nil || !retry.Transient(err) {
			return nil, err
		}
		p.logger.Warn("payload primary unavailable, spooling segment", "segment", name, "payloads", len(payloads), "err", err)
	}
	data, refs, err := quarantine.EncodeSegment(payloads)
	if err != nil {
		return nil, fmt.Errorf("encoding segment %s: %w", name, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := writeFileAtomic(p.dir, name, data); err != nil {
		return nil, fmt.Errorf("writing payload spool file %s: %w", filepath.Join(p.dir, name), err)
	}
	p.putLocked(name, segInfo{rows: int64(len(payloads)), bytes: int64(len(data))})
	for i := range refs {
		refs[i].Segment = name
	}
	return refs, nil
}

// Read serves ref from the local spool if the segment is there, otherwise
// from the primary. Local first (rather than primary first) because a
// spooled segment is only in the spool, and the syncer writes the primary
// before it deletes the local file, so a segment is never missed in between.
func (p *Payloads) Read(ctx context.Context, ref quarantine.PayloadRef) (quarantine.Payload, error) {
	if p.closed.Load() {
		return quarantine.Payload{}, errClosed
	}
	buf, err := p.readLocal(ref, ref.Length)
	switch {
	case err == nil:
		pl, err := quarantine.DecodeFrame(buf)
		if err != nil {
			return quarantine.Payload{}, fmt.Errorf("spooled segment %s at %d: %w", ref.Segment, ref.Offset, err)
		}
		return pl, nil
	case !errors.Is(err, errNotSpooled):
		return quarantine.Payload{}, err
	}
	actx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	return p.primary.Read(actx, ref)
}

// Preview serves the start of ref's value as Read serves ref.
func (p *Payloads) Preview(ctx context.Context, ref quarantine.PayloadRef, n int) (quarantine.Preview, error) {
	if p.closed.Load() {
		return quarantine.Preview{}, errClosed
	}
	buf, err := p.readLocal(ref, quarantine.PreviewLen(ref, n))
	switch {
	case err == nil:
		pv, err := quarantine.DecodePreview(buf, ref, n)
		if err != nil {
			return quarantine.Preview{}, fmt.Errorf("spooled segment %s at %d: %w", ref.Segment, ref.Offset, err)
		}
		return pv, nil
	case !errors.Is(err, errNotSpooled):
		return quarantine.Preview{}, err
	}
	actx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	return p.primary.Preview(actx, ref, n)
}

var errNotSpooled = errors.New("segment is not spooled")

// readLocal reads the first length bytes of ref's range from the spool,
// after checking that the whole range lies inside its segment; a segment
// not spooled is errNotSpooled.
func (p *Payloads) readLocal(ref quarantine.PayloadRef, length int64) ([]byte, error) {
	if quarantine.ValidateSegmentName(ref.Segment) != nil {
		return nil, errNotSpooled // the primary answers ErrNotFound
	}
	f, err := os.Open(filepath.Join(p.dir, ref.Segment))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, errNotSpooled
		}
		return nil, fmt.Errorf("opening spooled segment %s: %w", ref.Segment, err)
	}
	defer f.Close() //nolint:errcheck // read-only
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("spooled segment %s: %w", ref.Segment, err)
	}
	if ref.Offset < 0 || ref.Length <= 0 || ref.Offset > fi.Size() || ref.Length > fi.Size()-ref.Offset {
		return nil, fmt.Errorf("range [%d, +%d) outside spooled segment %s: %w", ref.Offset, ref.Length, ref.Segment, quarantine.ErrNotFound)
	}
	buf := make([]byte, length)
	if _, err := f.ReadAt(buf, ref.Offset); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading spooled segment %s: %w", ref.Segment, err)
	}
	return buf, nil
}

// Run is the syncer: every SyncInterval it drains the spool into the
// primary, oldest segment first, deleting each local segment only once the
// primary holds it. It returns nil when ctx ends.
func (p *Payloads) Run(ctx context.Context) error {
	return drainEvery(ctx, p.syncInterval, nil, p.Drain)
}

// Drain drains the spool once, stopping at the first segment the primary
// cannot take now; it reports whether the spool is empty afterwards.
func (p *Payloads) Drain(ctx context.Context) bool {
	p.drainMu.Lock()
	defer p.drainMu.Unlock()
	for ctx.Err() == nil && !p.closed.Load() {
		name, order, ok := p.oldest()
		if !ok {
			return true
		}
		if !p.drainOne(ctx, name, order) {
			return false
		}
	}
	return false
}

func (p *Payloads) oldest() (string, uint64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var name string
	var order uint64
	for n, info := range p.segments {
		if name == "" || info.order < order {
			name, order = n, info.order
		}
	}
	return name, order, name != ""
}

func (p *Payloads) drainOne(ctx context.Context, name string, order uint64) bool {
	data, err := os.ReadFile(filepath.Join(p.dir, name))
	if err != nil {
		p.logger.Error("reading payload spool file", "segment", name, "err", err)
		return false
	}
	payloads, err := quarantine.DecodeSegment(data)
	if err == nil {
		// Only a segment that re-encodes to exactly its bytes keeps its
		// refs valid in the primary.
		var again []byte
		again, _, err = quarantine.EncodeSegment(payloads)
		if err == nil && !bytes.Equal(again, data) {
			err = errors.New("segment does not re-encode to its own bytes")
		}
	}
	if err != nil {
		p.logger.Error("payload spool file is damaged, setting it aside", "file", name+corruptSuffix, "err", err)
		return p.setAside(name, order)
	}
	_, wantRefs, _ := quarantine.EncodeSegment(payloads)
	actx, cancel := context.WithTimeout(ctx, p.timeout)
	refs, err := p.primary.WriteSegment(actx, name, payloads)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			p.logger.Debug("payload primary unavailable", "segment", name, "err", err)
		}
		// Not set aside even when permanent: the refs handed out point into
		// this segment. Retried on the next tick.
		return false
	}
	for i := range refs {
		if i >= len(wantRefs) || refs[i].Offset != wantRefs[i].Offset || refs[i].Length != wantRefs[i].Length || refs[i].Segment != name {
			p.logger.Error("payload primary returned different refs for a spooled segment; keeping it local", "segment", name)
			return false
		}
	}
	if len(refs) != len(wantRefs) {
		p.logger.Error("payload primary returned a different number of refs for a spooled segment; keeping it local", "segment", name)
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if info, ok := p.segments[name]; !ok || info.order != order {
		return true // rewritten meanwhile: drain the new version next
	}
	if err := removeDurably(p.dir, name); err != nil {
		p.logger.Error("removing drained payload spool file", "segment", name, "err", err)
		return false
	}
	info := p.segments[name]
	delete(p.segments, name)
	p.rows -= info.rows
	p.bytes -= info.bytes
	p.logger.Info("drained spooled payload segment", "segment", name, "payloads", len(payloads))
	return true
}

func (p *Payloads) setAside(name string, order uint64) bool {
	if err := setAside(p.dir, name, corruptSuffix); err != nil {
		p.logger.Error("setting aside payload spool file", "segment", name, "err", err)
		return false
	}
	p.forget(name, order)
	return true
}

// Close stops further writes and closes the primary. The spool stays on
// disk for the next Payloads on the same directory.
func (p *Payloads) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	return p.primary.Close()
}
