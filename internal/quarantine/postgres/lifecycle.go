package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/pgdb"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// Every transition is one UPDATE whose WHERE clause checks the status (or a
// SELECT ... FOR UPDATE before the UPDATE, in one transaction): under READ
// COMMITTED a concurrent update of the same row makes the second statement
// wait and re-check its condition on the new row version, so two jobs never
// both claim a record. Updates by id probe every partition's primary key
// index, like Get.

// actionable is the SQL list of statuses a record can be claimed,
// discarded or corrected from.
const actionable = `('quarantined', 'failed_again')`

// Claim implements quarantine.Lifecycle.
func (s *Store) Claim(ctx context.Context, id, job string) (_ quarantine.Entry, err error) {
	defer pgdb.Classify(&err)
	q := `UPDATE ` + s.qtable + `
		SET claimed_from = CASE WHEN status = 'reprocessing' THEN claimed_from ELSE status END,
			status = 'reprocessing', job = $2
		WHERE id = $1 AND ((status IN ` + actionable + ` AND job <> $2) OR (status = 'reprocessing' AND job = $2))
		RETURNING ` + selectColumns
	rows, err := s.pool.Query(ctx, q, id, job)
	if err != nil {
		return quarantine.Entry{}, fmt.Errorf("claiming entry %s: %w", id, err)
	}
	// A record stored twice (see the package documentation) is claimed
	// whole; the first row is returned, as Get would.
	es, err := pgx.CollectRows(rows, collectEntry)
	if err != nil {
		return quarantine.Entry{}, fmt.Errorf("claiming entry %s: %w", id, err)
	}
	if len(es) == 0 {
		return quarantine.Entry{}, s.missingOrConflict(ctx, s.pool, id)
	}
	first := es[0]
	for _, e := range es[1:] {
		if e.QuarantinedAt.Before(first.QuarantinedAt) {
			first = e
		}
	}
	return first, nil
}

// querier is a pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// missingOrConflict says why an update by id changed no row.
func (s *Store) missingOrConflict(ctx context.Context, q querier, id string) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM `+s.qtable+` WHERE id = $1 LIMIT 1`, id).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("entry %s: %w", id, quarantine.ErrNotFound)
	case err != nil:
		return fmt.Errorf("reading entry %s: %w", id, err)
	default:
		return fmt.Errorf("entry %s: %w", id, quarantine.ErrConflict)
	}
}

// Claimed implements quarantine.Lifecycle.
func (s *Store) Claimed(ctx context.Context, job string) (_ []quarantine.Entry, err error) {
	defer pgdb.Classify(&err)
	rows, err := s.pool.Query(ctx, `SELECT `+selectColumns+` FROM `+s.qtable+`
		WHERE job = $1 AND status = 'reprocessing' ORDER BY id`, job)
	if err != nil {
		return nil, fmt.Errorf("listing entries claimed by job %s: %w", job, err)
	}
	out, err := pgx.CollectRows(rows, collectEntry)
	if err != nil {
		return nil, fmt.Errorf("listing entries claimed by job %s: %w", job, err)
	}
	return out, nil
}

// Finish implements quarantine.Lifecycle.
func (s *Store) Finish(ctx context.Context, id, job string, o quarantine.Outcome) (err error) {
	defer pgdb.Classify(&err)
	var counter string
	switch o.Status {
	case quarantine.StatusReprocessed:
		counter = "passed"
	case quarantine.StatusFailedAgain:
		counter = "failed"
	default:
		return fmt.Errorf("finishing entry %s: status %q is not reprocessed or failed_again", id, o.Status)
	}
	c := o.WithTime()
	details := map[string]any{"job": job, "status": o.Status, "replay_count": o.ReplayCount}
	set := `status = $3, status_changed_at = $4, status_actor = $5, status_reason = $6, replay_count = $7, claimed_from = ''`
	args := []any{id, job, string(o.Status), c.At.UnixNano(), c.Actor, c.Reason, int64(o.ReplayCount)}
	if o.Errors != nil {
		errs, err := json.Marshal(o.Errors)
		if err != nil {
			return fmt.Errorf("finishing entry %s: encoding errors: %w", id, err)
		}
		var typ, field string
		if len(o.Errors) > 0 {
			typ, field = string(o.Errors[0].Type), o.Errors[0].Field
		}
		set += `, errors = $8, error_type = $9, error_field = $10`
		args = append(args, string(errs), typ, indexedField(field))
		details["errors"] = o.Errors
	}
	return s.inTx(ctx, "finishing entry "+id, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE `+s.qtable+` SET `+set+` WHERE id = $1 AND status = 'reprocessing' AND job = $2`, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return s.missingOrConflict(ctx, tx, id)
		}
		if _, err := tx.Exec(ctx, `UPDATE reprocess_jobs SET `+counter+` = `+counter+` + 1, updated_at = $2 WHERE id = $1`,
			job, c.At.UnixNano()); err != nil {
			return err
		}
		return appendEvents(ctx, tx, c.Event(quarantine.ActionReprocess, id, details))
	})
}

// Release implements quarantine.Lifecycle.
func (s *Store) Release(ctx context.Context, job string) (err error) {
	defer pgdb.Classify(&err)
	_, err = s.pool.Exec(ctx, `UPDATE `+s.qtable+` SET status = claimed_from, claimed_from = ''
		WHERE job = $1 AND status = 'reprocessing'`, job)
	if err != nil {
		return fmt.Errorf("releasing entries of job %s: %w", job, err)
	}
	return nil
}

// Discard implements quarantine.Lifecycle.
func (s *Store) Discard(ctx context.Context, id string, c quarantine.Change) (err error) {
	defer pgdb.Classify(&err)
	c = c.WithTime()
	return s.inTx(ctx, "discarding entry "+id, func(tx pgx.Tx) error { return s.discard(ctx, tx, id, c) })
}

// DiscardAll implements quarantine.Lifecycle. The rows are locked in id
// order, so two calls over overlapping ids never deadlock.
func (s *Store) DiscardAll(ctx context.Context, ids []string, c quarantine.Change) (_ []string, err error) {
	defer pgdb.Classify(&err)
	c = c.WithTime()
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	discarded := make(map[string]bool, len(ids))
	err = s.inTx(ctx, fmt.Sprintf("discarding %d entries", len(ids)), func(tx pgx.Tx) error {
		clear(discarded)
		for _, id := range slices.Compact(sorted) {
			err := s.discard(ctx, tx, id, c)
			switch {
			case err == nil:
				discarded[id] = true
			case errors.Is(err, quarantine.ErrNotFound), errors.Is(err, quarantine.ErrConflict):
			default:
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var done []string
	for _, id := range ids {
		if discarded[id] {
			done = append(done, id)
			delete(discarded, id) // a repeated id is discarded once
		}
	}
	return done, nil
}

// discard discards id in tx, or fails with ErrNotFound or ErrConflict.
func (s *Store) discard(ctx context.Context, tx pgx.Tx, id string, c quarantine.Change) error {
	from, err := s.lockActionable(ctx, tx, id)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE `+s.qtable+` SET status = 'discarded', status_changed_at = $2,
		status_actor = $3, status_reason = $4 WHERE id = $1`, id, c.At.UnixNano(), c.Actor, c.Reason); err != nil {
		return err
	}
	return appendEvents(ctx, tx, c.Event(quarantine.ActionDiscard, id,
		map[string]any{"from": from, "to": quarantine.StatusDiscarded}))
}

// Correct implements quarantine.Lifecycle.
func (s *Store) Correct(ctx context.Context, id string, value []byte, c quarantine.Change) (err error) {
	defer pgdb.Classify(&err)
	c = c.WithTime()
	if value == nil {
		value = []byte{} // NULL means no correction
	}
	return s.inTx(ctx, "correcting entry "+id, func(tx pgx.Tx) error {
		if _, err := s.lockActionable(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE `+s.qtable+` SET corrected = $2 WHERE id = $1`, id, value); err != nil {
			return err
		}
		return appendEvents(ctx, tx, c.Event(quarantine.ActionEdit, id, map[string]any{"size": len(value)}))
	})
}

// Correction implements quarantine.Lifecycle.
func (s *Store) Correction(ctx context.Context, id string) (_ []byte, err error) {
	defer pgdb.Classify(&err)
	var (
		v    []byte
		null bool
	)
	err = s.pool.QueryRow(ctx, `SELECT corrected, corrected IS NULL FROM `+s.qtable+`
		WHERE id = $1 ORDER BY quarantined_at LIMIT 1`, id).Scan(&v, &null)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("entry %s: %w", id, quarantine.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("reading correction of entry %s: %w", id, err)
	case null:
		return nil, fmt.Errorf("correction of entry %s: %w", id, quarantine.ErrNotFound)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// lockActionable locks the record's rows and returns its status, or
// ErrNotFound, or ErrConflict when it is not quarantined or failed_again.
func (s *Store) lockActionable(ctx context.Context, tx pgx.Tx, id string) (quarantine.Status, error) {
	var st string
	err := tx.QueryRow(ctx, `SELECT status FROM `+s.qtable+` WHERE id = $1 ORDER BY quarantined_at LIMIT 1 FOR UPDATE`, id).Scan(&st)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", fmt.Errorf("entry %s: %w", id, quarantine.ErrNotFound)
	case err != nil:
		return "", err
	case !quarantine.Status(st).Actionable():
		return "", fmt.Errorf("entry %s is %s: %w", id, st, quarantine.ErrConflict)
	}
	return quarantine.Status(st), nil
}

// inTx runs fn in a transaction and commits it. The sentinels pass through
// unwrapped by what.
func (s *Store) inTx(ctx context.Context, what string, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		if errors.Is(err, quarantine.ErrNotFound) || errors.Is(err, quarantine.ErrConflict) {
			return err
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: committing: %w", what, err)
	}
	return nil
}

// appendEvents inserts events in tx, assigning their IDs.
func appendEvents(ctx context.Context, tx pgx.Tx, events ...audit.Event) error {
	for i := range events {
		ev := &events[i]
		if ev.At.IsZero() {
			ev.At = time.Now()
		}
		if err := quarantine.CheckTime(ev.At); err != nil {
			return fmt.Errorf("audit event at: %w", err)
		}
		var details *string
		if len(ev.Details) > 0 {
			d := string(ev.Details)
			details = &d
		}
		if err := tx.QueryRow(ctx, `INSERT INTO audit_events (at, actor, role, action, target, reason, details)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			ev.At.UnixNano(), ev.Actor, ev.Role, ev.Action, ev.Target, ev.Reason, details).Scan(&ev.ID); err != nil {
			return fmt.Errorf("appending audit event: %w", err)
		}
	}
	return nil
}

func collectEntry(row pgx.CollectableRow) (quarantine.Entry, error) { return scanEntry(row) }
