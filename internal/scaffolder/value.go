package scaffolder

import (
	"regexp"
	"strings"

	"github.com/greenroomhq/greenroom/internal/nunjucks"
)

// renderer renders the values of a template's steps and output for one
// run, with the status functions of that run: always() is true, failure()
// is true once a step has failed.
type renderer struct {
	opts   *nunjucks.Options
	failed bool
	// taint, when set, is told what each rendered string made of secrets
	// (see value), so that the log can mask it wherever it appears.
	taint func(string)
	// masked are the secrets with every string replaced by ***.
	masked map[string]any
}

func newRenderer(in Integrations) *renderer {
	r := &renderer{}
	opts := *templateOptions
	if in != nil {
		opts.Filters = in.Filters()
	}
	opts.Globals = map[string]nunjucks.Function{
		"always":  func([]any, map[string]any) (any, error) { return true, nil },
		"failure": func([]any, map[string]any) (any, error) { return r.failed, nil },
	}
	r.opts = &opts
	return r
}

// value renders every string in v as Backstage renders a step's input,
// if, each and the template's output (backstage-spec.md §3.2, §8.1): a
// string that renders empty is dropped from its object and becomes null in
// its array; a string whose rendering fails is kept as written. Other
// values are kept. defined is false when v itself renders empty.
func (r *renderer) value(v any, data map[string]any) (out any, defined bool) {
	switch v := v.(type) {
	case string:
		rendered, defined, err := renderWith(v, data, r.opts)
		if err != nil {
			return v, true
		}
		if r.taint != nil && defined && readsSecrets(v) {
			r.taintDerived(v, rendered, data)
		}
		return rendered, defined
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, item := range v {
			if rendered, ok := r.value(item, data); ok {
				m[k] = rendered
			}
		}
		return m, true
	case []any:
		a := make([]any, len(v))
		for i, item := range v {
			if rendered, ok := r.value(item, data); ok {
				a[i] = rendered
			}
		}
		return a, true
	}
	return v, true
}

// taintDerived reports to taint the part of a rendered string that the
// secrets made: the string is rendered again with every secret as ***,
// and what differs between the two renderings (between their common
// prefix and suffix) is the secrets' doing. "token ${{ secrets.t }}" so
// logs as "token ***", and "${{ secrets.t | upper }}" as "***". Two
// secrets in one string mask the text between them too; a value that is
// not a string is masked whole.
func (r *renderer) taintDerived(src string, rendered any, data map[string]any) {
	s, ok := rendered.(string)
	if !ok || data["secrets"] == nil {
		r.taintValue(rendered)
		return
	}
	masked := make(map[string]any, len(data))
	for k, v := range data {
		masked[k] = v
	}
	masked["secrets"] = r.masked
	other, _, err := renderWith(src, masked, r.opts)
	o, isString := other.(string)
	if err != nil || !isString {
		r.taint(s)
		return
	}
	prefix := 0
	for prefix < len(s) && prefix < len(o) && s[prefix] == o[prefix] {
		prefix++
	}
	suffix := 0
	for suffix < len(s)-prefix && suffix < len(o)-prefix && s[len(s)-1-suffix] == o[len(o)-1-suffix] {
		suffix++
	}
	if part := s[prefix : len(s)-suffix]; part != "" {
		r.taint(part)
	}
}

// maskAll returns v with every string replaced by ***.
func maskAll(v any) any {
	switch v := v.(type) {
	case string:
		return "***"
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, item := range v {
			m[k] = maskAll(item)
		}
		return m
	case []any:
		a := make([]any, len(v))
		for i, item := range v {
			a[i] = maskAll(item)
		}
		return a
	}
	return v
}

// taintValue reports every string in v to taint.
func (r *renderer) taintValue(v any) {
	switch v := v.(type) {
	case string:
		r.taint(v)
	case map[string]any:
		for _, item := range v {
			r.taintValue(item)
		}
	case []any:
		for _, item := range v {
			r.taintValue(item)
		}
	}
}

// readsSecrets reports whether a template string may read a secret.
func readsSecrets(s string) bool { return strings.Contains(s, "secrets") }

// statusCheck finds the status functions an if may call to run after a
// failure, as Backstage's NunjucksWorkflowRunner looks for them.
var statusCheck = regexp.MustCompile(`\b(always|failure)\s*\(\s*\)`)

// condition reports whether a step's if lets it run: absent or true runs,
// false does not, and a string is rendered (an error counts as true, for
// the raw string is kept and is not empty).
func (r *renderer) condition(cond any, data map[string]any) bool {
	switch c := cond.(type) {
	case nil:
		return true
	case bool:
		return c
	case string:
		v, defined := r.value(c, data)
		return truthy(v, defined)
	}
	return truthy(cond, true)
}
