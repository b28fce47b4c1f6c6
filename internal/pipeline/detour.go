package pipeline

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// A record can pass validation and still be one the broker refuses: bigger
// than the output topic's max.message.bytes (the input topic, or a producer
// that bypassed the limit, let it in), or an INVALID_RECORD or timestamp the
// output topic's settings refuse. Retrying it would stall its partition
// forever, so a refused record takes a detour instead:
//
//   - a clean-topic record the broker refuses is quarantined, with a
//     PAYLOAD_TOO_LARGE violation (size) or a SCHEMA_VIOLATION naming the
//     broker's error;
//   - a DLQ record the broker refuses is sent again with less of itself:
//     without its value, then without its key, then without its own headers
//     (only the gateway's dq.* remain), dq.payload.omitted saying what was
//     left out. The payload store keeps the whole record either way.
//
// Detours are kept by the record's source coordinates until its batch
// commits, so a batch redelivered after an aborted transaction (exactly-once
// mode) routes the record the same way the second time.

// omission levels of a DLQ record.
const (
	omitValue   = 1
	omitKey     = 2
	omitHeaders = 3
)

type coord struct {
	topic     string
	partition int32
	offset    int64
}

type detour struct {
	// delivered: the record's output was acknowledged before its batch was
	// released; it is not produced again when the batch comes back (its
	// quarantine writes, idempotent, are made again).
	delivered bool
	// rejected, when set, is the violation that quarantines a valid
	// record the clean topic refused.
	rejected *record.Violation
	// omit is how much of the DLQ record to leave out (omitValue...), and
	// cause the broker's refusal that made it so.
	omit  int
	cause error
	at    time.Time
}

// detours holds the detours of records not yet committed.
type detours struct {
	m map[coord]detour
	// sweptAt is when forget last looked for forgotten detours: it looks
	// once a minute, not on every batch (the map can hold whole released
	// batches).
	sweptAt time.Time
}

// detourTTL is how long a detour is kept for a batch that does not come
// back (it went to another member after a rebalance).
const detourTTL = time.Hour

func newDetours() detours { return detours{m: make(map[coord]detour)} }

func (ds *detours) of(kr *kgo.Record) (detour, bool) {
	if len(ds.m) == 0 {
		return detour{}, false
	}
	d, ok := ds.m[coord{kr.Topic, kr.Partition, kr.Offset}]
	return d, ok
}

// forget drops the detours of a committed batch, and any older than
// detourTTL.
func (ds *detours) forget(b *batch, now time.Time) {
	if len(ds.m) == 0 {
		return
	}
	for _, kr := range b.recs {
		delete(ds.m, coord{kr.Topic, kr.Partition, kr.Offset})
	}
	if now.Sub(ds.sweptAt) < time.Minute {
		return
	}
	ds.sweptAt = now
	old := now.Add(-detourTTL)
	for c, d := range ds.m {
		if d.at.Before(old) {
			delete(ds.m, c)
		}
	}
}

// markDelivered remembers which of a batch's outputs were acknowledged
// (all but unacked) when the batch could not be finished, so that the batch,
// polled again after its release, does not produce them twice.
func (ds *detours) markDelivered(b *batch, unacked []*kgo.Record) {
	pending := make(map[*kgo.Record]bool, len(unacked))
	for _, r := range unacked {
		pending[r] = true
	}
	now := time.Now()
	for i := range b.out {
		if pending[&b.out[i]] {
			continue
		}
		c := coord{b.recs[i].Topic, b.recs[i].Partition, b.recs[i].Offset}
		d := ds.m[c]
		d.delivered, d.at = true, now
		ds.m[c] = d
	}
}

// undelivered returns pointers to the batch's outputs still to produce:
// all, less those acknowledged before the batch was last released.
func (ds *detours) undelivered(b *batch) []*kgo.Record {
	if len(ds.m) == 0 {
		return b.outPointers(nil)
	}
	ptrs := make([]*kgo.Record, 0, len(b.out))
	for i := range b.out {
		if d, ok := ds.of(b.recs[i]); ok && d.delivered {
			continue
		}
		ptrs = append(ptrs, &b.out[i])
	}
	return ptrs
}

// rejection is a produced record the broker refused for what it is.
type rejection struct {
	rec *kgo.Record
	err error
}

// detour records how each rejected record goes on, re-routes it in b, and
// returns the indexes of the records to produce again. A DLQ record that was
// refused even with nothing of its own left is not produced again (counted
// and logged: its payload and row are durable).
func (p *Pipeline) detour(b *batch, rejected []rejection) []int {
	var again []int
	pos := b.positions()
	for _, r := range rejected {
		i, ok := pos[r.rec]
		if !ok {
			panic("pipeline: a produced record that is not the batch's")
		}
		kr := b.recs[i]
		c := coord{kr.Topic, kr.Partition, kr.Offset}
		d := p.detours.m[c]
		d.at, d.cause = time.Now(), r.err
		clean := r.rec.Topic == p.opts.CleanTopic
		switch {
		case clean:
			v := refusedViolation(p.opts.CleanTopic, r.rec, r.err)
			d.rejected = &v
			if v.Type == record.PayloadTooLarge {
				d.omit = omitValue // the same record with more headers cannot fit the DLQ either
			}
			p.m.detours.WithLabelValues("clean_refused").Inc()
		case d.omit >= omitHeaders:
			p.m.detours.WithLabelValues("dlq_dropped").Inc()
			p.log.Error("the DLQ topic refused a record even with only the gateway's headers left; it is not on the DLQ topic, but its payload and metadata row are stored",
				"quarantine_id", header(r.rec, HeaderQuarantineID), "err", r.err)
			p.detours.m[c] = d
			continue
		default:
			d.omit++
			p.m.detours.WithLabelValues("dlq_shrunk").Inc()
		}
		p.detours.m[c] = d
		p.log.Warn("the broker refused a record; it takes a detour", "topic", r.rec.Topic,
			"source", fmt.Sprintf("%s/%d@%d", kr.Topic, kr.Partition, kr.Offset), "err", r.err)
		if clean {
			p.route(b, i) // now invalid: a DLQ record, and queued for the stores
		} else {
			omit(&b.out[i], d.omit, d.cause, p.opts.DLQCompat.written)
		}
		again = append(again, i)
	}
	return again
}

// refusedViolation explains why a valid record was quarantined: the clean
// topic refused it.
func refusedViolation(topic string, r *kgo.Record, err error) record.Violation {
	size := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		size += len(h.Key) + len(h.Value)
	}
	v := record.Violation{
		Type:    record.SchemaViolation,
		Keyword: "kafka",
		Message: fmt.Sprintf("the clean topic %s refused the record (%d bytes of key, value and headers): %v", topic, size, err),
	}
	if isTooLarge(err) {
		v.Type, v.Keyword = record.PayloadTooLarge, "max.message.bytes"
		v.Message = fmt.Sprintf("the record (%d bytes of key, value and headers) is larger than the clean topic %s accepts (its max.message.bytes): %v", size, topic, err)
	}
	return v
}

func isTooLarge(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge)
}

// omit leaves parts of a DLQ record out, up to level, and says so. At
// omitHeaders it keeps only the gateway's own headers (gateway).
func omit(r *kgo.Record, level int, cause error, gateway func(key string) bool) {
	var left []string
	if r.Value != nil {
		left = append(left, fmt.Sprintf("value (%d bytes)", len(r.Value)))
		r.Value = nil
	}
	if level >= omitKey && r.Key != nil {
		left = append(left, fmt.Sprintf("key (%d bytes)", len(r.Key)))
		r.Key = nil
	}
	if level >= omitHeaders {
		kept := r.Headers[:0:0]
		n := 0
		for _, h := range r.Headers {
			if gateway(h.Key) {
				kept = append(kept, h)
			} else {
				n++
			}
		}
		if n > 0 {
			left = append(left, fmt.Sprintf("%d headers of its own", n))
		}
		r.Headers = kept
	}
	if len(left) == 0 {
		return // nothing of that kind to leave out: the next refusal goes further
	}
	note := "the record's " + strings.Join(left, ", ") + " left out: the DLQ topic refused the whole record"
	if cause != nil {
		note += " (" + cause.Error() + ")"
	}
	note += "; the payload store keeps all of it under dq.quarantine.id"
	for j, h := range r.Headers {
		if h.Key == HeaderPayloadOmitted { // from a previous, smaller omission
			r.Headers = append(r.Headers[:j:j], r.Headers[j+1:]...)
			break
		}
	}
	r.Headers = append(r.Headers, kgo.RecordHeader{Key: HeaderPayloadOmitted, Value: []byte(record.Truncate(note, maxHeaderText))})
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
