package pipeline

import (
	"context"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema/wire"
)

// batch is one poll's records on their walk through the pipeline. Index i
// is the same record in every slice: recs[i] was consumed, verdicts[i]
// judged it, out[i] is what it becomes (a clean or a DLQ record).
type batch struct {
	recs     []*kgo.Record
	verdicts []record.Verdict
	out      []kgo.Record
	// quarantined lists the indexes of records stored in quarantine
	// (quarantined, or observed with a row), and entries and payloads
	// their metadata rows and payloads, in the same order.
	quarantined []int
	entries     []quarantine.Entry
	payloads    []quarantine.Payload
	// now stamps the batch's quarantined records (nowText: as their
	// dq.quarantined.at header); started times the walk.
	now, started time.Time
	nowText      []byte
}

// newBatch returns a batch for recs, reusing the storage of the previous
// one when it is large enough.
func (p *Pipeline) newBatch(recs []*kgo.Record) *batch {
	b := p.spare
	p.spare = nil
	n := len(recs)
	if b == nil || cap(b.verdicts) < n {
		b = &batch{verdicts: make([]record.Verdict, n), out: make([]kgo.Record, n)}
	}
	b.recs = recs
	b.verdicts, b.out = b.verdicts[:n], b.out[:n]
	b.quarantined, b.entries, b.payloads = b.quarantined[:0], b.entries[:0], b.payloads[:0]
	b.started = time.Now()
	b.now = p.opts.Now().UTC()
	b.nowText = b.now.AppendFormat(b.nowText[:0:0], time.RFC3339Nano)
	return b
}

// outPointers returns pointers to the output records at idx (all of them
// when idx is nil), for producing.
func (b *batch) outPointers(idx []int) []*kgo.Record {
	if idx == nil {
		ptrs := make([]*kgo.Record, len(b.out))
		for i := range b.out {
			ptrs[i] = &b.out[i]
		}
		return ptrs
	}
	ptrs := make([]*kgo.Record, len(idx))
	for j, i := range idx {
		ptrs[j] = &b.out[i]
	}
	return ptrs
}

// positions maps each output record to its index: one pass, so finding
// every record of a flood the broker refused costs the batch's length, not
// its square.
func (b *batch) positions() map[*kgo.Record]int {
	pos := make(map[*kgo.Record]int, len(b.out))
	for i := range b.out {
		pos[&b.out[i]] = i
	}
	return pos
}

// minPerValidator is the fewest records worth a validating goroutine of
// their own.
const minPerValidator = 256

// validateAll fills b.verdicts, on as many goroutines as there are CPUs
// (for batches big enough): a record's verdict depends on the record alone,
// and routing, which follows, runs in order, so the order per partition is
// kept. An error is operational (ctx ended while a schema lookup was being
// retried).
func (p *Pipeline) validateAll(ctx context.Context, b *batch) error {
	workers := min(runtime.GOMAXPROCS(0), len(b.recs)/minPerValidator)
	if workers <= 1 {
		for i, kr := range b.recs {
			if err := p.validate(ctx, kr, &b.verdicts[i], p.observer(kr.Topic)); err != nil {
				return err
			}
		}
		return nil
	}
	// Observers are looked up here, once per run of a topic (a batch holds
	// runs of one topic's records): the goroutines share no map.
	observers := make([]prometheus.Observer, len(b.recs))
	prev, o := "", prometheus.Observer(nil)
	for i, kr := range b.recs {
		if kr.Topic != prev {
			prev, o = kr.Topic, p.observer(kr.Topic)
		}
		observers[i] = o
	}
	errs := make(chan error, workers)
	chunk := (len(b.recs) + workers - 1) / workers
	for lo := 0; lo < len(b.recs); lo += chunk {
		go func(lo, hi int) {
			for i := lo; i < hi; i++ {
				if err := p.validate(ctx, b.recs[i], &b.verdicts[i], observers[i]); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(lo, min(lo+chunk, len(b.recs)))
	}
	var first error
	for lo := 0; lo < len(b.recs); lo += chunk {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// validate runs the engine on one record, retrying operational failures (a
// resolver that cannot reach its backend): an outage must never quarantine
// a record.
func (p *Pipeline) validate(ctx context.Context, kr *kgo.Record, v *record.Verdict, o prometheus.Observer) error {
	rec := record.Record{
		Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset,
		Key: kr.Key, Value: kr.Value, Timestamp: kr.Timestamp,
	}
	// The one header validation reads; copied only when present, so
	// records without it cost nothing.
	for _, h := range kr.Headers {
		if h.Key == wire.ValueSchemaIDHeader {
			rec.Headers = append(rec.Headers, record.Header{Key: h.Key, Value: h.Value})
		}
	}
	return p.retry(ctx, "schema_resolver", p.m.resolveErrors, func() error {
		start := time.Now()
		err := p.judge(ctx, &rec, v)
		o.Observe(time.Since(start).Seconds())
		return err
	})
}

func (p *Pipeline) observer(topic string) prometheus.Observer {
	o, ok := p.observers[topic]
	if !ok {
		o = p.m.duration.WithLabelValues(topic)
		p.observers[topic] = o
	}
	return o
}

// route fills b.out[i] with what record i becomes: for a valid record, the
// record as received (key, value, timestamp, its headers with any dq.* ones
// moved under dq.original.) bound for the clean topic; for an invalid one,
// the same with the gateway's dq.* headers bound for the DLQ, its payload
// and metadata row queued for the stores. An invalid record of an input in
// observe mode goes to the clean topic too, marked (observe.go). A detour
// the broker forced on the record earlier (detour.go) decides first.
func (p *Pipeline) route(b *batch, i int) {
	kr, v := b.recs[i], &b.verdicts[i]
	d, detoured := p.detours.of(kr)
	refused := detoured && d.rejected != nil // by the clean topic
	if refused && (v.Valid() || p.opts.Observe[kr.Topic]) {
		v.Violations = append(v.Violations, *d.rejected)
	}
	b.out[i] = kgo.Record{
		Key:       kr.Key,
		Value:     kr.Value,
		Headers:   outgoingHeaders(kr.Headers),
		Timestamp: kr.Timestamp,
		// SourcePartitioner keeps the source partition (mod the count).
		Partition: kr.Partition,
	}
	out := &b.out[i]
	if v.Valid() || (p.opts.Observe[kr.Topic] && !refused) {
		out.Topic = p.opts.CleanTopic
		if v.FallbackFrom != 0 {
			// Labelled so consumers know the record is of an older
			// version than the enforced one.
			out.Headers = append(out.Headers[:len(out.Headers):len(out.Headers)],
				kgo.RecordHeader{Key: HeaderSchemaSubject, Value: []byte(v.Subject)},
				kgo.RecordHeader{Key: HeaderSchemaVersion, Value: []byte(strconv.Itoa(v.Version))},
			)
		}
		if !v.Valid() {
			p.markObserved(b, i)
		}
		return
	}
	out.Topic = p.opts.DLQTopic
	id := record.ID(kr.Topic, kr.Partition, kr.Offset)
	out.Headers = appendDLQHeaders(out.Headers[:len(out.Headers):len(out.Headers)], kr, v, id, b.nowText)
	out.Headers = p.opts.DLQCompat.appendTo(out.Headers, kr, v)
	if detoured && d.omit > 0 {
		omit(out, d.omit, d.cause, p.opts.DLQCompat.written)
	}
	b.store(i, id, quarantine.StatusQuarantined)
}

// store queues record i's payload and metadata row, in status, for the
// quarantine stores.
func (b *batch) store(i int, id string, status quarantine.Status) {
	kr, v := b.recs[i], &b.verdicts[i]
	headers := make([]record.Header, len(kr.Headers))
	for j, kh := range kr.Headers {
		headers[j] = record.Header{Key: kh.Key, Value: kh.Value}
	}
	primary := v.Primary()
	b.quarantined = append(b.quarantined, i)
	b.payloads = append(b.payloads, quarantine.Payload{Value: kr.Value, Headers: headers})
	b.entries = append(b.entries, quarantine.Entry{
		ID:              id,
		SourceTopic:     kr.Topic,
		SourcePartition: kr.Partition,
		SourceOffset:    kr.Offset,
		Key:             kr.Key,
		Timestamp:       kr.Timestamp,
		QuarantinedAt:   b.now,
		Subject:         v.Subject,
		SchemaVersion:   v.Version,
		ErrorType:       primary.Type,
		ErrorField:      primary.Field,
		Errors:          append([]record.Violation(nil), v.Violations...),
		PayloadSize:     len(kr.Value),
		Status:          status,
	})
}

// appendDLQHeaders appends the gateway's headers on a quarantined record
// (PRODUCT.md §8) to h, the record's own; at is the quarantine time,
// formatted once per batch.
func appendDLQHeaders(h []kgo.RecordHeader, kr *kgo.Record, v *record.Verdict, id string, at []byte) []kgo.RecordHeader {
	primary := v.Primary()
	h = slices.Grow(h, dlqHeaderCount)
	h = append(h,
		kgo.RecordHeader{Key: HeaderErrorType, Value: []byte(primary.Type)},
		kgo.RecordHeader{Key: HeaderErrorField, Value: []byte(record.Truncate(primary.Field, maxHeaderText))},
		kgo.RecordHeader{Key: HeaderErrorMessage, Value: []byte(record.Truncate(primary.Message, maxHeaderText))},
		kgo.RecordHeader{Key: HeaderErrors, Value: errorsHeader(v.Violations)},
		kgo.RecordHeader{Key: HeaderSchemaSubject, Value: []byte(v.Subject)},
		kgo.RecordHeader{Key: HeaderSchemaVersion, Value: []byte(strconv.Itoa(v.Version))},
		kgo.RecordHeader{Key: HeaderSourceTopic, Value: []byte(kr.Topic)},
		kgo.RecordHeader{Key: HeaderSourcePartition, Value: []byte(strconv.FormatInt(int64(kr.Partition), 10))},
		kgo.RecordHeader{Key: HeaderSourceOffset, Value: []byte(strconv.FormatInt(kr.Offset, 10))},
		kgo.RecordHeader{Key: HeaderQuarantineID, Value: []byte(id)},
		kgo.RecordHeader{Key: HeaderQuarantinedAt, Value: at},
	)
	if len(v.Violations) > maxHeaderErrors {
		h = append(h, kgo.RecordHeader{Key: HeaderErrorsTotal, Value: []byte(strconv.Itoa(len(v.Violations)))})
	}
	return h
}

// dlqHeaderCount is the most headers appendDLQHeaders and a detour add.
const dlqHeaderCount = 13

// count adds a committed batch's verdicts to the metrics and the circuit
// breaker. Counting the final verdicts (a record the clean topic refused
// counts as quarantined) at commit, never before, keeps an aborted or
// released batch from being counted twice.
func (p *Pipeline) count(b *batch) {
	type key struct {
		topic, subject string
		errorType      record.ErrorType // "" for valid
	}
	type fallback struct {
		subject  string
		from, to int
	}
	type rule struct{ subject, name string }
	counts := make(map[key]int64, 4)
	var fallbacks map[fallback]int64
	var rules map[rule]int64
	for i := range b.verdicts {
		v := &b.verdicts[i]
		if v.Valid() {
			counts[key{b.recs[i].Topic, v.Subject, ""}]++
			if v.FallbackFrom != 0 {
				if fallbacks == nil {
					fallbacks = make(map[fallback]int64)
				}
				fallbacks[fallback{v.Subject, v.FallbackFrom, v.Version}]++
			}
			continue
		}
		counts[key{b.recs[i].Topic, v.Subject, v.Primary().Type}]++
		for _, e := range v.Violations {
			if e.Type == record.RuleViolation {
				if rules == nil {
					rules = make(map[rule]int64)
				}
				rules[rule{v.Subject, e.Keyword}]++
			}
		}
	}
	type vi struct{ valid, invalid int64 }
	byTopic := make(map[string]vi, 1)
	for k, n := range counts {
		p.m.processed.WithLabelValues(k.topic, k.subject).Add(float64(n))
		c := byTopic[k.topic]
		if k.errorType == "" {
			p.m.valid.WithLabelValues(k.topic, k.subject).Add(float64(n))
			c.valid += n
		} else {
			p.m.invalid.WithLabelValues(k.topic, k.subject, string(k.errorType)).Add(float64(n))
			c.invalid += n
		}
		byTopic[k.topic] = c
	}
	for k, n := range rules {
		p.m.rules.WithLabelValues(k.subject, k.name).Add(float64(n))
	}
	for k, n := range fallbacks {
		p.m.fallbacks.WithLabelValues(k.subject, strconv.Itoa(k.from), strconv.Itoa(k.to)).Add(float64(n))
	}
	if p.opts.Circuit != nil {
		for topic, c := range byTopic {
			p.opts.Circuit.Record(topic, c.valid, c.invalid)
		}
	}
	p.countShadow(b)
}
