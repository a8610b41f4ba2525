package scaffolder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// Page is one page of a template's form.
type Page struct {
	Title       string
	Description string
	// Schema is the page as written: JSON Schema with the renderers' ui:
	// hints, and Backstage's own keys (backstage:permissions, when).
	Schema map[string]any
}

// Visible reports whether the page shows for values: its `when`, a
// boolean or a ${{ }} expression over parameters (the values), is true or
// absent. A `when` that fails to render shows the page, as an `if` that
// fails to render runs its step.
func (p Page) Visible(values map[string]any) bool {
	when, ok := p.Schema["when"]
	if !ok {
		return true
	}
	if s, isString := when.(string); isString {
		v, defined, err := renderString(s, map[string]any{"parameters": values})
		return err != nil || truthy(v, defined)
	}
	return truthy(when, true)
}

// Pages returns the pages of a template's spec.parameters: none when it
// is absent, one for an object, one per item of a list. Anything else is
// an EINVALID error naming where.
func Pages(parameters any) ([]Page, error) {
	var items []any
	switch p := parameters.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		items = []any{p}
	case []any:
		items = p
	default:
		return nil, portal.Errorf(portal.EINVALID, "spec.parameters must be an object or a list of objects, not %s", typeName(p))
	}
	pages := make([]Page, len(items))
	for i, item := range items {
		schema, ok := item.(map[string]any)
		if !ok {
			return nil, portal.Errorf(portal.EINVALID, "spec.parameters[%d] must be an object, not %s", i, typeName(item))
		}
		title, _ := schema["title"].(string)
		description, _ := schema["description"].(string)
		pages[i] = Page{Title: title, Description: description, Schema: schema}
	}
	return pages, nil
}

// FieldError is a value that a page of the form refuses.
type FieldError struct {
	Page    int    // 0-based index of the page
	Path    string // the field, dotted: "name", "repo.branches.0"; "" for the values as a whole
	Message string
}

// Validate checks values against each visible page (see [Page.Visible]),
// as one JSON object: a page names the fields it asks for and ignores the
// others. It returns what the pages refuse, a field at a time, in page
// order; an error only when a page is not a schema it can compile
// (EINVALID, naming the page).
func Validate(pages []Page, values map[string]any) ([]FieldError, error) {
	instance, err := jsonValue(values)
	if err != nil {
		return nil, portal.Errorf(portal.EINVALID, "values are not JSON: %v", err)
	}
	var out []FieldError
	for i, p := range pages {
		if !p.Visible(values) {
			continue
		}
		schema, err := compile(i, p.Schema)
		if err != nil {
			return nil, err
		}
		err = schema.Validate(instance)
		var verr *jsonschema.ValidationError
		switch {
		case err == nil:
		case errors.As(err, &verr):
			out = append(out, leaves(i, verr)...)
		default:
			return nil, fmt.Errorf("scaffolder: validate page %d: %w", i, err)
		}
	}
	return out, nil
}

// compile compiles page i's schema under draft 7, as its own document, so
// that its $refs to #/… resolve within the page.
func compile(i int, page map[string]any) (*jsonschema.Schema, error) {
	schema, err := compileSchema("page-"+strconv.Itoa(i)+".json", page)
	if err != nil {
		return nil, portal.Errorf(portal.EINVALID, "spec.parameters[%d] is not a JSON Schema: %v", i, err)
	}
	return schema, nil
}

// noLoader refuses every URL: a form's schema reads nothing from outside.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s is outside the page; only $refs within it (#/…) resolve", url)
}

// jsonValue returns v as jsonschema reads JSON: numbers as json.Number.
func jsonValue(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(data))
}

// printer words the validator's messages.
var printer = message.NewPrinter(language.English)

// leaves flattens a validation error into its innermost causes, one per
// field; a missing required property is named as the field it is.
func leaves(page int, e *jsonschema.ValidationError) []FieldError {
	if len(e.Causes) > 0 {
		var out []FieldError
		for _, c := range e.Causes {
			out = append(out, leaves(page, c)...)
		}
		return out
	}
	if req, ok := e.ErrorKind.(*kind.Required); ok {
		out := make([]FieldError, len(req.Missing))
		for i, name := range req.Missing {
			out[i] = FieldError{Page: page, Path: dotted(append(slices.Clone(e.InstanceLocation), name)), Message: "is required"}
		}
		return out
	}
	return []FieldError{{Page: page, Path: dotted(e.InstanceLocation), Message: e.ErrorKind.LocalizedString(printer)}}
}

func dotted(location []string) string { return strings.Join(location, ".") }

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, int, int64, uint64:
		return "a number"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// VisibleValues returns values without the fields that only pages that do
// not show ask for, as Backstage drops them before a task runs
// (backstage-spec.md §3.1).
func VisibleValues(pages []Page, values map[string]any) map[string]any {
	hidden, shown := map[string]bool{}, map[string]bool{}
	for _, p := range pages {
		props, _ := p.Schema["properties"].(map[string]any)
		seen := hidden
		if p.Visible(values) {
			seen = shown
		}
		for k := range props {
			seen[k] = true
		}
	}
	out := make(map[string]any, len(values))
	for k, v := range values {
		if !hidden[k] || shown[k] {
			out[k] = v
		}
	}
	return out
}
