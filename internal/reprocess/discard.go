package reprocess

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// MaxDiscard caps the records one DiscardMatching call discards, so that a
// call over a huge selection ends in seconds; DiscardResult.More then says
// to call again.
const MaxDiscard = 10_000

// DiscardResult is what a bulk discard did, or would do.
type DiscardResult struct {
	// Matched is how many records the selection holds that can be
	// discarded (quarantined or failed_again); after a real run, how many
	// it met before stopping.
	Matched int64 `json:"matched"`
	// Discarded is how many were discarded; 0 in a dry run.
	Discarded int64 `json:"discarded"`
	// Skipped is how many it met that changed status before they could be
	// discarded (a reprocess job or an operator took them first).
	Skipped int64 `json:"skipped"`
	// More is set when the run stopped at MaxDiscard: more records may
	// match; call again.
	More bool `json:"more"`
}

var errEnough = errors.New("discarded MaxDiscard records")

// DiscardMatching marks the quarantined and failed_again records f selects
// discarded, BatchSize at a time (each batch one transaction, each record
// audited by the store with c's actor and reason), at most MaxDiscard. A
// dry run changes nothing and only counts them. A real run needs a reason:
// records dropped in bulk must say why.
func (s *Service) DiscardMatching(ctx context.Context, f Filter, c quarantine.Change, dryRun bool) (DiscardResult, error) {
	if err := f.Validate(); err != nil {
		return DiscardResult{}, err
	}
	if dryRun {
		n, err := s.countActionable(ctx, &f)
		return DiscardResult{Matched: n}, err
	}
	if strings.TrimSpace(c.Reason) == "" {
		return DiscardResult{}, fmt.Errorf("a bulk discard needs a reason: %w", ErrInvalidRequest)
	}
	c = c.WithTime() // one time for the whole run
	var res DiscardResult
	err := s.each(ctx, &f, "", func(batch []quarantine.Entry) error {
		batch = batch[:min(len(batch), MaxDiscard-int(res.Matched))]
		ids := make([]string, len(batch))
		for i := range batch {
			ids[i] = batch[i].ID
		}
		done, err := s.opts.Store.DiscardAll(ctx, ids, c)
		if err != nil {
			return err
		}
		res.Matched += int64(len(ids))
		res.Discarded += int64(len(done))
		res.Skipped += int64(len(ids) - len(done))
		if res.Matched == MaxDiscard {
			return errEnough
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		res.More, err = true, nil
	}
	if err != nil {
		return DiscardResult{}, err
	}
	s.log.InfoContext(ctx, "records discarded in bulk", "discarded", res.Discarded, "skipped", res.Skipped,
		"more", res.More, "actor", c.Actor, "reason", c.Reason)
	return res, nil
}

// countActionable counts the records f selects that can be discarded or
// reprocessed: by reading them when f lists ids, else by the store's
// count of each actionable status.
func (s *Service) countActionable(ctx context.Context, f *Filter) (int64, error) {
	if len(f.IDs) > 0 {
		var n int64
		err := s.each(ctx, f, "", func(b []quarantine.Entry) error {
			n += int64(len(b))
			return nil
		})
		return n, err
	}
	statuses := actionableStatuses
	if f.Status != "" {
		statuses = []quarantine.Status{f.Status}
	}
	var total int64
	for _, st := range statuses {
		lf := f.listFilter()
		lf.Status = st
		n, err := s.opts.Store.Count(ctx, lf)
		if err != nil {
			return 0, fmt.Errorf("counting %s records: %w", st, err)
		}
		total += n
	}
	return total, nil
}

// actionableStatuses are the statuses a record can be reprocessed or
// discarded from.
var actionableStatuses = []quarantine.Status{quarantine.StatusQuarantined, quarantine.StatusFailedAgain}
