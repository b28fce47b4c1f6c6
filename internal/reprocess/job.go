package reprocess

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/retry"
)

// verdict is what reprocessing one record would do now.
type verdict struct {
	pass bool
	// out is the record to publish when pass.
	out *kgo.Record
	// errors are the new violations when the record fails validation
	// again; nil when it failed for another reason (loop guard, payload
	// unreadable), which reason then says.
	errors []record.Violation
	reason string
	// keyword names the reason: "max_replays", "payload" or "kafka" (the
	// topic refused the record).
	keyword string
	// replays is the record's replay count after publishing.
	replays int
}

// evaluate re-validates e. Its error is operational only (the store, the
// schema resolver): retry, never a verdict on the record.
func (s *Service) evaluate(ctx context.Context, e *quarantine.Entry, target Target) (verdict, error) {
	p, err := s.opts.Payloads.Read(ctx, e.Payload)
	switch {
	case errors.Is(err, quarantine.ErrNotFound), errors.Is(err, quarantine.ErrCorrupt):
		// Nothing to publish: say why, keep the record's errors.
		return verdict{reason: "payload unreadable: " + err.Error(), keyword: "payload", replays: e.ReplayCount}, nil
	case err != nil:
		return verdict{}, fmt.Errorf("reading payload of %s: %w", e.ID, err)
	}
	if note, omitted := payloadOmitted(p.Headers); omitted {
		// Imported from a dead-letter record that carried no value: there
		// is nothing to publish (an empty value would be a tombstone).
		return verdict{reason: "payload not stored: " + note, keyword: "payload", replays: e.ReplayCount}, nil
	}
	if target == TargetSource && e.SourceTopic == "" {
		return verdict{
			reason:  "the record's original topic is unknown (its dead-letter headers name none); not republished",
			keyword: "source_unknown", replays: e.ReplayCount,
		}, nil
	}
	value := p.Value
	if e.Corrected {
		if value, err = s.opts.Store.Correction(ctx, e.ID); err != nil {
			return verdict{}, fmt.Errorf("reading corrected payload of %s: %w", e.ID, err)
		}
	}
	prev := max(e.ReplayCount, headerReplays(p.Headers))
	if prev >= s.opts.MaxReplays {
		return verdict{
			reason:  fmt.Sprintf("loop guard: already replayed %d times, the maximum is %d; not republished", prev, s.opts.MaxReplays),
			keyword: "max_replays",
			replays: prev,
		}, nil
	}
	v, err := s.validate(e, value, p.Headers)
	if err != nil {
		return verdict{}, err
	}
	if !v.Valid() && !(target == TargetSource && unbound(&v)) {
		return verdict{errors: append([]record.Violation{}, v.Violations...), replays: prev}, nil
	}
	topic := s.opts.CleanTopic
	if target == TargetRaw || target == TargetSource {
		topic = e.SourceTopic
	}
	// The source partition (modulo the topic's count, with the gateway's
	// partitioner), as the pipeline keeps it; 0 when unknown.
	out := &kgo.Record{Topic: topic, Partition: max(e.SourcePartition, 0), Key: e.Key, Value: value, Timestamp: e.Timestamp}
	out.Headers = make([]kgo.RecordHeader, 0, len(p.Headers)+1)
	for _, h := range p.Headers {
		if h.Key == HeaderReplayCount || target == TargetSource && pipeline.DLQContextHeader(h.Key) {
			continue
		}
		// As the pipeline does: the record's own dq.* headers leave as
		// dq.original.*; only the gateway writes dq.*.
		out.Headers = append(out.Headers, kgo.RecordHeader{Key: record.OutgoingHeaderKey(h.Key), Value: h.Value})
	}
	out.Headers = append(out.Headers, kgo.RecordHeader{Key: HeaderReplayCount, Value: []byte(strconv.Itoa(prev + 1))})
	return verdict{pass: true, out: out, replays: prev + 1}, nil
}

// validate re-validates e with value as its payload and the headers it
// arrived with, as the pipeline would now: the one validation of
// reprocessing, of a dry run and of Check.
func (s *Service) validate(e *quarantine.Entry, value []byte, headers []record.Header) (record.Verdict, error) {
	rec := record.Record{
		Topic: e.SourceTopic, Partition: e.SourcePartition, Offset: e.SourceOffset,
		Key: e.Key, Value: value, Headers: headers, Timestamp: e.Timestamp,
	}
	var v record.Verdict
	if err := s.opts.Validator.Validate(&rec, &v); err != nil {
		return record.Verdict{}, fmt.Errorf("validating %s: %w", e.ID, err)
	}
	return v, nil
}

// unbound reports whether v says the record's topic has no schema bound at
// all (not a missing version of a bound subject): the gateway does not
// validate that topic.
func unbound(v *record.Verdict) bool {
	return len(v.Violations) == 1 && v.Violations[0].Type == record.SchemaNotFound && v.Subject == ""
}

// payloadOmitted returns the dq.payload.omitted note of a record stored
// without its value.
func payloadOmitted(hs []record.Header) (string, bool) {
	for _, h := range hs {
		if h.Key == pipeline.HeaderPayloadOmitted {
			return string(h.Value), true
		}
	}
	return "", false
}

// headerReplays is the dq.replay.count the record arrived with, 0 if none
// (or unreadable: a producer's garbage must not stop the guard at 0 for a
// real count, so the last valid one wins).
func headerReplays(hs []record.Header) int {
	n := 0
	for _, h := range hs {
		if h.Key != HeaderReplayCount {
			continue
		}
		if v, err := strconv.Atoi(string(h.Value)); err == nil && v > 0 {
			n = v
		}
	}
	return n
}

// candidate reports whether a job may process e: a record it can claim, or
// one it already holds.
func candidate(e *quarantine.Entry, job string) bool {
	if e.Status == quarantine.StatusReprocessing {
		return true
	}
	// A record this job has already finished (failed_again) is not met
	// twice, so a resumed job neither retries nor counts it again.
	return e.Status.Actionable() && (job == "" || e.Job != job)
}

// each calls fn with the records f selects that job may process (job ""
// for a dry run), BatchSize at a time, in the List order.
func (s *Service) each(ctx context.Context, f *Filter, job string, fn func([]quarantine.Entry) error) error {
	keep := func(entries []quarantine.Entry) []quarantine.Entry {
		out := entries[:0]
		for i := range entries {
			if f.matches(&entries[i]) && candidate(&entries[i], job) {
				out = append(out, entries[i])
			}
		}
		return out
	}
	if len(f.IDs) > 0 {
		seen := make(map[string]struct{}, len(f.IDs))
		batch := make([]quarantine.Entry, 0, s.opts.BatchSize)
		for i, id := range f.IDs {
			if _, dup := seen[id]; !dup {
				seen[id] = struct{}{}
				e, err := s.opts.Store.Get(ctx, id)
				switch {
				case errors.Is(err, quarantine.ErrNotFound):
				case err != nil:
					return err
				default:
					batch = append(batch, e)
				}
			}
			if len(batch) == s.opts.BatchSize || i == len(f.IDs)-1 {
				if b := keep(batch); len(b) > 0 {
					if err := fn(b); err != nil {
						return err
					}
				}
				batch = batch[:0]
			}
		}
		return nil
	}
	lf := f.listFilter()
	lf.Limit = s.opts.BatchSize
	for {
		page, err := s.opts.Store.List(ctx, lf)
		if err != nil {
			return err
		}
		if b := keep(page.Entries); len(b) > 0 {
			if err := fn(b); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		lf.Cursor = page.NextCursor
	}
}

// runJob takes j's lease and drives j to done or failed, or until ctx ends
// or the lease is lost (j then stays running, for a Run to resume).
func (s *Service) runJob(ctx context.Context, j quarantine.Job) {
	log := s.log.With("job", j.ID)
	j, err := s.opts.Store.LeaseJob(ctx, j.ID, s.owner, time.Now().Add(s.opts.Lease))
	if err != nil {
		if !errors.Is(err, quarantine.ErrConflict) && ctx.Err() == nil {
			log.ErrorContext(ctx, "taking a reprocess job's lease", "err", err)
		}
		return // another process runs it, or it ended
	}
	if j.Passed+j.Failed+j.Skipped > 0 {
		log.InfoContext(ctx, "resuming reprocess job")
	}
	err = s.drive(ctx, j)
	if ctx.Err() != nil || errors.Is(err, errLeaseLost) {
		log.InfoContext(ctx, "reprocess job stopped; a Run resumes it", "err", err)
		if ctx.Err() != nil {
			// Give the lease up, so a restart resumes the job at once.
			_, _ = s.opts.Store.LeaseJob(context.WithoutCancel(ctx), j.ID, s.owner, time.Unix(0, 1))
		}
		return
	}
	// ctx is live: the job ended. Its final state is written even if the
	// caller's context ends meanwhile.
	wctx := context.WithoutCancel(ctx)
	state := quarantine.JobDone
	u := quarantine.JobUpdate{State: &state}
	if err != nil {
		log.ErrorContext(ctx, "reprocess job failed", "err", err)
		state = quarantine.JobFailed
		msg := err.Error()
		u.Error = &msg
		if rerr := s.opts.Store.Release(wctx, j.ID); rerr != nil {
			log.ErrorContext(ctx, "releasing the records of a failed reprocess job", "err", rerr)
		}
	}
	if uerr := s.opts.Store.UpdateJob(wctx, j.ID, u); uerr != nil {
		log.ErrorContext(ctx, "recording the end of a reprocess job", "state", state, "err", uerr)
		return
	}
	s.metrics.jobs.WithLabelValues(string(state)).Inc()
	log.InfoContext(ctx, "reprocess job ended", "state", state)
}

func (s *Service) drive(ctx context.Context, j quarantine.Job) error {
	var f Filter
	if err := json.Unmarshal(j.Filter, &f); err != nil {
		return fmt.Errorf("decoding the job's filter: %w", err)
	}
	target := Target(j.Target)
	// First what a previous run of this job held when it stopped.
	held, err := s.opts.Store.Claimed(ctx, j.ID)
	if err != nil {
		return err
	}
	for len(held) > 0 {
		n := min(len(held), s.opts.BatchSize)
		if err := s.retry(ctx, func() error { return s.batch(ctx, &j, target, held[:n]) }); err != nil {
			return err
		}
		held = held[n:]
	}
	if j.Matched == 0 && j.Passed == 0 && j.Failed == 0 {
		var matched int64
		if err := s.each(ctx, &f, j.ID, func(b []quarantine.Entry) error { matched += int64(len(b)); return nil }); err != nil {
			return err
		}
		if err := s.opts.Store.UpdateJob(ctx, j.ID, quarantine.JobUpdate{Matched: &matched}); err != nil {
			return err
		}
	}
	return s.each(ctx, &f, j.ID, func(b []quarantine.Entry) error {
		return s.retry(ctx, func() error { return s.batch(ctx, &j, target, b) })
	})
}

// errLeaseLost stops a job whose lease another process has taken over.
var errLeaseLost = errors.New("the job's lease was taken over by another process")

// renew extends j's lease before a batch.
func (s *Service) renew(ctx context.Context, j *quarantine.Job) error {
	_, err := s.opts.Store.LeaseJob(ctx, j.ID, s.owner, time.Now().Add(s.opts.Lease))
	if errors.Is(err, quarantine.ErrConflict) {
		return errLeaseLost
	}
	return err
}

// retry runs fn until it succeeds, ctx ends, or MaxAttempts have failed,
// with the project's back-off between attempts.
func (s *Service) retry(ctx context.Context, fn func() error) error {
	b := retry.Backoff{Min: s.opts.RetryBackoff, Max: 30 * time.Second}
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || ctx.Err() != nil || errors.Is(err, errLeaseLost) || attempt == s.opts.MaxAttempts {
			return err
		}
		s.log.WarnContext(ctx, "reprocess batch failed; retrying", "attempt", attempt, "err", err)
		if !retry.Sleep(ctx, b.Delay(attempt-1)) {
			return ctx.Err()
		}
	}
}

// batch claims entries for j, re-validates them, publishes those that
// pass and finishes each.
func (s *Service) batch(ctx context.Context, j *quarantine.Job, target Target, entries []quarantine.Entry) error {
	if err := s.renew(ctx, j); err != nil {
		return err
	}
	claimed := make([]quarantine.Entry, 0, len(entries))
	var skipped int64
	for i := range entries {
		e, err := s.opts.Store.Claim(ctx, entries[i].ID, j.ID)
		switch {
		case errors.Is(err, quarantine.ErrConflict), errors.Is(err, quarantine.ErrNotFound):
			skipped++
		case err != nil:
			return err
		default:
			claimed = append(claimed, e)
		}
	}
	if skipped > 0 {
		s.metrics.records.WithLabelValues("skipped").Add(float64(skipped))
		if err := s.opts.Store.UpdateJob(ctx, j.ID, quarantine.JobUpdate{AddSkipped: skipped}); err != nil {
			return err
		}
	}
	verdicts := make([]verdict, len(claimed))
	var out []*kgo.Record
	outOf := make(map[*kgo.Record]int) // the claimed record each output is of
	for i := range claimed {
		v, err := s.evaluate(ctx, &claimed[i], target)
		if err != nil {
			return err
		}
		verdicts[i] = v
		if v.pass {
			out = append(out, v.out)
			outOf[v.out] = i
		}
	}
	if len(out) > 0 {
		for _, r := range s.opts.Publisher.ProduceSync(ctx, out...) { // in completion order
			switch {
			case r.Err == nil:
			case retry.RecordRejected(r.Err):
				// Refused for what it is (too large for the topic): a
				// verdict on this record, not a reason to retry the batch.
				v := &verdicts[outOf[r.Record]]
				v.pass = false
				v.replays--
				v.keyword = "kafka"
				v.reason = fmt.Sprintf("%s refused the record: %v; not republished", r.Record.Topic, r.Err)
			default:
				return fmt.Errorf("publishing %d records: %w", len(out), r.Err)
			}
		}
	}
	for i := range claimed {
		v := &verdicts[i]
		o := quarantine.Outcome{
			Change:      quarantine.Change{Actor: j.Actor, Role: j.Role, Reason: j.Reason},
			Status:      quarantine.StatusFailedAgain,
			Errors:      v.errors,
			ReplayCount: v.replays,
		}
		result := "failed"
		if v.pass {
			o.Status, result = quarantine.StatusReprocessed, "passed"
		} else if v.reason != "" {
			o.Reason = joinReason(j.Reason, v.reason)
		}
		err := s.opts.Store.Finish(ctx, claimed[i].ID, j.ID, o)
		if errors.Is(err, quarantine.ErrConflict) {
			// Finished meanwhile by an earlier attempt of this batch
			// whose error came after the write (a lost commit reply).
			continue
		}
		if err != nil {
			return err
		}
		s.metrics.records.WithLabelValues(result).Inc()
	}
	return nil
}

func joinReason(actor, system string) string {
	if actor == "" {
		return system
	}
	return actor + "; " + system
}
