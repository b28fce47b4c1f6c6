package reprocess

import (
	"context"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// Reprocessor reprocesses, discards and corrects quarantined records: what
// the REST API (package httpapi) and the browser (package web) ask of the
// Service, declared once for both. *Service is one.
type Reprocessor interface {
	DryRunTo(ctx context.Context, f Filter, target Target) (DryRunResult, error)
	Start(ctx context.Context, req Request) (string, error)
	Job(ctx context.Context, id string) (quarantine.Job, error)
	Jobs(ctx context.Context, f quarantine.JobFilter) (quarantine.JobPage, error)
	Discard(ctx context.Context, id string, c quarantine.Change) error
	DiscardMatching(ctx context.Context, f Filter, c quarantine.Change, dryRun bool) (DiscardResult, error)
	Correct(ctx context.Context, id string, value []byte, c quarantine.Change) error
	Correction(ctx context.Context, id string) ([]byte, error)
	Check(ctx context.Context, id string, value []byte) (Check, error)
	MaxPayloadBytes() int
}

var _ Reprocessor = (*Service)(nil)
