package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// Resolution is the Recorder's finest step: it reads the registry this
// often.
const Resolution = 10 * time.Second

// tiers are the Recorder's rings, one per step of Ranges: each keeps its
// step's last slots, enough for the longest range using it.
var tiers = []struct {
	step  time.Duration
	slots int
}{
	{Resolution, int(time.Hour / Resolution)},
	{time.Minute, 6 * 60},
	{5 * time.Minute, 24 * 12},
}

// RecorderOptions configure a Recorder.
type RecorderOptions struct {
	// Gatherer is the gateway's metrics registry. Required.
	Gatherer prometheus.Gatherer
	// MaxTopics bounds the input topics kept (memory is about 170 KB a
	// topic); topics seen after that many are left out, with a warning.
	// Default 64.
	MaxTopics int
	// Logger receives read errors. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now; tests set it.
	Now func() time.Time
}

// Recorder is this process's own history: every Resolution it reads the
// registry (the metrics /metrics exports) and adds what changed since the
// last read to a ring of slots per input topic and step. Its memory is
// fixed whatever the uptime: a ring overwrites its oldest slot. It is safe
// for concurrent use.
type Recorder struct {
	opts RecorderOptions

	mu     sync.Mutex
	prev   map[string]*counters // the last read, by topic
	prevAt time.Time
	// lastMid is the middle of the last interval recorded: the slots it
	// falls in are the newest with data.
	lastMid time.Time
	topics  map[string]*topicRings
	warned  bool
}

// counters is one topic's counters at one read.
type counters struct {
	processed, valid float64
	invalid          [numErrorTypes]float64
	other            float64 // invalid records of an unknown error type
	lag              float64
	hasLag           bool
}

// slot is one step of one topic.
type slot struct {
	start     int64   // Unix seconds; 0 when the slot holds nothing yet
	secs      float64 // seconds of reads added
	processed float64
	valid     float64
	invalid   [numErrorTypes]float64
	other     float64
	lag       float64 // the highest read
	hasLag    bool
}

func (s *slot) invalidTotal() float64 {
	n := s.other
	for _, v := range s.invalid {
		n += v
	}
	return n
}

type ring struct {
	step  int64 // seconds
	slots []slot
}

// at returns the slot of the step starting at start, or nil when the ring
// holds another step there.
func (r *ring) at(start int64) *slot {
	s := &r.slots[(start/r.step)%int64(len(r.slots))]
	if s.start != start {
		return nil
	}
	return s
}

// take returns the slot of the step starting at start, emptied first when
// it held an older step.
func (r *ring) take(start int64) *slot {
	s := &r.slots[(start/r.step)%int64(len(r.slots))]
	if s.start != start {
		*s = slot{start: start}
	}
	return s
}

type topicRings []ring

func newTopicRings() topicRings {
	rs := make(topicRings, len(tiers))
	for i, t := range tiers {
		rs[i] = ring{step: int64(t.step / time.Second), slots: make([]slot, t.slots)}
	}
	return rs
}

func (rs topicRings) ring(step time.Duration) *ring {
	for i := range rs {
		if rs[i].step == int64(step/time.Second) {
			return &rs[i]
		}
	}
	return nil
}

// NewRecorder returns a Recorder; it records once Run runs (or Sample is
// called).
func NewRecorder(opts RecorderOptions) (*Recorder, error) {
	if opts.Gatherer == nil {
		return nil, errors.New("live: RecorderOptions.Gatherer is required")
	}
	if opts.MaxTopics <= 0 {
		opts.MaxTopics = 64
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Recorder{opts: opts, prev: map[string]*counters{}, topics: map[string]*topicRings{}}, nil
}

// Run samples now and then at every multiple of Resolution until ctx ends.
// A failed read is logged and the next one tried.
func (r *Recorder) Run(ctx context.Context) error {
	for {
		if err := r.Sample(); err != nil {
			r.opts.Logger.ErrorContext(ctx, "recording the dashboard's history", "err", err)
		}
		now := time.Now()
		// A little past the boundary, so that a read and the step it
		// closes agree whatever the timer's jitter.
		next := now.Truncate(Resolution).Add(Resolution + 50*time.Millisecond)
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Sample reads the registry and records what changed since the last read,
// in the slots of the middle of the interval between them. The first read
// only records the lag: rates need two.
func (r *Recorder) Sample() error {
	mfs, err := r.opts.Gatherer.Gather()
	if err != nil {
		return fmt.Errorf("gathering metrics: %w", err)
	}
	now := r.opts.Now()
	cur := readTopics(mfs)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.prevAt.IsZero() && !now.After(r.prevAt) {
		return nil // the clock went back, or twice in one instant: nothing to add
	}
	secs := 0.0
	mid := now
	if !r.prevAt.IsZero() {
		secs = now.Sub(r.prevAt).Seconds()
		mid = r.prevAt.Add(now.Sub(r.prevAt) / 2)
	}
	for topic, c := range cur {
		rings := r.rings(topic)
		if rings == nil {
			continue
		}
		var d counters
		if !r.prevAt.IsZero() {
			p := r.prev[topic]
			if p == nil {
				p = &counters{} // the topic's first records came since the last read
			}
			d = delta(p, c)
		}
		for i := range *rings {
			rg := &(*rings)[i]
			s := rg.take(mid.Unix() / rg.step * rg.step)
			s.secs += secs
			s.processed += d.processed
			s.valid += d.valid
			s.other += d.other
			for j, v := range d.invalid {
				s.invalid[j] += v
			}
			if c.hasLag {
				s.lag = math.Max(s.lag, c.lag)
				s.hasLag = true
			}
		}
	}
	r.prev, r.prevAt, r.lastMid = cur, now, mid
	return nil
}

// rings returns topic's rings, made on first use, or nil past MaxTopics.
func (r *Recorder) rings(topic string) *topicRings {
	if rs, ok := r.topics[topic]; ok {
		return rs
	}
	if len(r.topics) >= r.opts.MaxTopics {
		if !r.warned {
			r.opts.Logger.Warn("the dashboard's history keeps no more topics", "max_topics", r.opts.MaxTopics, "topic", topic)
			r.warned = true
		}
		return nil
	}
	rs := newTopicRings()
	r.topics[topic] = &rs
	return &rs
}

// delta is what the counters of c added since p. A counter lower than
// before was reset (a restart of the registry): all of it is new, as
// PromQL's increase() takes it.
func delta(p, c *counters) counters {
	inc := func(a, b float64) float64 {
		if b < a {
			return b
		}
		return b - a
	}
	d := counters{processed: inc(p.processed, c.processed), valid: inc(p.valid, c.valid), other: inc(p.other, c.other)}
	for i := range d.invalid {
		d.invalid[i] = inc(p.invalid[i], c.invalid[i])
	}
	return d
}

// readTopics sums the pipeline's counters and the consumer lag by input
// topic.
func readTopics(mfs []*dto.MetricFamily) map[string]*counters {
	out := map[string]*counters{}
	get := func(topic string) *counters {
		c, ok := out[topic]
		if !ok {
			c = &counters{}
			out[topic] = c
		}
		return c
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case metricProcessed:
				get(label(m, "topic")).processed += m.GetCounter().GetValue()
			case metricValid:
				get(label(m, "topic")).valid += m.GetCounter().GetValue()
			case metricInvalid:
				c := get(label(m, "topic"))
				if i, ok := errorTypeIndex[record.ErrorType(label(m, "error_type"))]; ok {
					c.invalid[i] += m.GetCounter().GetValue()
				} else {
					c.other += m.GetCounter().GetValue()
				}
			case metricLag:
				c := get(label(m, "topic"))
				c.lag += m.GetGauge().GetValue()
				c.hasLag = true
			}
		}
	}
	return out
}

// History implements HistorySource: the points of q.Range up to the newest
// step recorded (or up to now, when recording stalled).
func (r *Recorder) History(_ context.Context, q Query) (History, error) {
	step := int64(q.Range.Step / time.Second)
	n := q.Range.Points()
	if step <= 0 || n <= 0 || newTopicRings().ring(q.Range.Step) == nil {
		return History{}, fmt.Errorf("live: no history at a %s step", q.Range.Step)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	last := r.opts.Now().Unix()/step*step - step // the newest complete step
	if !r.lastMid.IsZero() {
		last = max(last, r.lastMid.Unix()/step*step)
	}
	h := History{
		Source: "memory", Range: q.Range.Name, StepSeconds: float64(step), Topic: q.Topic,
		Topics: make([]string, 0, len(r.topics)), Times: make([]int64, n),
		Valid: nan(n), Invalid: nan(n), InvalidShare: nan(n), Lag: nan(n),
		InvalidByErrorType: []TypeSeries{},
	}
	for t := range r.topics {
		h.Topics = append(h.Topics, t)
	}
	sort.Strings(h.Topics)
	var selected []*ring
	for _, t := range h.Topics {
		if q.Topic == "" || q.Topic == t {
			selected = append(selected, r.topics[t].ring(q.Range.Step))
		}
	}
	byType := make([]Points, numErrorTypes)
	totals := make([]float64, numErrorTypes)
	for i := range n {
		start := last - int64(n-1-i)*step
		h.Times[i] = start
		var sum slot
		found := false
		for _, rg := range selected {
			s := rg.at(start)
			if s == nil {
				continue
			}
			found = true
			sum.secs = math.Max(sum.secs, s.secs)
			sum.processed += s.processed
			sum.valid += s.valid
			sum.other += s.other
			for j, v := range s.invalid {
				sum.invalid[j] += v
			}
			if s.hasLag {
				sum.lag += s.lag
				sum.hasLag = true
			}
		}
		if !found {
			continue
		}
		if sum.hasLag {
			h.Lag[i] = sum.lag
		}
		if sum.secs == 0 {
			continue // only the first read: a lag, no rate yet
		}
		invalid := sum.invalidTotal()
		h.Valid[i] = sum.valid / sum.secs
		h.Invalid[i] = invalid / sum.secs
		if sum.processed > 0 {
			h.InvalidShare[i] = invalid / sum.processed
		}
		for j, v := range sum.invalid {
			if byType[j] == nil {
				byType[j] = nan(n)
			}
			byType[j][i] = v / sum.secs
			totals[j] += v
		}
	}
	for j, t := range record.ErrorTypes {
		if totals[j] > 0 {
			h.InvalidByErrorType = append(h.InvalidByErrorType, TypeSeries{Type: t, PerSecond: byType[j]})
		}
	}
	sort.SliceStable(h.InvalidByErrorType, func(a, b int) bool {
		return totals[errorTypeIndex[h.InvalidByErrorType[a].Type]] > totals[errorTypeIndex[h.InvalidByErrorType[b].Type]]
	})
	return h, nil
}
