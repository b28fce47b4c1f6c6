package spool

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/retry"
)

// Defaults of the Options fields.
const (
	DefaultTimeout      = 5 * time.Second
	DefaultSyncInterval = time.Second
	DefaultIndexDelay   = 250 * time.Millisecond
)

// MetadataOptions configure a Metadata.
type MetadataOptions struct {
	// Primary is the store rows belong in. Required; closed by Close.
	Primary quarantine.MetadataStore
	// Dir is the spool directory. Required; created if missing.
	Dir string
	// Timeout bounds each attempt on the primary, by Insert and by the
	// syncer. Default 5s.
	Timeout time.Duration
	// SyncInterval is how often the syncer tries to drain. Default 1s.
	SyncInterval time.Duration
	// Deferred makes the spool the write-ahead log of every batch, not only
	// of those the primary cannot take: Insert makes the rows durable in
	// the spool and returns, and the syncer, woken at once, indexes them
	// into the primary in the background. The caller's hot path then pays
	// for an fsync'd append, not for the primary's indexes. Rows become
	// visible to List a moment later (Get finds them in the spool before).
	// Default false: spool only while the primary is unavailable.
	Deferred bool
	// IndexDelay is how long a Deferred spool lets batches gather before
	// the syncer indexes them, unless mergeRows rows are waiting already:
	// at a steady rate many small batches then reach the primary in one
	// transaction (one SQLite commit, one fsync) instead of one each. Rows
	// are durable in the spool meanwhile and found by Get; List sees them
	// up to this much later. Default 250ms; negative: index at once.
	IndexDelay time.Duration
	// MaxDeferredRows bounds the rows a Deferred spool holds: past it,
	// Insert waits for the syncer to catch up (back-pressure), so a flood
	// never outruns the primary by more than this. Default 200,000.
	MaxDeferredRows int64
	// Logger receives spool and drain events. Default: discard.
	Logger *slog.Logger
}

// Metadata is a quarantine.MetadataStore that spools batches locally while
// its primary is unavailable; see the package comment.
type Metadata struct {
	primary      quarantine.MetadataStore
	dir          string
	timeout      time.Duration
	syncInterval time.Duration
	deferred     bool
	maxRows      int64
	indexDelay   time.Duration
	logger       *slog.Logger
	// wake nudges the syncer (Deferred: a batch was spooled).
	wake chan struct{}
	// drained is closed, and replaced, each time a batch leaves the spool:
	// a Deferred Insert waiting for room waits on it.
	drained chan struct{}

	// mu guards the fields below it: the spooled batches and the counter
	// naming the next one.
	mu      sync.Mutex
	nextSeq uint64
	batches map[string]fileInfo // by file name
	queue   []string            // the names of batches, oldest first
	rows    int64
	bytes   int64

	// drainMu makes drains exclusive.
	drainMu sync.Mutex
	closed  atomic.Bool
}

type fileInfo struct {
	rows, bytes int64
}

var _ quarantine.MetadataStore = (*Metadata)(nil)

var errClosed = errors.New("spool is closed")

const (
	metaMagic       = "DQSPOOLM"
	metaVersion     = 2 // binary entries (codec.go)
	metaVersionJSON = 1 // a JSON array, as gateways before version 2 wrote
	metaHeaderLen   = len(metaMagic) + 1 + 4 + 4
	metaSuffix      = ".batch"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// NewMetadata opens the spool in opts.Dir, taking over any batches an earlier
// process left there; the syncer (Run) drains them.
func NewMetadata(opts MetadataOptions) (*Metadata, error) {
	if opts.Primary == nil {
		return nil, errors.New("metadata spool: MetadataOptions.Primary is required")
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
	if opts.MaxDeferredRows <= 0 {
		opts.MaxDeferredRows = 200_000
	}
	if opts.IndexDelay == 0 {
		opts.IndexDelay = DefaultIndexDelay
	}
	dir, err := openDir(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("metadata spool: %w", err)
	}
	m := &Metadata{
		primary: opts.Primary, dir: dir, timeout: opts.Timeout,
		syncInterval: opts.SyncInterval, deferred: opts.Deferred, maxRows: opts.MaxDeferredRows,
		indexDelay: opts.IndexDelay, logger: opts.Logger,
		wake: make(chan struct{}, 1), drained: make(chan struct{}),
		batches: map[string]fileInfo{}, nextSeq: 1,
	}
	ents, err := os.ReadDir(dir) // sorted by name: write order
	if err != nil {
		return nil, fmt.Errorf("metadata spool: listing %s: %w", dir, err)
	}
	for _, e := range ents {
		name := e.Name()
		if len(name) != 20+len(metaSuffix) || !strings.HasSuffix(name, metaSuffix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, metaSuffix), 10, 64)
		if err != nil {
			continue // not ours
		}
		m.nextSeq = max(m.nextSeq, seq+1)
		info := fileInfo{}
		if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			info.bytes = int64(len(data))
			if entries, err := decodeBatch(data); err == nil {
				info.rows = int64(len(entries))
			}
		}
		m.addLocked(name, info)
	}
	if len(m.batches) > 0 {
		m.logger.Info("metadata spool holds batches from an earlier run", "dir", dir, "batches", len(m.batches), "rows", m.rows)
	}
	return m, nil
}

// addLocked records a batch, keeping the queue in name (write) order: a
// writer that finishes after a later-named one still goes before it.
func (m *Metadata) addLocked(name string, info fileInfo) {
	m.batches[name] = info
	i, _ := slices.BinarySearch(m.queue, name)
	m.queue = slices.Insert(m.queue, i, name)
	m.rows += info.rows
	m.bytes += info.bytes
}

func (m *Metadata) forget(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if info, ok := m.batches[name]; ok {
		delete(m.batches, name)
		if i := slices.Index(m.queue, name); i >= 0 {
			m.queue = slices.Delete(m.queue, i, i+1)
		}
		m.rows -= info.rows
		m.bytes -= info.bytes
		close(m.drained)
		m.drained = make(chan struct{})
	}
}

// Depth returns what the spool holds: batches, rows and file bytes.
func (m *Metadata) Depth() (batches, rows, bytes int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.batches)), m.rows, m.bytes
}

// Insert writes entries to the primary, or, when the primary fails
// operationally or the spool is not empty, durably to the spool; either way
// the rows are durable when it returns nil. A spool write failure is
// returned, as is any non-operational primary error.
func (m *Metadata) Insert(ctx context.Context, entries []quarantine.Entry) error {
	if m.closed.Load() {
		return errClosed
	}
	if m.deferred {
		return m.insertDeferred(ctx, entries)
	}
	if batches, _, _ := m.Depth(); batches == 0 {
		actx, cancel := context.WithTimeout(ctx, m.timeout)
		err := m.primary.Insert(actx, entries)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !retry.Transient(err) {
			return err
		}
		m.logger.Warn("metadata primary unavailable, spooling batch", "rows", len(entries), "err", err)
	}
	if len(entries) == 0 {
		return nil
	}
	if err := checkEntries(entries); err != nil {
		return err
	}
	return m.spool(entries)
}

// insertDeferred spools entries and wakes the syncer, after waiting, if
// the spool is full, until the syncer has made room.
func (m *Metadata) insertDeferred(ctx context.Context, entries []quarantine.Entry) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("inserting %d entries: %w", len(entries), err)
	}
	if len(entries) == 0 {
		return nil
	}
	if err := checkEntries(entries); err != nil {
		return err
	}
	for {
		m.mu.Lock()
		full, drained := m.rows >= m.maxRows, m.drained
		m.mu.Unlock()
		if !full {
			break
		}
		select {
		case <-drained:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the metadata spool to drain below %d rows: %w", m.maxRows, ctx.Err())
		}
	}
	if err := m.spool(entries); err != nil {
		return err
	}
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return nil
}

// checkEntries rejects what no primary accepts, so a batch that can never be
// drained is returned rather than spooled (the primary's own validation is
// skipped while the spool is not empty).
func checkEntries(entries []quarantine.Entry) error {
	for i := range entries {
		switch {
		case entries[i].ID == "":
			return fmt.Errorf("entry %d: empty id", i)
		case entries[i].QuarantinedAt.IsZero():
			return fmt.Errorf("entry %d (%s): zero QuarantinedAt", i, entries[i].ID)
		}
	}
	return nil
}

func (m *Metadata) spool(entries []quarantine.Entry) error {
	data, err := encodeBatch(entries)
	if err != nil {
		return fmt.Errorf("encoding spooled batch: %w", err)
	}
	// The name is taken under the lock, the file written and fsync'd
	// outside it (readers, Depth and the syncer do not wait for the disk),
	// and the batch counted once durable. One writer's batches keep their
	// order; concurrent writers' batches hold different records.
	m.mu.Lock()
	seq := m.nextSeq
	m.nextSeq++
	m.mu.Unlock()
	name := fmt.Sprintf("%020d%s", seq, metaSuffix)
	if err := writeFileAtomic(m.dir, name, data); err != nil {
		return fmt.Errorf("writing metadata spool file %s: %w", filepath.Join(m.dir, name), err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.addLocked(name, fileInfo{rows: int64(len(entries)), bytes: int64(len(data))})
	return nil
}

func encodeBatch(entries []quarantine.Entry) ([]byte, error) {
	if uint64(len(entries)) > 1<<32-1 {
		return nil, fmt.Errorf("batch of %d entries is too large to spool", len(entries))
	}
	data := make([]byte, metaHeaderLen, metaHeaderLen+256*len(entries)+4)
	copy(data, metaMagic)
	data[len(metaMagic)] = metaVersion
	binary.BigEndian.PutUint32(data[len(metaMagic)+1:], uint32(len(entries)))
	for i := range entries {
		data = appendEntry(data, &entries[i])
	}
	body := len(data) - metaHeaderLen
	if uint64(body) > 1<<32-1 {
		return nil, fmt.Errorf("batch of %d bytes is too large to spool", body)
	}
	binary.BigEndian.PutUint32(data[len(metaMagic)+5:], uint32(body))
	return binary.BigEndian.AppendUint32(data, crc32.Checksum(data[len(metaMagic):], castagnoli)), nil
}

// errCorruptSpool marks a spool file that does not decode.
var errCorruptSpool = errors.New("corrupt spool file")

func decodeBatch(data []byte) ([]quarantine.Entry, error) {
	if len(data) < metaHeaderLen+4 || string(data[:len(metaMagic)]) != metaMagic {
		return nil, fmt.Errorf("%w: missing or short header", errCorruptSpool)
	}
	version := data[len(metaMagic)]
	if version != metaVersion && version != metaVersionJSON {
		return nil, fmt.Errorf("%w: unknown version %d", errCorruptSpool, version)
	}
	rows := binary.BigEndian.Uint32(data[len(metaMagic)+1:])
	bodyLen := binary.BigEndian.Uint32(data[len(metaMagic)+5:])
	if uint64(len(data)) != uint64(metaHeaderLen)+uint64(bodyLen)+4 {
		return nil, fmt.Errorf("%w: %d bytes, header says %d", errCorruptSpool, len(data), uint64(metaHeaderLen)+uint64(bodyLen)+4)
	}
	end := len(data) - 4
	if crc32.Checksum(data[len(metaMagic):end], castagnoli) != binary.BigEndian.Uint32(data[end:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", errCorruptSpool)
	}
	var entries []quarantine.Entry
	if version == metaVersionJSON { // written by an older gateway
		if err := json.Unmarshal(data[metaHeaderLen:end], &entries); err != nil {
			return nil, fmt.Errorf("%w: %w", errCorruptSpool, err)
		}
	} else {
		r := reader{b: data[metaHeaderLen:end]}
		if uint64(rows) > uint64(len(r.b)) { // an entry takes at least a byte
			return nil, fmt.Errorf("%w: %d rows in %d bytes", errCorruptSpool, rows, len(r.b))
		}
		entries = make([]quarantine.Entry, 0, rows)
		for range rows {
			entries = append(entries, r.entry())
		}
		switch {
		case r.err != nil:
			return nil, fmt.Errorf("%w: %w", errCorruptSpool, r.err)
		case len(r.b) > 0:
			return nil, fmt.Errorf("%w: %d bytes after the last row", errCorruptSpool, len(r.b))
		}
	}
	if uint32(len(entries)) != rows {
		return nil, fmt.Errorf("%w: %d rows, header says %d", errCorruptSpool, len(entries), rows)
	}
	return entries, nil
}

// Run is the syncer: every SyncInterval it drains the spool into the
// primary, oldest batch first, deleting each batch only once the primary has
// accepted it. It returns nil when ctx ends.
func (m *Metadata) Run(ctx context.Context) error {
	drain := m.Drain
	if m.deferred && m.indexDelay > 0 {
		drain = func(ctx context.Context) bool {
			m.gather(ctx)
			return m.Drain(ctx)
		}
	}
	return drainEvery(ctx, m.syncInterval, m.wake, drain)
}

// gather waits, for at most the IndexDelay, while the spool holds some
// rows but fewer than a merged drain takes, so that the batches spooled
// meanwhile are indexed together.
func (m *Metadata) gather(ctx context.Context) {
	var deadline <-chan time.Time
	for {
		m.mu.Lock()
		rows := m.rows
		m.mu.Unlock()
		if rows == 0 || rows >= mergeRows {
			return
		}
		if deadline == nil {
			t := time.NewTimer(m.indexDelay)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case <-deadline:
			return
		case <-ctx.Done():
			return
		case <-m.wake: // another batch: enough rows now?
		}
	}
}

// Drain drains the spool once, stopping at the first batch the primary
// cannot take now. It reports whether the spool is empty afterwards. Run
// calls it; tests and shutdown may too.
func (m *Metadata) Drain(ctx context.Context) bool {
	m.drainMu.Lock()
	defer m.drainMu.Unlock()
	for ctx.Err() == nil && !m.closed.Load() {
		names := m.oldestRows(mergeRows)
		if len(names) == 0 {
			return true
		}
		if len(names) > 1 {
			switch m.drainMerged(ctx, names) {
			case merged:
				continue
			case mergeUnavailable:
				return false
			}
		}
		// One batch, or a merge the primary refused: one at a time, which
		// salvages row by row what the primary refuses; a batch the merge
		// set aside is gone from the queue.
		for _, name := range names {
			if !m.queued(name) {
				continue
			}
			if !m.drainOne(ctx, name) {
				return false
			}
		}
	}
	return false
}

// queued reports whether the batch name is still waiting to be drained.
func (m *Metadata) queued(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.batches[name]
	return ok
}

// mergeRows is how many spooled rows a drain hands the primary in one
// Insert (one transaction): with SQLite a commit is an fsync, so a backlog
// of many small batches drains in a few large ones.
const mergeRows = 5000

// oldestRows returns the oldest spooled batches, as many as fit in rows
// (at least one).
func (m *Metadata) oldestRows(rows int64) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var names []string
	var n int64
	for _, name := range m.queue {
		r := m.batches[name].rows
		if len(names) > 0 && n+r > rows {
			break
		}
		names = append(names, name)
		n += r
	}
	return names
}

// mergeResult is what drainMerged did.
type mergeResult int

const (
	merged           mergeResult = iota // every batch is in the primary
	mergeUnavailable                    // the primary cannot take rows now (or a file could not be removed): stop this drain
	mergeOneByOne                       // the primary refused the merge, or a file is unreadable: drain the batches one at a time
)

// drainMerged moves several batches to the primary in one Insert. A batch
// that does not decode is set aside as drainOne would, and the others are
// merged without it.
func (m *Metadata) drainMerged(ctx context.Context, names []string) mergeResult {
	var entries []quarantine.Entry
	kept := names[:0:0]
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(m.dir, name))
		if err != nil {
			return mergeOneByOne // drainOne says what is wrong
		}
		batch, err := decodeBatch(data)
		if err != nil {
			if !m.setAsideDamaged(name, err) {
				return mergeOneByOne
			}
			continue
		}
		entries = append(entries, batch...)
		kept = append(kept, name)
	}
	if len(kept) == 0 {
		return merged
	}
	actx, cancel := context.WithTimeout(ctx, m.timeout)
	err := m.primary.Insert(actx, entries)
	cancel()
	switch {
	case err == nil:
	case ctx.Err() != nil || m.closed.Load() || retry.Transient(err):
		m.logger.Debug("metadata primary unavailable", "err", err)
		return mergeUnavailable
	default:
		return mergeOneByOne
	}
	// The rows are in the primary: a file that cannot be removed, or comes
	// back after a crash (one directory fsync for the lot), is only
	// indexed again, harmlessly.
	result := merged
	for _, name := range kept {
		if err := os.Remove(filepath.Join(m.dir, name)); err != nil && !os.IsNotExist(err) {
			m.logger.Error("removing drained metadata spool file", "file", name, "err", err)
			result = mergeUnavailable // not again in this drain: the next tick retries
			continue
		}
		m.forget(name)
	}
	if err := syncDir(m.dir); err != nil {
		m.logger.Error("syncing the metadata spool dir", "err", err)
	}
	m.logger.Debug("drained spooled metadata batches", "files", len(kept), "rows", len(entries))
	return result
}

// drainOne moves one batch to the primary; false means stop for now.
func (m *Metadata) drainOne(ctx context.Context, name string) bool {
	data, err := os.ReadFile(filepath.Join(m.dir, name))
	if err != nil {
		m.logger.Error("reading metadata spool file", "file", name, "err", err)
		return false
	}
	entries, err := decodeBatch(data)
	if err != nil {
		return m.setAsideDamaged(name, err)
	}
	actx, cancel := context.WithTimeout(ctx, m.timeout)
	err = m.primary.Insert(actx, entries)
	cancel()
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return false
	case retry.Transient(err):
		m.logger.Debug("metadata primary still unavailable", "err", err)
		return false
	case m.closed.Load():
		return false // the primary was closed under us: not the batch's fault
	default:
		return m.salvage(ctx, name, entries, err)
	}
	if err := removeDurably(m.dir, name); err != nil {
		m.logger.Error("removing drained metadata spool file", "file", name, "err", err)
		return false
	}
	m.forget(name)
	if m.deferred {
		m.logger.Debug("drained spooled metadata batch", "file", name, "rows", len(entries))
	} else {
		m.logger.Info("drained spooled metadata batch", "file", name, "rows", len(entries))
	}
	return true
}

// salvage handles a spooled batch the primary rejected as a whole: it
// inserts the entries one by one, so that one bad row does not hold back the
// others, and keeps the rows the primary rejects in <name>~rejected for an
// operator. An operational error on the way stops it; the batch is retried
// whole on the next drain, harmlessly (inserts are idempotent).
func (m *Metadata) salvage(ctx context.Context, name string, entries []quarantine.Entry, batchErr error) bool {
	var rejected []quarantine.Entry
	var lastErr error
	for i := range entries {
		actx, cancel := context.WithTimeout(ctx, m.timeout)
		err := m.primary.Insert(actx, entries[i:i+1])
		cancel()
		switch {
		case err == nil:
		case ctx.Err() != nil || m.closed.Load() || retry.Transient(err):
			return false
		default:
			rejected = append(rejected, entries[i])
			lastErr = err
		}
	}
	if len(rejected) > 0 {
		data, err := encodeBatch(rejected)
		if err == nil {
			err = writeFileAtomic(m.dir, name+rejectedSuffix, data)
		}
		if err != nil {
			m.logger.Error("keeping rejected spooled rows", "file", name+rejectedSuffix, "err", err)
			return false
		}
		m.logger.Error("metadata primary rejected spooled rows; kept for an operator",
			"file", name+rejectedSuffix, "rows", len(rejected), "of", len(entries), "err", lastErr)
	} else {
		m.logger.Warn("spooled batch was rejected whole but every row was accepted alone", "file", name, "err", batchErr)
	}
	if err := removeDurably(m.dir, name); err != nil {
		m.logger.Error("removing drained metadata spool file", "file", name, "err", err)
		return false
	}
	m.forget(name)
	return true
}

func (m *Metadata) setAside(name, suffix string) bool {
	if err := setAside(m.dir, name, suffix); err != nil {
		m.logger.Error("setting aside metadata spool file", "file", name, "err", err)
		return false
	}
	m.forget(name)
	return true
}

// setAsideDamaged sets aside a batch that does not decode (err says why).
func (m *Metadata) setAsideDamaged(name string, err error) bool {
	m.logger.Error("metadata spool file is damaged, setting it aside", "file", name+corruptSuffix, "err", err)
	return m.setAside(name, corruptSuffix)
}

// Get reads the primary, then, for a row it does not have yet, the
// spooled batches.
func (m *Metadata) Get(ctx context.Context, id string) (quarantine.Entry, error) {
	e, err := m.primary.Get(ctx, id)
	if !errors.Is(err, quarantine.ErrNotFound) {
		return e, err
	}
	m.mu.Lock()
	queue := slices.Clone(m.queue)
	m.mu.Unlock()
	idBytes := []byte(id)
	for _, name := range queue { // oldest first: the first write wins, as in the primary
		data, rerr := os.ReadFile(filepath.Join(m.dir, name))
		if rerr != nil {
			continue // drained meanwhile: the primary has it now
		}
		if len(data) > len(metaMagic) && data[len(metaMagic)] == metaVersion && !bytes.Contains(data, idBytes) {
			continue // the binary encoding holds the id's bytes as they are: not in this batch
		}
		entries, derr := decodeBatch(data)
		if derr != nil {
			continue
		}
		for i := range entries {
			if e := &entries[i]; e.ID == id {
				// As the primary will give it back.
				e.Timestamp, e.QuarantinedAt = quarantine.StoredTime(e.Timestamp), quarantine.StoredTime(e.QuarantinedAt)
				e.StatusChangedAt = quarantine.StoredTime(e.StatusChangedAt)
				return *e, nil
			}
		}
	}
	if len(queue) > 0 {
		return m.primary.Get(ctx, id) // drained while we looked
	}
	return e, err
}

// List reads the primary: rows still spooled are not listed.
func (m *Metadata) List(ctx context.Context, f quarantine.Filter) (quarantine.Page, error) {
	return m.primary.List(ctx, f)
}

// Count reads the primary: rows still spooled are not counted.
func (m *Metadata) Count(ctx context.Context, f quarantine.Filter) (int64, error) {
	return m.primary.Count(ctx, f)
}

// CountByErrorType reads the primary: rows still spooled are not counted.
func (m *Metadata) CountByErrorType(ctx context.Context) (map[record.ErrorType]int64, error) {
	return m.primary.CountByErrorType(ctx)
}

// Close stops further writes and closes the primary. The spool stays on
// disk for the next Metadata on the same directory.
func (m *Metadata) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	return m.primary.Close()
}
