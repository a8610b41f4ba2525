package scaffolder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// TaskStore is what running a task reads and writes: internal/store.
type TaskStore interface {
	Task(ctx context.Context, id string) (*portal.Task, error)
	UpdateTask(ctx context.Context, id string, u portal.TaskUpdate) (bool, error)
	SaveTaskStep(ctx context.Context, id string, s portal.TaskStep, workspace []byte) error
	TaskSteps(ctx context.Context, id string) ([]portal.TaskStep, error)
	TaskWorkspace(ctx context.Context, id string) ([]byte, error)
	AppendTaskEvents(ctx context.Context, events []portal.TaskEvent) error
	// StrandedTasks returns the open or processing tasks that no job of
	// theirs will run again.
	StrandedTasks(ctx context.Context, now time.Time) ([]string, error)
}

// Tasks runs tasks: the work of each task's job (see internal/jobs).
type Tasks struct {
	Store    TaskStore
	Registry *Registry
	// Integrations are the hosts parseRepoUrl knows.
	Integrations Integrations
	// Sources locates the repositories fetch actions read by URL (and
	// those of templates registered by URL); nil reads none.
	Sources Locator
	// WorkDir is where workspaces are made ("" for the system's temporary
	// directory).
	WorkDir string
	// StepTimeout bounds each step.
	StepTimeout time.Duration
	// User returns the caller's User entity, for ${{ user.entity }}; nil
	// or a nil entity leaves it out.
	User func(ctx context.Context, ref string) (map[string]any, error)
	// Woke is told of each task that has new events, once they are
	// stored, so that this process's subscribers read them at once.
	Woke func(taskID string)
	Log  *slog.Logger
}

// Run runs a task, or resumes it after the steps it finished: a task
// found processing was running in a process that stopped, and goes on
// from its last checkpoint, workspace included; one found open again was
// approved at a gate or retried. It returns once the task has ended, or
// has stopped at a gate: then with the gate's deadline, when the job is
// to run again (a task still waiting then fails). The error is for the
// job that runs it (the task records its own outcome), nil unless the
// task's state could not be read or written.
func (ts *Tasks) Run(ctx context.Context, id string) (time.Time, error) {
	t, err := ts.Store.Task(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	switch t.Status {
	case portal.TaskCompleted, portal.TaskFailed, portal.TaskCancelled:
		return time.Time{}, nil // cancelled while it waited for a worker
	case portal.TaskWaiting:
		var gate Gate
		if err := json.Unmarshal(t.Gate, &gate); err != nil {
			return time.Time{}, ts.finish(ctx, id, portal.TaskWaiting, portal.TaskFailed, nil, "the task's gate cannot be read")
		}
		if time.Now().Before(gate.Deadline) {
			return gate.Deadline, nil
		}
		return time.Time{}, ts.finish(ctx, id, portal.TaskWaiting, portal.TaskFailed, nil,
			fmt.Sprintf("step %s was not approved by %s", gate.StepID, gate.Deadline.Format(time.RFC3339)))
	}
	msg := "Starting the task"
	switch {
	case t.Status == portal.TaskProcessing:
		msg = "Resuming the task after its worker stopped"
	case t.UpdatedAt.After(t.CreatedAt):
		msg = "Resuming the task"
	}
	ok, err := ts.Store.UpdateTask(ctx, id, portal.TaskUpdate{
		From: []portal.TaskStatus{portal.TaskOpen, portal.TaskProcessing}, To: portal.TaskProcessing,
		Event: &portal.TaskEvent{TaskID: id, Status: string(portal.TaskProcessing), Level: "info", Message: msg},
	})
	if err != nil || !ok {
		return time.Time{}, err // !ok: it ended meanwhile
	}
	ts.wake(id)
	res, err := ts.execute(ctx, t)
	switch {
	case err != nil:
		return time.Time{}, ts.finish(ctx, id, portal.TaskProcessing, portal.TaskFailed, nil, err.Error())
	case res.Waiting != nil:
		gate, _ := json.Marshal(res.Waiting)
		_, err := ts.Store.UpdateTask(ctx, id, portal.TaskUpdate{
			From: []portal.TaskStatus{portal.TaskProcessing}, To: portal.TaskWaiting, Gate: gate,
			Event: &portal.TaskEvent{TaskID: id, StepID: res.Waiting.StepID, Status: string(portal.TaskWaiting), Level: "info", Message: "The task waits for approval"},
		})
		ts.wake(id)
		return res.Waiting.Deadline, err
	case res.Err == nil:
		out, _ := json.Marshal(res.Output)
		return time.Time{}, ts.finish(ctx, id, portal.TaskProcessing, portal.TaskCompleted, out, "")
	case ctx.Err() != nil:
		return time.Time{}, ts.finish(context.WithoutCancel(ctx), id, portal.TaskProcessing, portal.TaskCancelled, nil, "the task was cancelled")
	default:
		return time.Time{}, ts.finish(ctx, id, portal.TaskProcessing, portal.TaskFailed, nil, res.Err.Error())
	}
}

// execute runs the task's steps in a workspace made for it (with the files
// of its last checkpoint), removed when it returns.
func (ts *Tasks) execute(ctx context.Context, t *portal.Task) (*Result, error) {
	var doc struct {
		Spec map[string]any `json:"spec"`
	}
	if err := json.Unmarshal(t.Template, &doc); err != nil {
		return nil, fmt.Errorf("the task's template is not JSON: %w", err)
	}
	spec, err := ParseSpec(doc.Spec)
	if err != nil {
		return nil, err
	}
	var values, secrets map[string]any
	if err := errors.Join(json.Unmarshal(t.Values, &values), json.Unmarshal(t.Secrets, &secrets)); err != nil {
		return nil, fmt.Errorf("the task's values are not JSON: %w", err)
	}
	ws, err := NewWorkspace(ts.WorkDir)
	if err != nil {
		return nil, err
	}
	defer ws.Remove()
	steps, err := ts.Store.TaskSteps(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	done := make([]StepResult, len(steps))
	for i, s := range steps {
		var out map[string]any
		json.Unmarshal(s.Output, &out)
		done[i] = StepResult{ID: s.StepID, Status: s.Status, Output: out}
	}
	if len(done) > 0 {
		snap, err := ts.Store.TaskWorkspace(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		if len(snap) > 0 {
			if err := ws.Restore(snap); err != nil {
				return nil, err
			}
		}
	}
	base, closeBase, err := OpenTemplateBase(t.TemplateBase)
	if err != nil {
		return nil, err
	}
	defer closeBase()
	user := map[string]any{"ref": t.CreatedBy}
	if ts.User != nil {
		if entity, err := ts.User(ctx, t.CreatedBy); err == nil && entity != nil {
			user["entity"] = entity
		}
	}
	position := map[string]int{}
	for i, s := range spec.Steps {
		position[s.ID] = i
	}
	run := Run{
		Spec: spec, Registry: ts.Registry, Values: values, Secrets: secrets, User: user,
		TemplateRef: t.TemplateRef, TemplateEtag: t.TemplateEtag, TaskID: t.ID, Template: base, Sources: ts.Sources, Workspace: ws, StepTimeout: ts.StepTimeout,
		Integrations: ts.Integrations, Done: done,
		Emit: func(e Event) {
			ev := portal.TaskEvent{TaskID: t.ID, StepID: e.StepID, Status: e.Status, Level: e.Level, Message: e.Message, At: e.Time}
			// The log is best kept: a write that fails is logged, and the
			// step goes on.
			if err := ts.Store.AppendTaskEvents(context.WithoutCancel(ctx), []portal.TaskEvent{ev}); err != nil {
				ts.Log.WarnContext(ctx, "task event", "task", t.ID, "err", err)
				return
			}
			ts.wake(t.ID)
		},
		Checkpoint: func(sr StepResult) error {
			out, err := json.Marshal(sr.Output)
			if err != nil {
				return err
			}
			var snap []byte
			if sr.Status == StatusCompleted {
				if snap, err = ws.Snapshot(); err != nil {
					return err
				}
			}
			return ts.Store.SaveTaskStep(context.WithoutCancel(ctx), t.ID,
				portal.TaskStep{StepID: sr.ID, Position: position[sr.ID], Status: sr.Status, Output: out}, snap)
		},
	}
	return run.Execute(ctx), nil
}

// Sweep fails the tasks whose job will not run them again, so that no
// task is left open or processing for ever: a job discarded after its
// last attempt (each attempt's process died, or the database failed), or
// one that was never queued.
func (ts *Tasks) Sweep(ctx context.Context) error {
	stranded, err := ts.Store.StrandedTasks(ctx, time.Now())
	if err != nil {
		return err
	}
	for _, id := range stranded {
		const reason = "no job is left to run the task: its last one ended without finishing it, or none was queued"
		for _, from := range []portal.TaskStatus{portal.TaskProcessing, portal.TaskOpen} {
			if err := ts.finish(ctx, id, from, portal.TaskFailed, nil, reason); err != nil {
				return err
			}
		}
	}
	return nil
}

// finish ends a task that is in from, unless something ended it first
// (a cancel).
func (ts *Tasks) finish(ctx context.Context, id string, from, status portal.TaskStatus, output json.RawMessage, reason string) error {
	msg := "Run completed with status: " + string(status)
	level := "info"
	if reason != "" && status != portal.TaskCompleted {
		msg += ": " + reason
		level = "error"
	}
	_, err := ts.Store.UpdateTask(ctx, id, portal.TaskUpdate{
		From: []portal.TaskStatus{from}, To: status, Output: output, Error: reason,
		Event: &portal.TaskEvent{TaskID: id, Status: string(status), Level: level, Message: msg},
	})
	ts.wake(id)
	return err
}

func (ts *Tasks) wake(id string) {
	if ts.Woke != nil {
		ts.Woke(id)
	}
}
