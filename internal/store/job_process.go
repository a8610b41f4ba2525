package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// StartJobProcess records a process that runs jobs, before it takes any.
func (db *DB) StartJobProcess(ctx context.Context, id string) error {
	_, err := db.execWrite(ctx, db.w.Rebind(`INSERT INTO job_process (id, beats) VALUES (?, 0)`), id)
	return formatError(err)
}

// BeatJobProcess records a heartbeat of a process. Returns ENOTFOUND if
// it has no row: it stopped, or another process took it for dead.
func (db *DB) BeatJobProcess(ctx context.Context, id string) error {
	res, err := db.execWrite(ctx, db.w.Rebind(`UPDATE job_process SET beats = beats + 1 WHERE id = ?`), id)
	if err != nil {
		return formatError(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return portal.Errorf(portal.ENOTFOUND, "no job process %q", id)
	}
	return nil
}

// StopJobProcess deletes the row of a process that stopped cleanly, with
// none of its jobs left running.
func (db *DB) StopJobProcess(ctx context.Context, id string) error {
	_, err := db.execWrite(ctx, db.w.Rebind(`DELETE FROM job_process WHERE id = ?`), id)
	return formatError(err)
}

// JobProcesses returns the processes that run jobs: how many heartbeats
// each has made, by the id of its River client.
func (db *DB) JobProcesses(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		ID    string `db:"id"`
		Beats int64  `db:"beats"`
	}
	if err := db.r.SelectContext(ctx, &rows, `SELECT id, beats FROM job_process`); err != nil {
		return nil, formatError(err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Beats
	}
	return out, nil
}

// RescueJobsOf takes a process for dead, unless it has made more than
// beats heartbeats, and hands back the jobs it was running, as River's rescuer does:
// it deletes the process's row and, for each job in River's table that is
// running and whose last attempt is the process's, records reason as the
// attempt's error and makes the job available now; or cancelled, if a
// cancellation was asked for; or discarded, at its last attempt. It
// returns how many jobs it handed back; none, and false, when the process
// beat (or another took it for dead) meanwhile.
//
// It writes River's river_job as River's schema version 8 has it (River
// v0.51): attempted_by a text[] and errors a jsonb[] on PostgreSQL, both
// JSON on SQLite; River keeps no other record of a job's attempt.
func (db *DB) RescueJobsOf(ctx context.Context, id string, beats int64, reason string) (int, bool, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return 0, false, formatError(err)
	}
	defer tx.Rollback()
	// Deleting the row first, only if it has not beaten, orders this with
	// the process's own heartbeat and with other processes' rescues: the
	// loser finds no row to update or delete.
	res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM job_process WHERE id = ? AND beats = ?`), id, beats)
	if err != nil {
		return 0, false, formatError(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, false, nil
	}
	var jobs []struct {
		ID          int64 `db:"id"`
		Attempt     int   `db:"attempt"`
		MaxAttempts int   `db:"max_attempts"`
		Cancel      bool  `db:"cancel"`
	}
	if err := tx.SelectContext(ctx, &jobs, tx.Rebind(`
		SELECT id, attempt, max_attempts, `+db.d.jsonText("metadata", "cancel_attempted_at")+` IS NOT NULL AS cancel
		FROM river_job
		WHERE state = 'running' AND `+db.d.lastText("attempted_by")+` = ?
		ORDER BY id`+db.d.lockRows()), id); err != nil {
		return 0, false, formatError(err)
	}
	now := time.Now().UTC()
	for _, j := range jobs {
		attemptErr, err := json.Marshal(rivertype.AttemptError{At: now, Attempt: max(j.Attempt, 0), Error: reason})
		if err != nil {
			return 0, false, err
		}
		var state rivertype.JobState
		switch {
		case j.Cancel:
			state = rivertype.JobStateCancelled
		case j.Attempt >= j.MaxAttempts:
			state = rivertype.JobStateDiscarded
		default:
			// Due now, not after a backoff: the attempt failed with its
			// process, not with what the job depends on.
			if _, err := tx.ExecContext(ctx, tx.Rebind(`
				UPDATE river_job
				SET state = 'available', errors = `+db.d.appendJSON("errors")+`, scheduled_at = `+db.d.now()+`
				WHERE id = ? AND state = 'running'`), string(attemptErr), j.ID); err != nil {
				return 0, false, formatError(err)
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`
			UPDATE river_job
			SET state = ?, errors = `+db.d.appendJSON("errors")+`, finalized_at = `+db.d.now()+`
			WHERE id = ? AND state = 'running'`), string(state), string(attemptErr), j.ID); err != nil {
			return 0, false, formatError(err)
		}
	}
	return len(jobs), true, formatError(tx.Commit())
}
