package reprocess

import (
	"context"
	"fmt"
	"slices"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// DryRunResult is what reprocessing a selection would do now.
type DryRunResult struct {
	Matched   int64 `json:"matched"`
	WouldPass int64 `json:"would_pass"`
	WouldFail int64 `json:"would_fail"`
	// SampleFailures are the first records that would fail (at most
	// Options.SampleSize), with why.
	SampleFailures []SampleFailure `json:"sample_failures"`
}

// SampleFailure is one record that would fail again.
type SampleFailure struct {
	ID     string             `json:"id"`
	Errors []record.Violation `json:"errors"`
}

// DryRun re-validates every record f selects, changing nothing. Records
// that would fail for a reason other than validation (the loop guard, an
// unreadable payload) are sampled with one violation whose keyword says
// which ("max_replays", "payload").
func (s *Service) DryRun(ctx context.Context, f Filter) (DryRunResult, error) {
	return s.DryRunTo(ctx, f, TargetClean)
}

// DryRunTo is DryRun for a run to target ("" is TargetClean): whether a
// record would pass can depend on it (TargetSource publishes the records
// of topics the gateway does not validate as they are).
func (s *Service) DryRunTo(ctx context.Context, f Filter, target Target) (DryRunResult, error) {
	if err := f.Validate(); err != nil {
		return DryRunResult{}, err
	}
	if target == "" {
		target = TargetClean
	}
	if !slices.Contains(Targets, target) {
		return DryRunResult{}, fmt.Errorf("target %q: must be clean, raw or source: %w", target, ErrInvalidRequest)
	}
	res := DryRunResult{SampleFailures: []SampleFailure{}}
	err := s.each(ctx, &f, "", func(b []quarantine.Entry) error {
		for i := range b {
			res.Matched++
			v, err := s.evaluate(ctx, &b[i], target)
			if err != nil {
				return err
			}
			if v.pass {
				res.WouldPass++
				continue
			}
			res.WouldFail++
			if len(res.SampleFailures) < s.opts.SampleSize {
				errs := v.errors
				if errs == nil {
					errs = []record.Violation{{Keyword: v.keyword, Message: v.reason}}
				}
				res.SampleFailures = append(res.SampleFailures, SampleFailure{ID: b[i].ID, Errors: errs})
			}
		}
		return nil
	})
	if err != nil {
		return DryRunResult{}, err
	}
	return res, nil
}
