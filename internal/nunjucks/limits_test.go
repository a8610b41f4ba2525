package nunjucks_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/nunjucks"
)

// TestLimits feeds hostile templates that would take unbounded time or
// memory: each must fail quickly with an error wrapping ErrLimit.
func TestLimits(t *testing.T) {
	deepData := map[string]any{}
	cur := deepData
	for range 1000 {
		next := map[string]any{}
		cur["x"] = next
		cur = next
	}
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	big := map[string]any{"a": strings.Repeat("x", 1<<20), "b": strings.Repeat("x", 1<<20)}

	tests := []struct {
		name string
		src  string
		data map[string]any
		lim  nunjucks.Limits
	}{
		{"source size", strings.Repeat("a", nunjucks.DefaultMaxSourceBytes+1), nil, nunjucks.Limits{}},
		{"deep recursion", "{% macro f(n) %}${{ f(n + 1) }}{% endmacro %}${{ f(0) }}", nil, nunjucks.Limits{}},
		{"mutual recursion through caller", "{% macro w() %}{% call w() %}x{% endcall %}{% endmacro %}${{ w() }}", nil, nunjucks.Limits{}},
		{"huge range", "{% for i in range(1000000000) %}{% endfor %}", nil, nunjucks.Limits{}},
		{"huge range literal", "${{ range(1000000000) | length }}", nil, nunjucks.Limits{}},
		{"nested loops", "{% for a in range(2000) %}{% for b in range(2000) %}{% endfor %}{% endfor %}", nil, nunjucks.Limits{}},
		{"center width", `${{ "x" | center(1000000000) }}`, nil, nunjucks.Limits{}},
		{"center infinite width", `${{ "x" | center(1/0) }}`, nil, nunjucks.Limits{}},
		{"indent width", `${{ "a\nb" | indent(1000000000) }}`, nil, nunjucks.Limits{}},
		{"batch fill", `${{ [1] | batch(1000000000, "x") | length }}`, nil, nunjucks.Limits{}},
		{"array-like record length", `${{ {length: 1000000000} | batch(2) | length }}`, nil, nunjucks.Limits{}},
		{"record loop length", `{% for x in {length: 1000000000} %}{% endfor %}`, nil, nunjucks.Limits{}},
		{"slice over a huge length", `${{ {length: 1000000000}[0:1000000000] | length }}`, nil, nunjucks.Limits{}},
		{"slice count", `${{ [1] | slice(1000000000) | length }}`, nil, nunjucks.Limits{}},
		{"string doubling", `{% set s = "xxxxxxxx" %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}${{ s | length }}`, nil, nunjucks.Limits{}},
		{"quadratic append", `{% set s = "" %}{% for i in range(200000) %}{% set s = s ~ "0123456789" %}{% endfor %}`, nil, nunjucks.Limits{}},
		{"replace growth", `{% set s = "ab" %}{% for i in range(40) %}{% set s = s | replace("", s) %}{% endfor %}`, nil, nunjucks.Limits{}},
		{"long output", `{% for i in range(100000) %}0123456789{% endfor %}`, nil, nunjucks.Limits{MaxOutputBytes: 1 << 16}},
		{"deep parentheses", "${{ " + strings.Repeat("(", 10000) + "1" + strings.Repeat(")", 10000) + " }}", nil, nunjucks.Limits{}},
		{"deep brackets", "${{ " + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + " }}", nil, nunjucks.Limits{}},
		{"deep records", "${{ " + strings.Repeat("{a:", 10000) + "1" + strings.Repeat("}", 10000) + " }}", nil, nunjucks.Limits{}},
		{"long operator chain", "${{ 1" + strings.Repeat(" + 1", 100000) + " }}", nil, nunjucks.Limits{}},
		{"long filter chain", "${{ 1" + strings.Repeat(" | abs", 100000) + " }}", nil, nunjucks.Limits{}},
		{"long not chain", "${{ " + strings.Repeat("not ", 100000) + "1 }}", nil, nunjucks.Limits{}},
		{"deep tags", strings.Repeat("{% if true %}", 10000) + strings.Repeat("{% endif %}", 10000), nil, nunjucks.Limits{}},
		{"long elif chain", "{% if false %}" + strings.Repeat("{% elif false %}", 10000) + "{% endif %}", nil, nunjucks.Limits{}},
		{"loop body expansion", strings.Repeat("{% for a, b in x %}", 40) + "y" + strings.Repeat("{% endfor %}", 40), nil, nunjucks.Limits{MaxDepth: 100}},
		{"deep data", "${{ 1 }}", deepData, nunjucks.Limits{}},
		{"cyclic data", "${{ 1 }}", cyclic, nunjucks.Limits{}},
		{"deep value built in a loop", `{% set a = [] %}{% for i in range(1000) %}{% set a = [a] %}{% endfor %}${{ a | dump }}`, nil, nunjucks.Limits{}},
		{"comparing long strings", `{% for i in range(100000) %}{% if a == b %}{% endif %}{% endfor %}`, big, nunjucks.Limits{}},
		{"filtering long strings", `{% for i in range(100000) %}{% set c = a | upper %}{% endfor %}`, big, nunjucks.Limits{}},
		{"searching long strings", `{% for i in range(100000) %}{% if "y" in a %}{% endif %}{% endfor %}`, big, nunjucks.Limits{}},
		{"sort work", `${{ range(100000) | sort | length }}`, nil, nunjucks.Limits{MaxSteps: 100000}},
		{"steps", `{% for i in range(10) %}${{ i }}{% endfor %}`, nil, nunjucks.Limits{MaxSteps: 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			tmpl, err := nunjucks.Parse(tt.src, &nunjucks.Options{Limits: tt.lim})
			if err == nil {
				_, err = tmpl.Render(tt.data)
			}
			if !errors.Is(err, nunjucks.ErrLimit) {
				t.Errorf("error %v; want one wrapping ErrLimit", err)
			}
			if d := time.Since(start); d > 2*time.Second*slowdown {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestLimits_Generous checks that the defaults leave room for ordinary
// large templates.
func TestLimits_Generous(t *testing.T) {
	src := `{% for i in range(10000) %}{% if i is even %}${{ i }},{% endif %}{% endfor %}${{ range(50000) | join(",") | length }}`
	MustRender(t, src, nil, nil)
	nested := strings.Repeat("{% if true %}", 150) + "x" + strings.Repeat("{% endif %}", 150)
	if got := MustRender(t, nested, nil, nil); got != "x" {
		t.Errorf("nested ifs rendered %q", got)
	}
}
