package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

const removeCatalog = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: svc}
spec: {type: service, lifecycle: production, owner: team-a}
`

// TestEngine_Remove checks that a location removed from the configuration
// leaves its entities as orphans, or deletes them, as a refresh treats what
// a location stopped emitting, and comes back with its orphans when it is
// configured again.
func TestEngine_Remove(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		file := filepath.Join(dir, "catalog-info.yaml")
		if err := os.WriteFile(file, []byte(removeCatalog+"---\nkind: Component\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		eng := ingest.NewEngine(db, ingest.Options{})
		loc, _, err := db.CreateLocation(ctx, ingest.TypeFile, file)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Refresh(ctx, loc); err != nil {
			t.Fatal(err)
		}

		t.Run("Keep", func(t *testing.T) {
			head, err := db.ChangeHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			stats, err := eng.Remove(portal.NewContextWithPrincipal(ctx, &portal.Principal{Ref: "cli:jane"}), loc)
			if err != nil {
				t.Fatal(err)
			}
			if want := (catalog.RefreshStats{Orphaned: 2, Deleted: 1}); stats != want {
				t.Errorf("stats %+v; want %+v (the generated Location entity deleted)", stats, want)
			}
			changes, err := db.ReadChanges(ctx, head, 100)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range changes {
				got = append(got, fmt.Sprintf("%s %s %s", c.Op, c.Ref, c.Actor))
			}
			want := []string{
				"ORPHANED component:default/svc cli:jane",
				"ORPHANED group:default/team-a cli:jane",
				"DELETED " + loc.EntityRef() + " cli:jane",
				"LOCATION_DELETED " + loc.ID + " cli:jane",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("change feed (-want +got):\n%s", diff)
			}
			if locs, err := db.Locations(ctx); err != nil || len(locs) != 0 {
				t.Errorf("locations %v, %v; want none", locs, err)
			}
			if _, err := db.Location(ctx, loc.ID); portal.ErrorCode(err) != portal.ENOTFOUND {
				t.Errorf("location: err %v; want NOT_FOUND", err)
			}
			if errs, err := db.LocationErrors(ctx, ""); err != nil || len(errs) != 0 {
				t.Errorf("errors %+v, %v; want none", errs, err)
			}
			for _, ref := range []string{"group:default/team-a", "component:default/svc"} {
				rec, err := db.EntityByRef(ctx, ref)
				if err != nil {
					t.Fatal(err)
				}
				if !rec.Orphan {
					t.Errorf("%s is not an orphan", ref)
				}
			}
			if _, err := db.EntityByRef(ctx, loc.EntityRef()); portal.ErrorCode(err) != portal.ENOTFOUND {
				t.Errorf("generated Location entity: err %v; want NOT_FOUND", err)
			}
			if _, err := eng.Remove(ctx, loc); portal.ErrorCode(err) != portal.ENOTFOUND {
				t.Errorf("removed twice: err %v; want NOT_FOUND", err)
			}
			if _, err := eng.Refresh(ctx, loc); portal.ErrorCode(err) != portal.ENOTFOUND {
				t.Errorf("refresh of a removed location: err %v; want NOT_FOUND", err)
			}
		})
		t.Run("ConfiguredAgain", func(t *testing.T) {
			again, created, err := db.CreateLocation(ctx, ingest.TypeFile, file)
			if err != nil {
				t.Fatal(err)
			}
			if !created || again.ID != loc.ID || !again.Configured {
				t.Errorf("got %+v, created %v; want the same location back, configured", again, created)
			}
			if _, err := eng.Refresh(ctx, again); err != nil {
				t.Fatal(err)
			}
			rec, err := db.EntityByRef(ctx, "component:default/svc")
			if err != nil || rec.Orphan {
				t.Errorf("svc %+v, %v; want it taken back", rec, err)
			}
			if errs, err := db.LocationErrors(ctx, loc.ID); err != nil || len(errs) == 0 {
				t.Errorf("errors %+v, %v; want the file's error written again", errs, err)
			}
		})
		t.Run("Delete", func(t *testing.T) {
			stats, err := ingest.NewEngine(db, ingest.Options{DeleteOrphans: true}).Remove(ctx, loc)
			if err != nil {
				t.Fatal(err)
			}
			if want := (catalog.RefreshStats{Deleted: 3}); stats != want {
				t.Errorf("stats %+v; want %+v", stats, want)
			}
			if n, _, err := db.Counts(ctx); err != nil || n != 0 {
				t.Errorf("%d entities, %v; want none", n, err)
			}
			// Nothing names it any more: its row is gone, and it comes back new.
			again, created, err := db.CreateLocation(ctx, ingest.TypeFile, file)
			if err != nil || !created || again.ID == loc.ID {
				t.Errorf("got %+v, created %v, err %v; want a new location", again, created, err)
			}
		})
	})
}
