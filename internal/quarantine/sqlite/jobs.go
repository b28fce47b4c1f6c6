package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/sqlitedb"
)

const jobColumns = `id, state, filter, target, reason, actor, role, matched, passed, failed, skipped,
	created_at, updated_at, error, owner, lease_until`

// CreateJob implements quarantine.JobStore.
func (s *Store) CreateJob(ctx context.Context, j quarantine.Job) (err error) {
	defer sqlitedb.Classify(&err)
	now := time.Now()
	if j.CreatedAt.IsZero() {
		j.CreatedAt = now
	}
	if j.UpdatedAt.IsZero() {
		j.UpdatedAt = j.CreatedAt
	}
	if j.ID == "" {
		return errors.New("creating job: empty id")
	}
	filter := string(j.Filter)
	if filter == "" {
		filter = "{}"
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO reprocess_jobs (`+jobColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.ID, string(j.State), filter, j.Target, j.Reason, j.Actor, j.Role,
		j.Matched, j.Passed, j.Failed, j.Skipped, j.CreatedAt.UnixNano(), j.UpdatedAt.UnixNano(), j.Error,
		j.Owner, leaseNanos(j.LeaseUntil))
	if err != nil {
		return fmt.Errorf("creating job %s: %w", j.ID, err)
	}
	return nil
}

func scanJob(sc scanner) (quarantine.Job, error) {
	var (
		j                quarantine.Job
		state, filter    string
		created, updated int64
		lease            int64
	)
	if err := sc.Scan(&j.ID, &state, &filter, &j.Target, &j.Reason, &j.Actor, &j.Role,
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
	defer sqlitedb.Classify(&err)
	j, err := scanJob(s.r.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM reprocess_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return quarantine.Job{}, fmt.Errorf("job %s: %w", id, quarantine.ErrNotFound)
	}
	if err != nil {
		return quarantine.Job{}, fmt.Errorf("getting job %s: %w", id, err)
	}
	return j, nil
}

// UpdateJob implements quarantine.JobStore.
func (s *Store) UpdateJob(ctx context.Context, id string, u quarantine.JobUpdate) (err error) {
	defer sqlitedb.Classify(&err)
	q := `UPDATE reprocess_jobs SET updated_at = ?, skipped = skipped + ?`
	args := []any{time.Now().UnixNano(), u.AddSkipped}
	if u.State != nil {
		q += `, state = ?`
		args = append(args, string(*u.State))
	}
	if u.Matched != nil {
		q += `, matched = ?`
		args = append(args, *u.Matched)
	}
	if u.Error != nil {
		q += `, error = ?`
		args = append(args, *u.Error)
	}
	res, err := s.w.ExecContext(ctx, q+` WHERE id = ?`, append(args, id)...)
	if err != nil {
		return fmt.Errorf("updating job %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("updating job %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("job %s: %w", id, quarantine.ErrNotFound)
	}
	return nil
}

// UnfinishedJobs implements quarantine.JobStore.
func (s *Store) UnfinishedJobs(ctx context.Context) (_ []quarantine.Job, err error) {
	defer sqlitedb.Classify(&err)
	rows, err := s.r.QueryContext(ctx, `SELECT `+jobColumns+` FROM reprocess_jobs
		WHERE state = 'running' ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("listing unfinished jobs: %w", err)
	}
	defer rows.Close() //nolint:errcheck // rows.Err is checked after the loop
	var out []quarantine.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("listing unfinished jobs: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing unfinished jobs: %w", err)
	}
	return out, nil
}

// leaseNanos stores the zero time as 0 (no lease).
func leaseNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return quarantine.ClampNanos(t)
}

// LeaseJob implements quarantine.JobStore.
func (s *Store) LeaseJob(ctx context.Context, id, owner string, until time.Time) (_ quarantine.Job, err error) {
	defer sqlitedb.Classify(&err)
	now := time.Now().UnixNano()
	res, err := s.w.ExecContext(ctx, `UPDATE reprocess_jobs SET owner = ?, lease_until = ?, updated_at = ?
		WHERE id = ? AND state = 'running' AND (owner = '' OR owner = ? OR lease_until < ?)`,
		owner, leaseNanos(until), now, id, owner, now)
	if err != nil {
		return quarantine.Job{}, fmt.Errorf("leasing job %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return quarantine.Job{}, fmt.Errorf("leasing job %s: %w", id, err)
	}
	j, err := scanJob(s.w.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM reprocess_jobs WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return quarantine.Job{}, fmt.Errorf("job %s: %w", id, quarantine.ErrNotFound)
	case err != nil:
		return quarantine.Job{}, fmt.Errorf("leasing job %s: %w", id, err)
	case n == 0:
		return quarantine.Job{}, fmt.Errorf("job %s is %s, leased by %q: %w", id, j.State, j.Owner, quarantine.ErrConflict)
	}
	return j, nil
}

// ListJobs implements quarantine.JobStore.
func (s *Store) ListJobs(ctx context.Context, f quarantine.JobFilter) (_ quarantine.JobPage, err error) {
	defer sqlitedb.Classify(&err)
	q := `SELECT ` + jobColumns + ` FROM reprocess_jobs WHERE 1 = 1`
	var args []any
	if f.State != "" {
		q += ` AND state = ?`
		args = append(args, string(f.State))
	}
	if f.Cursor != "" {
		at, id, err := quarantine.DecodeCursor(f.Cursor)
		if err != nil {
			return quarantine.JobPage{}, err
		}
		q += ` AND (created_at < ? OR (created_at = ? AND id < ?))`
		args = append(args, at, at, id)
	}
	limit := f.PageLimit()
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return quarantine.JobPage{}, fmt.Errorf("listing jobs: %w", err)
	}
	defer rows.Close() //nolint:errcheck // rows.Err is checked after the loop
	page := quarantine.JobPage{Jobs: []quarantine.Job{}}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return quarantine.JobPage{}, fmt.Errorf("listing jobs: %w", err)
		}
		page.Jobs = append(page.Jobs, j)
	}
	if err := rows.Err(); err != nil {
		return quarantine.JobPage{}, fmt.Errorf("listing jobs: %w", err)
	}
	if len(page.Jobs) > limit {
		page.Jobs = page.Jobs[:limit]
		last := page.Jobs[limit-1]
		page.NextCursor = quarantine.EncodeCursor(last.CreatedAt.UnixNano(), last.ID)
	}
	return page, nil
}
