package scaffolder

import (
	"strconv"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// Spec is what running a template needs of its spec: the form, the steps
// and the output, as written (rendering happens step by step as the task
// runs).
type Spec struct {
	Pages  []Page
	Steps  []Step
	Output map[string]any
}

// Step is one of a template's steps.
type Step struct {
	// ID is the step's id, step-<n> (from 1) when it has none; Name its
	// name, the action's id when it has none (as Backstage's router fills
	// them in).
	ID, Name string
	Action   string
	Input    map[string]any
	// If and Each are as written: a boolean or a string to render, and a
	// string to render to a list or an object (or such a value).
	If, Each any
}

// ParseSpec reads a Template entity's spec. What is not shaped as
// Backstage's Template schema wants is an EINVALID error naming where.
func ParseSpec(spec map[string]any) (*Spec, error) {
	pages, err := Pages(spec["parameters"])
	if err != nil {
		return nil, err
	}
	out := &Spec{Pages: pages}
	if o, ok := spec["output"]; ok && o != nil {
		if out.Output, ok = o.(map[string]any); !ok {
			return nil, portal.Errorf(portal.EINVALID, "spec.output must be an object, not %s", typeName(o))
		}
	}
	steps, ok := spec["steps"].([]any)
	if !ok {
		return nil, portal.Errorf(portal.EINVALID, "spec.steps must be a list of steps")
	}
	seen := map[string]bool{}
	for i, s := range steps {
		where := "spec.steps[" + strconv.Itoa(i) + "]"
		m, ok := s.(map[string]any)
		if !ok {
			return nil, portal.Errorf(portal.EINVALID, "%s must be an object, not %s", where, typeName(s))
		}
		step := Step{ID: "step-" + strconv.Itoa(i+1), If: m["if"], Each: m["each"]}
		if step.Action, ok = m["action"].(string); !ok || step.Action == "" {
			return nil, portal.Errorf(portal.EINVALID, "%s.action must name an action", where)
		}
		step.Name = step.Action
		for key, to := range map[string]*string{"id": &step.ID, "name": &step.Name} {
			if v, present := m[key]; present && v != nil {
				str, isString := v.(string)
				if !isString {
					return nil, portal.Errorf(portal.EINVALID, "%s.%s must be a string, not %s", where, key, typeName(v))
				}
				*to = str
			}
		}
		if seen[step.ID] {
			return nil, portal.Errorf(portal.EINVALID, "%s: another step has the id %q", where, step.ID)
		}
		seen[step.ID] = true
		switch in := m["input"].(type) {
		case nil:
			step.Input = map[string]any{}
		case map[string]any:
			step.Input = in
		default:
			return nil, portal.Errorf(portal.EINVALID, "%s.input must be an object, not %s", where, typeName(in))
		}
		switch step.If.(type) {
		case nil, bool, string:
		default:
			return nil, portal.Errorf(portal.EINVALID, "%s.if must be a boolean or a string, not %s", where, typeName(step.If))
		}
		out.Steps = append(out.Steps, step)
	}
	return out, nil
}

// CheckActions reports the steps whose action the registry does not hold.
func (s *Spec) CheckActions(r *Registry) error {
	for i, step := range s.Steps {
		if _, ok := r.Lookup(step.Action); !ok {
			return portal.Errorf(portal.EINVALID, "spec.steps[%d] (%s): action %s is not registered", i, step.ID, step.Action)
		}
	}
	return nil
}
