package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/greenroomhq/greenroom/internal/settings"
)

// chromium returns the path of a Chromium or Chrome, or "" when there is
// none (.ci/run installs one).
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestMain_GraphiQLSubscription does what the live-catalog issue asks of a
// user: in GraphiQL, in a real (headless) browser, run a catalogChanged
// subscription, then edit a file of a watched location, and see the
// change in GraphiQL's result pane within a few seconds. SQLite only: what
// it checks is GraphiQL's wiring, the same on either database, which the
// other subscription tests cover.
func TestMain_GraphiQLSubscription(t *testing.T) {
	browser := chromium()
	if browser == "" {
		t.Skip("no chromium on PATH: the GraphiQL browser test is SKIPPED (apt-get install chromium)")
	}
	dir := t.TempDir()
	file := mustWrite(t, dir, "catalog-info.yaml", component("in-graphiql", "first"))
	cfg := DefaultConfig()
	cfg.Locations = []string{file}
	cfg.Catalog.RefreshInterval = settings.Duration(time.Hour)
	_, base := serve(t, cfg, filepath.Join(t.TempDir(), "greenroom.db"))

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser),
		chromedp.NoSandbox, chromedp.Flag("headless", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTime()

	// Named and anonymous, two saves each: a subscription that went over
	// HTTP instead of the WebSocket would end after its first event.
	saves := 0
	save := func() string {
		saves++
		description := fmt.Sprintf("save-%d", saves)
		tmp := filepath.Join(dir, ".catalog-info.yaml.tmp") // as editors save
		if err := os.WriteFile(tmp, []byte(component("in-graphiql", description)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
		return description
	}
	for _, sub := range []string{
		`subscription Changes { catalogChanged { operation ref entity { description } } }`,
		`subscription { catalogChanged { operation ref entity { description } } }`,
	} {
		if err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(chromedp.CSS(".graphiql-query-editor .CodeMirror")),
			chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(`+jsString(sub)+`)`))
				return err
			}),
			chromedp.Sleep(500*time.Millisecond), // GraphiQL parses what the editor holds, a moment later
			chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
			chromedp.Sleep(time.Second), // the WebSocket opens and subscribes
		); err != nil {
			t.Fatalf("GraphiQL: %v", err)
		}
		for range 2 {
			description := save()
			start := time.Now()
			var shown string
			for !strings.Contains(shown, description) {
				if time.Since(start) > 10*time.Second {
					t.Fatalf("%s: GraphiQL's result pane 10 s after a save described %s:\n%s", sub, description, shown)
				}
				time.Sleep(50 * time.Millisecond)
				var err error
				if shown, err = chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('.result-window') || document.body).innerText`)); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("%s: GraphiQL showed %s %v after the save", sub, description, time.Since(start).Round(time.Millisecond))
		}
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}
