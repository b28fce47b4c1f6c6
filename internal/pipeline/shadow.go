package pipeline

import (
	"context"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/shadow"
)

// ShadowRecorder picks the records evaluated in shadow and receives the
// verdicts of the committed ones; *shadow.Tally is one.
type ShadowRecorder interface {
	// Sampled reports whether the record at (topic, partition, offset)
	// is evaluated in shadow.
	Sampled(topic string, partition int32, offset int64) bool
	// Record is told a committed batch's records that were, with their
	// verdicts. It must not retain obs.
	Record(obs []shadow.Observed)
}

var _ ShadowRecorder = (*shadow.Tally)(nil)

// judge validates rec into v; a record the shadow samples is evaluated
// against its subject's versions in shadow too, into v.Shadow. Neither
// changes how it is routed.
func (p *Pipeline) judge(ctx context.Context, rec *record.Record, v *record.Verdict) error {
	if p.opts.Shadow != nil && p.opts.Shadow.Sampled(rec.Topic, rec.Partition, rec.Offset) {
		return p.opts.Engine.ValidateShadow(ctx, rec, v)
	}
	return p.opts.Engine.ValidateContext(ctx, rec, v)
}

// countShadow tells Options.Shadow the shadow verdicts of a committed
// batch (from count: at commit, never before, so a released batch counts
// once), each with today's final verdict: a record the clean topic
// refused, quarantined instead, counts as rejected today.
func (p *Pipeline) countShadow(b *batch) {
	if p.opts.Shadow == nil {
		return
	}
	var stored []bool // by record: it has a row (quarantined, or observed with a row)
	obs := p.observed[:0]
	for i := range b.verdicts {
		v := &b.verdicts[i]
		if len(v.Shadow) == 0 {
			continue
		}
		if stored == nil {
			stored = make([]bool, len(b.recs))
			for _, j := range b.quarantined {
				stored[j] = true
			}
		}
		kr := b.recs[i]
		obs = append(obs, shadow.Observed{
			Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset,
			Key: kr.Key, Value: kr.Value, Timestamp: kr.Timestamp,
			Stored: stored[i], Verdict: v,
		})
	}
	p.opts.Shadow.Record(obs)
	clear(obs) // no reference to the batch's records past it
	p.observed = obs[:0]
}
