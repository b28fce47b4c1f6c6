package pipeline

import (
	"sync/atomic"
	"time"
)

// Progress is how far the pipeline has got, for health checks.
type Progress struct {
	// LastCommit is when a batch was last committed (the pipeline's start
	// before the first).
	LastCommit time.Time
	// PendingSince is when the oldest records polled but not yet committed
	// were polled; zero when every polled record is committed.
	PendingSince time.Time
}

// Stalled reports whether the pipeline has made no progress for longer than
// timeout while it had work: records it polled and has not committed, or
// lag on its input (lagging: records it cannot even poll, such as a fetch
// that keeps failing). A pipeline with nothing to do is never stalled.
func (p Progress) Stalled(now time.Time, timeout time.Duration, lagging bool) bool {
	if !p.PendingSince.IsZero() && now.Sub(p.PendingSince) > timeout {
		return true
	}
	return lagging && now.Sub(p.LastCommit) > timeout
}

// progress is Progress kept by the pipeline's goroutine and read by others.
type progress struct {
	lastCommit, pendingSince atomic.Int64 // unix nanoseconds; 0: none
}

func (p *progress) polled(now time.Time) {
	p.pendingSince.CompareAndSwap(0, now.UnixNano())
}

func (p *progress) committed(now time.Time) {
	p.lastCommit.Store(now.UnixNano())
	p.pendingSince.Store(0)
}

// Get returns the progress so far.
func (p *progress) Get() Progress {
	var pr Progress
	if n := p.lastCommit.Load(); n != 0 {
		pr.LastCommit = time.Unix(0, n)
	}
	if n := p.pendingSince.Load(); n != 0 {
		pr.PendingSince = time.Unix(0, n)
	}
	return pr
}

// Progress returns how far the pipeline these metrics belong to has got.
func (m *Metrics) Progress() Progress { return m.progress.Get() }
