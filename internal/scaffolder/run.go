package scaffolder

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// Step statuses, as Backstage's task events name them.
const (
	StatusOpen       = "open"
	StatusProcessing = "processing"
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
	StatusSkipped    = "skipped"
	StatusCancelled  = "cancelled"
	// StatusWaiting is a step parked at a gate (see Gate).
	StatusWaiting = "waiting"
)

// Event is a line of a run's log. A step's changes of status are events
// with Status set.
type Event struct {
	Time    time.Time
	StepID  string
	Status  string
	Level   string // info or error
	Message string
}

// StepResult is where a step ended: its status and the outputs it set
// (for a step with each, every output is a list with one item per
// iteration).
type StepResult struct {
	ID, Name, Action string
	Status           string
	Output           map[string]any
}

// Run is one run of a template's steps in a workspace: the engine of a
// task and of a dry run.
type Run struct {
	Spec     *Spec
	Registry *Registry
	// Values are the form's values (already validated), Secrets the
	// task's secrets, User the caller as {ref, entity}.
	Values, Secrets, User             map[string]any
	TemplateRef, TemplateEtag, TaskID string
	// Template is the template's folder (see ActionContext.Template).
	Template TemplateBase
	// Sources locates the repositories of forge URLs that fetch actions
	// read; nil reads none.
	Sources   Locator
	Workspace *Workspace
	// DryRun runs actions that support it in dry-run mode and skips the
	// others, making their outputs up from their schemas.
	DryRun bool
	// Integrations are the hosts parseRepoUrl knows; nil for the public
	// ones (see Forges.Integrations).
	Integrations Integrations
	// StepTimeout bounds each step; zero is no bound.
	StepTimeout time.Duration
	// Done holds the steps a previous run of the task finished (its
	// checkpoints): they are not run again, and their outputs stand.
	Done []StepResult
	// Emit receives each event of the log as it happens, secrets masked.
	Emit func(Event)
	// Checkpoint is called when a step has ended, before the next starts;
	// an error from it stops the run.
	Checkpoint func(StepResult) error
}

// Result is where a run ended.
type Result struct {
	Steps  []StepResult
	Output map[string]any // rendered spec.output; nil when the run failed
	Err    error          // the first step's error, or why the run stopped
	// Waiting is the gate the run stopped at, with no error: the steps
	// after it run once the gate is passed (its step checkpointed as
	// completed) and the run resumed.
	Waiting *Gate
}

// Execute runs the steps one after another, as Backstage's
// NunjucksWorkflowRunner does (backstage-spec.md §3.4): a step whose if is
// false is skipped; after a failure, the steps left are skipped unless
// their if calls always() or failure(); the output is rendered when every
// step has passed. A cancelled ctx cancels the step running and the rest.
func (r *Run) Execute(ctx context.Context) *Result {
	run := *r
	// Templates read JSON: values decoded from YAML hold ints.
	for _, m := range []*map[string]any{&run.Values, &run.Secrets, &run.User} {
		v, err := jsonNormal(*m)
		if err != nil {
			return &Result{Err: portal.Errorf(portal.EINVALID, "values are not JSON: %v", err)}
		}
		*m, _ = v.(map[string]any)
	}
	x := &execution{Run: &run, rend: newRenderer(run.Integrations), steps: map[string]any{}, mask: &masker{}}
	if run.Sources != nil {
		x.sources = &sources{locator: run.Sources, clones: map[string]fs.FS{}}
	}
	x.mask.addValue(run.Secrets)
	x.rend.taint = x.mask.add
	x.rend.masked, _ = maskAll(run.Secrets).(map[string]any)
	return x.execute(ctx)
}

type execution struct {
	*Run
	rend    *renderer
	mask    *masker
	sources *sources
	steps   map[string]any // id → {output: …}, what ${{ steps }} reads
}

func (x *execution) emit(stepID, status, level, msg string) {
	if x.Emit != nil {
		x.Emit(Event{Time: time.Now().UTC(), StepID: stepID, Status: status, Level: level, Message: x.mask.mask(msg)})
	}
}

func (x *execution) execute(ctx context.Context) *Result {
	res := &Result{}
	if err := x.Spec.CheckActions(x.Registry); err != nil {
		res.Err = err
		return res
	}
	done := map[string]StepResult{}
	for _, d := range x.Done {
		done[d.ID] = d
	}
	for _, step := range x.Spec.Steps {
		sr := StepResult{ID: step.ID, Name: step.Name, Action: step.Action}
		if d, ok := done[step.ID]; ok {
			sr.Status, sr.Output = d.Status, d.Output
			if d.Output != nil {
				x.steps[step.ID] = map[string]any{"output": d.Output}
			}
			res.Steps = append(res.Steps, sr)
			continue
		}
		switch {
		case ctx.Err() != nil:
			sr.Status = StatusCancelled
			x.emit(step.ID, sr.Status, "info", "Step "+step.ID+" has been cancelled.")
		case x.rend.failed && !usesStatusCheck(step.If):
			sr.Status = StatusSkipped
			x.emit(step.ID, sr.Status, "info", "Skipping step "+step.ID+" because a previous step failed")
		default:
			err := x.step(ctx, step, &sr)
			var gate *Gate
			if errors.As(err, &gate) && !x.rend.failed {
				gate.StepID = step.ID
				res.Steps, res.Waiting = append(res.Steps, sr), gate
				return res
			}
			if err != nil && res.Err == nil {
				res.Err = fmt.Errorf("step %s (%s): %w", step.ID, step.Name, err)
			}
		}
		res.Steps = append(res.Steps, sr)
		if x.Checkpoint != nil {
			if err := x.Checkpoint(sr); err != nil {
				res.Err = cmp.Or(res.Err, err)
				return res
			}
		}
	}
	if res.Err == nil && ctx.Err() != nil {
		res.Err = ctx.Err()
	}
	if res.Err == nil {
		res.Output = x.output()
	}
	return res
}

// step runs one step and sets sr's status and output.
func (x *execution) step(ctx context.Context, step Step, sr *StepResult) error {
	plain := x.data(false, nil)
	if step.If == false || (step.Each == nil && !x.rend.condition(step.If, plain)) {
		sr.Status = StatusSkipped
		x.emit(step.ID, sr.Status, "info", "Skipping step "+step.ID+" because its if condition was false")
		return nil
	}
	x.emit(step.ID, StatusProcessing, "info", "Beginning step "+step.Name)
	err := x.iterations(ctx, step, sr)
	var gate *Gate
	if errors.As(err, &gate) && step.Each != nil {
		err, gate = errors.New("a gate cannot wait in a step with each"), nil
	}
	switch {
	case gate != nil:
		sr.Status = StatusWaiting
		x.emit(step.ID, sr.Status, "info", gate.describe())
		return err
	case err == nil:
		sr.Status = StatusCompleted
		x.emit(step.ID, sr.Status, "info", "Finished step "+step.Name)
		return nil
	case ctx.Err() != nil:
		sr.Status = StatusCancelled
		x.emit(step.ID, sr.Status, "info", "Step "+step.ID+" has been cancelled.")
	default:
		sr.Status = StatusFailed
		x.emit(step.ID, sr.Status, "error", err.Error())
	}
	x.rend.failed = true
	return err
}

// iterations runs the step once, or once per item of its each.
func (x *execution) iterations(ctx context.Context, step Step, sr *StepResult) error {
	if step.Each == nil {
		out, err := x.runAction(ctx, step, nil)
		if err != nil {
			return err
		}
		sr.Output = out
		x.steps[step.ID] = map[string]any{"output": out}
		return nil
	}
	each, _ := x.rend.value(step.Each, x.data(true, nil))
	var items []map[string]any
	switch e := each.(type) {
	case []any:
		for i, v := range e {
			items = append(items, map[string]any{"key": strconv.Itoa(i), "value": v})
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(e)) {
			items = append(items, map[string]any{"key": k, "value": e[k]})
		}
	default:
		return portal.Errorf(portal.EINVALID, "Invalid value on action %s.each parameter, %q cannot be iterated", step.Action, fmt.Sprint(step.Each))
	}
	outputs := map[string]any{}
	for _, item := range items {
		if !x.rend.condition(step.If, x.data(false, item)) {
			x.emit(step.ID, "", "info", fmt.Sprintf("Skipping step %s, iteration %v, because its if condition was false", step.ID, item["key"]))
			continue
		}
		x.emit(step.ID, "", "info", fmt.Sprintf("Running step %s, iteration %v", step.ID, item["key"]))
		out, err := x.runAction(ctx, step, item)
		if err != nil {
			return err
		}
		for k, v := range out {
			list, _ := outputs[k].([]any)
			outputs[k] = append(list, v)
		}
	}
	sr.Output = outputs
	x.steps[step.ID] = map[string]any{"output": outputs}
	return nil
}

// runAction renders the step's input, checks it and runs the action.
func (x *execution) runAction(ctx context.Context, step Step, each map[string]any) (map[string]any, error) {
	rendered, _ := x.rend.value(step.Input, x.data(true, each))
	input, _ := rendered.(map[string]any)
	if err := x.Registry.checkInput(step.Action, input); err != nil {
		return nil, err
	}
	a := x.Registry.actions[step.Action]
	if x.DryRun && !a.info.DryRun {
		x.emit(step.ID, "", "info", "Skipping because "+step.Action+" does not support dry-run")
		return exampleOutputs(a.info.Output), nil
	}
	if x.StepTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, x.StepTimeout, fmt.Errorf("the step took longer than %s", x.StepTimeout))
		defer cancel()
	}
	ac := &ActionContext{
		StepID: step.ID, Input: input, Workspace: x.Workspace, Template: x.Template, sources: x.sources,
		TemplateRef: x.TemplateRef, TemplateEtag: x.TemplateEtag, TaskID: x.TaskID, DryRun: x.DryRun, Secrets: x.Secrets,
		log: func(level, msg string) { x.emit(step.ID, "", level, msg) },
	}
	err := a.Run(ctx, ac)
	if err != nil && ctx.Err() != nil && context.Cause(ctx) != ctx.Err() {
		err = context.Cause(ctx) // a step timeout names itself
	}
	if err != nil {
		return nil, err
	}
	out, err := jsonNormal(ac.outputs)
	if err != nil {
		return nil, fmt.Errorf("outputs of %s are not JSON: %w", step.Action, err)
	}
	m, _ := out.(map[string]any)
	return m, nil
}

// data is what templates read: parameters, steps, user and context; the
// secrets only for a step's input and each.
func (x *execution) data(secrets bool, each map[string]any) map[string]any {
	d := map[string]any{
		"parameters": x.Values,
		"steps":      x.steps,
		"user":       x.User,
		"context":    map[string]any{"task": map[string]any{"id": x.TaskID}},
	}
	if secrets {
		d["secrets"] = x.Secrets
	}
	if each != nil {
		d["each"] = each
	}
	return d
}

// output renders spec.output without secrets, and drops the items of
// links and text whose if is false, as Backstage's filterConditionalItems
// does: an if that renders empty is gone before the filter, so its item
// stays.
func (x *execution) output() map[string]any {
	if x.Spec.Output == nil {
		return map[string]any{}
	}
	rendered, _ := x.rend.value(x.Spec.Output, x.data(false, nil))
	out, _ := rendered.(map[string]any)
	for _, key := range []string{"links", "text"} {
		items, ok := out[key].([]any)
		if !ok {
			continue
		}
		kept := items[:0]
		for _, item := range items {
			m, ok := item.(map[string]any)
			if !ok {
				kept = append(kept, item)
				continue
			}
			if cond, has := m["if"]; has {
				if !truthy(cond, true) {
					continue
				}
				delete(m, "if")
			}
			kept = append(kept, m)
		}
		out[key] = kept
	}
	return out
}

// usesStatusCheck reports whether an if calls always() or failure().
func usesStatusCheck(cond any) bool {
	s, ok := cond.(string)
	return ok && statusCheck.MatchString(s)
}

// jsonNormal returns v as JSON decodes it (maps, lists, float64s), the
// only values templates read.
func jsonNormal(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(data, &out)
}

// masker replaces secrets, and values rendered from them, with ***.
type masker struct {
	mu    sync.Mutex
	words []string
	r     *strings.Replacer
}

func (m *masker) add(s string) {
	if s == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if slices.Contains(m.words, s) {
		return
	}
	m.words = append(m.words, s)
	// Longest first, so that a secret is masked whole before a part of it.
	slices.SortFunc(m.words, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	pairs := make([]string, 0, 2*len(m.words))
	for _, w := range m.words {
		pairs = append(pairs, w, "***")
	}
	m.r = strings.NewReplacer(pairs...)
}

// addValue masks every string in v, and, for a value that is not a
// string, its JSON too.
func (m *masker) addValue(v any) {
	switch v := v.(type) {
	case nil:
	case string:
		m.add(v)
	case map[string]any:
		for _, item := range v {
			m.addValue(item)
		}
	case []any:
		for _, item := range v {
			m.addValue(item)
		}
	default:
		if data, err := json.Marshal(v); err == nil {
			m.add(string(data))
		}
	}
}

func (m *masker) mask(s string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.r == nil {
		return s
	}
	return m.r.Replace(s)
}
