package nunjucks_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/nunjucks"
)

// MustParse parses src or fails the test.
func MustParse(tb testing.TB, src string, opts *nunjucks.Options) *nunjucks.Template {
	tb.Helper()
	t, err := nunjucks.Parse(src, opts)
	if err != nil {
		tb.Fatalf("Parse(%q): %v", src, err)
	}
	return t
}

// MustRender parses and renders src or fails the test.
func MustRender(tb testing.TB, src string, opts *nunjucks.Options, data map[string]any) string {
	tb.Helper()
	out, err := MustParse(tb, src, opts).Render(data)
	if err != nil {
		tb.Fatalf("Render(%q): %v", src, err)
	}
	return out
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name, src string
		line, col int
		msg       string
	}{
		{"include", "a\n{% include \"x.njk\" %}", 2, 1, "include is not supported"},
		{"import", `{% import "x" as y %}`, 1, 1, "import is not supported"},
		{"extends", `{% extends "x" %}`, 1, 1, "extends is not supported"},
		{"from", `{% from "x" import y %}`, 1, 1, "from is not supported"},
		{"unknown tag", "ok\n  {% frobnicate %}", 2, 3, `unknown tag "frobnicate"`},
		{"unterminated variable", "x ${{ a", 1, 3, "unterminated variable tag"},
		{"unterminated comment", "{# a", 1, 1, "unterminated comment tag"},
		{"missing endif", "{% if a %}x", 1, 1, "missing its endif"},
		{"stray endfor", "x{% endfor %}", 1, 2, "unexpected endfor tag"},
		{"else with arguments", "{% if a %}{% else if b %}{% endif %}", 1, 11, "else tag takes no arguments"},
		{"bad expression", "${{ 1 + }}", 1, 9, "unexpected end of expression"},
		{"bad character", "${{ a @ b }}", 1, 7, `unexpected character '@'`},
		{"repeated minus", "${{ --1 }}", 1, 6, "repeated unary -"},
		{"comment closer in text", "a #} b", 1, 3, "unexpected #}"},
		{"regex flag", "${{ r/x/q }}", 1, 5, "unsupported regular expression flag"},
		{"regex lookahead", "${{ r/a(?=b)/ }}", 1, 5, "invalid regular expression"},
		{"number suffix", "${{ 1a }}", 1, 5, "invalid number"},
		{"dict key", "${{ {1: 2} }}", 1, 6, "dictionary keys must be names or strings"},
		{"set literal", "{% set true = 1 %}", 1, 8, "cannot assign to true"},
		{"loop named loop", "{% for loop in x %}{% endfor %}", 1, 8, "cannot be named loop"},
		{"macro in set block", "{% set x %}{% macro m() %}{% endmacro %}{% endset %}", 1, 1, "macros cannot be declared inside a set block"},
		{"call without call", "{% call x %}{% endcall %}", 1, 1, "call block needs a macro call"},
		{"duplicate block", "{% block a %}{% endblock %}{% block a %}{% endblock %}", 1, 28, "block a is declared twice"},
		{"endblock name", "{% block a %}{% endblock b %}", 1, 14, "endblock name does not match"},
		{"switch content", "{% switch 1 %}x{% case 1 %}{% endswitch %}", 1, 15, "switch content must start with case"},
		{"raw arguments", "{% raw x %}{% endraw %}", 1, 1, "raw tag does not accept arguments"},
		{"missing endraw", "{% raw %}abc", 1, 1, "missing endraw tag"},
		{"position after multibyte", "é\nàé ${{ ) }}", 2, 8, `unexpected ")"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := nunjucks.Parse(tt.src, nil)
			var e *nunjucks.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v; want an *Error", tt.src, err)
			}
			if e.Line != tt.line || e.Col != tt.col || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("Parse(%q) = %d:%d %q; want %d:%d containing %q", tt.src, e.Line, e.Col, e.Msg, tt.line, tt.col, tt.msg)
			}
		})
	}
}

func TestTemplate_RenderErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line, col int
		msg       string
	}{
		{"unknown filter", "a\n${{ x | nope }}", 2, 9, `unknown filter "nope"`},
		{"unknown test", "${{ x is nope }}", 1, 10, `unknown test "nope"`},
		{"test arity", "${{ x is divisibleby }}", 1, 10, "takes 1 argument"},
		{"call a string", "${{ name() }}", 1, 5, "name is string and cannot be called"},
		{"print a macro", "{% macro m() %}{% endmacro %}${{ m }}", 1, 30, "callable values cannot be converted"},
		{"destructure null", "{% for a, b in [null] %}{% endfor %}", 1, 1, "cannot unpack null"},
		{"membership", "${{ 1 in 2 }}", 1, 5, "needs an array, record or string"},
		{"call block on a global", "{% call range(1) %}{% endcall %}", 1, 1, "not a macro"},
		{"dictsort input", "${{ [1] | dictsort }}", 1, 11, "dictsort needs a record"},
		{"zero slice step", "${{ [1][::0] }}", 1, 8, "slice step"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := MustParse(t, tt.src, nil).Render(map[string]any{"name": "n"})
			var e *nunjucks.Error
			if !errors.As(err, &e) {
				t.Fatalf("Render(%q) = %v; want an *Error", tt.src, err)
			}
			if e.Line != tt.line || e.Col != tt.col || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("Render(%q) = %d:%d %q; want %d:%d containing %q", tt.src, e.Line, e.Col, e.Msg, tt.line, tt.col, tt.msg)
			}
			if errors.Is(err, nunjucks.ErrLimit) {
				t.Errorf("Render(%q) error %v wraps ErrLimit", tt.src, err)
			}
		})
	}
}

func TestTemplate_Shape(t *testing.T) {
	tests := []struct {
		src              string
		single, onlyTags bool
	}{
		{"${{ parameters.name }}", true, false},
		{"${{ a }}{# note #}", true, false},
		{"{% filter upper %}x{% endfilter %}", true, false},
		{" ${{ a }}", false, false},
		{"${{ a }}\n", false, false},
		{"${{ a }}${{ b }}", false, false},
		{"text", false, false},
		{"", false, false},
		{"{% if a %}${{ a }}{% else %}[]{% endif %}", false, true},
		{"{% for x in xs %}${{ x }}{% endfor %}", false, true},
		{"{% set a = 1 %}", false, true},
		{"{% set a = 1 %}${{ a }}", false, false},
		{"{% raw %}${{ a }}{% endraw %}", false, false},
		{"{%- if a -%}\n  x\n{%- endif -%}", false, true},
	}
	for _, tt := range tests {
		tmpl := MustParse(t, tt.src, nil)
		if got := tmpl.SingleExpression(); got != tt.single {
			t.Errorf("%q SingleExpression() = %v; want %v", tt.src, got, tt.single)
		}
		if got := tmpl.OnlyTags(); got != tt.onlyTags {
			t.Errorf("%q OnlyTags() = %v; want %v", tt.src, got, tt.onlyTags)
		}
	}
}

func TestTemplate_Value(t *testing.T) {
	data := map[string]any{
		"parameters": map[string]any{
			"name":  "svc",
			"count": 3,
			"tags":  []any{"a", "b"},
			"owner": map[string]any{"kind": "Group", "name": "team"},
			"flag":  false,
			"none":  nil,
		},
	}
	tests := []struct {
		src     string
		want    any
		defined bool
	}{
		{"${{ parameters.name }}", "svc", true},
		{"${{ parameters.count + 1 }}", 4.0, true},
		{"${{ parameters.tags }}", []any{"a", "b"}, true},
		{"${{ parameters.owner }}", map[string]any{"kind": "Group", "name": "team"}, true},
		{"${{ parameters.flag }}", false, true},
		{"${{ parameters.none }}", nil, true},
		{"${{ parameters.missing }}", nil, false},
		{"${{ [1, parameters.missing, 'x' | safe] }}", []any{1.0, nil, "x"}, true},
		{"${{ {a: parameters.missing, b: r/x/g} }}", map[string]any{"b": "/x/g"}, true},
		{"${{ 0/0 }}", nil, true},
		{"name: ${{ parameters.name }}", "name: svc", true},
		{"{% if parameters.flag %}yes{% endif %}", "", true},
	}
	for _, tt := range tests {
		got, defined, err := MustParse(t, tt.src, nil).Value(data)
		if err != nil {
			t.Errorf("Value(%q): %v", tt.src, err)
			continue
		}
		if f, ok := got.(float64); ok && f != f {
			got = nil // NaN compares unequal to itself
		}
		if diff := cmp.Diff(tt.want, got); diff != "" || defined != tt.defined {
			t.Errorf("Value(%q) = %#v, %v; want %#v, %v", tt.src, got, defined, tt.want, tt.defined)
		}
	}
	if _, _, err := MustParse(t, "{% macro m() %}{% endmacro %}${{ [m] }}", nil).Value(nil); err == nil {
		t.Error("Value of a macro: no error")
	}
}

func TestOptions_Syntax(t *testing.T) {
	src := "{{ a }}|${{ a }}|{% if a %}t{% endif %}{# c #}"
	data := map[string]any{"a": "A"}
	if got, want := MustRender(t, src, nil, data), "{{ a }}|A|t"; got != want {
		t.Errorf("BackstageSyntax: got %q; want %q", got, want)
	}
	if got, want := MustRender(t, src, &nunjucks.Options{Syntax: nunjucks.NunjucksSyntax}, data), "A|$A|t"; got != want {
		t.Errorf("NunjucksSyntax: got %q; want %q", got, want)
	}
}

// parseRepoURL stands for the scaffolder's parseRepoUrl filter.
func parseRepoURL(input any, args []any, kwargs map[string]any) (any, error) {
	s, ok := input.(string)
	if !ok {
		return nil, fmt.Errorf("want a string, got %T", input)
	}
	host, rest, _ := strings.Cut(s, "?")
	return map[string]any{"host": host, "query": rest, "args": args, "kwargs": kwargs}, nil
}

func TestOptions_FiltersAndGlobals(t *testing.T) {
	errBoom := errors.New("boom")
	opts := &nunjucks.Options{
		Filters: map[string]nunjucks.Filter{
			"parseRepoUrl": parseRepoURL,
			"upper": func(input any, _ []any, _ map[string]any) (any, error) {
				return "custom", nil
			},
			"fails": func(any, []any, map[string]any) (any, error) { return nil, errBoom },
		},
		Globals: map[string]nunjucks.Function{
			"always": func(args []any, _ map[string]any) (any, error) { return true, nil },
			"echo": func(args []any, kwargs map[string]any) (any, error) {
				return []any{args, kwargs}, nil
			},
			"range": func([]any, map[string]any) (any, error) { return "mine", nil },
		},
	}
	tests := []struct{ src, want string }{
		{"${{ (url | parseRepoUrl).host }}", "github.com"},
		{"${{ url | parseRepoUrl(1, k='v') | dump }}", `{"args":[1],"host":"github.com","kwargs":{"k":"v"},"query":"owner=o"}`},
		{"${{ 'x' | upper }}", "custom"},
		{"${{ always() }}|${{ always is callable }}|${{ always === always }}", "true|true|true"},
		{"${{ echo(1, 'a', none, missing, x=[2]) | dump }}", `[[1,"a",null,null],{"x":[2]}]`},
		{"${{ range() }}", "mine"},
		{"{% set always = 1 %}${{ always }}", "1"},
	}
	data := map[string]any{"url": "github.com?owner=o"}
	for _, tt := range tests {
		if got := MustRender(t, tt.src, opts, data); got != tt.want {
			t.Errorf("%s: got %q; want %q", tt.src, got, tt.want)
		}
	}
	_, err := MustParse(t, "\n${{ 1 | fails }}", opts).Render(nil)
	var e *nunjucks.Error
	if !errors.Is(err, errBoom) || !errors.As(err, &e) || e.Line != 2 {
		t.Errorf("failing filter: %v; want an error at line 2 wrapping errBoom", err)
	}
	if _, err := MustParse(t, "{% macro m() %}{% endmacro %}${{ echo(m) }}", opts).Render(nil); err == nil {
		t.Error("passing a macro to a function: no error")
	}
}

func TestOptions_Cookiecutter(t *testing.T) {
	opts := &nunjucks.Options{Syntax: nunjucks.NunjucksSyntax, Cookiecutter: true}
	src := "{{ cookiecutter.tags | jsonify }}|{{ True }}|{{ False }}|{{ None is none }}|{{ None is null }}"
	data := map[string]any{"cookiecutter": map[string]any{"tags": []any{"a", 1}}}
	if got, want := MustRender(t, src, opts, data), `["a",1]|true|false|true|true`; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	if _, err := MustParse(t, "{{ 1 | jsonify }}", &nunjucks.Options{Syntax: nunjucks.NunjucksSyntax}).Render(nil); err == nil {
		t.Error("jsonify without Cookiecutter: no error")
	}
}

func TestTemplate_RenderData(t *testing.T) {
	data := map[string]any{
		"i": 42, "i64": int64(-7), "u8": uint8(9), "f32": float32(0.5), "num": json.Number("1e3"),
		"strs": []string{"x", "y"}, "maps": []map[string]any{{"k": 1}}, "ss": map[string]string{"b": "2", "a": "1"},
		"obj": map[string]any{"z": 1, "10": "ten", "a": 2, "2": "two"},
	}
	src := "${{ i }} ${{ i64 }} ${{ u8 }} ${{ f32 }} ${{ num }} ${{ strs | join }} ${{ maps[0].k }} ${{ ss | dump }} ${{ obj | dump }}"
	want := `42 -7 9 0.5 1000 xy 1 {"a":"1","b":"2"} {"2":"two","10":"ten","a":2,"z":1}`
	if got := MustRender(t, src, nil, data); got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	if _, err := MustParse(t, "${{ x }}", nil).Render(map[string]any{"x": struct{}{}}); err == nil {
		t.Error("struct in data: no error")
	}
}

func TestTemplate_LoneSurrogateOutput(t *testing.T) {
	got := MustRender(t, `${{ "😀"[0] }}|${{ "😀"[0] ~ "😀"[1] }}|${{ "😀x" | reverse }}`, nil, nil)
	if want := "\uFFFD|😀|x\uFFFD\uFFFD"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

// TestTemplate_Concurrent renders one template from several goroutines;
// run with -race.
func TestTemplate_Concurrent(t *testing.T) {
	tmpl := MustParse(t, "{% set c = cycler(1, 2) %}{% for i in range(50) %}${{ c.next() }}{% endfor %}${{ r | replace(r/a/g, 'b') }}", nil)
	want, err := tmpl.Render(map[string]any{"r": "aaa"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			got, err := tmpl.Render(map[string]any{"r": "aaa"})
			if err != nil || got != want {
				t.Errorf("concurrent render = %q, %v; want %q", got, err, want)
			}
		})
	}
	wg.Wait()
}
