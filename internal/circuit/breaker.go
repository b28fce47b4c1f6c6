package circuit

import (
	"sync"
	"time"
)

// State is a breaker's state. The numeric values are exported as the
// circuit_state metric.
type State int

// States.
const (
	Closed   State = 0 // consuming
	Open     State = 1 // paused: too many invalid records
	HalfOpen State = 2 // consuming again, probing whether the flood is over
)

func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half_open"
	}
	return "unknown"
}

// Options configure a Breaker.
type Options struct {
	// Threshold is the invalid share (0..1) above which the breaker trips.
	// Default 0.5.
	Threshold float64
	// Window is the sliding window the share is measured over. Default 5m.
	Window time.Duration
	// MinRecords is how many records the window must hold before the
	// breaker may trip (and, half-open, before it decides). Default 100.
	MinRecords int64
	// Cooldown is how long an open breaker waits before half-opening by
	// itself; 0 means only an operator resumes it. Default 0.
	Cooldown time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// buckets the window is divided into: the window slides in steps of
// Window/buckets.
const buckets = 30

type bucket struct {
	start          time.Time
	valid, invalid int64
}

// Breaker is one topic's breaker. It is safe for concurrent use.
type Breaker struct {
	opts Options

	mu       sync.Mutex
	state    State
	ring     [buckets]bucket
	openedAt time.Time
	// graceUntil: after an operator's resume the breaker does not trip for
	// one window, so the backlog the flood left behind is processed (and
	// quarantined) instead of tripping it again at once.
	graceUntil time.Time
}

// New returns a closed Breaker.
func New(opts Options) *Breaker {
	if opts.Threshold <= 0 || opts.Threshold > 1 {
		opts.Threshold = 0.5
	}
	if opts.Window <= 0 {
		opts.Window = 5 * time.Minute
	}
	if opts.MinRecords <= 0 {
		opts.MinRecords = 100
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Breaker{opts: opts}
}

// Record adds a batch's counts and returns the state after them and
// whether it changed. Counts reaching an open breaker (records fetched
// before the pause) do not count: the flood is already known.
func (b *Breaker) Record(valid, invalid int64) (State, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.opts.Now()
	if b.state == Open {
		return b.state, b.maybeHalfOpen(now)
	}
	step := b.opts.Window / buckets
	slot := &b.ring[int(now.UnixNano()/int64(step))%buckets]
	if start := now.Truncate(step); !slot.start.Equal(start) {
		*slot = bucket{start: start}
	}
	slot.valid += valid
	slot.invalid += invalid

	v, inv := b.totals(now)
	if v+inv < b.opts.MinRecords || now.Before(b.graceUntil) {
		return b.state, false
	}
	flooded := float64(inv) > b.opts.Threshold*float64(v+inv)
	switch {
	case flooded:
		b.trip(now)
		return Open, true
	case b.state == HalfOpen:
		// The probe saw enough good records: the flood is over.
		b.state = Closed
		return Closed, true
	}
	return b.state, false
}

// totals sums the buckets still inside the window.
func (b *Breaker) totals(now time.Time) (valid, invalid int64) {
	oldest := now.Add(-b.opts.Window)
	for i := range b.ring {
		if b.ring[i].start.After(oldest) {
			valid += b.ring[i].valid
			invalid += b.ring[i].invalid
		}
	}
	return valid, invalid
}

func (b *Breaker) trip(now time.Time) {
	b.state, b.openedAt = Open, now
	b.ring = [buckets]bucket{}
}

// Tick half-opens an open breaker whose cooldown has passed; it returns
// whether the state changed. Call it periodically.
func (b *Breaker) Tick() (State, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state, b.maybeHalfOpen(b.opts.Now())
}

func (b *Breaker) maybeHalfOpen(now time.Time) bool {
	if b.state != Open || b.opts.Cooldown <= 0 || now.Sub(b.openedAt) < b.opts.Cooldown {
		return false
	}
	b.state = HalfOpen
	b.ring = [buckets]bucket{}
	return true
}

// Resume closes the breaker at an operator's request, forgetting the
// window, and does not let it trip again for one window: the operator has
// seen the flood, and what it left in the topic should now flow (into
// quarantine). It returns whether the state changed.
func (b *Breaker) Resume() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	changed := b.state != Closed
	b.state = Closed
	b.ring = [buckets]bucket{}
	b.graceUntil = b.opts.Now().Add(b.opts.Window)
	return changed
}

// Snapshot is a breaker's state for the API.
type Snapshot struct {
	State State
	// OpenedAt is when it last tripped; zero if it never did.
	OpenedAt time.Time
	// Valid and Invalid are the counts in the current window.
	Valid, Invalid int64
}

// Snapshot returns the breaker's state.
func (b *Breaker) Snapshot() Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, inv := b.totals(b.opts.Now())
	return Snapshot{State: b.state, OpenedAt: b.openedAt, Valid: v, Invalid: inv}
}
