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
