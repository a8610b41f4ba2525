package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

func TestEngine_Refresh_Conflict(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		a := MustWrite(t, dir, "a/catalog-info.yaml", docs(teamA, component("shared")))
		b := MustWrite(t, dir, "b/catalog-info.yaml", docs(component("b-only"), strings.Replace(component("shared"), "production", "experimental", 1)))
		locA := MustCreateLocation(t, db, ingest.TypeFile, a)
		locB := MustCreateLocation(t, db, ingest.TypeFile, b)
		eng := ingest.NewEngine(db, ingest.Options{})
		MustRefresh(t, eng, locA)
		before := MustEntity(t, db, "component:default/shared")

		for i := range 2 { // the second refresh finds the same conflict
			stats := MustRefresh(t, eng, locB)
			if stats.Conflicts != 1 {
				t.Errorf("refresh %d: stats = %+v; want 1 conflict", i, stats)
			}
			errs := MustLocationErrors(t, db, locB)
			want := []problem{{Level: "error", Code: catalog.ErrorCodeConflict, Key: "file:" + b, Ref: "component:default/shared", Doc: -1}}
			if diff := cmp.Diff(want, problems(errs)); diff != "" {
				t.Errorf("refresh %d: errors of the second location mismatch (-want +got):\n%s", i, diff)
			}
			mustMention(t, errs, "component:default/shared", "file:"+a, "file:"+b)
			if diff := cmp.Diff(before, MustEntity(t, db, "component:default/shared")); diff != "" {
				t.Errorf("refresh %d: the first location's entity changed (-want +got):\n%s", i, diff)
			}
			MustEntity(t, db, "component:default/b-only")
		}
		if diff := cmp.Diff(MustLocationErrors(t, db, locB), MustEntityErrors(t, db, "component:default/shared")); diff != "" {
			t.Errorf("entity errors mismatch (-want +got):\n%s", diff)
		}

		// The first location refreshes as before and keeps the entity.
		if stats := MustRefresh(t, eng, locA); stats.Conflicts != 0 || stats.Unchanged != stats.Emitted {
			t.Errorf("stats of the first location = %+v; want it unchanged", stats)
		}
		if errs := MustLocationErrors(t, db, locA); len(errs) != 0 {
			t.Errorf("errors of the first location = %+v; want none", errs)
		}
	})
}

func TestEngine_Refresh_Orphan(t *testing.T) {
	t.Parallel()
	for _, deleteOrphans := range []bool{false, true} {
		t.Run(fmt.Sprintf("DeleteOrphans=%v", deleteOrphans), func(t *testing.T) {
			t.Parallel()
			storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
				dir := t.TempDir()
				full := docs(teamA, component("lib"), component("svc", "dependsOn: [component:lib]"), location("more", "target: ./more.yaml"))
				f := MustWrite(t, dir, "catalog-info.yaml", full)
				MustWrite(t, dir, "more.yaml", component("extra", "dependsOn: [component:lib]"))
				loc := MustCreateLocation(t, db, ingest.TypeFile, f)
				eng := ingest.NewEngine(db, ingest.Options{DeleteOrphans: deleteOrphans})
				MustRefresh(t, eng, loc)
				svc := MustEntity(t, db, "component:default/svc")
				entities, rels := MustCounts(t, db)

				// svc is dropped from the file, and the Location that led to extra.
				MustWrite(t, dir, "catalog-info.yaml", docs(teamA, component("lib")))
				stats := MustRefresh(t, eng, loc)
				gone := []string{"component:default/extra", "component:default/svc", "location:default/more"}
				want := catalog.RefreshStats{Emitted: 3, Unchanged: 3, Orphaned: len(gone)}
				if deleteOrphans {
					want.Orphaned, want.Deleted = 0, len(gone)
				}
				if diff := cmp.Diff(want, stats); diff != "" {
					t.Errorf("stats mismatch (-want +got):\n%s", diff)
				}
				for _, ref := range gone {
					rec, err := db.EntityByRef(context.Background(), ref)
					if deleteOrphans {
						if err == nil {
							t.Errorf("%s still stored; want it deleted", ref)
						}
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					e, err := rec.Entity()
					if err != nil {
						t.Fatal(err)
					}
					if got := e.Metadata.Annotations[catalog.AnnotationOrphan]; got != "true" {
						t.Errorf("%s orphan annotation = %q; want \"true\"", ref, got)
					}
				}
				libRels, err := db.Relations(context.Background(), "component:default/lib")
				if err != nil {
					t.Fatal(err)
				}
				gotEntities, gotRels := MustCounts(t, db)
				if deleteOrphans {
					// svc's and extra's relations go with them, both directions.
					if want := []catalog.Relation{{Source: catalog.MustParseRef("component:default/lib"), Type: catalog.RelationOwnedBy, Target: catalog.MustParseRef("group:default/team-a")}}; !cmp.Equal(want, libRels) {
						t.Errorf("relations of lib = %+v; want only %+v", libRels, want)
					}
					if gotEntities != entities-len(gone) || gotRels != rels-8 {
						t.Errorf("%d entities, %d relation rows; want %d, %d", gotEntities, gotRels, entities-len(gone), rels-8)
					}
				} else if gotEntities != entities || gotRels != rels {
					t.Errorf("%d entities, %d relation rows; want %d, %d as before", gotEntities, gotRels, entities, rels)
				}

				// svc comes back: it is no orphan any more.
				MustWrite(t, dir, "catalog-info.yaml", full)
				stats = MustRefresh(t, eng, loc)
				if got := stats.Added + stats.Updated; got != len(gone) {
					t.Errorf("stats = %+v; want %d added or updated", stats, len(gone))
				}
				for _, ref := range gone {
					e := MustEntity(t, db, ref)
					if v, ok := e.Metadata.Annotations[catalog.AnnotationOrphan]; ok {
						t.Errorf("%s orphan annotation = %q; want none", ref, v)
					}
				}
				back := MustEntity(t, db, "component:default/svc")
				if !deleteOrphans {
					if diff := cmp.Diff(svc, back); diff != "" {
						t.Errorf("svc differs from before it was orphaned (-want +got):\n%s", diff)
					}
				}
				if gotEntities, gotRels := MustCounts(t, db); gotEntities != entities || gotRels != rels {
					t.Errorf("%d entities, %d relation rows; want %d, %d as at first", gotEntities, gotRels, entities, rels)
				}
			})
		})
	}
}

// TestEngine_Refresh_OneTransaction checks that a refresh that fails part
// way, after a first batch of entities went to the store, leaves everything
// as it was.
func TestEngine_Refresh_OneTransaction(t *testing.T) {
	t.Parallel()
	const n = 500 // with team-a and the generated Location, more than one batch
	// many returns team-a and n groups, which have no relations, so that the
	// test writes little beside the entities themselves.
	many := func(typ string) string {
		d := []string{teamA}
		for i := range n {
			d = append(d, strings.NewReplacer("team-a", fmt.Sprintf("g%03d", i), "type: team", "type: "+typ).Replace(teamA))
		}
		// The Location comes last, so that b.yaml is read after every
		// group of a.yaml has been handed to the store.
		return docs(append(d, location("b", "target: ./b.yaml"))...)
	}
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServe(t, map[string]string{
			"/a.yaml": many("team"),
			"/b.yaml": docs(component("b"), "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {}\n"),
		})
		loc := MustCreateLocation(t, db, ingest.TypeURL, srv.URL+"/a.yaml")
		eng := ingest.NewEngine(db, ingest.Options{})
		MustRefresh(t, eng, loc)
		before := MustEntities(t, db)
		beforeErrs := MustLocationErrors(t, db, loc)
		entities, rels := MustCounts(t, db)
		if entities != n+4 || len(beforeErrs) != 1 {
			t.Fatalf("%d entities, errors %+v; want %d entities and one error", entities, beforeErrs, n+4)
		}

		// Everything changes, but the refresh is cancelled while b.yaml is read.
		srv.set("/a.yaml", many("squad"))
		srv.set("/b.yaml", component("b2"))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		srv.mu.Lock()
		srv.hook = func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/b.yaml" {
				cancel()
			}
			return false
		}
		srv.mu.Unlock()
		if _, err := eng.Refresh(ctx, loc); !errors.Is(err, context.Canceled) {
			t.Fatalf("refresh error = %v; want context.Canceled", err)
		}
		// Compared as JSON: cmp on 500 entities is slow under the race detector.
		if after := MustEntities(t, db); !equalJSON(t, before, after) {
			t.Errorf("entities changed by a failed refresh (-want +got):\n%s", cmp.Diff(before, after))
		}
		if diff := cmp.Diff(beforeErrs, MustLocationErrors(t, db, loc)); diff != "" {
			t.Errorf("errors changed by a failed refresh (-want +got):\n%s", diff)
		}
		if gotEntities, gotRels := MustCounts(t, db); gotEntities != entities || gotRels != rels {
			t.Errorf("%d entities, %d relation rows; want %d, %d as before", gotEntities, gotRels, entities, rels)
		}

		// The next refresh goes through.
		srv.mu.Lock()
		srv.hook = nil
		srv.mu.Unlock()
		stats := MustRefresh(t, eng, loc)
		want := catalog.RefreshStats{Emitted: n + 4, Added: 1, Updated: n, Unchanged: 3, Orphaned: 1}
		if diff := cmp.Diff(want, stats); diff != "" {
			t.Errorf("stats mismatch (-want +got):\n%s", diff)
		}
		if errs := MustLocationErrors(t, db, loc); len(errs) != 0 {
			t.Errorf("errors = %+v; want none", errs)
		}
	})
}

// TestEngine_Refresh_UnreadableKeepsDescendants checks that when the file
// that holds a Location cannot be read, what the Location led to is read
// as before instead of being orphaned, as Backstage keeps processing the
// children of an entity that failed.
func TestEngine_Refresh_UnreadableKeepsDescendants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		deleteOrphans bool
		url           bool   // the root answers 503, instead of getting a syntax error
		code          string // of the one error
	}{
		{name: "URL", url: true, code: catalog.ErrorCodeRead},
		{name: "URL/DeleteOrphans", url: true, deleteOrphans: true, code: catalog.ErrorCodeRead},
		{name: "File", code: catalog.ErrorCodeSyntax},
		{name: "File/DeleteOrphans", deleteOrphans: true, code: catalog.ErrorCodeSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
				root := docs(teamA, location("root", "target: ./svc/catalog-info.yaml"))
				files := map[string]string{
					"/catalog-info.yaml":     root,
					"/svc/catalog-info.yaml": docs(component("svc"), location("svc", "target: ./deeper.yaml")),
					"/svc/deeper.yaml":       component("deeper"),
				}
				var loc catalog.Location
				var rootKey string
				var breakRoot func()
				if tt.url {
					srv := MustServe(t, files)
					loc = MustCreateLocation(t, db, ingest.TypeURL, srv.URL+"/catalog-info.yaml")
					rootKey = loc.Key()
					breakRoot = func() {
						srv.mu.Lock()
						defer srv.mu.Unlock()
						srv.hook = func(w http.ResponseWriter, r *http.Request) bool {
							if r.URL.Path == "/catalog-info.yaml" {
								http.Error(w, "try later", http.StatusServiceUnavailable)
								return true
							}
							return false
						}
					}
				} else {
					dir := t.TempDir()
					for name, content := range files {
						MustWrite(t, dir, name, content)
					}
					loc = MustCreateLocation(t, db, ingest.TypeFile, filepath.Join(dir, "catalog-info.yaml"))
					rootKey = loc.Key()
					breakRoot = func() {
						// The group is still read; the Location is not.
						MustWrite(t, dir, "catalog-info.yaml", strings.Replace(root, "target: ./svc", "target: [./svc", 1))
					}
				}
				eng := ingest.NewEngine(db, ingest.Options{DeleteOrphans: tt.deleteOrphans})
				MustRefresh(t, eng, loc)
				before := MustEntities(t, db)

				breakRoot()
				stats := MustRefresh(t, eng, loc)
				if stats.Orphaned+stats.Deleted+stats.Added+stats.Updated != 0 {
					t.Errorf("stats = %+v; want nothing added, updated, orphaned or deleted", stats)
				}
				if diff := cmp.Diff(before, MustEntities(t, db)); diff != "" {
					t.Errorf("entities changed (-want +got):\n%s", diff)
				}
				errs := MustLocationErrors(t, db, loc)
				if len(errs) != 1 || errs[0].Code != tt.code || errs[0].LocationKey != rootKey {
					t.Errorf("location errors = %+v; want one %s error of %s", errs, tt.code, rootKey)
				}
			})
		})
	}
}

// equalJSON reports whether a and b encode to the same JSON.
func equalJSON(tb testing.TB, a, b any) bool {
	tb.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		tb.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}
