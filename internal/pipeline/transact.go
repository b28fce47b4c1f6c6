package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/retry"
)

// deliverTransaction delivers and commits a routed batch exactly once: the
// quarantine writes (idempotent, outside Kafka) become durable while the
// records are produced inside a transaction (hold bounds both), and the
// transaction then commits the produces and the input offsets together
// (ending it runs under ctx). An aborted transaction rewinds the consumer to
// the last committed offsets, so the batch is polled and delivered again,
// and nothing of it is visible to read_committed consumers. A record the
// broker refused aborts the transaction; its detour (detour.go) is taken when
// the batch comes again.
func (p *Pipeline) deliverTransaction(ctx, hold context.Context, b *batch) error {
	if err := p.txn.Begin(); err != nil {
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	var wg sync.WaitGroup
	var storeErr error
	if len(b.entries) > 0 {
		wg.Go(func() { storeErr = p.writeQuarantine(hold, b.entries, b.payloads) })
	}
	produceStart := time.Now()
	rejected, produceErr := p.produceOnce(hold, b.outPointers(nil))
	p.m.writes.WithLabelValues("kafka_produce").Observe(time.Since(produceStart).Seconds())
	wg.Wait()
	if storeErr != nil { // hold or ctx ended: writes are retried until durable
		p.endAbort(ctx)
		return storeErr
	}
	if len(rejected) > 0 {
		p.detour(b, rejected)
		if produceErr == nil {
			produceErr = fmt.Errorf("the broker refused %d records; they take a detour when the batch comes again", len(rejected))
		}
	}
	commitStart := time.Now()
	committed, err := p.txn.End(ctx, kgo.TransactionEndTry(produceErr == nil))
	p.m.writes.WithLabelValues("kafka_commit").Observe(time.Since(commitStart).Seconds())
	if err != nil {
		return fmt.Errorf("ending the transaction: %w", err)
	}
	if !committed {
		p.m.storeErrors.WithLabelValues("kafka_transaction").Inc()
		wait := p.backoff.Delay(p.aborts)
		p.aborts++
		p.log.Warn("transaction aborted; the batch will be redelivered", "records", len(b.recs), "produce_err", produceErr, "retry_in", wait)
		retry.Sleep(ctx, wait)
		return nil
	}
	p.aborts = 0
	p.done(b)
	return nil
}

// produceOnce produces recs in the open transaction and waits for them; a
// failure is returned, not retried (the client already retried what can be
// retried; the transaction must abort). Records the broker refused for what
// they are are returned apart: of several refused, only those it refuses
// alone (isolate), since it refuses a whole batch for one record (the
// others, produced again, are aborted with the transaction that a
// rejection ends).
func (p *Pipeline) produceOnce(ctx context.Context, recs []*kgo.Record) ([]rejection, error) {
	var rejected []rejection
	var first error
	failed := 0
	for _, r := range p.cl.ProduceSync(ctx, recs...) {
		switch {
		case r.Err == nil:
		case retry.RecordRejected(r.Err):
			rejected = append(rejected, rejection{r.Record, r.Err})
		default:
			failed++
			first = cmp.Or(first, r.Err)
		}
	}
	if len(rejected) > 1 {
		var more []*kgo.Record
		var err error
		rejected, more, err = p.isolate(ctx, rejected)
		failed += len(more)
		first = cmp.Or(first, err)
	}
	if first != nil {
		p.m.storeErrors.WithLabelValues("kafka_produce").Inc()
		return rejected, fmt.Errorf("%d of %d records not acknowledged: %w", failed, len(recs), first)
	}
	return rejected, nil
}

// endAbort aborts the open transaction at shutdown, on a context of its own
// (the work context may be over); a failure only means the broker aborts it
// after the transaction timeout.
func (p *Pipeline) endAbort(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := p.txn.End(ctx, kgo.TryAbort); err != nil {
		p.log.Warn("aborting the transaction failed; the broker aborts it after its timeout", "err", err)
	}
}
