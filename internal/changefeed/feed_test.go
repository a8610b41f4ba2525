package changefeed_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/changefeed"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// run starts a feed over db until the test ends.
func run(t *testing.T, db *store.DB) *changefeed.Feed {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	feed := changefeed.New(db, changefeed.Options{})
	done := make(chan struct{})
	go func() { defer close(done); feed.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return feed
}

// TestFeed_Wake checks how fast a commit wakes a reader: in the writing
// process before the write returns (the in-process broadcast), and in
// another (a second store.DB on the same database, with connections of
// its own) through NOTIFY on PostgreSQL and the 100 ms poll on SQLite.
func TestFeed_Wake(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		local := run(t, db)
		remote := run(t, storetest.Reopen(t, db))
		// Both feeds listen once a first write has reached them.
		if _, _, err := db.RegisterLocation(ctx, "url", "https://example.com/warm.yaml", nil); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := remote.Wait(wctx, 0); err != nil {
			t.Fatalf("the other process's feed did not wake within 5 s: %v", err)
		}

		var lat []time.Duration
		for i := range 20 {
			before := local.Head()
			start := time.Now()
			if _, _, err := db.RegisterLocation(ctx, "url", fmt.Sprintf("https://example.com/%d.yaml", i), nil); err != nil {
				t.Fatal(err)
			}
			if got := local.Head(); got != before+1 {
				t.Fatalf("the writing process's feed has head %d when the write returns; want %d", got, before+1)
			}
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := remote.Wait(wctx, before)
			cancel()
			if err != nil {
				t.Fatalf("write %d did not wake the other process within 5 s", i)
			}
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		t.Logf("%s: write → other process woken: p50 %v, max %v", db.Dialect(), lat[len(lat)/2], lat[len(lat)-1])
		// Generous bounds for a shared machine; the bench measures.
		limit := time.Second
		if lat[len(lat)/2] > limit {
			t.Errorf("median wake-up %v; want under %v", lat[len(lat)/2], limit)
		}
	})
}
