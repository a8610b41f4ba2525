package nunjucks_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/nunjucks"
)

// fuzzData is the context of every fuzzed render: a little of each kind.
var fuzzData = map[string]any{
	"s": "héllo wörld 😀", "n": 42.5, "i": 3, "b": true, "z": nil,
	"a":   []any{1, "two", nil, []any{3}, map[string]any{"k": "v"}},
	"o":   map[string]any{"x": 1, "0": "zero", "length": 2, "1": "one", "a.b": "dot"},
	"url": "github.com?owner=o&repo=r",
}

// FuzzParseRender checks that no source, however malformed, makes Parse or
// Render panic (a recovered panic shows as an "internal error") or run
// long. Seeds are the compatibility and oracle corpora.
func FuzzParseRender(f *testing.F) {
	for _, c := range loadCompatCases(f) {
		f.Add(c.Template, false)
	}
	data, err := os.ReadFile("testdata/oracle/cases.json")
	if err != nil {
		f.Fatal(err)
	}
	var oracle struct {
		Cases []struct {
			Template  string `json:"template"`
			Backstage bool
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &oracle); err != nil {
		f.Fatal(err)
	}
	for _, c := range oracle.Cases {
		f.Add(c.Template, c.Backstage)
	}
	opts := &nunjucks.Options{
		Limits: nunjucks.Limits{MaxSteps: 200_000, MaxOutputBytes: 1 << 20, MaxDepth: 64},
		Filters: map[string]nunjucks.Filter{
			"echo": func(in any, args []any, kw map[string]any) (any, error) { return []any{in, args, kw}, nil },
		},
		Globals: map[string]nunjucks.Function{
			"fail": func([]any, map[string]any) (any, error) { return nil, errors.New("failed") },
		},
	}
	f.Fuzz(func(t *testing.T, src string, backstage bool) {
		o := *opts
		o.Syntax = nunjucks.NunjucksSyntax
		if backstage {
			o.Syntax = nunjucks.BackstageSyntax
		}
		o.TrimBlocks = len(src)%2 == 0
		o.LstripBlocks = len(src)%3 == 0
		start := time.Now()
		tmpl, err := nunjucks.Parse(src, &o)
		if err != nil {
			checkFuzzError(t, src, err)
			return
		}
		if _, err := tmpl.Render(fuzzData); err != nil {
			checkFuzzError(t, src, err)
		}
		if _, _, err := tmpl.Value(fuzzData); err != nil {
			checkFuzzError(t, src, err)
		}
		if d := time.Since(start); d > 3*time.Second*slowdown {
			t.Errorf("%q took %v", src, d)
		}
	})
}

func checkFuzzError(t *testing.T, src string, err error) {
	t.Helper()
	var e *nunjucks.Error
	if !errors.As(err, &e) {
		t.Fatalf("%q: error %T %v is not an *Error", src, err, err)
	}
	if strings.Contains(e.Msg, "internal error") {
		t.Fatalf("%q: %v", src, err)
	}
	if e.Line < 1 || e.Col < 1 {
		t.Fatalf("%q: error position %d:%d", src, e.Line, e.Col)
	}
}
