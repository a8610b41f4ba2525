package changefeed_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/catalog"
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

// countingStore is the real store, counting its reads of the feed.
type countingStore struct {
	*store.DB
	reads atomic.Int64
}

func (s *countingStore) ReadChanges(ctx context.Context, after int64, limit int) ([]catalog.Change, error) {
	s.reads.Add(1)
	return s.DB.ReadChanges(ctx, after, limit)
}

// TestFeed_SharedReads follows the feed with many readers at once and
// checks that each commit costs a statement or so, not one per reader,
// that every reader still gets every event once and in order, and that a
// reader far behind reads the database as before.
func TestFeed_SharedReads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cs := &countingStore{DB: db}
		feed := changefeed.New(cs, changefeed.Options{})
		done := make(chan struct{})
		go func() { defer close(done); feed.Run(ctx) }()
		defer func() { cancel(); <-done }()

		const readers, writes = 200, 10
		start, err := feed.Latest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		got := make([][]int64, readers)
		for i := range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				feed.Follow(ctx, start, func(cs []catalog.Change) error {
					for _, c := range cs {
						got[i] = append(got[i], c.Position)
					}
					if len(got[i]) == writes {
						return errDone
					}
					return nil
				})
			}()
		}
		time.Sleep(200 * time.Millisecond) // every reader waits
		before := cs.reads.Load()
		for i := range writes {
			if _, _, err := db.RegisterLocation(ctx, "url", fmt.Sprintf("https://example.com/shared-%d.yaml", i), nil); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		wg.Wait()
		want := make([]int64, writes)
		for i := range want {
			want[i] = start + int64(i) + 1
		}
		for i := range readers {
			if !slices.Equal(got[i], want) {
				t.Fatalf("reader %d got %v; want %v", i, got[i], want)
			}
		}
		if n := cs.reads.Load() - before; n > 4*writes {
			t.Errorf("%d readers following %d commits read the database %d times; want a few per commit", readers, writes, n)
		}
		// A reader from the start reads the database, whatever the window.
		all, err := feed.Read(ctx, 0, 0)
		if err != nil || len(all) < writes {
			t.Errorf("reading from 0: %d events, %v", len(all), err)
		}
	})
}

var errDone = errors.New("done")
