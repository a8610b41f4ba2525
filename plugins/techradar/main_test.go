package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/plugins/techradar/radar"
)

// TestServe serves the example radar at Backstage's endpoint over a real
// HTTP server, and keeps the last good radar when the file breaks.
func TestServe(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "techradar", "radar.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "radar.yaml")
	write := func(data string, at time.Time) {
		t.Helper()
		if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(file, at, at)
	}
	write(string(example), time.Now().Add(-time.Hour))
	src := &source{path: file, log: slog.New(slog.DiscardHandler)}
	if err := src.load(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(src.handler())
	defer srv.Close()
	get := func() radar.Radar {
		t.Helper()
		src.mu.Lock()
		src.looked = time.Time{} // look at the file now
		src.mu.Unlock()
		resp, err := http.Get(srv.URL + "/api/tech-radar/data")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var r radar.Radar
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" || json.Unmarshal(body, &r) != nil {
			t.Fatalf("status %d, %s", resp.StatusCode, body)
		}
		return r
	}
	r := get()
	if len(r.Quadrants) != 4 || len(r.Rings) != 4 || len(r.Entries) != 8 {
		t.Fatalf("radar: %d quadrants, %d rings, %d entries", len(r.Quadrants), len(r.Rings), len(r.Entries))
	}
	if g := r.Entries[0]; g.ID != "go" || g.Timeline[0].RingID != "adopt" || g.Timeline[0].Moved != 1 {
		t.Errorf("go: %+v", g)
	}

	write(strings.Replace(string(example), "quadrant: data", "quadrant: databases", 1), time.Now().Add(-30*time.Minute))
	if r := get(); len(r.Entries) != 8 || r.Entries[5].Quadrant != "data" {
		t.Errorf("after a bad edit: %+v", r.Entries[5])
	}
	write(strings.Replace(string(example), "title: Kotlin", "title: Kotlin (JVM)", 1), time.Now())
	if r := get(); r.Entries[1].Title != "Kotlin (JVM)" {
		t.Errorf("after a good edit: %+v", r.Entries[1])
	}
}

func TestRun_BadRadar(t *testing.T) {
	file := filepath.Join(t.TempDir(), "radar.csv")
	os.WriteFile(file, []byte("title,ring\n"), 0o644)
	err := run(t.Context(), []string{"--radar", file, "--listen", "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), `radar.csv: line 1: no "quadrant" column`) {
		t.Errorf("run with a bad radar: %v", err)
	}
	if err := run(t.Context(), nil); err == nil || !strings.Contains(err.Error(), "--radar FILE is needed") {
		t.Errorf("run without a radar: %v", err)
	}
}
