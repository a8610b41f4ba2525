package scaffolder

import (
	"encoding/json"
	"strings"

	"github.com/greenroomhq/greenroom/internal/nunjucks"
)

// templateOptions renders the strings of a template (${{ }}), with
// Nunjucks' built-ins and Backstage's filters for the public hosts.
var templateOptions = &nunjucks.Options{Syntax: nunjucks.BackstageSyntax, Filters: DefaultIntegrations.Filters()}

// renderString renders one string of a template as Backstage does
// (backstage-spec.md §3.2, §8.1): a string that is exactly one ${{ }}
// expression keeps its value's type; one made only of {% %} tags is parsed
// as JSON when it can be; any other stays text. A value that renders
// empty is undefined (defined is false), but ${{ "" }} stays "". A string
// without ${{ or {% is itself.
func renderString(s string, data map[string]any) (v any, defined bool, err error) {
	return renderWith(s, data, templateOptions)
}

// renderWith is renderString with other options: a run's status functions.
func renderWith(s string, data map[string]any, opts *nunjucks.Options) (v any, defined bool, err error) {
	if s == "" {
		return nil, false, nil
	}
	if !strings.Contains(s, "${{") && !strings.Contains(s, "{%") {
		return s, true, nil
	}
	t, err := nunjucks.Parse(s, opts)
	if err != nil {
		return nil, false, err
	}
	if t.SingleExpression() {
		return t.Value(data)
	}
	out, err := t.Render(data)
	if err != nil || out == "" {
		return nil, false, err
	}
	if t.OnlyTags() {
		var parsed any
		if json.Unmarshal([]byte(out), &parsed) == nil {
			return parsed, true, nil
		}
	}
	return out, true, nil
}

// truthy is Backstage's isTruthy: false, undefined, null, "", 0 and []
// are false, anything else true.
func truthy(v any, defined bool) bool {
	if !defined {
		return false
	}
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case float64:
		return v != 0 && v == v // NaN is false
	case []any:
		return len(v) > 0
	}
	return true
}
