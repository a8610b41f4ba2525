package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/changefeed"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// follow runs a feed over db and collects what it follows from position
// after until the test ends; the returned function waits until n events
// arrived, or fails after timeout.
func follow(t *testing.T, db *store.DB, after int64) (wait func(n int, timeout time.Duration) []catalog.Change) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	feed := changefeed.New(db, changefeed.Options{})
	var (
		mu   sync.Mutex
		got  []catalog.Change
		ferr error
		wg   sync.WaitGroup
	)
	wg.Add(2)
	go func() { defer wg.Done(); feed.Run(ctx) }()
	go func() {
		defer wg.Done()
		err := feed.Follow(ctx, after, func(cs []catalog.Change) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, cs...)
			return nil
		})
		mu.Lock()
		ferr = err
		mu.Unlock()
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return func(n int, timeout time.Duration) []catalog.Change {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for {
			mu.Lock()
			have, err := len(got), ferr
			mu.Unlock()
			if err != nil {
				t.Fatalf("follow: %v", err)
			}
			if have >= n || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// writerTx is one transaction of the concurrent writers: its positions,
// when it started appending and when its commit returned.
type writerTx struct {
	firstRef         string
	first            int64
	appendAt, doneAt time.Time
}

// TestChangeFeed_ConcurrentWriters is the feed's ordering guarantee: eight
// writers on PostgreSQL make 10,000 changes in overlapping transactions,
// each held open a moment after appending its events, while a consumer in
// another connection follows the feed from position 0. It must see each
// change exactly once, positions without gaps, and in commit order: a
// transaction whose commit returned before another began appending has the
// smaller positions. Three of every four transactions are the test
// writer's (store.WriteTestChanges, several events); the others are
// RegisterLocation, a real write (one event).
//
// With positions from a sequence the same test fails: tried once while
// this was written (nextval('trial_seq') for each event in appendChanges,
// no counter row, ReadChanges without its check of the head), the consumer
// saw 7,149 events of 10,000: the others committed after a larger position
// had been read.
func TestChangeFeed_ConcurrentWriters(t *testing.T) {
	db := storetest.MustOpenPostgres(t)
	const writers, perWriter = 8, 1250
	consumer := storetest.Reopen(t, db)
	wait := follow(t, consumer, 0)

	ctx := context.Background()
	var (
		mu  sync.Mutex
		txs []writerTx
		// want maps each change's ref to (writer, step).
		want = map[string][2]int{}
		wg   sync.WaitGroup
		errs = make(chan error, writers)
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for step := 0; step < perWriter; {
				var tx writerTx
				var refs []string
				tx.appendAt = time.Now()
				if rng.IntN(4) == 0 {
					loc, _, err := db.RegisterLocation(ctx, ingest.TypeURL, fmt.Sprintf("https://example.com/%d/%d.yaml", w, step), nil)
					if err != nil {
						errs <- err
						return
					}
					refs = []string{loc.ID}
				} else {
					n := min(1+rng.IntN(9), perWriter-step)
					changes := make([]catalog.Change, n)
					for i := range changes {
						ref := fmt.Sprintf("component:default/w%d-%d", w, step+i)
						changes[i] = catalog.EntityChange(catalog.ChangeCreated, ref, "", "etag", nil)
						refs = append(refs, ref)
					}
					hold := time.Duration(rng.IntN(1500)) * time.Microsecond
					if err := db.WriteTestChanges(ctx, "test:writer", changes, hold); err != nil {
						errs <- err
						return
					}
				}
				tx.doneAt, tx.firstRef = time.Now(), refs[0]
				mu.Lock()
				for i, ref := range refs {
					want[ref] = [2]int{w, step + i}
				}
				txs = append(txs, tx)
				mu.Unlock()
				step += len(refs)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	const total = writers * perWriter
	got := wait(total, 60*time.Second)
	if len(got) != total {
		t.Fatalf("consumer saw %d events; want %d", len(got), total)
	}
	seen := map[string]bool{}
	lastStep := make([]int, writers)
	for i := range lastStep {
		lastStep[i] = -1
	}
	pos := map[string]int64{}
	for i, c := range got {
		if c.Position != int64(i+1) {
			t.Fatalf("event %d has position %d; want %d (no gaps, no repeats)", i, c.Position, i+1)
		}
		if seen[c.Ref] {
			t.Fatalf("%s seen twice", c.Ref)
		}
		seen[c.Ref] = true
		ws, ok := want[c.Ref]
		if !ok {
			t.Fatalf("event %+v was not written", c)
		}
		if ws[1] <= lastStep[ws[0]] {
			t.Fatalf("writer %d: step %d after step %d", ws[0], ws[1], lastStep[ws[0]])
		}
		lastStep[ws[0]] = ws[1]
		pos[c.Ref] = c.Position
	}
	// Commit order: sweeping from the largest positions down, no
	// transaction with larger positions may have committed before this one
	// began appending.
	for i := range txs {
		txs[i].first = pos[txs[i].firstRef]
	}
	slices.SortFunc(txs, func(a, b writerTx) int { return int(b.first - a.first) })
	minDone := time.Now()
	for _, tx := range txs {
		if minDone.Before(tx.appendAt) {
			t.Fatalf("positions from %d were given to a transaction that began after one with larger positions committed", tx.first)
		}
		if tx.doneAt.Before(minDone) {
			minDone = tx.doneAt
		}
	}
}

// TestChangeFeed_Writes checks the events each kind of write appends, on
// both databases: a refresh that creates, updates, orphans and records
// errors, a location registered, a deleted orphan, a deleted location.
func TestChangeFeed_Writes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := portal.NewContextWithPrincipal(context.Background(),
			&portal.Principal{Kind: portal.PrincipalUser, Ref: "user:default/jane"})
		dir := t.TempDir()
		path := filepath.Join(dir, "catalog.yaml")
		write := func(s string) {
			t.Helper()
			if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		read := func(after int64) []catalog.Change {
			t.Helper()
			cs, err := db.ReadChanges(ctx, after, 0)
			if err != nil {
				t.Fatal(err)
			}
			return cs
		}
		type event struct {
			Op     catalog.ChangeOp
			Ref    string
			Kind   string
			Fields []string
			Actor  string
		}
		summary := func(cs []catalog.Change) []event {
			var out []event
			for _, c := range cs {
				out = append(out, event{c.Op, c.Ref, c.Kind, c.Fields, c.Actor})
			}
			return out
		}
		head := func() int64 {
			t.Helper()
			h, err := db.ChangeHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return h
		}

		write(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: svc}
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: gone}
spec: {type: service, lifecycle: production, owner: team-a}
`)
		loc, _, err := db.CreateLocation(ctx, ingest.TypeFile, path)
		if err != nil {
			t.Fatal(err)
		}
		lid := loc.ID
		locActor := catalog.ActorOfLocation(lid)
		if diff := cmp.Diff([]event{{catalog.ChangeLocationCreated, lid, "", nil, "user:default/jane"}}, summary(read(0))); diff != "" {
			t.Errorf("CreateLocation (-want +got):\n%s", diff)
		}
		eng := ingest.NewEngine(db, ingest.Options{})
		h := head()
		if _, err := eng.Refresh(ctx, loc); err != nil {
			t.Fatal(err)
		}
		created := read(h)
		gen := loc.EntityRef() // the Location entity that stands for the registration
		if diff := cmp.Diff([]event{
			{catalog.ChangeCreated, gen, "location", nil, locActor},
			{catalog.ChangeCreated, "component:default/svc", "component", nil, locActor},
			{catalog.ChangeCreated, "component:default/gone", "component", nil, locActor},
			{catalog.ChangeLocationRefreshed, lid, "", nil, locActor},
		}, summary(created)); diff != "" {
			t.Errorf("first refresh (-want +got):\n%s", diff)
		}
		if c := created[1]; c.Etag == "" || c.LocationID != lid || c.Namespace != "default" || c.At.IsZero() {
			t.Errorf("CREATED %+v; want an etag, the location, the namespace and a time", c)
		}

		// Nothing changed: nothing recorded.
		h = head()
		if _, err := eng.Refresh(ctx, loc); err != nil {
			t.Fatal(err)
		}
		if cs := read(h); len(cs) != 0 {
			t.Errorf("a refresh that changed nothing recorded %v", summary(cs))
		}

		// An update, an orphan, and an error on a new document.
		write(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: svc, title: Service}
spec: {type: service, lifecycle: experimental, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: broken}
spec: {type: service, lifecycle: production, owner: 7}
`)
		h = head()
		if _, err := eng.Refresh(ctx, loc); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]event{
			{catalog.ChangeUpdated, "component:default/svc", "component", []string{"metadata.title", "spec.lifecycle"}, locActor},
			{catalog.ChangeCreated, "component:default/broken", "component", nil, locActor},
			{catalog.ChangeOrphaned, "component:default/gone", "component", []string{"metadata.annotations.backstage.io/orphan"}, locActor},
			{catalog.ChangeError, "component:default/broken", "component", nil, locActor},
			{catalog.ChangeLocationRefreshed, lid, "", nil, locActor},
		}, summary(read(h))); diff != "" {
			t.Errorf("second refresh (-want +got):\n%s", diff)
		}

		h = head()
		if err := db.DeleteOrphan(ctx, "component:default/gone"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]event{{catalog.ChangeDeleted, "component:default/gone", "component", nil, "user:default/jane"}},
			summary(read(h))); diff != "" {
			t.Errorf("DeleteOrphan (-want +got):\n%s", diff)
		}

		h = head()
		if err := db.RecordRefreshFailure(ctx, loc, "it broke"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]event{{catalog.ChangeLocationFailed, lid, "", nil, locActor}}, summary(read(h))); diff != "" {
			t.Errorf("RecordRefreshFailure (-want +got):\n%s", diff)
		}

		h = head()
		if _, err := db.DeleteLocation(ctx, lid); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]event{
			{catalog.ChangeDeleted, "component:default/broken", "component", nil, "user:default/jane"},
			{catalog.ChangeDeleted, "component:default/svc", "component", nil, "user:default/jane"},
			{catalog.ChangeDeleted, gen, "location", nil, "user:default/jane"},
			{catalog.ChangeLocationDeleted, lid, "", nil, "user:default/jane"},
		}, summary(read(h))); diff != "" {
			t.Errorf("DeleteLocation (-want +got):\n%s", diff)
		}

		// Positions run from 1 without gaps.
		all := read(0)
		for i, c := range all {
			if c.Position != int64(i+1) {
				t.Fatalf("event %d has position %d", i, c.Position)
			}
		}
		if _, err := db.ReadChanges(ctx, head()+1, 0); portal.ErrorCode(err) != portal.EINVALID {
			t.Errorf("reading after a position beyond the head: %v; want INVALID", err)
		}
	})
}

// TestChangeFeed_Retention checks that pruned positions are refused with
// EXPIRED, telling the reader to resync, and that later ones still read.
func TestChangeFeed_Retention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for i := range 3 {
			if _, _, err := db.RegisterLocation(ctx, ingest.TypeURL, fmt.Sprintf("https://example.com/%d.yaml", i), nil); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(20 * time.Millisecond)
		feed := changefeed.New(db, changefeed.Options{Retention: 10 * time.Millisecond})
		pruned, err := feed.Prune(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pruned != 3 {
			t.Errorf("pruned through %d; want 3", pruned)
		}
		if _, _, err := db.RegisterLocation(ctx, ingest.TypeURL, "https://example.com/new.yaml", nil); err != nil {
			t.Fatal(err)
		}
		_, err = feed.Read(ctx, 0, 0)
		if portal.ErrorCode(err) != portal.EEXPIRED {
			t.Fatalf("reading from 0 after pruning: %v; want EXPIRED", err)
		}
		if msg := portal.ErrorMessage(err); msg != "change feed position 0 is older than the feed keeps (events up to 3 were pruned): read the catalog again and follow from position 4" {
			t.Errorf("message %q", msg)
		}
		err = feed.Follow(ctx, 2, func([]catalog.Change) error { return nil })
		if portal.ErrorCode(err) != portal.EEXPIRED {
			t.Errorf("following from 2 after pruning: %v; want EXPIRED", err)
		}
		cs, err := feed.Read(ctx, 3, 0)
		if err != nil || len(cs) != 1 || cs[0].Position != 4 {
			t.Errorf("reading from 3: %v, %v; want position 4", cs, err)
		}
	})
}
