package nunjucks_test

import (
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/nunjucks"
)

// renderCorpus parses and renders every compatibility case once.
func renderCorpus(tb testing.TB, cases []compatCase) {
	for _, c := range cases {
		tmpl, err := nunjucks.Parse(c.Template, compatOptions)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := tmpl.Render(c.Context); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkCompat measures parsing and rendering all 157 cases.
func BenchmarkCompat(b *testing.B) {
	cases := loadCompatCases(b)
	for b.Loop() {
		renderCorpus(b, cases)
	}
}

// TestCompatSpeed keeps the corpus well under the 50 ms budget; the bound
// is loose so that a busy CI machine does not fail it.
func TestCompatSpeed(t *testing.T) {
	cases := loadCompatCases(t)
	renderCorpus(t, cases) // warm up
	start := time.Now()
	renderCorpus(t, cases)
	if d := time.Since(start); d > 500*time.Millisecond*slowdown {
		t.Errorf("157 cases took %v; want well under 50ms", d)
	}
}
