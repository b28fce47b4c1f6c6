package quarantine

import (
	"context"
	"encoding/json"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// The audit actions and target of Lifecycle changes.
const (
	ActionReprocess = "quarantine.reprocess"
	ActionDiscard   = "quarantine.discard"
	ActionEdit      = "quarantine.edit"
)

// AuditTarget is the audit.Event target of the record id.
func AuditTarget(id string) string { return "quarantine/" + id }

// Change says who changes a record's status, when and why. Every Lifecycle
// change except Claim appends one audit event in the same transaction as the
// change itself, so a record's status and its history never disagree.
type Change struct {
	// At is when; the store uses time.Now when zero.
	At time.Time
	// Actor and Role are the audit.Event's.
	Actor string
	Role  string
	// Reason is the actor's stated reason, "" when none was given.
	Reason string
}

// WithTime returns c with At set to now when it is zero, in UTC.
func (c Change) WithTime() Change {
	if c.At.IsZero() {
		c.At = time.Now()
	}
	c.At = c.At.UTC()
	return c
}

// Event is the audit event of the change: action on the record id, with
// details (a JSON object; nil for none). Drivers append it in the change's
// transaction.
func (c Change) Event(action, id string, details map[string]any) audit.Event {
	ev := audit.Event{At: c.At, Actor: c.Actor, Role: c.Role, Action: action, Target: AuditTarget(id), Reason: c.Reason}
	if details != nil {
		// A map of strings, numbers and violations always encodes.
		ev.Details, _ = json.Marshal(details)
	}
	return ev
}

// Outcome is how a claimed record's reprocessing ended.
type Outcome struct {
	Change
	// Status is StatusReprocessed or StatusFailedAgain.
	Status Status
	// Errors, when non-nil, replace the record's errors (and so its
	// primary error type and field): why it failed again. nil keeps them.
	Errors []record.Violation
	// ReplayCount is the record's new replay count.
	ReplayCount int
}

// Lifecycle moves quarantined records through their statuses. Transitions
// are compare-and-set on the stored status, so concurrent callers (two
// reprocess jobs, an operator discarding while a job runs) never both
// succeed on one record: the loser gets ErrConflict.
//
// Implementations are safe for concurrent use.
type Lifecycle interface {
	// Claim moves the record from quarantined or failed_again to
	// reprocessing for job and returns it. It also succeeds on a record
	// job already holds in reprocessing (a resumed job), and fails with
	// ErrConflict on a record job has already finished (so a resumed job
	// that meets a record again skips it) or that is in any other status.
	// A missing record is ErrNotFound. Claim is not audited: Finish is.
	Claim(ctx context.Context, id, job string) (Entry, error)
	// Claimed returns the records job holds in reprocessing, in id order:
	// what a resumed job must finish first.
	Claimed(ctx context.Context, job string) ([]Entry, error)
	// Finish moves a record job holds in reprocessing to o.Status
	// (reprocessed or failed_again), adds one to the job's passed or failed
	// count, and audits "quarantine.reprocess", all in one transaction. A
	// record job does not hold is ErrConflict.
	Finish(ctx context.Context, id, job string, o Outcome) error
	// Release puts every record job holds in reprocessing back in the
	// status it was claimed from: the clean-up of a job that failed.
	Release(ctx context.Context, job string) error
	// Discard moves a quarantined or failed_again record to discarded and
	// audits "quarantine.discard"; any other status is ErrConflict.
	Discard(ctx context.Context, id string, c Change) error
	// DiscardAll discards, as Discard does, each record of ids that is
	// quarantined or failed_again, all in one transaction, and returns the
	// ids it discarded, in the order given; the others (missing, in
	// another status, repeated) are skipped. Callers bound len(ids), to a
	// few hundred: one transaction holds them all.
	DiscardAll(ctx context.Context, ids []string, c Change) ([]string, error)
	// Correct stores value as the record's corrected payload (replacing an
	// earlier correction) and audits "quarantine.edit". Only a quarantined
	// or failed_again record can be corrected; others are ErrConflict.
	Correct(ctx context.Context, id string, value []byte, c Change) error
	// Correction returns the corrected payload, or ErrNotFound when the
	// record has none.
	Correction(ctx context.Context, id string) ([]byte, error)
}

// JobState is a reprocess job's state.
type JobState string

// Job states.
const (
	JobRunning JobState = "running"
	JobDone    JobState = "done"
	JobFailed  JobState = "failed"
)

// Job is a persisted reprocess job: what it selects and how far it got.
type Job struct {
	ID    string
	State JobState
	// Filter is the job's selection, encoded by its owner (package
	// reprocess); the store keeps it opaque.
	Filter json.RawMessage
	// Target is where passing records go: "clean" or "raw".
	Target string
	Reason string
	Actor  string
	Role   string
	// Matched is how many records the selection matched when the job
	// started; Passed and Failed are kept by Lifecycle.Finish; Skipped
	// counts matched records the job could not claim (another job had
	// them, or their status changed).
	Matched, Passed, Failed, Skipped int64
	CreatedAt, UpdatedAt             time.Time
	// Error is why the job failed, "" otherwise.
	Error string
	// Owner is the process running the job, which holds it until
	// LeaseUntil (see JobStore.LeaseJob).
	Owner      string
	LeaseUntil time.Time
}

// JobUpdate changes a job; nil fields are left as they are.
type JobUpdate struct {
	State   *JobState
	Matched *int64
	// AddSkipped is added to Skipped.
	AddSkipped int64
	Error      *string
}

// JobFilter selects jobs for JobStore.ListJobs.
type JobFilter struct {
	// State keeps the jobs in this state; "" keeps every job.
	State JobState
	// Limit is the most jobs on a page: 1 to MaxJobsLimit, 0 for
	// DefaultJobsLimit.
	Limit int
	// Cursor is the NextCursor of the previous page, "" for the first.
	Cursor string
}

// Job page sizes.
const (
	DefaultJobsLimit = 50
	MaxJobsLimit     = 500
)

// PageLimit is f's page size, Limit bound to 1..MaxJobsLimit.
func (f JobFilter) PageLimit() int {
	switch {
	case f.Limit <= 0:
		return DefaultJobsLimit
	case f.Limit > MaxJobsLimit:
		return MaxJobsLimit
	}
	return f.Limit
}

// JobPage is one page of jobs.
type JobPage struct {
	Jobs []Job
	// NextCursor is "" on the last page.
	NextCursor string
}

// FinishedAt is when a job that is no longer running ended (nothing
// updates a job after its end), and the zero time for a running job.
func (j *Job) FinishedAt() time.Time {
	if j.State == JobRunning {
		return time.Time{}
	}
	return j.UpdatedAt
}

// Duration is how long j ran: from its creation to its end, or to now
// while it runs.
func (j *Job) Duration(now time.Time) time.Duration {
	end := j.FinishedAt()
	if end.IsZero() {
		end = now
	}
	return max(0, end.Sub(j.CreatedAt))
}

// JobStore persists reprocess jobs.
//
// Implementations are safe for concurrent use.
type JobStore interface {
	// CreateJob stores a new job; CreatedAt and UpdatedAt are set to now
	// when zero.
	CreateJob(ctx context.Context, j Job) error
	// GetJob returns the job, or ErrNotFound.
	GetJob(ctx context.Context, id string) (Job, error)
	// UpdateJob applies u and sets UpdatedAt; a missing job is ErrNotFound.
	UpdateJob(ctx context.Context, id string, u JobUpdate) error
	// UnfinishedJobs returns the jobs still running, oldest first: those a
	// restarted process must resume.
	UnfinishedJobs(ctx context.Context) ([]Job, error)
	// ListJobs returns the jobs f selects, newest first (by CreatedAt,
	// ties broken by ID), one page at a time. A malformed cursor is
	// ErrBadCursor.
	ListJobs(ctx context.Context, f JobFilter) (JobPage, error)
	// LeaseJob makes owner the running job's owner until until, and returns
	// the job: a compare-and-set that succeeds if the job has no owner, is
	// owner's already, or its lease has expired (now is past LeaseUntil).
	// Anything else, a job no longer running included, is ErrConflict; a
	// missing job is ErrNotFound. A lease that ended (until in the past)
	// gives the job up at once. One process runs a job at a time: the one
	// holding its lease, renewing it as it goes.
	LeaseJob(ctx context.Context, id, owner string, until time.Time) (Job, error)
}
