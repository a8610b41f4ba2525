package nunjucks_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/greenroomhq/greenroom/internal/nunjucks"
)

// TestOracle renders everyday templates whose expected output real Nunjucks
// 3.2.4 produced (testdata/oracle/generate.js).
func TestOracle(t *testing.T) {
	data, err := os.ReadFile("testdata/oracle/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var corpus struct {
		Cases []struct {
			ID                       string         `json:"id"`
			Template                 string         `json:"template"`
			Context                  map[string]any `json:"context"`
			Expected                 string         `json:"expected"`
			Error                    bool           `json:"error"`
			TrimBlocks, LstripBlocks bool
			Backstage                bool
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &corpus); err != nil {
		t.Fatal(err)
	}
	for _, c := range corpus.Cases {
		t.Run(c.ID, func(t *testing.T) {
			opts := &nunjucks.Options{Syntax: nunjucks.NunjucksSyntax, TrimBlocks: c.TrimBlocks, LstripBlocks: c.LstripBlocks}
			if c.Backstage {
				opts.Syntax = nunjucks.BackstageSyntax
			}
			tmpl, err := nunjucks.Parse(c.Template, opts)
			var got string
			if err == nil {
				got, err = tmpl.Render(c.Context)
			}
			switch {
			case c.Error && err == nil:
				t.Errorf("template: %s\nrendered %q; want an error", c.Template, got)
			case !c.Error && err != nil:
				t.Errorf("template: %s\nerror: %v", c.Template, err)
			case got != c.Expected:
				t.Errorf("template: %s\nexpected: %q\ngot:      %q", c.Template, c.Expected, got)
			}
		})
	}
}
