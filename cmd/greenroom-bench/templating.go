package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/greenroomhq/greenroom/internal/nunjucks"
)

// templatingRounds is how many times the corpus is rendered; the median
// round is reported.
const templatingRounds = 50

// templatingTarget is the software-templates issue's: the 157 cases of the
// compatibility corpus parsed and rendered in under 50 ms in all.
const templatingTarget = 50 * time.Millisecond

// templatingResult is the corpus's rendering time.
type templatingResult struct {
	cases         int
	median, worst time.Duration
	failure       string
}

// templating parses and renders every case of the Nunjucks compatibility
// corpus, checking each output, templatingRounds times in this process.
func (b *bench) templating() templatingResult {
	data, err := os.ReadFile(filepath.Join(b.root, "internal", "nunjucks", "testdata", "compat", "cases.json"))
	if err != nil {
		return templatingResult{failure: err.Error()}
	}
	var corpus struct {
		Cases []struct {
			ID, Template, Expected string
			Context                map[string]any
		}
	}
	if err := json.Unmarshal(data, &corpus); err != nil {
		return templatingResult{failure: err.Error()}
	}
	opts := &nunjucks.Options{Syntax: nunjucks.NunjucksSyntax}
	rounds := make([]time.Duration, templatingRounds)
	for r := range rounds {
		start := time.Now()
		for _, c := range corpus.Cases {
			t, err := nunjucks.Parse(c.Template, opts)
			if err != nil {
				return templatingResult{failure: fmt.Sprintf("%s: %v", c.ID, err)}
			}
			got, err := t.Render(c.Context)
			if err != nil || got != c.Expected {
				return templatingResult{failure: fmt.Sprintf("%s: rendered %q, %v; want %q", c.ID, got, err, c.Expected)}
			}
		}
		rounds[r] = time.Since(start)
	}
	slices.Sort(rounds)
	return templatingResult{cases: len(corpus.Cases), median: rounds[len(rounds)/2], worst: rounds[len(rounds)-1]}
}

// reportTemplating prints the corpus's time; it reports whether it failed
// and whether it missed its target.
func reportTemplating(r templatingResult) (failed, missed bool) {
	fmt.Println("\n# templating: the Nunjucks compatibility corpus, parsed and rendered")
	if r.failure != "" {
		fmt.Println("FAILED:", r.failure)
		return true, false
	}
	ok := r.median < templatingTarget
	fmt.Printf("%d cases in %s (median of %d rounds, worst %s)  %s\n", r.cases, ms(r.median), templatingRounds, ms(r.worst),
		verdict(ok, "< "+ms(templatingTarget), &missed))
	return false, missed
}
