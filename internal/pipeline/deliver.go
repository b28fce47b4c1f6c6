package pipeline

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/retry"
)

// deliver makes a routed batch durable: every output record produced and
// acknowledged, and the quarantined records' payloads and rows written, the
// stores and Kafka in parallel, each retried until durable or until ctx
// ends. A record the broker refuses for what it is takes a detour
// (detour.go) and is delivered again along its new route. When ctx ends
// first, the outputs already acknowledged are remembered (markDelivered),
// so a released batch, polled again, does not produce them twice.
func (p *Pipeline) deliver(ctx context.Context, b *batch) error {
	todo := p.detours.undelivered(b)
	written := 0
	for {
		var wg sync.WaitGroup
		var storeErr error
		if from := written; len(b.entries) > from {
			wg.Go(func() { storeErr = p.writeQuarantine(ctx, b.entries[from:], b.payloads[from:]) })
		}
		rejected, unacked, produceErr := p.produce(ctx, todo)
		wg.Wait()
		if err := errors.Join(produceErr, storeErr); err != nil {
			for _, r := range rejected { // not delivered either: their detour is decided when the batch comes back
				unacked = append(unacked, r.rec)
			}
			p.detours.markDelivered(b, unacked)
			return err
		}
		written = len(b.entries)
		if len(rejected) == 0 {
			return nil
		}
		again := p.detour(b, rejected)
		if len(again) == 0 {
			return nil
		}
		todo = b.outPointers(again)
	}
}

// produce sends recs and waits for their acknowledgements, producing the
// failed ones again, with back-off, until none fails for the broker's state
// (an outage, a leader moving). It returns the records the broker refused
// for what they are (too large, malformed), which producing again cannot
// fix, and, when ctx ends first, the records still unacknowledged.
func (p *Pipeline) produce(ctx context.Context, recs []*kgo.Record) (rejected []rejection, unacked []*kgo.Record, err error) {
	if len(recs) == 0 {
		return nil, nil, nil
	}
	start := time.Now()
	defer func() { p.m.writes.WithLabelValues("kafka_produce").Observe(time.Since(start).Seconds()) }()
	pending := recs
	err = p.retry(ctx, "kafka_produce", p.m.storeErrors, func() error {
		var failed []*kgo.Record
		var refused []rejection
		var first error
		for _, r := range p.cl.ProduceSync(ctx, pending...) {
			switch {
			case r.Err == nil:
			case retry.RecordRejected(r.Err):
				refused = append(refused, rejection{r.Record, r.Err})
			default:
				failed = append(failed, r.Record)
				first = cmp.Or(first, r.Err)
			}
		}
		if len(refused) > 1 {
			var more []*kgo.Record
			var err error
			refused, more, err = p.isolate(ctx, refused)
			failed = append(failed, more...)
			first = cmp.Or(first, err)
		}
		rejected = append(rejected, refused...)
		if len(failed) == 0 {
			return nil
		}
		n := len(pending)
		pending = failed
		return fmt.Errorf("%d of %d records not acknowledged: %w", len(failed), n, first)
	})
	if err != nil {
		return rejected, pending, err
	}
	return rejected, nil, nil
}

// isolate produces each of several refused records on its own: a broker
// refuses the whole batch a bad record travels in (and franz-go fails the
// records queued behind it in the partition with the same error), so only
// the records it refuses alone are rejected. It returns those, and the
// records that failed for another reason (to retry) with the first such
// error.
func (p *Pipeline) isolate(ctx context.Context, refused []rejection) (rejected []rejection, failed []*kgo.Record, first error) {
	for _, r := range refused {
		err := p.cl.ProduceSync(ctx, r.rec).FirstErr()
		switch {
		case err == nil:
		case retry.RecordRejected(err):
			rejected = append(rejected, rejection{r.rec, err})
		default:
			failed = append(failed, r.rec)
			first = cmp.Or(first, err)
		}
	}
	return rejected, failed, first
}

// writeQuarantine writes payloads as one segment named after their ids,
// then the metadata rows (entries, in the same order) pointing into it, each
// retried until durable.
func (p *Pipeline) writeQuarantine(ctx context.Context, entries []quarantine.Entry, payloads []quarantine.Payload) error {
	return p.writeSegment(ctx, segmentName(entries), entries, payloads)
}

// writeSegment is writeQuarantine with the segment's name given.
func (p *Pipeline) writeSegment(ctx context.Context, name string, entries []quarantine.Entry, payloads []quarantine.Payload) error {
	var refs []quarantine.PayloadRef
	start := time.Now()
	err := p.retry(ctx, "payloads", p.m.storeErrors, func() (err error) {
		refs, err = p.opts.Payloads.WriteSegment(ctx, name, payloads)
		return err
	})
	if err != nil {
		return err
	}
	p.m.writes.WithLabelValues("payloads").Observe(time.Since(start).Seconds())
	for i := range entries {
		entries[i].Payload = refs[i]
	}
	start = time.Now()
	err = p.retry(ctx, "metadata", p.m.storeErrors, func() error {
		return p.opts.Metadata.Insert(ctx, entries)
	})
	if err == nil {
		p.m.writes.WithLabelValues("metadata").Observe(time.Since(start).Seconds())
	}
	return err
}

// segmentName derives the segment name from the ids it holds, so a
// redelivered batch rewrites the same segment with the same bytes instead of
// leaving a second copy that rows could point at.
func segmentName(entries []quarantine.Entry) string {
	h := sha256.New()
	for i := range entries {
		h.Write([]byte(entries[i].ID))
	}
	var sum [sha256.Size]byte
	return "seg-" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}
