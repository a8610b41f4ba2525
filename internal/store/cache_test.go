package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

const cacheCatalog = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: svc, title: %s}
spec: {type: service, lifecycle: production, owner: team-a, dependsOn: [component:other]}
`

// TestDB_ReadCache checks that entities and relations read once are served
// from memory, and that every write, in this process or another, is seen.
func TestDB_ReadCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "catalog.yaml")
		write := func(title string) {
			t.Helper()
			if err := os.WriteFile(path, []byte(fmt.Sprintf(cacheCatalog, title)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("First")
		loc, _, err := db.CreateLocation(ctx, ingest.TypeFile, path)
		if err != nil {
			t.Fatal(err)
		}
		eng := ingest.NewEngine(db, ingest.Options{})
		if _, err := eng.Refresh(ctx, loc); err != nil {
			t.Fatal(err)
		}
		refs := []string{"component:default/svc", "group:default/team-a", "component:default/other"}
		title := func(d *store.DB) string {
			t.Helper()
			recs, err := d.EntitiesByRefs(ctx, refs)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.Ref == "component:default/svc" {
					return r.Title
				}
			}
			t.Fatalf("svc not found among %d records", len(recs))
			return ""
		}

		// A second read of the same entities and relations runs no statement.
		if got := title(db); got != "First" {
			t.Fatalf("title %q; want First", got)
		}
		if _, err := db.RelationsBySources(ctx, refs, nil); err != nil {
			t.Fatal(err)
		}
		before := db.ReadStatements()
		if got := title(db); got != "First" {
			t.Fatalf("cached title %q; want First", got)
		}
		rows, err := db.RelationsBySources(ctx, refs[:1], []string{catalog.RelationOwnedBy})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Target != "group:default/team-a" {
			t.Errorf("cached ownedBy rows %v", rows)
		}
		if n := db.ReadStatements() - before; n != 0 {
			t.Errorf("warm reads ran %d statements; want 0", n)
		}

		// A refresh in this process is seen at once.
		write("Second")
		if _, err := eng.Refresh(ctx, loc); err != nil {
			t.Fatal(err)
		}
		if got := title(db); got != "Second" {
			t.Errorf("after a refresh: title %q; want Second", got)
		}

		// A write by another process (another connection to the same
		// database) is seen within the version check interval.
		other := storetest.Reopen(t, db)
		write("Third")
		if _, err := ingest.NewEngine(other, ingest.Options{}).Refresh(ctx, loc); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for title(db) != "Third" {
			if time.Now().After(deadline) {
				t.Fatalf("another process's write not seen after 5 s: title %q", title(db))
			}
			time.Sleep(20 * time.Millisecond)
		}

		// An entity missing when first asked for appears when it is added.
		if err := os.WriteFile(path, []byte(fmt.Sprintf(cacheCatalog, "Third")+`---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: other}
spec: {type: service, lifecycle: production, owner: team-a}
`), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Refresh(ctx, loc); err != nil {
			t.Fatal(err)
		}
		recs, err := db.EntitiesByRefs(ctx, refs[2:])
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 {
			t.Errorf("component:default/other after it was added: %d records; want 1", len(recs))
		}
	})
}

const cacheTwoTeams = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: svc, title: %s}
spec: {type: service, lifecycle: production, owner: %s}
`

const cacheOther = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-b}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: lonely}
spec: {type: service, lifecycle: production, owner: team-b}
`

// TestDB_ReadCacheDropsChanged checks that a write drops from the read
// cache what the change feed says it changed, and nothing else: the
// changed entity, the relations of the entities related to it before and
// after, but not the entities of another location; in the writing process
// at once, in another once it has read the feed.
func TestDB_ReadCacheDropsChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		path := filepath.Join(dir, "a.yaml")
		write := func(title, owner string) {
			t.Helper()
			if err := os.WriteFile(path, []byte(fmt.Sprintf(cacheTwoTeams, title, owner)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		other := filepath.Join(dir, "b.yaml")
		if err := os.WriteFile(other, []byte(cacheOther), 0o644); err != nil {
			t.Fatal(err)
		}
		write("First", "team-a")
		eng := ingest.NewEngine(db, ingest.Options{})
		var locA catalog.Location
		for _, p := range []string{path, other} {
			loc, _, err := db.CreateLocation(ctx, ingest.TypeFile, p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := eng.Refresh(ctx, loc); err != nil {
				t.Fatal(err)
			}
			if p == path {
				locA = loc
			}
		}
		const (
			svc    = "component:default/svc"
			teamA  = "group:default/team-a"
			teamB  = "group:default/team-b"
			lonely = "component:default/lonely"
		)
		// lookups reads the records of refs and their relations both ways,
		// and returns the hits and misses of each of the three reads.
		lookups := func(d *store.DB, refs ...string) (hits, misses int64) {
			t.Helper()
			h0, m0 := d.CacheStats()
			if _, err := d.EntitiesByRefs(ctx, refs); err != nil {
				t.Fatal(err)
			}
			if _, err := d.RelationsBySources(ctx, refs, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := d.RelationsByTargets(ctx, refs, nil); err != nil {
				t.Fatal(err)
			}
			h1, m1 := d.CacheStats()
			return h1 - h0, m1 - m0
		}
		all := []string{svc, teamA, teamB, lonely}
		check := func(d *store.DB, what string) {
			t.Helper()
			if h, m := lookups(d, teamB, lonely); h != 6 || m != 0 {
				t.Errorf("%s: the other location's entities: %d hits, %d misses; want 6 and 0", what, h, m)
			}
			if h, m := lookups(d, svc); h != 0 || m != 3 {
				t.Errorf("%s: the changed entity: %d hits, %d misses; want 0 and 3", what, h, m)
			}
			// team-a's record did not change, its relations (ownerOf svc) did.
			if h, m := lookups(d, teamA); h != 1 || m != 2 {
				t.Errorf("%s: the entity related to it: %d hits, %d misses; want 1 and 2", what, h, m)
			}
		}

		// The writing process.
		lookups(db, all...)
		write("Second", "team-a")
		if _, err := eng.Refresh(ctx, locA); err != nil {
			t.Fatal(err)
		}
		check(db, "same process")

		// Another process, once its look at the feed is due (100 ms).
		reader := storetest.Reopen(t, db)
		lookups(reader, all...)
		if h, m := lookups(reader, all...); h != 12 || m != 0 {
			t.Fatalf("warm reads: %d hits, %d misses; want 12 and 0", h, m)
		}
		write("Third", "team-a")
		if _, err := eng.Refresh(ctx, locA); err != nil {
			t.Fatal(err)
		}
		time.Sleep(150 * time.Millisecond)
		check(reader, "another process")

		// A new owner: the relations of the new one are dropped too, though
		// no cached list named svc before.
		lookups(db, all...)
		write("Third", "team-b")
		if _, err := eng.Refresh(ctx, locA); err != nil {
			t.Fatal(err)
		}
		if h, m := lookups(db, lonely); h != 3 || m != 0 {
			t.Errorf("after a change of owner: lonely %d hits, %d misses; want 3 and 0", h, m)
		}
		if h, m := lookups(db, teamB); h != 1 || m != 2 {
			t.Errorf("after a change of owner: the new owner %d hits, %d misses; want 1 and 2", h, m)
		}
		rows, err := db.RelationsBySources(ctx, []string{teamB}, []string{catalog.RelationOwnerOf})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 {
			t.Errorf("team-b owns %v; want lonely and svc", rows)
		}
	})
}
