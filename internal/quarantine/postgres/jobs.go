package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dataquarantine/dataquarantine/internal/pgdb"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

const jobColumns = `id, state, filter, target, reason, actor, role, matched, passed, failed, skipped,
	created_at, updated_at, error, owner, lease_until`

// CreateJob implements quarantine.JobStore.
func (s *Store) CreateJob(ctx context.Context, j quarantine.Job) (err error) {
	defer pgdb.Classify(&err)
	if j.ID == "" {
		return errors.New("creating job: empty id")
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = time.Now()
	}
	if j.UpdatedAt.IsZero() {
		j.UpdatedAt = j.CreatedAt
	}
	filter := string(j.Filter)
	if filter == "" {
		filter = "{}"
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO reprocess_jobs (`+jobColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		j.ID, string(j.State), filter, j.Target, j.Reason, j.Actor, j.Role,
		j.Matched, j.Passed, j.Failed, j.Skipped, j.CreatedAt.UnixNano(), j.UpdatedAt.UnixNano(), j.Error,
		j.Owner, leaseNanos(j.LeaseUntil))
	if err != nil {
		return fmt.Errorf("creating job %s: %w", j.ID, err)
	}
	return nil
}

func scanJob(row pgx.CollectableRow) (quarantine.Job, error) {
	var (
		j                quarantine.Job
		state, filter    string
		created, updated int64
		lease            int64
	)
	if err := row.Scan(&j.ID, &state, &filter, &j.Target, &j.Reason, &j.Actor, &j.Role,
		&j.Matched, &j.Passed, &j.Failed, &j.Skipped, &created, &updated, &j.Error, &j.Owner, &lease); err != nil {
		return quarantine.Job{}, err
	}
	j.State = quarantine.JobState(state)
	j.Filter = []byte(filter)
	j.CreatedAt = time.Unix(0, created).UTC()
	j.UpdatedAt = time.Unix(0, updated).UTC()
	if lease != 0 {
		j.LeaseUntil = time.Unix(0, lease).UTC()
	}
	return j, nil
}

// GetJob implements quarantine.JobStore.
func (s *Store) GetJob(ctx context.Context, id string) (_ quarantine.Job, err error) {
	defer pgdb.Classify(&err)
	rows, err := s.pool.Query(ctx, `SELECT `+jobColumns+` FROM reprocess_jobs WHERE id = $1`, id)
	if err != nil {
		return quarantine.Job{}, fmt.Errorf("getting job %s: %w", id, err)
	}
	j, err := pgx.CollectExactlyOneRow(rows, scanJob)
	if errors.Is(err, pgx.ErrNoRows) {
		return quarantine.Job{}, fmt.Errorf("job %s: %w", id, quarantine.ErrNotFound)
	}
	if err != nil {
		return quarantine.Job{}, fmt.Errorf("getting job %s: %w", id, err)
	}
	return j, nil
}

// UpdateJob implements quarantine.JobStore.
func (s *Store) UpdateJob(ctx context.Context, id string, u quarantine.JobUpdate) (err error) {
	defer pgdb.Classify(&err)
	args := []any{id, time.Now().UnixNano(), u.AddSkipped}
	q := `UPDATE reprocess_jobs SET updated_at = $2, skipped = skipped + $3`
	add := func(col string, v any) {
		args = append(args, v)
		q += `, ` + col + ` = $` + strconv.Itoa(len(args))
	}
	if u.State != nil {
		add("state", string(*u.State))
	}
	if u.Matched != nil {
		add("matched", *u.Matched)
	}
	if u.Error != nil {
		add("error", *u.Error)
	}
	tag, err := s.pool.Exec(ctx, q+` WHERE id = $1`, args...)
	if err != nil {
		return fmt.Errorf("updating job %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("job %s: %w", id, quarantine.ErrNotFound)
	}
	return nil
}

// UnfinishedJobs implements quarantine.JobStore.
func (s *Store) UnfinishedJobs(ctx context.Context) (_ []quarantine.Job, err error) {
	defer pgdb.Classify(&err)
	rows, err := s.pool.Query(ctx, `SELECT `+jobColumns+` FROM reprocess_jobs
		WHERE state = 'running' ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("listing unfinished jobs: %w", err)
	}
	jobs, err := pgx.CollectRows(rows, scanJob)
	if err != nil {
		return nil, fmt.Errorf("listing unfinished jobs: %w", err)
	}
	return jobs, nil
}

// leaseNanos stores the zero time as 0 (no lease).
func leaseNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return quarantine.ClampNanos(t)
}

// LeaseJob implements quarantine.JobStore. The UPDATE's condition is
// re-checked on the newest row version when two processes race, so only
// one of them takes the lease.
func (s *Store) LeaseJob(ctx context.Context, id, owner string, until time.Time) (_ quarantine.Job, err error) {
	defer pgdb.Classify(&err)
	now := time.Now().UnixNano()
	rows, err := s.pool.Query(ctx, `UPDATE reprocess_jobs SET owner = $2, lease_until = $3, updated_at = $4
		WHERE id = $1 AND state = 'running' AND (owner = '' OR owner = $2 OR lease_until < $4)
		RETURNING `+jobColumns, id, owner, leaseNanos(until), now)
	if err != nil {
		return quarantine.Job{}, fmt.Errorf("leasing job %s: %w", id, err)
	}
	j, err := pgx.CollectExactlyOneRow(rows, scanJob)
	if errors.Is(err, pgx.ErrNoRows) {
		cur, gerr := s.GetJob(ctx, id)
		if gerr != nil {
			return quarantine.Job{}, gerr
		}
		return quarantine.Job{}, fmt.Errorf("job %s is %s, leased by %q: %w", id, cur.State, cur.Owner, quarantine.ErrConflict)
	}
	if err != nil {
		return quarantine.Job{}, fmt.Errorf("leasing job %s: %w", id, err)
	}
	return j, nil
}

// ListJobs implements quarantine.JobStore.
func (s *Store) ListJobs(ctx context.Context, f quarantine.JobFilter) (_ quarantine.JobPage, err error) {
	defer pgdb.Classify(&err)
	q := `SELECT ` + jobColumns + ` FROM reprocess_jobs WHERE true`
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.State != "" {
		q += ` AND state = ` + arg(string(f.State))
	}
	if f.Cursor != "" {
		at, id, err := quarantine.DecodeCursor(f.Cursor)
		if err != nil {
			return quarantine.JobPage{}, err
		}
		q += ` AND (created_at, id) < (` + arg(at) + `, ` + arg(id) + `)`
	}
	limit := f.PageLimit()
	q += ` ORDER BY created_at DESC, id DESC LIMIT ` + arg(limit+1)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return quarantine.JobPage{}, fmt.Errorf("listing jobs: %w", err)
	}
	jobs, err := pgx.CollectRows(rows, scanJob)
	if err != nil {
		return quarantine.JobPage{}, fmt.Errorf("listing jobs: %w", err)
	}
	page := quarantine.JobPage{Jobs: jobs}
	if page.Jobs == nil {
		page.Jobs = []quarantine.Job{}
	}
	if len(page.Jobs) > limit {
		page.Jobs = page.Jobs[:limit]
		last := page.Jobs[limit-1]
		page.NextCursor = quarantine.EncodeCursor(last.CreatedAt.UnixNano(), last.ID)
	}
	return page, nil
}
