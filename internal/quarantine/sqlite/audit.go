package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/sqlitedb"
)

// AuditLog is the audit.Log in the metadata database, beside the entries
// whose changes it records (Store's own List is the entries').
type AuditLog struct{ s *Store }

var _ audit.Log = (*AuditLog)(nil)

// AuditLog returns the audit log kept in this store's database. It shares
// the Store's connections: closing the Store closes it.
func (s *Store) AuditLog() *AuditLog { return &AuditLog{s} }

// Append implements audit.Log: the events in one transaction, their IDs
// assigned in order (and written back into events).
func (l *AuditLog) Append(ctx context.Context, events ...audit.Event) (err error) {
	defer sqlitedb.Classify(&err)
	if len(events) == 0 {
		return nil
	}
	return l.s.inTx(ctx, fmt.Sprintf("appending %d audit events", len(events)), func(tx *sql.Tx) error {
		return appendEvents(ctx, tx, events...)
	})
}

// List implements audit.Log, newest (highest id) first.
func (l *AuditLog) List(ctx context.Context, f audit.Filter) (_ audit.Page, err error) {
	defer sqlitedb.Classify(&err)
	var (
		where []string
		args  []any
	)
	switch {
	case strings.HasSuffix(f.Target, "/"):
		where = append(where, "substr(target, 1, ?) = ?")
		args = append(args, len(f.Target), f.Target)
	case f.Target != "":
		where = append(where, "target = ?")
		args = append(args, f.Target)
	}
	if f.Action != "" {
		where = append(where, "action = ?")
		args = append(args, f.Action)
	}
	if f.Actor != "" {
		where = append(where, "actor = ?")
		args = append(args, f.Actor)
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, quarantine.ClampNanos(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "at < ?")
		args = append(args, quarantine.ClampNanos(f.Until))
	}
	if f.Cursor != "" {
		id, err := audit.DecodeCursor(f.Cursor)
		if err != nil {
			return audit.Page{}, err
		}
		where = append(where, "id < ?")
		args = append(args, id)
	}
	limit := f.EffectiveLimit()
	q := `SELECT id, at, actor, role, action, target, reason, details FROM audit_events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ") //nolint:gosec // constant clauses with ? placeholders
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit+1)
	rows, err := l.s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return audit.Page{}, fmt.Errorf("listing audit events: %w", err)
	}
	defer rows.Close() //nolint:errcheck // rows.Err is checked after the loop
	page := audit.Page{Events: []audit.Event{}}
	for rows.Next() {
		var (
			ev      audit.Event
			at      int64
			details sql.NullString
		)
		if err := rows.Scan(&ev.ID, &at, &ev.Actor, &ev.Role, &ev.Action, &ev.Target, &ev.Reason, &details); err != nil {
			return audit.Page{}, fmt.Errorf("listing audit events: %w", err)
		}
		ev.At = time.Unix(0, at).UTC()
		if details.Valid {
			ev.Details = []byte(details.String)
		}
		page.Events = append(page.Events, ev)
	}
	if err := rows.Err(); err != nil {
		return audit.Page{}, fmt.Errorf("listing audit events: %w", err)
	}
	if len(page.Events) > limit {
		page.Events = page.Events[:limit]
		page.NextCursor = audit.EncodeCursor(page.Events[limit-1].ID)
	}
	return page, nil
}
