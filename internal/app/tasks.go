package app

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river/rivertype"
	"go.yaml.in/yaml/v3"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/scaffolder"
)

// TaskStore is where tasks are kept: internal/store.
type TaskStore interface {
	CreateTask(ctx context.Context, t *portal.Task) error
	Task(ctx context.Context, id string) (*portal.Task, error)
	Tasks(ctx context.Context, f portal.TaskFilter, after string, limit int) ([]*portal.Task, error)
	SetTaskJob(ctx context.Context, id string, jobID int64) error
	UpdateTask(ctx context.Context, id string, u portal.TaskUpdate) (bool, error)
	TaskSteps(ctx context.Context, id string) ([]portal.TaskStep, error)
	// SaveTaskStep checkpoints a step; a nil workspace keeps the last one.
	SaveTaskStep(ctx context.Context, id string, s portal.TaskStep, workspace []byte) error
	ResetTaskSteps(ctx context.Context, id string, position int) error
	TaskEvents(ctx context.Context, id string, after int64, limit int) ([]portal.TaskEvent, error)
}

// TaskQueue starts and cancels the jobs that run tasks: internal/jobs.
type TaskQueue interface {
	StartTask(ctx context.Context, taskID string) (int64, error)
	Cancel(ctx context.Context, id int64) (*rivertype.JobRow, error)
	// RerunJob makes a task's job due now, once its run in progress is
	// recorded: a task that waited, or ended and is retried. ENOTFOUND
	// when the job is gone.
	RerunJob(ctx context.Context, jobID int64) error
}

// Tasks is the software templates' service: running a template as a
// task, dry runs, and reading, following, cancelling and retrying tasks.
// Running or dry-running needs scaffolder.task.create, reading the
// template and scaffolder.template.read on it; a task's creator may read and cancel it, others need
// scaffolder.task.read and scaffolder.task.cancel. Runs, cancels and
// retries are audited.
type Tasks struct {
	guard    taskGuard
	store    TaskStore
	queue    TaskQueue
	audit    auditor
	registry *scaffolder.Registry
	// runs are the options dry runs use (registry, integrations, bounds).
	runs TaskOptions
	hub  *taskHub
}

type taskGuard interface {
	Require(ctx context.Context, perm string, r *policy.Resource) error
	RequireOn(ctx context.Context, perm, ref string) error
	EntityByRef(ctx context.Context, ref string) (*catalog.Record, error)
}

// TaskOptions configure the Tasks service.
type TaskOptions struct {
	Registry     *scaffolder.Registry
	Integrations scaffolder.Integrations
	// Sources locates what dry runs fetch by URL.
	Sources scaffolder.Locator
	// WorkDir is where dry runs make their workspaces.
	WorkDir     string
	StepTimeout time.Duration
}

// errNoTasks answers the calls that need a task queue in a process that
// has none.
var errNoTasks = portal.Errorf(portal.EUNAVAILABLE, "software templates are not available in this process")

// Woke tells the service's subscribers that a task has new events: the
// task runner calls it after each write, and the store's watch for
// other processes' writes ("" wakes every subscriber).
func (s *Tasks) Woke(taskID string) { s.hub.wake(taskID) }

// Actions describes the actions templates can use.
func (s *Tasks) Actions() []scaffolder.ActionInfo { return s.registry.Infos() }

// template reads a Template entity the caller may read and use
// (scaffolder.template.read, with its conditions on the template).
func (s *Tasks) template(ctx context.Context, ref string) (*catalog.Record, map[string]any, error) {
	canonical, err := catalog.ParseRef(strings.TrimSpace(ref), catalog.RefDefaults{Kind: "template", Namespace: "default"})
	if err != nil {
		return nil, nil, portal.Errorf(portal.EINVALID, "%v", err)
	}
	if !strings.EqualFold(canonical.Kind, "template") {
		return nil, nil, portal.Errorf(portal.EINVALID, "%s is not a template: only Template entities can be run", canonical)
	}
	rec, err := s.guard.EntityByRef(ctx, canonical.String())
	if err != nil {
		return nil, nil, err
	}
	if rec == nil {
		return nil, nil, portal.Errorf(portal.ENOTFOUND, "no template %s", canonical)
	}
	if err := s.guard.RequireOn(ctx, policy.TemplateRead, rec.Ref); err != nil {
		return nil, nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Data, &doc); err != nil {
		return nil, nil, fmt.Errorf("template %s: %w", rec.Ref, err)
	}
	return rec, doc, nil
}

// templateBase is the folder of a template's descriptor, where its
// relative fetch URLs point (see scaffolder.OpenTemplateBase): the
// location it was read from names it.
func templateBase(doc map[string]any) string {
	meta, _ := doc["metadata"].(map[string]any)
	ann, _ := meta["annotations"].(map[string]any)
	loc, _ := ann[catalog.AnnotationManagedByLocation].(string)
	kind, target, _ := strings.Cut(loc, ":")
	return scaffolder.BaseOfLocation(kind, target)
}

// prepare parses a template's spec and checks values against its form:
// what the pages refuse is an EINVALID error naming each field, and no
// task is made.
func (s *Tasks) prepare(doc map[string]any, values map[string]any) (*scaffolder.Spec, map[string]any, error) {
	spec, _ := doc["spec"].(map[string]any)
	sp, err := scaffolder.ParseSpec(spec)
	if err != nil {
		return nil, nil, err
	}
	if err := sp.CheckActions(s.registry); err != nil {
		return nil, nil, err
	}
	if values == nil {
		values = map[string]any{}
	}
	errs, err := scaffolder.Validate(sp.Pages, values)
	if err != nil {
		return nil, nil, err
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = fmt.Sprintf("page %d: %s %s", e.Page+1, cmp.Or(e.Path, "values"), e.Message)
		}
		return nil, nil, portal.Errorf(portal.EINVALID, "the values do not fill the form: %s", strings.Join(msgs, "; "))
	}
	return sp, scaffolder.VisibleValues(sp.Pages, values), nil
}

// RunTemplate checks values against a template's form and starts a task
// that runs it as the caller, with the template as it is now (its etag is
// kept with the task).
func (s *Tasks) RunTemplate(ctx context.Context, ref string, values, secrets map[string]any) (task *portal.Task, err error) {
	defer s.audit.record(ctx, "runTemplate", ref, map[string]any{"template": ref}, &err)
	if err := s.guard.Require(ctx, policy.TaskCreate, nil); err != nil {
		return nil, err
	}
	if s.queue == nil {
		return nil, errNoTasks
	}
	rec, doc, err := s.template(ctx, ref)
	if err != nil {
		return nil, err
	}
	_, visible, err := s.prepare(doc, values)
	if err != nil {
		return nil, err
	}
	vals, err := json.Marshal(visible)
	if err != nil {
		return nil, portal.Errorf(portal.EINVALID, "values are not JSON: %v", err)
	}
	secs, err := json.Marshal(secrets)
	if err != nil || secrets == nil {
		secs = []byte("{}")
	}
	t := &portal.Task{
		TemplateRef: rec.Ref, TemplateEtag: rec.Etag, Template: rec.Data, TemplateBase: templateBase(doc),
		Values: vals, Secrets: secs, CreatedBy: portal.PrincipalFromContext(ctx).Ref,
	}
	if err := s.store.CreateTask(ctx, t); err != nil {
		return nil, err
	}
	jobID, err := s.queue.StartTask(ctx, t.ID)
	if err != nil {
		s.store.UpdateTask(context.WithoutCancel(ctx), t.ID, portal.TaskUpdate{From: []portal.TaskStatus{portal.TaskOpen}, To: portal.TaskFailed, Error: "the task could not be queued"})
		return nil, err
	}
	if err := s.store.SetTaskJob(ctx, t.ID, jobID); err != nil {
		return nil, err
	}
	t.JobID = jobID
	return t, nil
}

// mayActOn authorizes perm on a task: its creator may, others need perm.
func (s *Tasks) mayActOn(ctx context.Context, perm string, t *portal.Task) error {
	if p := portal.PrincipalFromContext(ctx); p.Ref != "" && strings.EqualFold(p.Ref, t.CreatedBy) {
		return nil
	}
	return s.guard.Require(ctx, perm, nil)
}

// Task returns a task the caller may read. A task another may not read
// is ENOTFOUND for them, as an entity they may not read is.
func (s *Tasks) Task(ctx context.Context, id string) (*portal.Task, error) {
	t, err := s.store.Task(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayActOn(ctx, policy.TaskRead, t); err != nil {
		if portal.ErrorCode(err) == portal.EFORBIDDEN {
			return nil, portal.Errorf(portal.ENOTFOUND, "no task %s", id)
		}
		return nil, err
	}
	return t, nil
}

// Tasks lists the tasks f selects, newest first: every task for a caller
// with scaffolder.task.read, the caller's own for others.
func (s *Tasks) Tasks(ctx context.Context, f portal.TaskFilter, after string, limit int) ([]*portal.Task, error) {
	for _, st := range f.Statuses {
		if !st.Valid() {
			return nil, portal.Errorf(portal.EINVALID, "unknown task status %q", st)
		}
	}
	if err := s.guard.Require(ctx, policy.TaskRead, nil); err != nil {
		if portal.ErrorCode(err) != portal.EFORBIDDEN {
			return nil, err
		}
		f.CreatedBy = []string{portal.PrincipalFromContext(ctx).Ref}
	}
	return s.store.Tasks(ctx, f, after, limit)
}

// Steps returns where each step of a task the caller may read ended.
func (s *Tasks) Steps(ctx context.Context, t *portal.Task) ([]portal.TaskStep, error) {
	return s.store.TaskSteps(ctx, t.ID)
}

// Events returns a task's events after an event, at most limit.
func (s *Tasks) Events(ctx context.Context, t *portal.Task, after int64, limit int) ([]portal.TaskEvent, error) {
	return s.store.TaskEvents(ctx, t.ID, after, limit)
}

// Cancel cancels a task: one that waits (for a worker, or at a gate) ends
// at once; one that runs has its step cancelled, within about two seconds
// in another process, and runs no further step. Cancelling a task that
// ended is not an error; the task returned says how it ended.
func (s *Tasks) Cancel(ctx context.Context, id string) (task *portal.Task, err error) {
	defer s.audit.record(ctx, "cancelTask", id, map[string]any{"id": id}, &err)
	t, err := s.store.Task(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayActOn(ctx, policy.TaskCancel, t); err != nil {
		return nil, err
	}
	if s.queue == nil {
		return nil, errNoTasks
	}
	if !t.Status.Ended() {
		by := portal.PrincipalFromContext(ctx).Ref
		changed, err := s.store.UpdateTask(ctx, id, portal.TaskUpdate{
			From: []portal.TaskStatus{portal.TaskOpen, portal.TaskProcessing, portal.TaskWaiting}, To: portal.TaskCancelled,
			Error: "cancelled by " + by,
			Event: &portal.TaskEvent{TaskID: id, Status: string(portal.TaskCancelled), Level: "info", Message: "The task was cancelled by " + by},
		})
		if err != nil {
			return nil, err
		}
		if changed && t.JobID != 0 {
			if _, err := s.queue.Cancel(ctx, t.JobID); err != nil && portal.ErrorCode(err) != portal.ENOTFOUND {
				return nil, err
			}
		}
		s.hub.wake(id)
	}
	return s.store.Task(ctx, id)
}

// Approve passes the gate a task waits at: its step completes with the
// approver and the comment as its outputs, and the task runs on from the
// next step. It needs scaffolder.task.approve, and the gate must name the
// caller or one of the caller's groups. A task that does not wait is
// CONFLICT.
func (s *Tasks) Approve(ctx context.Context, id, comment string) (task *portal.Task, err error) {
	defer s.audit.record(ctx, "approveTask", id, map[string]any{"id": id, "comment": comment}, &err)
	t, gate, err := s.gate(ctx, id)
	if err != nil {
		return nil, err
	}
	by := portal.PrincipalFromContext(ctx).Ref
	changed, err := s.store.UpdateTask(ctx, id, portal.TaskUpdate{
		From: []portal.TaskStatus{portal.TaskWaiting}, To: portal.TaskOpen,
		Event: &portal.TaskEvent{TaskID: id, StepID: gate.StepID, Status: scaffolder.StatusCompleted, Level: "info", Message: decision("Approved", by, comment)},
	})
	if err != nil {
		return nil, err
	}
	if !changed {
		return nil, portal.Errorf(portal.ECONFLICT, "task %s was decided meanwhile", id)
	}
	// The gate's checkpoint once the decision is the caller's (a rejection
	// that won leaves none, so a retry asks again), before the job, still
	// snoozed, is made due.
	out, _ := json.Marshal(map[string]any{"approvedBy": by, "comment": comment})
	if err := s.store.SaveTaskStep(ctx, id, portal.TaskStep{StepID: gate.StepID, Position: gate.Position, Status: scaffolder.StatusCompleted, Output: out}, nil); err != nil {
		return nil, err
	}
	if err := s.queue.RerunJob(ctx, t.JobID); err != nil {
		return nil, err
	}
	s.hub.wake(id)
	return s.store.Task(ctx, id)
}

// Reject fails the task at its gate, with the comment as the reason. The
// same rules as Approve.
func (s *Tasks) Reject(ctx context.Context, id, comment string) (task *portal.Task, err error) {
	defer s.audit.record(ctx, "rejectTask", id, map[string]any{"id": id, "comment": comment}, &err)
	t, gate, err := s.gate(ctx, id)
	if err != nil {
		return nil, err
	}
	by := portal.PrincipalFromContext(ctx).Ref
	msg := decision("Rejected", by, comment)
	changed, err := s.store.UpdateTask(ctx, id, portal.TaskUpdate{
		From: []portal.TaskStatus{portal.TaskWaiting}, To: portal.TaskFailed, Error: msg,
		Event: &portal.TaskEvent{TaskID: id, StepID: gate.StepID, Status: string(portal.TaskFailed), Level: "error", Message: msg},
	})
	if err != nil {
		return nil, err
	}
	if !changed {
		return nil, portal.Errorf(portal.ECONFLICT, "task %s was decided meanwhile", id)
	}
	if _, err := s.queue.Cancel(ctx, t.JobID); err != nil && portal.ErrorCode(err) != portal.ENOTFOUND {
		return nil, err
	}
	s.hub.wake(id)
	return s.store.Task(ctx, id)
}

func decision(what, by, comment string) string {
	if comment == "" {
		return what + " by " + by
	}
	return what + " by " + by + ": " + comment
}

// taskGate is a waiting task's gate as the store keeps it.
type taskGate struct {
	scaffolder.Gate
	Position int `json:"-"`
}

// gate authorizes a decision on a task's gate and returns both.
func (s *Tasks) gate(ctx context.Context, id string) (*portal.Task, *taskGate, error) {
	if err := s.guard.Require(ctx, policy.TaskApprove, nil); err != nil {
		return nil, nil, err
	}
	if s.queue == nil {
		return nil, nil, errNoTasks
	}
	t, err := s.store.Task(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if t.Status != portal.TaskWaiting {
		return nil, nil, portal.Errorf(portal.ECONFLICT, "task %s is %s: only a task waiting at a gate can be approved or rejected", id, t.Status)
	}
	var g taskGate
	if err := json.Unmarshal(t.Gate, &g.Gate); err != nil {
		return nil, nil, fmt.Errorf("task %s: its gate: %w", id, err)
	}
	p := portal.PrincipalFromContext(ctx)
	named := false
	for _, ref := range p.Ownership {
		named = named || slices.Contains(g.Approvers, strings.ToLower(ref))
	}
	if !named && !slices.Contains(g.Approvers, strings.ToLower(p.Ref)) {
		return nil, nil, portal.Errorf(portal.EFORBIDDEN, "the gate of task %s is for %s", id, strings.Join(g.Approvers, ", "))
	}
	var doc struct {
		Spec map[string]any `json:"spec"`
	}
	json.Unmarshal(t.Template, &doc)
	spec, err := scaffolder.ParseSpec(doc.Spec)
	if err != nil {
		return nil, nil, err
	}
	for i, st := range spec.Steps {
		if st.ID == g.StepID {
			g.Position = i
		}
	}
	return t, &g, nil
}

// Retry runs a failed or cancelled task again, from its first step that
// did not complete, with the values it kept. Its secrets were cleared when
// it ended: a retry runs without them.
func (s *Tasks) Retry(ctx context.Context, id string) (task *portal.Task, err error) {
	defer s.audit.record(ctx, "retryTask", id, map[string]any{"id": id}, &err)
	if err := s.guard.Require(ctx, policy.TaskCreate, nil); err != nil {
		return nil, err
	}
	t, err := s.Task(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.queue == nil {
		return nil, errNoTasks
	}
	if t.Status != portal.TaskFailed && t.Status != portal.TaskCancelled {
		return nil, portal.Errorf(portal.ECONFLICT, "task %s is %s: only a failed or cancelled task can be retried", id, t.Status)
	}
	steps, err := s.store.TaskSteps(ctx, id)
	if err != nil {
		return nil, err
	}
	// From the first step that failed or was cancelled: the steps after
	// it were skipped for it, and run again too.
	from := len(steps)
	for _, st := range steps {
		if st.Status != scaffolder.StatusCompleted && st.Status != scaffolder.StatusSkipped {
			from = min(from, st.Position)
		}
	}
	if err := s.store.ResetTaskSteps(ctx, id, from); err != nil {
		return nil, err
	}
	changed, err := s.store.UpdateTask(ctx, id, portal.TaskUpdate{
		From: []portal.TaskStatus{portal.TaskFailed, portal.TaskCancelled}, To: portal.TaskOpen,
		Event: &portal.TaskEvent{TaskID: id, Status: string(portal.TaskOpen), Level: "info", Message: "The task is retried"},
	})
	if err != nil {
		return nil, err
	}
	if !changed {
		return nil, portal.Errorf(portal.ECONFLICT, "task %s changed meanwhile", id)
	}
	// The task's job runs it again once its last run is recorded (it may
	// still be finishing the run that ended the task); a job River has
	// pruned since (a day after it ended) is replaced.
	err = s.queue.RerunJob(ctx, t.JobID)
	if t.JobID == 0 || portal.ErrorCode(err) == portal.ENOTFOUND {
		var jobID int64
		if jobID, err = s.queue.StartTask(ctx, id); err == nil {
			err = s.store.SetTaskJob(ctx, id, jobID)
		}
	}
	if err != nil {
		return nil, err
	}
	s.hub.wake(id)
	return s.store.Task(ctx, id)
}

// Follow sends a task's events after an event, then each as it is
// written, until the task has ended and its last event is sent, or ctx
// ends. It reads the store again whenever the task is woken, and every
// few seconds in case a wake was missed; it reads the task's status only
// when an event may have ended it (the event that ends a task is written
// with its status) and at those few seconds, so that a wake costs one
// read.
func (s *Tasks) Follow(ctx context.Context, t *portal.Task, after int64, send func(portal.TaskEvent) error) error {
	woken, stop := s.hub.subscribe(t.ID)
	defer stop()
	check := true // the status: at the start, after an ending event, at each timeout
	for {
		for {
			events, err := s.store.TaskEvents(ctx, t.ID, after, 500)
			if err != nil {
				return err
			}
			for _, e := range events {
				if err := send(e); err != nil {
					return err
				}
				after = e.ID
				check = check || portal.TaskStatus(e.Status).Ended()
			}
			if len(events) < 500 {
				break
			}
		}
		if check {
			cur, err := s.store.Task(ctx, t.ID)
			if err != nil {
				return err
			}
			if cur.Status.Ended() {
				// The event that ended it was written with the status.
				events, err := s.store.TaskEvents(ctx, t.ID, after, 500)
				if err != nil {
					return err
				}
				for _, e := range events {
					if err := send(e); err != nil {
						return err
					}
				}
				return nil
			}
			check = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-woken:
		case <-time.After(5 * time.Second):
			check = true
		}
	}
}

// taskHub wakes the followers of a task.
type taskHub struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

func newTaskHub() *taskHub { return &taskHub{subs: map[string]map[chan struct{}]struct{}{}} }

func (h *taskHub) subscribe(id string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[id] == nil {
		h.subs[id] = map[chan struct{}]struct{}{}
	}
	h.subs[id][ch] = struct{}{}
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs[id], ch)
		if len(h.subs[id]) == 0 {
			delete(h.subs, id)
		}
	}
}

// wake wakes a task's followers; "" wakes every follower.
func (h *taskHub) wake(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for task, subs := range h.subs {
		if id != "" && task != id {
			continue
		}
		for ch := range subs {
			select {
			case ch <- struct{}{}:
			default: // already woken
			}
		}
	}
}

// DryRunInput is what a dry run runs: a stored template (Ref) or one
// written out (YAML, with the files of its folder), and its values.
type DryRunInput struct {
	Ref     string
	YAML    string
	Values  map[string]any
	Secrets map[string]any
	Files   []DryRunFile
}

// DryRunFile is a file of a template's folder, for a dry run of a
// template written out.
type DryRunFile struct {
	Path   string
	Base64 string
}

// DryRunResult is what a dry run did.
type DryRunResult struct {
	Files  []scaffolder.File
	Output map[string]any
	Steps  []scaffolder.StepResult
	Log    []scaffolder.Event
	// Error is why it failed, or "".
	Error string
}

// Bounds of a dry run's uploaded files and of the files it returns.
const (
	maxDryRunFiles = 1000
	maxDryRunBytes = 16 << 20
)

// DryRun runs a template in a throwaway workspace, with the actions that
// change something outside it in dry-run mode, and returns the files it
// made, its output and its log. It needs scaffolder.task.create and, for a
// stored template, reading it.
func (s *Tasks) DryRun(ctx context.Context, in DryRunInput) (*DryRunResult, error) {
	if err := s.guard.Require(ctx, policy.TaskCreate, nil); err != nil {
		return nil, err
	}
	var doc map[string]any
	ref, base := "template:default/dry-run", ""
	switch {
	case in.Ref != "" && in.YAML != "":
		return nil, portal.Errorf(portal.EINVALID, "give a template's ref or its YAML, not both")
	case in.Ref != "":
		rec, d, err := s.template(ctx, in.Ref)
		if err != nil {
			return nil, err
		}
		doc, ref, base = d, rec.Ref, templateBase(d)
	case in.YAML != "":
		var v any
		if err := yaml.Unmarshal([]byte(in.YAML), &v); err != nil {
			return nil, portal.Errorf(portal.EINVALID, "the template's YAML: %v", err)
		}
		data, err := json.Marshal(v)
		if err != nil {
			return nil, portal.Errorf(portal.EINVALID, "the template's YAML is not JSON: %v", err)
		}
		if err := json.Unmarshal(data, &doc); err != nil || doc["kind"] != "Template" {
			return nil, portal.Errorf(portal.EINVALID, "the YAML is not a Template entity")
		}
	default:
		return nil, portal.Errorf(portal.EINVALID, "give a template's ref or its YAML")
	}
	spec, values, err := s.prepare(doc, in.Values)
	if err != nil {
		return nil, err
	}
	if len(in.Files) > 0 {
		tmp, err := os.MkdirTemp(s.runs.WorkDir, "greenroom-dry-run-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		if err := writeUploads(tmp, in.Files); err != nil {
			return nil, err
		}
		base = tmp
	}
	ws, err := scaffolder.NewWorkspace(s.runs.WorkDir)
	if err != nil {
		return nil, err
	}
	defer ws.Remove()
	res := &DryRunResult{}
	run := scaffolder.Run{
		Spec: spec, Registry: s.registry, Values: values, Secrets: in.Secrets,
		User:        map[string]any{"ref": portal.PrincipalFromContext(ctx).Ref},
		TemplateRef: ref, TaskID: "dry-run", Workspace: ws, DryRun: true, StepTimeout: s.runs.StepTimeout,
		Integrations: s.runs.Integrations, Sources: s.runs.Sources,
		Emit: func(e scaffolder.Event) { res.Log = append(res.Log, e) },
	}
	tmpl, closeBase, err := scaffolder.OpenTemplateBase(base)
	if err != nil {
		return nil, portal.Errorf(portal.EUNAVAILABLE, "the template's folder cannot be read")
	}
	defer closeBase()
	run.Template = tmpl
	r := run.Execute(ctx)
	res.Steps, res.Output = r.Steps, r.Output
	if r.Err != nil {
		res.Error = r.Err.Error()
	}
	if res.Files, err = ws.Files(maxDryRunBytes); err != nil {
		return nil, portal.Errorf(portal.EINVALID, "the dry run's files: %v", err)
	}
	return res, nil
}

// writeUploads writes a dry run's uploaded files under dir.
func writeUploads(dir string, files []DryRunFile) error {
	if len(files) > maxDryRunFiles {
		return portal.Errorf(portal.EINVALID, "at most %d files can be given", maxDryRunFiles)
	}
	ws, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer ws.Close()
	total := 0
	for _, f := range files {
		p, err := scaffolder.Clean(f.Path)
		if err != nil || p == "." {
			return portal.Errorf(portal.EINVALID, "file %q: not a path inside the template's folder", f.Path)
		}
		data, err := base64.StdEncoding.DecodeString(f.Base64)
		if err != nil {
			return portal.Errorf(portal.EINVALID, "file %s: not base64: %v", f.Path, err)
		}
		if total += len(data); total > maxDryRunBytes {
			return portal.Errorf(portal.EINVALID, "the files hold more than %d MiB", maxDryRunBytes>>20)
		}
		if err := ws.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := ws.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
