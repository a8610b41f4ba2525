package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/settings"
)

// component is a descriptor of one Component.
func component(name, description string) string {
	return fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: %s
  description: %s
spec:
  type: service
  lifecycle: production
  owner: team-a
`, name, description)
}

// TestMain_WatchFiles serves a glob location with an hour's refresh
// interval, so that only the file watcher can refresh it in time, and
// checks on each database that a subscribed client receives, within a
// few seconds each: an edited file's change with its changed fields, the
// entity of a new file in a new directory under the glob, and the orphan
// of a removed file.
func TestMain_WatchFiles(t *testing.T) {
	eachDatabase(t, testWatchFiles)
}

func testWatchFiles(t *testing.T, dsn string) {
	dir := t.TempDir()
	put := func(rel, content string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		// As editors save: a new file renamed over the old one.
		tmp := filepath.Join(filepath.Dir(p), ".tmp-"+filepath.Base(p))
		if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
	}
	put("a/catalog-info.yaml", component("watched-a", "first"))
	put("b/catalog-info.yaml", component("watched-b", "first"))
	cfg := DefaultConfig()
	cfg.Locations = []string{filepath.Join(dir, "**", "catalog-info.yaml")}
	cfg.Catalog.RefreshInterval = settings.Duration(time.Hour)
	m, base := serve(t, cfg, dsn)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ws := dialLive(ctx, t, base, map[string]any{"after": headCursor(t, m), "filter": map[string]any{"kind": []string{"component"}}})
	// within waits for the next event and says how long it took.
	within := func(what string, start time.Time) liveEvent {
		t.Helper()
		ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		ev := ws.next(ectx, t)
		t.Logf("%s: event after %v", what, time.Since(start).Round(time.Millisecond))
		return ev
	}

	start := time.Now()
	put("a/catalog-info.yaml", component("watched-a", "second"))
	if ev := within("edited", start); ev.Operation != "UPDATED" || ev.Ref != "component:default/watched-a" ||
		strings.Join(ev.ChangedFields, ",") != "metadata.description" || ev.Entity == nil || ev.Entity.Description != "second" {
		t.Errorf("edited file: %+v; want watched-a UPDATED in metadata.description", ev)
	}

	start = time.Now()
	put("c/d/catalog-info.yaml", component("watched-c", "new"))
	if ev := within("new file in a new directory", start); ev.Operation != "CREATED" || ev.Ref != "component:default/watched-c" {
		t.Errorf("new file: %+v; want watched-c CREATED", ev)
	}
	// Files in the new directory are watched from then on.
	time.Sleep(200 * time.Millisecond)
	start = time.Now()
	put("c/d/catalog-info.yaml", component("watched-c", "changed"))
	if ev := within("file in the new directory edited", start); ev.Operation != "UPDATED" || ev.Entity == nil || ev.Entity.Description != "changed" {
		t.Errorf("new file edited: %+v; want watched-c UPDATED", ev)
	}

	start = time.Now()
	if err := os.Remove(filepath.Join(dir, "b", "catalog-info.yaml")); err != nil {
		t.Fatal(err)
	}
	if ev := within("removed", start); ev.Operation != "ORPHANED" || ev.Ref != "component:default/watched-b" {
		t.Errorf("removed file: %+v; want watched-b ORPHANED", ev)
	}

}
