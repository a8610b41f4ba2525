package scaffolder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// An Action is what a step runs. Greenroom's built-in actions are
// Actions, and so is any a team writes for itself: register it in the
// Registry the server is built with.
type Action interface {
	// Info describes the action: its id, its input and output as JSON
	// Schema (the input is checked before Run), and whether it can run in a
	// dry run.
	Info() ActionInfo
	// Run does the action's work. It must stop soon after ctx is done (a
	// cancelled task), touch files only through ac.Workspace, and, when
	// ac.DryRun, change nothing outside the workspace.
	Run(ctx context.Context, ac *ActionContext) error
}

// ActionInfo describes an action.
type ActionInfo struct {
	ID          string
	Description string
	// Input and Output are JSON Schemas (draft 7) of the action's input
	// and of the outputs it sets.
	Input, Output map[string]any
	// DryRun is set by actions that can run in a dry run: those that
	// change only the workspace, and those that change something outside
	// it but honour ActionContext.DryRun. A dry run skips the others and
	// makes their outputs up from Output (see exampleOf).
	DryRun bool
}

// ActionContext is what a step gives its action.
type ActionContext struct {
	StepID string
	// Input is the step's rendered input, checked against the action's
	// input schema; see DecodeInput.
	Input map[string]any
	// Workspace is where the task's files are.
	Workspace *Workspace
	// Template is the template's own folder, where relative URLs such as
	// ./skeleton point (see Fetch).
	Template TemplateBase
	// TemplateRef and TemplateEtag name the template and its version,
	// TaskID the task.
	TemplateRef, TemplateEtag, TaskID string
	// DryRun asks the action to change nothing outside the workspace.
	DryRun bool
	// Secrets are the task's secrets, for actions that need a token.
	Secrets map[string]any

	sources *sources // nil: no forge is read
	log     func(level, message string)
	mu      sync.Mutex
	outputs map[string]any
}

// DecodeInput decodes the input into v, a struct with json tags.
func (ac *ActionContext) DecodeInput(v any) error {
	data, err := json.Marshal(ac.Input)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// Logf writes a line of the step's log. Secrets are masked in it.
func (ac *ActionContext) Logf(format string, args ...any) {
	ac.log("info", fmt.Sprintf(format, args...))
}

// Output sets one of the step's outputs.
func (ac *ActionContext) Output(name string, v any) {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if ac.outputs == nil {
		ac.outputs = map[string]any{}
	}
	ac.outputs[name] = v
}

// Registry holds the actions steps can name.
type Registry struct {
	actions map[string]registered
}

type registered struct {
	Action
	info  ActionInfo
	input *jsonschema.Schema
}

// NewRegistry returns a registry of actions. An action whose id is taken
// or whose input schema does not compile is an error.
func NewRegistry(actions ...Action) (*Registry, error) {
	r := &Registry{actions: map[string]registered{}}
	for _, a := range actions {
		if err := r.Register(a); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Register adds an action.
func (r *Registry) Register(a Action) error {
	info := a.Info()
	if info.ID == "" {
		return errors.New("scaffolder: an action needs an id")
	}
	if _, taken := r.actions[info.ID]; taken {
		return fmt.Errorf("scaffolder: action %s is registered twice", info.ID)
	}
	schema, err := compileSchema(info.ID+"/input.json", info.Input)
	if err != nil {
		return fmt.Errorf("scaffolder: action %s: input schema: %w", info.ID, err)
	}
	if _, err := compileSchema(info.ID+"/output.json", info.Output); err != nil {
		return fmt.Errorf("scaffolder: action %s: output schema: %w", info.ID, err)
	}
	r.actions[info.ID] = registered{Action: a, info: info, input: schema}
	return nil
}

// Lookup returns the action of an id.
func (r *Registry) Lookup(id string) (Action, bool) {
	a, ok := r.actions[id]
	return a.Action, ok
}

// Infos describes every action, in id order.
func (r *Registry) Infos() []ActionInfo {
	out := make([]ActionInfo, 0, len(r.actions))
	for _, a := range r.actions {
		out = append(out, a.info)
	}
	slices.SortFunc(out, func(a, b ActionInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// checkInput checks a step's input against its action's schema, as
// Backstage does before it runs the action.
func (r *Registry) checkInput(id string, input map[string]any) error {
	a := r.actions[id]
	if a.input == nil {
		return nil
	}
	instance, err := jsonValue(input)
	if err != nil {
		return portal.Errorf(portal.EINVALID, "Invalid input passed to action %s: %v", id, err)
	}
	err = a.input.Validate(instance)
	var verr *jsonschema.ValidationError
	if errors.As(err, &verr) {
		var msgs []string
		for _, l := range leaves(0, verr) {
			field := l.Path
			if field == "" {
				field = "input"
			}
			msgs = append(msgs, field+" "+l.Message)
		}
		return portal.Errorf(portal.EINVALID, "Invalid input passed to action %s: %s", id, strings.Join(msgs, "; "))
	}
	return err
}

// compileSchema compiles a JSON Schema (draft 7) that reads nothing from
// outside itself; nil for none. name is made an absolute URL of no place:
// a relative one would resolve against the server's working directory,
// which error messages would then show.
func compileSchema(name string, schema map[string]any) (*jsonschema.Schema, error) {
	if schema == nil {
		return nil, nil
	}
	url := "https://schemas.greenroom.invalid/" + name
	doc, err := jsonValue(schema)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.UseLoader(noLoader{})
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// exampleOutputs makes up the outputs of an action a dry run skips, from
// its output schema, as Backstage does: each property's first example,
// else a value of its type.
func exampleOutputs(schema map[string]any) map[string]any {
	props, _ := schema["properties"].(map[string]any)
	out := make(map[string]any, len(props))
	for name, p := range props {
		p, _ := p.(map[string]any)
		out[name] = exampleOf(p)
	}
	return out
}

func exampleOf(schema map[string]any) any {
	if ex, ok := schema["examples"].([]any); ok && len(ex) > 0 {
		return ex[0]
	}
	switch schema["type"] {
	case "number", "integer":
		return 0
	case "boolean":
		return false
	case "array":
		items, _ := schema["items"].(map[string]any)
		return []any{exampleOf(items)}
	case "object":
		return exampleOutputs(schema)
	}
	return "<example>"
}
