package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// TestDB_Stats checks what the metrics read: processing errors by
// location, the read cache's hits and misses, the pools.
func TestDB_Stats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		good := filepath.Join(dir, "good.yaml")
		broken := filepath.Join(dir, "broken.yaml")
		os.WriteFile(good, []byte(fmt.Sprintf(cacheCatalog, "Good")), 0o644)
		os.WriteFile(broken, []byte("kind: [unclosed\n"), 0o644)
		eng := ingest.NewEngine(db, ingest.Options{})
		ids := map[string]string{}
		for name, path := range map[string]string{"good": good, "broken": broken} {
			loc, _, err := db.CreateLocation(ctx, ingest.TypeFile, path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := eng.Refresh(ctx, loc); err != nil {
				t.Fatal(err)
			}
			ids[loc.ID] = name
		}

		counts, err := db.LocationErrorCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, c := range counts {
			got[ids[c.Location.ID]] = c.Errors
			if c.Location.Type != ingest.TypeFile || c.Location.Target == "" {
				t.Errorf("location %+v; want its type and target", c.Location)
			}
		}
		if len(got) != 2 || got["good"] != 0 || got["broken"] < 1 {
			t.Errorf("processing errors by location %v; want none on good, some on broken", got)
		}

		hits, misses := db.CacheStats()
		refs := []string{"component:default/svc"}
		for range 2 {
			if _, err := db.EntitiesByRefs(ctx, refs); err != nil {
				t.Fatal(err)
			}
		}
		hits2, misses2 := db.CacheStats()
		if hits2-hits != 1 || misses2-misses != 1 {
			t.Errorf("two reads of one entity: %d hits, %d misses; want 1 and 1", hits2-hits, misses2-misses)
		}

		pools := db.PoolStats()
		want := 1
		if db.Dialect() == store.SQLite {
			want = 2
			if pools["writer"].MaxOpenConnections != 1 {
				t.Errorf("SQLite writer pool %+v; want one connection", pools["writer"])
			}
		}
		if len(pools) != want || pools["writer"].MaxOpenConnections < 1 {
			t.Errorf("pools %v; want %d", pools, want)
		}
	})
}
