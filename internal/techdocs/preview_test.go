package techdocs_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/techdocs"
)

// The preview serves the source, and when a file changes rebuilds it and
// tells each open page, over server-sent events, to reload; a source that
// stops building keeps the last good pages, with the error shown.
func TestPreview(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"mkdocs.yml": "site_name: Preview\n", "docs/index.md": "# Home\n\nFirst.\n", "docs/img/a.png": "PNG"})
	p := &techdocs.Preview{Dir: dir, Log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := p.Build(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	done := make(chan struct{})
	go func() { p.Watch(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(100 * time.Millisecond) // the watch is set

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/"); code != 200 || !strings.Contains(body, "First.") || !strings.Contains(body, `new EventSource("/__reload")`) {
		t.Fatalf("home: %d\n%s", code, body)
	}
	if code, body := get("/img/a.png"); code != 200 || body != "PNG" {
		t.Errorf("asset: %d %q", code, body)
	}

	events, err := http.Get(srv.URL + "/__reload")
	if err != nil {
		t.Fatal(err)
	}
	defer events.Body.Close()
	lines := bufio.NewReader(events.Body)
	awaitReload := func() {
		t.Helper()
		got := make(chan string, 1)
		go func() { line, _ := lines.ReadString('\n'); lines.ReadString('\n'); got <- line }()
		select {
		case line := <-got:
			if !strings.HasPrefix(line, "data: ") {
				t.Fatalf("reload event %q", line)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no reload event within 5 s of a save")
		}
	}
	write(t, dir, map[string]string{"docs/index.md": "# Home\n\nSecond.\n"})
	awaitReload()
	if _, body := get("/"); !strings.Contains(body, "Second.") {
		t.Errorf("after the save: %s", body)
	}
	write(t, dir, map[string]string{"mkdocs.yml": "site_name: [broken\n"})
	awaitReload()
	if _, body := get("/"); !strings.Contains(body, "Second.") || !strings.Contains(body, "The source does not build") {
		t.Errorf("after a broken save: %s", body)
	}
}
