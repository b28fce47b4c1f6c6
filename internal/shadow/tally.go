package shadow

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// Bounds of what a Tally keeps per subject and candidate version, so that
// its memory does not grow with the traffic or with what a hostile
// producer puts in field names.
const (
	// Buckets is how many one-minute buckets the recent counts span: the
	// longest window a report covers.
	Buckets = 60
	// MaxWindow is the longest window a report covers.
	MaxWindow = Buckets * time.Minute
	// SamplesPerOutcome is how many of the latest records of each outcome
	// are kept.
	SamplesPerOutcome = 10
	// MaxSampleBytes is how much of a sampled record's value is kept.
	MaxSampleBytes = 4 << 10
	// MaxSampleErrors is how many violations of each verdict a sample
	// keeps.
	MaxSampleErrors = 8
	// maxErrorKeys bounds the distinct (error type, field) pairs counted
	// per bucket, maxTotalErrorKeys since counting began; past them a
	// field is counted under OtherFields of its type.
	maxErrorKeys      = 64
	maxTotalErrorKeys = 256
	maxMessage        = 512
)

// OtherFields is the field of an ErrorCount that lumps the fields past the
// bound on distinct fields.
const OtherFields = "*"

// Options configure a Tally.
type Options struct {
	// Sample is the share of records evaluated in shadow, 0 to 1, picked
	// by Sampled. Default 0: none (the gateway passes shadow.sample, whose
	// default is 1).
	Sample float64
	// Registerer receives schema_shadow_verdicts_total. Default: a
	// private registry.
	Registerer prometheus.Registerer
	// Now is the clock of the buckets. Default time.Now.
	Now func() time.Time
}

// Observed is one committed record evaluated in shadow.
type Observed struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	Timestamp time.Time
	// Stored reports that the record has a row in the quarantine store
	// (its id opens it in the quarantine browser).
	Stored bool
	// Verdict is today's verdict, with the candidates' in Shadow.
	Verdict *record.Verdict
}

// Tally counts shadow verdicts. It is safe for concurrent use.
type Tally struct {
	sample  float64
	now     func() time.Time
	metric  *prometheus.CounterVec
	mu      sync.Mutex
	entries map[key]*entry
}

type key struct {
	subject string
	version int
}

type errKey struct {
	typ   record.ErrorType
	field string
}

// counts are the outcomes of a stretch of time, and the newly rejected
// records by error.
type counts struct {
	outcomes [4]int64
	rejected map[errKey]int64
}

func (c *counts) add(o Outcome, errs []record.Violation, limit int) {
	c.outcomes[o.index()]++
	if o != NewlyRejected {
		return
	}
	if c.rejected == nil {
		c.rejected = make(map[errKey]int64)
	}
	for i, e := range errs {
		k := errKey{e.Type, e.Field}
		if slices.ContainsFunc(errs[:i], func(p record.Violation) bool { return p.Type == e.Type && p.Field == e.Field }) {
			continue // a record counts once per error
		}
		if _, ok := c.rejected[k]; !ok && len(c.rejected) >= limit {
			k.field = OtherFields
		}
		c.rejected[k]++
	}
}

func (c *counts) merge(o *counts) {
	for i, n := range o.outcomes {
		c.outcomes[i] += n
	}
	for k, n := range o.rejected {
		if c.rejected == nil {
			c.rejected = make(map[errKey]int64)
		}
		c.rejected[k] += n
	}
}

type bucket struct {
	minute int64 // Unix minute it counts; 0 unused
	counts
}

type entry struct {
	since   time.Time
	total   counts
	buckets [Buckets]bucket
	samples [4][]Sample // per outcome, oldest first, at most SamplesPerOutcome
	metric  [4]prometheus.Counter
}

// New returns a Tally.
func New(opts Options) (*Tally, error) {
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	t := &Tally{
		sample: opts.Sample,
		now:    opts.Now,
		metric: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "schema_shadow_verdicts_total",
			Help: "Records evaluated against a schema version in shadow, by how its verdict compares with the enforced version's: agree_pass, agree_fail, newly_rejected (accepted today, the candidate would reject), newly_accepted.",
		}, []string{"subject", "version", "outcome"}),
		entries: make(map[key]*entry),
	}
	if err := opts.Registerer.Register(t.metric); err != nil {
		return nil, errors.Join(errors.New("registering the shadow metric"), err)
	}
	return t, nil
}

// Sampled reports whether the record at (topic, partition, offset) is
// evaluated in shadow: see the package function Sampled.
func (t *Tally) Sampled(topic string, partition int32, offset int64) bool {
	return Sampled(t.sample, topic, partition, offset)
}

// Record counts a committed batch's records evaluated in shadow.
func (t *Tally) Record(obs []Observed) {
	if len(obs) == 0 {
		return
	}
	now := t.now()
	minute := now.Unix() / 60
	t.mu.Lock()
	defer t.mu.Unlock()
	added := make(map[*entry]*[4]int64, 1)
	for i := range obs {
		ob := &obs[i]
		today := ob.Verdict.Valid()
		for j := range ob.Verdict.Shadow {
			sv := &ob.Verdict.Shadow[j]
			e := t.entry(key{sv.Subject, sv.Version}, now)
			o := Classify(today, sv.Valid())
			e.total.add(o, sv.Violations, maxTotalErrorKeys)
			b := &e.buckets[minute%Buckets]
			if b.minute != minute {
				b.minute, b.counts = minute, counts{}
			}
			b.add(o, sv.Violations, maxErrorKeys)
			n := added[e]
			if n == nil {
				n = new([4]int64)
				added[e] = n
			}
			n[o.index()]++
		}
	}
	for e, n := range added {
		for i, c := range n {
			if c > 0 {
				e.metric[i].Add(float64(c))
			}
		}
	}
	t.keepSamples(obs, now)
}

// keepSamples keeps the latest records of each outcome: only the batch's last
// SamplesPerOutcome of each can stay, so only those are copied.
func (t *Tally) keepSamples(obs []Observed, now time.Time) {
	type pick struct {
		e  *entry
		o  Outcome
		ob *Observed
		sv *record.ShadowVerdict
	}
	var picks []pick // newest first
	taken := make(map[*entry]*[4]int, 1)
	for i := len(obs) - 1; i >= 0; i-- {
		ob := &obs[i]
		for j := range ob.Verdict.Shadow {
			sv := &ob.Verdict.Shadow[j]
			e := t.entries[key{sv.Subject, sv.Version}]
			o := Classify(ob.Verdict.Valid(), sv.Valid())
			n := taken[e]
			if n == nil {
				n = new([4]int)
				taken[e] = n
			}
			if n[o.index()] < SamplesPerOutcome {
				n[o.index()]++
				picks = append(picks, pick{e, o, ob, sv})
			}
		}
	}
	for _, p := range slices.Backward(picks) {
		p.e.keep(p.o, p.ob, p.sv, now)
	}
}

// entry returns k's entry, made when missing. t.mu is held.
func (t *Tally) entry(k key, now time.Time) *entry {
	e, ok := t.entries[k]
	if !ok {
		e = &entry{since: now}
		v := strconv.Itoa(k.version)
		for i, o := range Outcomes {
			e.metric[i] = t.metric.WithLabelValues(k.subject, v, string(o))
		}
		t.entries[k] = e
	}
	return e
}

// keep adds ob to the samples of outcome o, dropping the oldest past
// SamplesPerOutcome.
func (e *entry) keep(o Outcome, ob *Observed, sv *record.ShadowVerdict, now time.Time) {
	s := &e.samples[o.index()]
	if len(*s) == SamplesPerOutcome {
		copy(*s, (*s)[1:])
		*s = (*s)[:SamplesPerOutcome-1]
	}
	value := ob.Value
	if len(value) > MaxSampleBytes {
		value = value[:MaxSampleBytes]
	}
	*s = append(*s, Sample{
		ID:        record.ID(ob.Topic, ob.Partition, ob.Offset),
		Topic:     ob.Topic,
		Partition: ob.Partition,
		Offset:    ob.Offset,
		Key:       clip(ob.Key),
		Timestamp: ob.Timestamp,
		At:        now,
		Stored:    ob.Stored,
		Enforced:  capErrors(ob.Verdict.Violations),
		Candidate: capErrors(sv.Violations),
		Value:     clone(value, ob.Value == nil),
		ValueSize: len(ob.Value),
	})
}

func clip(b []byte) []byte {
	if len(b) > MaxSampleBytes {
		b = b[:MaxSampleBytes]
	}
	return clone(b, b == nil)
}

// clone copies b: the batch's buffers are not the tally's to keep. A nil b
// stays nil when isNil (a tombstone, a record without a key).
func clone(b []byte, isNil bool) []byte {
	if isNil {
		return nil
	}
	return append([]byte{}, b...)
}

func capErrors(errs []record.Violation) []record.Violation {
	out := make([]record.Violation, min(len(errs), MaxSampleErrors))
	for i := range out {
		e := errs[i]
		e.Field, e.Message = record.Truncate(e.Field, maxMessage), record.Truncate(e.Message, maxMessage)
		out[i] = e
	}
	return out
}

// Track keeps the reports of subject's versions in shadow and drops the
// others': a version that leaves shadow (promoted, or stopped) and comes
// back starts counting afresh. The registry's resolver calls it after each
// load of subject.
func (t *Tally) Track(subject string, versions []int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.entries {
		if k.subject == subject && !slices.Contains(versions, k.version) {
			delete(t.entries, k)
		}
	}
}

// Report is what a Tally knows of one subject's version in shadow.
type Report struct {
	Subject string
	Version int
	// Since is when this gateway began counting the version: its first
	// record evaluated since the version entered shadow (or since start).
	Since time.Time
	// Window is the span of Recent, a whole number of minutes.
	Window time.Duration
	// Recent counts the records evaluated in the last Window, Total since
	// Since.
	Recent, Total Counts
	// Samples are the latest records of each outcome, newest first.
	Samples map[Outcome][]Sample
}

// Counts are the outcomes of the records evaluated over a stretch of time.
type Counts struct {
	AgreePass, AgreeFail, NewlyRejected, NewlyAccepted int64
	// NewlyRejectedBy counts the newly rejected records by each error the
	// candidate found (a record with several errors counts under each),
	// most first.
	NewlyRejectedBy []ErrorCount
}

// Seen is how many records were evaluated.
func (c Counts) Seen() int64 { return c.AgreePass + c.AgreeFail + c.NewlyRejected + c.NewlyAccepted }

// Count returns the records of outcome o.
func (c Counts) Count(o Outcome) int64 {
	return [4]int64{c.AgreePass, c.AgreeFail, c.NewlyRejected, c.NewlyAccepted}[o.index()]
}

// NewlyRejectedShare is the share of the records evaluated that the
// candidate would newly reject, 0 when none was evaluated.
func (c Counts) NewlyRejectedShare() float64 { return share(c.NewlyRejected, c.Seen()) }

// NewlyAcceptedShare is the share of the records evaluated that the
// candidate would newly accept, 0 when none was evaluated.
func (c Counts) NewlyAcceptedShare() float64 { return share(c.NewlyAccepted, c.Seen()) }

// ErrorCount is how many newly rejected records had an error of Type at
// Field ("" is the whole record; OtherFields lumps the fields past the
// bound on distinct ones).
type ErrorCount struct {
	Type    record.ErrorType
	Field   string
	Records int64
}

// Sample is one record evaluated in shadow, as kept in a report.
type Sample struct {
	// ID is the record's quarantine id, derived from its source
	// coordinates: with Stored, it opens the record in the quarantine
	// browser.
	ID        string
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte // at most MaxSampleBytes
	Timestamp time.Time
	// At is when its verdicts were counted.
	At     time.Time
	Stored bool
	// Enforced and Candidate are the two verdicts' violations (at most
	// MaxSampleErrors each; none: valid).
	Enforced, Candidate []record.Violation
	// Value is the record's value, its first MaxSampleBytes; nil for a
	// tombstone. ValueSize is its whole length.
	Value     []byte
	ValueSize int
}

// Report returns the reports of subject's versions this gateway has
// counted, newest version first, with Recent over the last window
// (rounded up to whole minutes, at most MaxWindow; 0 is MaxWindow).
func (t *Tally) Report(subject string, window time.Duration) []Report {
	if window <= 0 || window > MaxWindow {
		window = MaxWindow
	}
	minutes := int64((window + time.Minute - 1) / time.Minute)
	now := t.now().Unix() / 60
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Report
	for k, e := range t.entries {
		if k.subject != subject {
			continue
		}
		r := Report{
			Subject: k.subject, Version: k.version, Since: e.since, Window: time.Duration(minutes) * time.Minute,
			Total: e.total.export(), Samples: make(map[Outcome][]Sample, len(Outcomes)),
		}
		var recent counts
		for i := range e.buckets {
			if b := &e.buckets[i]; b.minute > now-minutes && b.minute <= now {
				recent.merge(&b.counts)
			}
		}
		r.Recent = recent.export()
		for i, o := range Outcomes {
			s := slices.Clone(e.samples[i])
			slices.Reverse(s)
			r.Samples[o] = s
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Report) int { return cmp.Compare(b.Version, a.Version) })
	return out
}

func (c *counts) export() Counts {
	out := Counts{AgreePass: c.outcomes[0], AgreeFail: c.outcomes[1], NewlyRejected: c.outcomes[2], NewlyAccepted: c.outcomes[3]}
	for k, n := range c.rejected {
		out.NewlyRejectedBy = append(out.NewlyRejectedBy, ErrorCount{Type: k.typ, Field: k.field, Records: n})
	}
	slices.SortFunc(out.NewlyRejectedBy, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(b.Records, a.Records), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Field, b.Field))
	})
	return out
}
