package nunjucks_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/greenroomhq/greenroom/internal/nunjucks"
)

// compatCase is one case of the Nunjitsu compatibility corpus, whose
// expected output is what Nunjucks 3.2.4 renders.
type compatCase struct {
	ID       string         `json:"id"`
	Template string         `json:"template"`
	Context  map[string]any `json:"context"`
	Expected string         `json:"expected"`
}

func loadCompatCases(tb testing.TB) []compatCase {
	tb.Helper()
	data, err := os.ReadFile("testdata/compat/cases.json")
	if err != nil {
		tb.Fatal(err)
	}
	var corpus struct {
		SchemaVersion int          `json:"schemaVersion"`
		Cases         []compatCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &corpus); err != nil {
		tb.Fatal(err)
	}
	if corpus.SchemaVersion != 1 {
		tb.Fatalf("schemaVersion %d; want 1", corpus.SchemaVersion)
	}
	return corpus.Cases
}

// compatOptions renders the corpus, written with Nunjucks' {{ }} delimiters.
var compatOptions = &nunjucks.Options{Syntax: nunjucks.NunjucksSyntax}

func TestCompat(t *testing.T) {
	cases := loadCompatCases(t)
	if len(cases) != 157 {
		t.Errorf("corpus has %d cases; want 157", len(cases))
	}
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			tmpl, err := nunjucks.Parse(c.Template, compatOptions)
			if err != nil {
				t.Fatalf("Parse: %v\ntemplate: %s", err, c.Template)
			}
			got, err := tmpl.Render(c.Context)
			if err != nil {
				t.Fatalf("Render: %v\ntemplate: %s", err, c.Template)
			}
			if got != c.Expected {
				t.Errorf("template: %s\nexpected: %q\ngot:      %q", c.Template, c.Expected, got)
			}
		})
	}
}
