package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
	cfg.Catalog.RefreshInterval = Duration(time.Hour)
	_, base := serve(t, cfg, filepath.Join(t.TempDir(), "greenroom.db"))

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser),
		chromedp.NoSandbox, chromedp.Flag("headless", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTime()

	// Named: GraphiQL sends a named subscription over its WebSocket, an
	// anonymous one over HTTP (multipart).
	const subscription = `subscription Changes { catalogChanged { operation ref changedFields } }`
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-query-editor .CodeMirror")),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(`+jsString(subscription)+`)`))
			return err
		}),
		chromedp.Sleep(500*time.Millisecond), // GraphiQL parses what the editor holds, a moment later
		chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
		chromedp.Sleep(time.Second), // the WebSocket opens and subscribes
	); err != nil {
		t.Fatalf("GraphiQL: %v", err)
	}
	// An editor's save.
	tmp := filepath.Join(dir, ".catalog-info.yaml.tmp")
	if err := os.WriteFile(tmp, []byte(component("in-graphiql", "second")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var shown string
	for time.Since(start) < 10*time.Second {
		var err error
		if shown, err = chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('.result-window') || document.body).innerText`)); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(shown, "component:default/in-graphiql") && strings.Contains(shown, "metadata.description") {
			t.Logf("GraphiQL showed the change %v after the save", time.Since(start).Round(time.Millisecond))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("GraphiQL's result pane after 10 s:\n%s", shown)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}
