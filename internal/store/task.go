package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// Software template tasks: a row per task, a row per step it finished (its
// checkpoint, written with the workspace as the step left it), and its
// event log. Event ids come from the table's own counter (a PostgreSQL
// sequence, SQLite's rowid), which is not given in commit order across
// transactions; a task's events are written by the one worker that runs
// it, one transaction after another, so within a task, which is how they
// are read, ids are in commit order and a reader after id N misses none.

// taskChannel is the PostgreSQL channel whose payload is the id of a task
// that has new events.
const taskChannel = "greenroom_tasks"

// taskPoll is how often SQLite's watchTasks looks for new events.
const taskPoll = 20 * time.Millisecond

const taskColumns = `id, template_ref, template_etag, template, template_base, parameters, secrets, created_by,
	status, output, error, job_id, gate, created_at, updated_at, ended_at`

type taskRow struct {
	ID           string         `db:"id"`
	TemplateRef  string         `db:"template_ref"`
	TemplateEtag string         `db:"template_etag"`
	Template     string         `db:"template"`
	TemplateBase string         `db:"template_base"`
	Parameters   string         `db:"parameters"`
	Secrets      string         `db:"secrets"`
	CreatedBy    string         `db:"created_by"`
	Status       string         `db:"status"`
	Output       string         `db:"output"`
	Error        string         `db:"error"`
	JobID        sql.NullInt64  `db:"job_id"`
	Gate         sql.NullString `db:"gate"`
	CreatedAt    time.Time      `db:"created_at"`
	UpdatedAt    time.Time      `db:"updated_at"`
	EndedAt      sql.NullTime   `db:"ended_at"`
}

func (r taskRow) task() *portal.Task {
	t := &portal.Task{
		ID: r.ID, TemplateRef: r.TemplateRef, TemplateEtag: r.TemplateEtag, Template: json.RawMessage(r.Template),
		TemplateBase: r.TemplateBase, Values: json.RawMessage(r.Parameters), Secrets: json.RawMessage(r.Secrets),
		CreatedBy: r.CreatedBy, Status: portal.TaskStatus(r.Status), Output: json.RawMessage(r.Output), Error: r.Error,
		JobID: r.JobID.Int64, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.Gate.Valid {
		t.Gate = json.RawMessage(r.Gate.String)
	}
	if r.EndedAt.Valid {
		at := r.EndedAt.Time.UTC()
		t.EndedAt = &at
	}
	return t
}

// CreateTask stores a new task, open, and gives it its id and times.
func (db *DB) CreateTask(ctx context.Context, t *portal.Task) error {
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("store: create task: %w", err)
	}
	now := db.now()
	t.ID, t.Status, t.CreatedAt, t.UpdatedAt = id.String(), portal.TaskOpen, now, now
	t.Output = json.RawMessage("{}")
	_, err = db.execWrite(ctx, db.w.Rebind(`INSERT INTO task (`+taskColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, NULL)`),
		t.ID, t.TemplateRef, t.TemplateEtag, string(t.Template), t.TemplateBase, jsonOr(t.Values, "{}"), jsonOr(t.Secrets, "{}"),
		t.CreatedBy, string(t.Status), "{}", "", now, now)
	return formatError(err)
}

func jsonOr(v json.RawMessage, def string) string {
	if len(v) == 0 {
		return def
	}
	return string(v)
}

// Task returns a task; ENOTFOUND if there is none.
func (db *DB) Task(ctx context.Context, id string) (*portal.Task, error) {
	var r taskRow
	err := db.r.GetContext(ctx, &r, db.r.Rebind(`SELECT `+taskColumns+` FROM task WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, portal.Errorf(portal.ENOTFOUND, "no task %s", id)
	}
	if err != nil {
		return nil, formatError(err)
	}
	return r.task(), nil
}

// Tasks lists the tasks f selects, newest first, those older than the
// task after (an id; "" from the newest), at most limit.
func (db *DB) Tasks(ctx context.Context, f portal.TaskFilter, after string, limit int) ([]*portal.Task, error) {
	var conds []string
	var args []any
	if len(f.CreatedBy) > 0 {
		cond, arg := db.inList("created_by", f.CreatedBy)
		conds, args = append(conds, cond), append(args, arg)
	}
	if len(f.Statuses) > 0 {
		statuses := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			statuses[i] = string(s)
		}
		cond, arg := db.inList("status", statuses)
		conds, args = append(conds, cond), append(args, arg)
	}
	if f.TemplateRef != "" {
		conds, args = append(conds, "template_ref = ?"), append(args, f.TemplateRef)
	}
	if after != "" {
		conds, args = append(conds, "id < ?"), append(args, after)
	}
	q := `SELECT ` + taskColumns + ` FROM task`
	if len(conds) > 0 {
		q += ` WHERE ` + strings.Join(conds, " AND ")
	}
	q += ` ORDER BY id DESC LIMIT ?`
	var rows []taskRow
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(q), append(args, limit)...); err != nil {
		return nil, formatError(err)
	}
	out := make([]*portal.Task, len(rows))
	for i, r := range rows {
		out[i] = r.task()
	}
	return out, nil
}

// SetTaskJob records the job that runs a task.
func (db *DB) SetTaskJob(ctx context.Context, id string, jobID int64) error {
	_, err := db.execWrite(ctx, db.w.Rebind(`UPDATE task SET job_id = ? WHERE id = ?`), jobID, id)
	return formatError(err)
}

// UpdateTask makes u, and reports whether it did: false when the task was
// not in any of u.From. A task that ends has its secrets cleared.
func (db *DB) UpdateTask(ctx context.Context, id string, u portal.TaskUpdate) (bool, error) {
	from := make([]string, len(u.From))
	for i, s := range u.From {
		from[i] = string(s)
	}
	cond, arg := db.inList("status", from)
	now := db.now()
	sets := []string{"status = ?", "updated_at = ?"}
	args := []any{string(u.To), now}
	if u.Output != nil {
		sets, args = append(sets, "output = ?"), append(args, string(u.Output))
	}
	if u.To != portal.TaskOpen && u.To != portal.TaskProcessing {
		sets, args = append(sets, "error = ?"), append(args, u.Error)
	}
	if u.To == portal.TaskWaiting {
		sets, args = append(sets, "gate = ?"), append(args, string(u.Gate))
	} else {
		sets = append(sets, "gate = NULL")
	}
	if u.To.Ended() {
		sets, args = append(sets, "ended_at = ?", "secrets = '{}'", "workspace = NULL"), append(args, now)
	}
	var changed bool
	err := db.inTaskTx(ctx, []string{id}, func(tx *sqlx.Tx) (bool, error) {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE task SET `+strings.Join(sets, ", ")+` WHERE id = ? AND `+cond),
			append(args, id, arg)...)
		if err != nil {
			return false, err
		}
		n, _ := res.RowsAffected()
		if changed = n == 1; !changed || u.Event == nil {
			return false, nil
		}
		return true, db.insertTaskEvents(ctx, tx, []portal.TaskEvent{*u.Event})
	})
	return changed, err
}

// SaveTaskStep records where a step ended, and the workspace as it left
// it (nil keeps the one recorded), in one transaction: the checkpoint a
// resumed task starts after.
func (db *DB) SaveTaskStep(ctx context.Context, id string, s portal.TaskStep, workspace []byte) error {
	return db.inTaskTx(ctx, []string{id}, func(tx *sqlx.Tx) (bool, error) {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM task_step WHERE task_id = ? AND step_id = ?`), id, s.StepID); err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO task_step (task_id, step_id, position, status, output) VALUES (?, ?, ?, ?, ?)`),
			id, s.StepID, s.Position, s.Status, jsonOr(s.Output, "{}")); err != nil {
			return false, err
		}
		if workspace != nil {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE task SET workspace = ?, updated_at = ? WHERE id = ?`), workspace, db.now(), id); err != nil {
				return false, err
			}
		}
		return false, nil
	})
}

// TaskSteps returns the steps a task finished, in the template's order.
func (db *DB) TaskSteps(ctx context.Context, id string) ([]portal.TaskStep, error) {
	var rows []struct {
		StepID   string `db:"step_id"`
		Position int    `db:"position"`
		Status   string `db:"status"`
		Output   string `db:"output"`
	}
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`SELECT step_id, position, status, output FROM task_step WHERE task_id = ? ORDER BY position`), id); err != nil {
		return nil, formatError(err)
	}
	out := make([]portal.TaskStep, len(rows))
	for i, r := range rows {
		out[i] = portal.TaskStep{StepID: r.StepID, Position: r.Position, Status: r.Status, Output: json.RawMessage(r.Output)}
	}
	return out, nil
}

// ResetTaskSteps forgets the checkpoints of the steps of a task at and
// after position, so that a retry runs them again.
func (db *DB) ResetTaskSteps(ctx context.Context, id string, position int) error {
	_, err := db.execWrite(ctx, db.w.Rebind(`DELETE FROM task_step WHERE task_id = ? AND position >= ?`), id, position)
	return formatError(err)
}

// TaskWorkspace returns the workspace a task's last finished step left
// (tar.gz), or nil.
func (db *DB) TaskWorkspace(ctx context.Context, id string) ([]byte, error) {
	var data []byte
	err := db.r.GetContext(ctx, &data, db.r.Rebind(`SELECT workspace FROM task WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, portal.Errorf(portal.ENOTFOUND, "no task %s", id)
	}
	return data, formatError(err)
}

// AppendTaskEvents appends events, of one task or several, to their logs
// in one transaction, and gives them their ids: a process that runs many
// tasks writes their events together (see scaffolder.Tasks).
func (db *DB) AppendTaskEvents(ctx context.Context, events []portal.TaskEvent) error {
	if len(events) == 0 {
		return nil
	}
	var ids []string
	for _, e := range events {
		if !slices.Contains(ids, e.TaskID) {
			ids = append(ids, e.TaskID)
		}
	}
	return db.inTaskTx(ctx, ids, func(tx *sqlx.Tx) (bool, error) {
		return true, db.insertTaskEvents(ctx, tx, events)
	})
}

func (db *DB) insertTaskEvents(ctx context.Context, tx *sqlx.Tx, events []portal.TaskEvent) error {
	for i := range events {
		e := &events[i]
		if e.At.IsZero() {
			e.At = db.now()
		}
		err := tx.GetContext(ctx, &e.ID, tx.Rebind(`INSERT INTO task_event (task_id, step_id, status, level, message, at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), e.TaskID, e.StepID, e.Status, e.Level, e.Message, e.At.UTC())
		if err != nil {
			return err
		}
	}
	return nil
}

// inTaskTx runs fn in a write transaction; when fn reports that it wrote
// events, other processes are told of the tasks' events as it commits.
func (db *DB) inTaskTx(ctx context.Context, ids []string, fn func(tx *sqlx.Tx) (bool, error)) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return formatError(err)
	}
	defer tx.Rollback()
	events, err := fn(tx)
	if err != nil {
		return formatError(err)
	}
	if events {
		for _, id := range ids {
			if err := db.d.notifyTask(ctx, tx, id); err != nil {
				return err
			}
		}
	}
	return formatError(tx.Commit())
}

// TaskEvents returns a task's events after the event after (0: from the
// first), at most limit, oldest first.
func (db *DB) TaskEvents(ctx context.Context, id string, after int64, limit int) ([]portal.TaskEvent, error) {
	var rows []struct {
		ID      int64     `db:"id"`
		StepID  string    `db:"step_id"`
		Status  string    `db:"status"`
		Level   string    `db:"level"`
		Message string    `db:"message"`
		At      time.Time `db:"at"`
	}
	err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`SELECT id, step_id, status, level, message, at FROM task_event
		WHERE task_id = ? AND id > ? ORDER BY id LIMIT ?`), id, after, limit)
	if err != nil {
		return nil, formatError(err)
	}
	out := make([]portal.TaskEvent, len(rows))
	for i, r := range rows {
		out[i] = portal.TaskEvent{ID: r.ID, TaskID: id, StepID: r.StepID, Status: r.Status, Level: r.Level, Message: r.Message, At: r.At.UTC()}
	}
	return out, nil
}

// WatchTaskEvents calls wake with the id of each task that other
// processes write events for, until ctx ends ("" when it cannot tell
// which: every task may have new ones). This process's own writes may be
// reported too (SQLite's poll sees them); their writers wake their
// readers at once, without waiting for it.
func (db *DB) WatchTaskEvents(ctx context.Context, wake func(taskID string)) error {
	return db.d.watchTasks(ctx, db, wake)
}

// pollTaskEvents reads the events written since its last look every
// taskPoll, and wakes their tasks; it wakes every task ("") once it has
// started.
func (db *DB) pollTaskEvents(ctx context.Context, wake func(string)) error {
	var last int64
	if err := db.r.GetContext(ctx, &last, `SELECT COALESCE(MAX(id), 0) FROM task_event`); err != nil {
		return formatError(err)
	}
	wake("") // what came before the poll started, as PostgreSQL's listen does
	t := time.NewTicker(taskPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		var rows []struct {
			ID     int64  `db:"id"`
			TaskID string `db:"task_id"`
		}
		if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`SELECT id, task_id FROM task_event WHERE id > ? ORDER BY id LIMIT 1000`), last); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			db.log.WarnContext(ctx, "task events: poll", "err", err)
			continue
		}
		seen := map[string]bool{}
		for _, r := range rows {
			last = r.ID
			if !seen[r.TaskID] {
				seen[r.TaskID] = true
				wake(r.TaskID)
			}
		}
	}
}

// StrandedTasks returns the tasks left open or processing, made more than
// a minute before now, that no job of theirs will run again: none waits or
// runs (River's table, as its schema version 8 has it) — the last was
// discarded after its attempts (each one's process died), cancelled, or
// completed without finishing the task, or none was ever queued. A task
// is never left processing: the jobs' janitor fails these (see
// internal/jobs). Jobs are matched by their argument, not by task.job_id,
// which names the last job given the task, not every one.
func (db *DB) StrandedTasks(ctx context.Context, now time.Time) ([]string, error) {
	var ids []string
	err := db.r.SelectContext(ctx, &ids, db.r.Rebind(`
		SELECT t.id FROM task t
		WHERE t.status IN ('open', 'processing') AND t.created_at < ?
		  AND NOT EXISTS (
			SELECT 1 FROM river_job j
			WHERE j.kind = 'scaffolder_task' AND `+db.d.jsonText("j.args", "task_id")+` = t.id
			  AND j.state IN ('available', 'pending', 'retryable', 'running', 'scheduled'))`),
		now.Add(-time.Minute).UTC())
	return ids, formatError(err)
}
