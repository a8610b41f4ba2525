package resolvers

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/greenroomhq/greenroom/graph/model"
	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/gqltype"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/scaffolder"
)

// errNoTemplates answers the scaffolder's fields in a server built without
// tasks.
var errNoTemplates = portal.Errorf(portal.EUNAVAILABLE, "this server runs no software templates")

// Page sizes of tasks and of a task's events.
const (
	defaultTaskPage  = 20
	maxTaskPage      = 100
	defaultEventPage = 100
	maxEventPage     = 1000
)

// secretsArg reads the secrets argument: absent, or a JSON object.
func secretsArg(v any) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, portal.Errorf(portal.EINVALID, "secrets must be a JSON object")
	}
	return m, nil
}

// nullableObject is a JSON Schema as the API writes it: null when absent.
func nullableObject(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

type taskPosition struct{ ID string }

// tasks answers Query.tasks.
func tasks(ctx context.Context, svc Tasks, filter *model.TaskFilter, first *int, after *string) (*model.TaskConnection, error) {
	limit := defaultTaskPage
	if first != nil {
		if *first < 0 || *first > maxTaskPage {
			return nil, portal.Errorf(portal.EINVALID, "first must be between 0 and %d, got %d", maxTaskPage, *first)
		}
		limit = *first
	}
	var f portal.TaskFilter
	if filter != nil {
		f.CreatedBy = filter.CreatedBy
		for _, st := range filter.Statuses {
			f.Statuses = append(f.Statuses, portal.TaskStatus(strings.ToLower(string(st))))
		}
		if filter.Template != nil {
			ref, err := parseRef(*filter.Template, "template")
			if err != nil {
				return nil, err
			}
			f.TemplateRef = ref
		}
	}
	digest := gqltype.QueryDigest("tasks", f)
	from := ""
	if after != nil {
		pos, err := gqltype.DecodeCursor[taskPosition](*after, digest)
		if err != nil {
			return nil, err
		}
		from = pos.ID
	}
	// One more than the page tells whether another follows.
	page, err := svc.Tasks(ctx, f, from, limit+1)
	if err != nil {
		return nil, err
	}
	more := len(page) > limit
	page = page[:min(len(page), limit)]
	conn := &model.TaskConnection{Edges: make([]*model.TaskEdge, len(page))}
	cursors := make([]string, len(page))
	for i, t := range page {
		cursors[i] = gqltype.EncodeCursor(taskPosition{t.ID}, digest)
		conn.Edges[i] = &model.TaskEdge{Cursor: cursors[i], Node: t}
	}
	conn.PageInfo = gqltype.NewPageInfo(cursors, more, after != nil)
	return conn, nil
}

// taskSteps answers Task.steps: each step of the template the task runs,
// with its checkpoint; the first step without one is processing while
// the task is, and the others are open.
func taskSteps(ctx context.Context, svc Tasks, t *portal.Task) ([]*model.TaskStep, error) {
	var doc struct {
		Spec map[string]any `json:"spec"`
	}
	if err := json.Unmarshal(t.Template, &doc); err != nil {
		return nil, err
	}
	spec, err := scaffolder.ParseSpec(doc.Spec)
	if err != nil {
		return nil, err
	}
	done, err := svc.Steps(ctx, t)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]portal.TaskStep, len(done))
	for _, d := range done {
		byID[d.StepID] = d
	}
	out := make([]*model.TaskStep, len(spec.Steps))
	running := t.Status == portal.TaskProcessing
	for i, st := range spec.Steps {
		step := &model.TaskStep{ID: st.ID, Name: st.Name, Action: st.Action, Status: scaffolder.StatusOpen}
		if d, ok := byID[st.ID]; ok {
			step.Status = d.Status
			step.Output = json.RawMessage(d.Output)
		} else if running {
			step.Status, running = scaffolder.StatusProcessing, false
		}
		out[i] = step
	}
	return out, nil
}

func eventPage(first *int) (int, error) {
	if first == nil {
		return defaultEventPage, nil
	}
	if *first < 0 || *first > maxEventPage {
		return 0, portal.Errorf(portal.EINVALID, "first must be between 0 and %d, got %d", maxEventPage, *first)
	}
	return *first, nil
}

// eventCursor reads an event's cursor: its id.
func eventCursor(after *string) (int64, error) {
	if after == nil || *after == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(*after, 10, 64)
	if err != nil || n < 0 {
		return 0, portal.Errorf(portal.EINVALID, "%q is not a task event's cursor", *after)
	}
	return n, nil
}

// followTask answers Subscription.taskEvents.
func followTask(ctx context.Context, svc Tasks, id string, after *string) (<-chan *portal.TaskEvent, error) {
	from, err := eventCursor(after)
	if err != nil {
		return nil, err
	}
	t, err := svc.Task(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make(chan *portal.TaskEvent)
	go func() {
		defer close(out)
		err := svc.Follow(ctx, t, from, func(e portal.TaskEvent) error {
			select {
			case out <- &e:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil && ctx.Err() == nil {
			// The server answers the reason instead of this last event
			// (see gqltype.EndStream).
			gqltype.EndStream(ctx, err)
			select {
			case out <- &portal.TaskEvent{}:
			case <-ctx.Done():
			}
		}
	}()
	return out, nil
}

// dryRun answers Mutation.dryRunTemplate.
func dryRun(ctx context.Context, svc Tasks, input model.DryRunInput) (*model.DryRunResult, error) {
	values, ok := input.Values.(map[string]any)
	if !ok {
		return nil, portal.Errorf(portal.EINVALID, "values must be a JSON object of the form's fields")
	}
	secrets, err := secretsArg(input.Secrets)
	if err != nil {
		return nil, err
	}
	in := app.DryRunInput{Values: values, Secrets: secrets}
	if input.Ref != nil {
		in.Ref = *input.Ref
	}
	if input.Yaml != nil {
		in.YAML = *input.Yaml
	}
	for _, f := range input.Files {
		in.Files = append(in.Files, app.DryRunFile{Path: f.Path, Base64: f.Base64})
	}
	res, err := svc.DryRun(ctx, in)
	if err != nil {
		return nil, err
	}
	out := &model.DryRunResult{Error: optional(res.Error), Files: []*model.DryRunFile{}, Steps: []*model.TaskStep{}, Log: []*model.DryRunLogLine{}}
	if res.Output != nil {
		out.Output = res.Output
	}
	for _, f := range res.Files {
		out.Files = append(out.Files, &model.DryRunFile{Path: f.Path, Base64: base64.StdEncoding.EncodeToString(f.Data), Executable: f.Executable, Symlink: optional(f.Symlink)})
	}
	for _, s := range res.Steps {
		step := &model.TaskStep{ID: s.ID, Name: s.Name, Action: s.Action, Status: s.Status}
		if s.Output != nil {
			step.Output = s.Output
		}
		out.Steps = append(out.Steps, step)
	}
	for _, e := range res.Log {
		out.Log = append(out.Log, &model.DryRunLogLine{Step: optional(e.StepID), Status: optional(e.Status), Level: e.Level, Message: e.Message, At: e.Time})
	}
	return out, nil
}

// deref is an optional string argument, "" when absent.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
