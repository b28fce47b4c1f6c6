package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/pgdb"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// AuditLog is the audit.Log in the metadata database, beside the entries
// whose changes it records (Store's own List is the entries').
//
// Events are listed by id, which PostgreSQL assigns at insert: of two
// transactions appending at once, the one with the higher id may commit
// first, so a reader paging at that instant can miss the other's event
// until it reloads. Audit reads are for people, so that is accepted.
type AuditLog struct{ s *Store }

var _ audit.Log = (*AuditLog)(nil)

// AuditLog returns the audit log kept in this store's database. It shares
// the Store's pool: closing the Store closes it.
func (s *Store) AuditLog() *AuditLog { return &AuditLog{s} }

// Append implements audit.Log: the events in one transaction, their IDs
// assigned in order (and written back into events).
func (l *AuditLog) Append(ctx context.Context, events ...audit.Event) (err error) {
	defer pgdb.Classify(&err)
	if len(events) == 0 {
		return nil
	}
	return l.s.inTx(ctx, fmt.Sprintf("appending %d audit events", len(events)), func(tx pgx.Tx) error {
		return appendEvents(ctx, tx, events...)
	})
}

// List implements audit.Log, newest (highest id) first.
func (l *AuditLog) List(ctx context.Context, f audit.Filter) (_ audit.Page, err error) {
	defer pgdb.Classify(&err)
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	switch {
	case strings.HasSuffix(f.Target, "/"):
		where = append(where, "starts_with(target, "+arg(f.Target)+")")
	case f.Target != "":
		where = append(where, "target = "+arg(f.Target))
	}
	if f.Action != "" {
		where = append(where, "action = "+arg(f.Action))
	}
	if f.Actor != "" {
		where = append(where, "actor = "+arg(f.Actor))
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= "+arg(quarantine.ClampNanos(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, "at < "+arg(quarantine.ClampNanos(f.Until)))
	}
	if f.Cursor != "" {
		id, err := audit.DecodeCursor(f.Cursor)
		if err != nil {
			return audit.Page{}, err
		}
		where = append(where, "id < "+arg(id))
	}
	limit := f.EffectiveLimit()
	q := `SELECT id, at, actor, role, action, target, reason, details FROM audit_events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC LIMIT ` + arg(limit+1)
	rows, err := l.s.pool.Query(ctx, q, args...)
	if err != nil {
		return audit.Page{}, fmt.Errorf("listing audit events: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (audit.Event, error) {
		var (
			ev      audit.Event
			at      int64
			details *string
		)
		if err := row.Scan(&ev.ID, &at, &ev.Actor, &ev.Role, &ev.Action, &ev.Target, &ev.Reason, &details); err != nil {
			return audit.Event{}, err
		}
		ev.At = time.Unix(0, at).UTC()
		if details != nil {
			ev.Details = []byte(*details)
		}
		return ev, nil
	})
	if err != nil {
		return audit.Page{}, fmt.Errorf("listing audit events: %w", err)
	}
	page := audit.Page{Events: events}
	if page.Events == nil {
		page.Events = []audit.Event{}
	}
	if len(page.Events) > limit {
		page.Events = page.Events[:limit]
		page.NextCursor = audit.EncodeCursor(page.Events[limit-1].ID)
	}
	return page, nil
}
