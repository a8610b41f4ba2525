//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mustMkfifo makes a named pipe nothing writes to: opening it to read
// blocks for ever.
func mustMkfifo(tb testing.TB, dir, name string) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// within runs fn and fails the test, instead of hanging it, if fn does not
// return in time.
func within(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s still running after %s", what, d)
	}
}

// TestMain_ServeFIFO checks that a named pipe configured as a location
// neither stalls the first ingestion pass nor the locations after it, nor
// shutdown: the server turns ready, serves the other location's entities,
// shows a READ error on the pipe's location, and closes promptly.
func TestMain_ServeFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := mustMkfifo(t, dir, "piped.yaml")
	good := mustWrite(t, dir, "good.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n")
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Database = filepath.Join(t.TempDir(), "greenroom.db")
	cfg.Locations = []string{fifo, good}
	m := &Main{Config: cfg}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			go m.Close() // do not hang the test binary on a failure
		}
	}()
	base := "http://" + m.Addr()
	waitReady(t, base)

	body := strings.NewReader(`{"query":"{ entity(ref: \"group:team-a\") { ref } locations { target errors { code message } } }"}`)
	resp, err := http.Post(base+"/graphql", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Data struct {
			Entity    *struct{ Ref string }
			Locations []struct {
				Target string
				Errors []struct{ Code, Message string }
			}
		}
		Errors []any
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got.Errors) > 0 || got.Data.Entity == nil {
		t.Errorf("got %+v; want group:default/team-a", got)
	}
	found := false
	for _, l := range got.Data.Locations {
		if l.Target != fifo {
			continue
		}
		found = true
		if len(l.Errors) != 1 || l.Errors[0].Code != "READ" || !strings.Contains(l.Errors[0].Message, "named pipe") {
			t.Errorf("errors of the pipe's location = %+v; want one READ error naming the pipe", l.Errors)
		}
	}
	if !found {
		t.Errorf("no location %s in %+v", fifo, got.Data.Locations)
	}
	within(t, 10*time.Second, "Close", func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	closed = true
}

// TestRun_ValidateFIFO checks that greenroom validate refuses a named pipe
// at once instead of waiting for a writer.
func TestRun_ValidateFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := mustMkfifo(t, dir, "catalog-info.yaml")
	var out, errOut bytes.Buffer
	code := -1
	within(t, 10*time.Second, "greenroom validate", func() {
		code = run(context.Background(), []string{"validate", fifo}, env(nil), &out, &errOut)
	})
	if code != 1 || !strings.Contains(out.String(), "named pipe") {
		t.Errorf("exit %d, output %q %q; want 1 and an error naming the pipe", code, out.String(), errOut.String())
	}
}
