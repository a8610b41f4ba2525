package scaffolder_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/scaffolder"
)

// parameters decodes a spec.parameters written in YAML, as JSON would
// hold it (the catalog stores entities as JSON).
func parameters(t *testing.T, src string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

const wizard = `
- title: Service
  required: [name, owner]
  properties:
    name:
      type: string
      pattern: '^[a-z0-9-]+$'
      maxLength: 10
      ui:field: EntityNamePicker
      ui:autofocus: true
    owner:
      type: string
      ui:field: OwnerPicker
- title: Repository
  description: Where it goes.
  required: [repoUrl]
  properties:
    repoUrl:
      type: string
    replicas:
      $ref: '#/definitions/count'
    tags:
      type: array
      items: {type: string, minLength: 2}
  definitions:
    count: {type: integer, minimum: 1}
`

func TestPages(t *testing.T) {
	pages, err := scaffolder.Pages(parameters(t, wizard))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 || pages[0].Title != "Service" || pages[1].Description != "Where it goes." {
		t.Fatalf("pages %+v; want Service, then Repository with its description", pages)
	}
	// ui: hints pass through untouched.
	name := pages[0].Schema["properties"].(map[string]any)["name"].(map[string]any)
	if name["ui:field"] != "EntityNamePicker" || name["ui:autofocus"] != true {
		t.Errorf("name's schema %v lost its ui: hints", name)
	}

	one, err := scaffolder.Pages(map[string]any{"title": "Only", "properties": map[string]any{}})
	if err != nil || len(one) != 1 || one[0].Title != "Only" {
		t.Errorf("an object: %+v, %v; want one page", one, err)
	}
	if none, err := scaffolder.Pages(nil); err != nil || len(none) != 0 {
		t.Errorf("no parameters: %+v, %v; want no pages", none, err)
	}
	for _, bad := range []any{"text", []any{map[string]any{}, 3.0}} {
		if _, err := scaffolder.Pages(bad); portal.ErrorCode(err) != portal.EINVALID {
			t.Errorf("Pages(%v): %v; want EINVALID", bad, err)
		}
	}
}

func TestValidate(t *testing.T) {
	pages, err := scaffolder.Pages(parameters(t, wizard))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   []scaffolder.FieldError
	}{{
		name:   "valid",
		values: map[string]any{"name": "svc", "owner": "team-a", "repoUrl": "github.com?owner=o&repo=r", "replicas": 2, "tags": []any{"go"}},
	}, {
		name:   "missing on both pages",
		values: map[string]any{"name": "svc"},
		want: []scaffolder.FieldError{
			{Page: 0, Path: "owner", Message: "is required"},
			{Page: 1, Path: "repoUrl", Message: "is required"},
		},
	}, {
		name:   "wrong values",
		values: map[string]any{"name": "Not Valid Name", "owner": 7, "repoUrl": "x", "replicas": 0, "tags": []any{"ok", "x"}},
		want: []scaffolder.FieldError{
			{Page: 0, Path: "name", Message: "maxLength: got 14, want 10"},
			{Page: 0, Path: "name", Message: "'Not Valid Name' does not match pattern '^[a-z0-9-]+$'"},
			{Page: 0, Path: "owner", Message: "got number, want string"},
			{Page: 1, Path: "replicas", Message: "minimum: got 0, want 1"},
			{Page: 1, Path: "tags.1", Message: "minLength: got 1, want 2"},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scaffolder.Validate(pages, tc.values)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, sortErrors); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// sortErrors compares errors in any order: the validator's order of
// keywords within a field is its own.
var sortErrors = cmp.Transformer("sort", func(in []scaffolder.FieldError) []scaffolder.FieldError {
	out := append([]scaffolder.FieldError(nil), in...)
	slices.SortFunc(out, func(a, b scaffolder.FieldError) int {
		return strings.Compare(fmt.Sprint(a.Page, a.Path, a.Message), fmt.Sprint(b.Page, b.Path, b.Message))
	})
	return out
})

func TestValidate_BadSchema(t *testing.T) {
	for name, page := range map[string]any{
		"not a schema":       map[string]any{"type": 12.0},
		"ref outside a page": map[string]any{"properties": map[string]any{"x": map[string]any{"$ref": "https://example.com/s.json"}}},
	} {
		pages, err := scaffolder.Pages([]any{page})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := scaffolder.Validate(pages, map[string]any{"x": 1}); portal.ErrorCode(err) != portal.EINVALID {
			t.Errorf("%s: %v; want EINVALID", name, err)
		}
	}
}

func TestValidate_When(t *testing.T) {
	pages, err := scaffolder.Pages(parameters(t, `
- required: [kind]
  properties:
    kind: {type: string}
- when: '${{ parameters.kind == "service" }}'
  required: [port]
  properties:
    port: {type: integer}
- when: false
  required: [never]
- when: '{% if parameters.kind %}true{% else %}false{% endif %}'
  required: [owner]
- when: '${{ parameters.kind | nosuchfilter }}'
  required: [checked]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind string
		want []string // page and path of each error
	}{
		{"service", []string{"1 port", "3 owner", "4 checked"}},
		{"library", []string{"3 owner", "4 checked"}},
		{"", []string{"4 checked"}},
	} {
		values := map[string]any{}
		if tc.kind != "" {
			values["kind"] = tc.kind
		}
		errs, err := scaffolder.Validate(pages, values)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range errs {
			got = append(got, fmt.Sprint(e.Page, " ", e.Path))
		}
		want := tc.want
		if tc.kind == "" {
			want = append([]string{"0 kind"}, want...)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("kind %q: errors mismatch (-want +got):\n%s", tc.kind, diff)
		}
	}
}
