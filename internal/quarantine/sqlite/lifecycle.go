package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/sqlitedb"
)

// Every transition below runs on the single writer connection, whose
// transactions BEGIN IMMEDIATE: the status read and the update are one
// atomic step, the compare-and-set quarantine.Lifecycle promises.

// actionable is the SQL list of statuses a record can be claimed,
// discarded or corrected from.
const actionable = `('quarantined', 'failed_again')`

// Claim implements quarantine.Lifecycle.
func (s *Store) Claim(ctx context.Context, id, job string) (_ quarantine.Entry, err error) {
	defer sqlitedb.Classify(&err)
	res, err := s.w.ExecContext(ctx, `UPDATE entries
		SET claimed_from = CASE WHEN status = 'reprocessing' THEN claimed_from ELSE status END,
			status = 'reprocessing', job = ?
		WHERE id = ? AND ((status IN `+actionable+` AND job <> ?) OR (status = 'reprocessing' AND job = ?))`,
		job, id, job, job)
	if err != nil {
		return quarantine.Entry{}, fmt.Errorf("claiming entry %s: %w", id, err)
	}
	if err := s.checkUpdated(ctx, res, id); err != nil {
		return quarantine.Entry{}, err
	}
	// Read on the writer: the read pool may not see the claim yet.
	e, err := scanEntry(s.w.QueryRowContext(ctx, `SELECT `+columns+` FROM entries WHERE id = ?`, id))
	if err != nil {
		return quarantine.Entry{}, fmt.Errorf("reading claimed entry %s: %w", id, err)
	}
	return e, nil
}

// checkUpdated turns an update that changed no row into ErrNotFound or
// ErrConflict.
func (s *Store) checkUpdated(ctx context.Context, res sql.Result, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("updating entry %s: %w", id, err)
	}
	if n > 0 {
		return nil
	}
	var one int
	err = s.w.QueryRowContext(ctx, `SELECT 1 FROM entries WHERE id = ?`, id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("entry %s: %w", id, quarantine.ErrNotFound)
	case err != nil:
		return fmt.Errorf("updating entry %s: %w", id, err)
	default:
		return fmt.Errorf("entry %s: %w", id, quarantine.ErrConflict)
	}
}

// Claimed implements quarantine.Lifecycle.
func (s *Store) Claimed(ctx context.Context, job string) (_ []quarantine.Entry, err error) {
	defer sqlitedb.Classify(&err)
	rows, err := s.w.QueryContext(ctx, `SELECT `+columns+` FROM entries
		WHERE job = ? AND status = 'reprocessing' ORDER BY id`, job)
	if err != nil {
		return nil, fmt.Errorf("listing entries claimed by job %s: %w", job, err)
	}
	defer rows.Close() //nolint:errcheck // rows.Err is checked after the loop
	var out []quarantine.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("listing entries claimed by job %s: %w", job, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing entries claimed by job %s: %w", job, err)
	}
	return out, nil
}

// Finish implements quarantine.Lifecycle.
func (s *Store) Finish(ctx context.Context, id, job string, o quarantine.Outcome) (err error) {
	defer sqlitedb.Classify(&err)
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
	set := `status = ?, status_changed_at = ?, status_actor = ?, status_reason = ?, replay_count = ?, claimed_from = ''`
	args := []any{string(o.Status), c.At.UnixNano(), c.Actor, c.Reason, int64(o.ReplayCount)}
	if o.Errors != nil {
		errs, err := json.Marshal(o.Errors)
		if err != nil {
			return fmt.Errorf("finishing entry %s: encoding errors: %w", id, err)
		}
		var typ, field string
		if len(o.Errors) > 0 {
			typ, field = string(o.Errors[0].Type), o.Errors[0].Field
		}
		set += `, errors = ?, error_type = ?, error_field = ?`
		args = append(args, string(errs), typ, field)
		details["errors"] = o.Errors
	}
	return s.inTx(ctx, "finishing entry "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE entries SET `+set+` WHERE id = ? AND status = 'reprocessing' AND job = ?`,
			append(args, id, job)...)
		if err != nil {
			return err
		}
		if err := s.checkUpdatedTx(ctx, tx, res, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE reprocess_jobs SET `+counter+` = `+counter+` + 1, updated_at = ? WHERE id = ?`, //nolint:gosec // constant clauses
			c.At.UnixNano(), job); err != nil {
			return err
		}
		return appendEvents(ctx, tx, c.Event(quarantine.ActionReprocess, id, details))
	})
}

// Release implements quarantine.Lifecycle.
func (s *Store) Release(ctx context.Context, job string) (err error) {
	defer sqlitedb.Classify(&err)
	_, err = s.w.ExecContext(ctx, `UPDATE entries SET status = claimed_from, claimed_from = ''
		WHERE job = ? AND status = 'reprocessing'`, job)
	if err != nil {
		return fmt.Errorf("releasing entries of job %s: %w", job, err)
	}
	return nil
}

// Discard implements quarantine.Lifecycle.
func (s *Store) Discard(ctx context.Context, id string, c quarantine.Change) (err error) {
	defer sqlitedb.Classify(&err)
	c = c.WithTime()
	return s.inTx(ctx, "discarding entry "+id, func(tx *sql.Tx) error { return discard(ctx, tx, id, c) })
}

// DiscardAll implements quarantine.Lifecycle.
func (s *Store) DiscardAll(ctx context.Context, ids []string, c quarantine.Change) (_ []string, err error) {
	defer sqlitedb.Classify(&err)
	c = c.WithTime()
	var done []string
	err = s.inTx(ctx, fmt.Sprintf("discarding %d entries", len(ids)), func(tx *sql.Tx) error {
		for _, id := range ids {
			err := discard(ctx, tx, id, c)
			switch {
			case err == nil:
				done = append(done, id)
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
	return done, nil
}

// discard discards id in tx, or fails with ErrNotFound or ErrConflict.
func discard(ctx context.Context, tx *sql.Tx, id string, c quarantine.Change) error {
	from, err := actionableStatus(ctx, tx, id)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE entries SET status = 'discarded', status_changed_at = ?,
		status_actor = ?, status_reason = ? WHERE id = ?`, c.At.UnixNano(), c.Actor, c.Reason, id); err != nil {
		return err
	}
	return appendEvents(ctx, tx, c.Event(quarantine.ActionDiscard, id,
		map[string]any{"from": from, "to": quarantine.StatusDiscarded}))
}

// Correct implements quarantine.Lifecycle.
func (s *Store) Correct(ctx context.Context, id string, value []byte, c quarantine.Change) (err error) {
	defer sqlitedb.Classify(&err)
	c = c.WithTime()
	if value == nil {
		value = []byte{} // NULL means no correction
	}
	return s.inTx(ctx, "correcting entry "+id, func(tx *sql.Tx) error {
		if _, err := actionableStatus(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE entries SET corrected = ? WHERE id = ?`, value, id); err != nil {
			return err
		}
		return appendEvents(ctx, tx, c.Event(quarantine.ActionEdit, id, map[string]any{"size": len(value)}))
	})
}

// Correction implements quarantine.Lifecycle.
func (s *Store) Correction(ctx context.Context, id string) (_ []byte, err error) {
	defer sqlitedb.Classify(&err)
	var v []byte
	var null bool
	err = s.r.QueryRowContext(ctx, `SELECT corrected, corrected IS NULL FROM entries WHERE id = ?`, id).Scan(&v, &null)
	switch {
	case errors.Is(err, sql.ErrNoRows):
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

// actionableStatus returns the status of id, or ErrNotFound, or ErrConflict
// when it is not quarantined or failed_again.
func actionableStatus(ctx context.Context, tx *sql.Tx, id string) (quarantine.Status, error) {
	var st string
	err := tx.QueryRowContext(ctx, `SELECT status FROM entries WHERE id = ?`, id).Scan(&st)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("entry %s: %w", id, quarantine.ErrNotFound)
	case err != nil:
		return "", err
	case !quarantine.Status(st).Actionable():
		return "", fmt.Errorf("entry %s is %s: %w", id, st, quarantine.ErrConflict)
	}
	return quarantine.Status(st), nil
}

func (s *Store) checkUpdatedTx(ctx context.Context, tx *sql.Tx, res sql.Result, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM entries WHERE id = ?`, id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("entry %s: %w", id, quarantine.ErrNotFound)
	case err != nil:
		return err
	default:
		return fmt.Errorf("entry %s: %w", id, quarantine.ErrConflict)
	}
}

// inTx runs fn in a write transaction and commits it. Errors are wrapped
// with what, except the sentinels' own messages stay readable.
func (s *Store) inTx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		if errors.Is(err, quarantine.ErrNotFound) || errors.Is(err, quarantine.ErrConflict) {
			return err
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: committing: %w", what, err)
	}
	return nil
}

// appendEvents inserts events in tx.
func appendEvents(ctx context.Context, tx *sql.Tx, events ...audit.Event) error {
	for i := range events {
		ev := &events[i]
		if ev.At.IsZero() {
			ev.At = time.Now()
		}
		if err := quarantine.CheckTime(ev.At); err != nil {
			return fmt.Errorf("audit event at: %w", err)
		}
		var details any
		if len(ev.Details) > 0 {
			details = string(ev.Details)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO audit_events (at, actor, role, action, target, reason, details)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, ev.At.UnixNano(), ev.Actor, ev.Role, ev.Action, ev.Target, ev.Reason, details)
		if err != nil {
			return fmt.Errorf("appending audit event: %w", err)
		}
		if ev.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("appending audit event: %w", err)
		}
	}
	return nil
}
