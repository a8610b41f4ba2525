package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/settings"
)

// TestMain_SubscriptionReconnects makes 10,000 changes (ten refreshes of a
// thousand components) while a WebSocket client reads catalogChanged and
// drops its connection at random moments, each time resuming from the
// cursor of the last event it received, and checks on each database that
// it received every change exactly once and in order.
func TestMain_SubscriptionReconnects(t *testing.T) {
	eachDatabase(t, testSubscriptionReconnects)
}

func testSubscriptionReconnects(t *testing.T, dsn string) {
	const components, refreshes = 1000, 10
	dir := t.TempDir()
	file := filepath.Join(dir, "catalog-info.yaml")
	write := func(round int) {
		t.Helper()
		var b strings.Builder
		for i := range components {
			fmt.Fprintf(&b, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: c%d, description: \"round %d\"}\nspec: {type: service, lifecycle: production, owner: team}\n---\n", i, round)
		}
		tmp := file + ".tmp"
		if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
	}
	write(0)
	cfg := DefaultConfig()
	cfg.Locations = []string{file}
	cfg.Catalog.RefreshInterval = settings.Duration(time.Hour)
	cfg.Catalog.WatchFiles = false // the refreshes below are the only ones
	m, base := serve(t, cfg, dsn)
	loc := mustOnlyLocation(t, m)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// From the head: every change from here on.
	ws := dialLive(ctx, t, base, map[string]any{"after": headCursor(t, m)})
	refreshed := make(chan error, 1)
	go func() {
		for round := 1; round <= refreshes; round++ {
			write(round)
			if _, code := graphql(t, base, `mutation($id: ID!) { refreshLocation(id: $id) { stats { updated } } }`, map[string]any{"id": loc.ID}); code != "" {
				refreshed <- fmt.Errorf("refresh %d: %s", round, code)
				return
			}
		}
		refreshed <- nil
	}()

	var (
		got    []liveEvent
		drops  int
		last   int64 = -1
		rng          = rand.New(rand.NewPCG(1, 2))
		dropAt       = rng.IntN(2000) + 1
		inConn int
	)
	for len(got) < components*refreshes {
		ev := ws.next(ctx, t)
		pos, err := strconv.ParseInt(ev.Cursor, 10, 64)
		if err != nil || pos <= last {
			t.Fatalf("event %d: cursor %q after %d; want a larger one", len(got), ev.Cursor, last)
		}
		last = pos
		got = append(got, ev)
		inConn++
		if inConn == dropAt {
			ws.conn.CloseNow()
			drops++
			ws = dialLive(ctx, t, base, map[string]any{"after": ev.Cursor})
			inConn, dropAt = 0, rng.IntN(2000)+1
		}
	}
	if err := <-refreshed; err != nil {
		t.Fatal(err)
	}
	// Each round's thousand updates, in document order, each once.
	for i, ev := range got {
		round, c := i/components+1, i%components
		want := fmt.Sprintf("component:default/c%d", c)
		if ev.Operation != "UPDATED" || ev.Ref != want || strings.Join(ev.ChangedFields, ",") != "metadata.description" {
			t.Fatalf("event %d (after %d drops): %s %s %v; want UPDATED %s (round %d)", i, drops, ev.Operation, ev.Ref, ev.ChangedFields, want, round)
		}
	}
	t.Logf("%d events in order, each once, over %d connections", len(got), drops+1)
}
