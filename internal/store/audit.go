package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/greenroomhq/greenroom/internal/audit"
)

// DefaultAuditPageSize is the page size of [DB.AuditEvents] when the
// caller asks for none.
const DefaultAuditPageSize = 50

const auditColumns = `id, at, actor, actor_kind, action, target, arguments, outcome, error_code, error_message, request_id`

type auditRow struct {
	ID           string    `db:"id"`
	At           time.Time `db:"at"`
	Actor        string    `db:"actor"`
	ActorKind    string    `db:"actor_kind"`
	Action       string    `db:"action"`
	Target       string    `db:"target"`
	Arguments    string    `db:"arguments"`
	Outcome      string    `db:"outcome"`
	ErrorCode    string    `db:"error_code"`
	ErrorMessage string    `db:"error_message"`
	RequestID    string    `db:"request_id"`
}

func (r *auditRow) toAudit() (audit.Event, error) {
	e := audit.Event{
		ID: r.ID, At: r.At.UTC(), Actor: r.Actor, ActorKind: r.ActorKind, Action: r.Action, Target: r.Target,
		Outcome: r.Outcome, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage, RequestID: r.RequestID,
	}
	if err := json.Unmarshal([]byte(r.Arguments), &e.Arguments); err != nil {
		return audit.Event{}, fmt.Errorf("store: audit event %s has malformed arguments: %w", r.ID, err)
	}
	if len(e.Arguments) == 0 {
		e.Arguments = nil // recorded as {}, so that the column is always an object
	}
	return e, nil
}

// RecordAuditEvent appends e to the audit log. It makes e's ID when empty
// and uses the current time when e.At is zero; times are kept in UTC to the
// millisecond on both databases. The event is redacted with
// [audit.Event.Redacted] here, whatever the caller did, so that no secret
// reaches the table.
//
// The event is written on its own through the writer pool, so it is kept
// even when the action it records failed and rolled back. A caller that
// must record an action whose request was cancelled passes
// context.WithoutCancel. On SQLite there is one writer connection: do not
// call this while holding a refresh or other write transaction open, or it
// waits for that transaction forever.
func (db *DB) RecordAuditEvent(ctx context.Context, e audit.Event) error {
	if e.ID == "" {
		// Version 7 UUIDs from one process increase even within a
		// millisecond, so listing by ID keeps the order events came in.
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("store: record audit event: %w", err)
		}
		e.ID = id.String()
	}
	at := db.now()
	if !e.At.IsZero() {
		at = e.At.UTC().Truncate(time.Millisecond)
	}
	e = e.Redacted()
	args, err := json.Marshal(e.Arguments)
	if err != nil {
		return fmt.Errorf("store: record audit event: encode arguments: %w", err)
	}
	if string(args) == "null" {
		args = []byte("{}")
	}
	if _, err := db.execWrite(ctx, db.w.Rebind(`
		INSERT INTO audit_events (`+auditColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		e.ID, at, e.Actor, e.ActorKind, e.Action, e.Target, string(args),
		e.Outcome, e.ErrorCode, e.ErrorMessage, e.RequestID); err != nil {
		return fmt.Errorf("store: record audit event: %w", formatError(err))
	}
	return nil
}

// AuditEvents returns up to limit of the events f selects, newest first,
// and whether more follow. after is the ID of the last event of the
// previous page, "" for the first page; since IDs only grow, events
// recorded while a reader pages do not shift the pages that follow. limit
// is capped at [MaxPageSize]; 0 or less means [DefaultAuditPageSize].
func (db *DB) AuditEvents(ctx context.Context, f audit.Filter, after string, limit int) (events []audit.Event, hasMore bool, err error) {
	if limit <= 0 {
		limit = DefaultAuditPageSize
	}
	limit = min(limit, MaxPageSize)
	q := `SELECT ` + auditColumns + ` FROM audit_events WHERE 1 = 1`
	var args []any
	for _, c := range []struct {
		column string
		values []string
	}{{"actor", f.Actors}, {"action", f.Actions}, {"outcome", f.Outcomes}, {"target", f.Targets}} {
		if len(c.values) > 0 {
			q += ` AND ` + c.column + ` IN (?)`
			args = append(args, c.values)
		}
	}
	// SQLite compares the times as text; both sides are written in UTC in
	// one format whose text order is time order.
	if f.Since != nil {
		q += ` AND at >= ?`
		args = append(args, f.Since.UTC())
	}
	if f.Until != nil {
		q += ` AND at < ?`
		args = append(args, f.Until.UTC())
	}
	if after != "" {
		q += ` AND id < ?`
		args = append(args, after)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit+1)
	if q, args, err = sqlx.In(q, args...); err != nil {
		return nil, false, fmt.Errorf("store: audit events: %w", err)
	}
	var rows []auditRow
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(q), args...); err != nil {
		return nil, false, fmt.Errorf("store: audit events: %w", formatError(err))
	}
	if len(rows) > limit {
		rows, hasMore = rows[:limit], true
	}
	events = make([]audit.Event, len(rows))
	for i := range rows {
		if events[i], err = rows[i].toAudit(); err != nil {
			return nil, false, err
		}
	}
	return events, hasMore, nil
}
