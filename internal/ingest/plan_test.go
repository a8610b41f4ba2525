package ingest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// recordingStore is a real store that keeps the changes each applied
// change set made, and can run a write of its own just before a change set
// applies, as another writer would between planning and applying.
type recordingStore struct {
	*store.DB
	mu       sync.Mutex
	applied  [][]catalog.Change
	attempts int
	before   func(cs *catalog.ChangeSet) // run before each apply, when set
}

func (s *recordingStore) ApplyChangeSet(ctx context.Context, cs *catalog.ChangeSet) ([]catalog.Change, error) {
	s.mu.Lock()
	s.attempts++
	before := s.before
	s.mu.Unlock()
	if before != nil {
		before(cs)
	}
	changes, err := s.DB.ApplyChangeSet(ctx, cs)
	if err == nil {
		s.mu.Lock()
		s.applied = append(s.applied, changes)
		s.mu.Unlock()
	}
	return changes, err
}

// last returns the change feed's entity events of the last change set
// applied, as "OPERATION ref fields" lines, and checks that each etag is
// the one stored.
func (s *recordingStore) last(t *testing.T) []string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []string{}
	for _, c := range s.applied[len(s.applied)-1] {
		if c.Op.IsLocation() {
			continue
		}
		out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s", c.Op, c.Ref, strings.Join(c.Fields, ","))))
		if c.Op == catalog.ChangeDeleted || c.Op == catalog.ChangeError {
			continue
		}
		rec, err := s.EntityByRef(context.Background(), c.Ref)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Etag != c.Etag {
			t.Errorf("%s %s: etag %q; stored %q", c.Op, c.Ref, c.Etag, rec.Etag)
		}
	}
	return out
}

// TestEngine_Refresh_Changes checks the changes a refresh plans, with what
// a change feed needs of each: its operation, its ref, its new etag and
// the paths that changed.
func TestEngine_Refresh_Changes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		rs := &recordingStore{DB: db}
		dir := t.TempDir()
		svc := component("svc", "dependsOn: [component:lib]")
		f := MustWrite(t, dir, "catalog-info.yaml", docs(teamA, component("lib"), svc))
		loc := MustCreateLocation(t, db, ingest.TypeFile, f)
		eng := ingest.NewEngine(rs, ingest.Options{})
		gen := generatedRef(loc)
		steps := []struct {
			name    string
			content string
			want    []string
		}{
			{"first", docs(teamA, component("lib"), svc), []string{
				"CREATED " + gen, "CREATED group:default/team-a", "CREATED component:default/lib", "CREATED component:default/svc",
			}},
			{"unchanged", docs(teamA, component("lib"), svc), []string{}},
			{"spec and labels", docs(teamA, component("lib"),
				strings.Replace(strings.Replace(svc, "production", "experimental", 1), "  name: svc\n", "  name: svc\n  labels: {tier: gold}\n", 1)), []string{
				"UPDATED component:default/svc metadata.labels,spec.lifecycle",
			}},
			{"relations", docs(teamA, component("lib"), component("svc")), []string{
				"UPDATED component:default/svc metadata.labels,relations,spec.dependsOn,spec.lifecycle",
			}},
			// svc loses its owner: its last good version stays, with the error.
			{"invalid", docs(teamA, component("lib"), strings.Replace(component("svc"), "  owner: team-a\n", "", 1)), []string{
				"ERROR component:default/svc",
			}},
			{"valid again", docs(teamA, component("lib"), component("svc")), []string{
				"ERROR component:default/svc",
			}},
			{"dropped", docs(teamA, component("lib")), []string{
				"ORPHANED component:default/svc metadata.annotations.backstage.io/orphan",
			}},
			{"back", docs(teamA, component("lib"), component("svc")), []string{
				"UPDATED component:default/svc metadata.annotations.backstage.io/orphan",
			}},
		}
		for _, step := range steps {
			MustWrite(t, dir, "catalog-info.yaml", step.content)
			MustRefresh(t, eng, loc)
			if diff := cmp.Diff(step.want, rs.last(t)); diff != "" {
				t.Errorf("%s: changes mismatch (-want +got):\n%s", step.name, diff)
			}
		}

		eng = ingest.NewEngine(rs, ingest.Options{DeleteOrphans: true})
		MustWrite(t, dir, "catalog-info.yaml", docs(teamA, component("lib")))
		MustRefresh(t, eng, loc)
		if diff := cmp.Diff([]string{"DELETED component:default/svc"}, rs.last(t)); diff != "" {
			t.Errorf("deleted: changes mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestEngine_Refresh_Stale checks that a change set made stale by another
// write between planning and applying writes nothing, and is planned
// again from the documents already read: here another location takes a
// ref this one was about to create, so this one ends with a conflict.
func TestEngine_Refresh_Stale(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		dir := t.TempDir()
		a := MustWrite(t, dir, "a.yaml", docs(teamA, component("shared")))
		b := MustWrite(t, dir, "b.yaml", component("shared"))
		locA := MustCreateLocation(t, db, ingest.TypeFile, a)
		locB := MustCreateLocation(t, db, ingest.TypeFile, b)
		rs := &recordingStore{DB: db}
		engB := ingest.NewEngine(db, ingest.Options{})
		var once sync.Once
		rs.before = func(*catalog.ChangeSet) {
			once.Do(func() { MustRefresh(t, engB, locB) })
		}
		stats := MustRefresh(t, ingest.NewEngine(rs, ingest.Options{}), locA)
		if rs.attempts != 2 {
			t.Errorf("%d attempts to apply; want 2, the second planned again", rs.attempts)
		}
		want := catalog.RefreshStats{Emitted: 3, Added: 2, Conflicts: 1, Errors: 1}
		if diff := cmp.Diff(want, stats); diff != "" {
			t.Errorf("stats mismatch (-want +got):\n%s", diff)
		}
		rec, err := db.EntityByRef(context.Background(), "component:default/shared")
		if err != nil {
			t.Fatal(err)
		}
		if rec.LocationID != locB.ID {
			t.Errorf("shared is emitted by %s; want %s, which stored it first", rec.LocationID, locB.ID)
		}
		errs := MustLocationErrors(t, db, locA)
		if len(errs) != 1 || errs[0].Code != catalog.ErrorCodeConflict || errs[0].EntityRef != "component:default/shared" {
			t.Errorf("errors of the first location %+v; want one conflict on shared", errs)
		}
	})
}

// TestEngine_Refresh_DeletedWhilePlanned checks that a location deleted
// between planning and applying its refresh gets nothing written back.
func TestEngine_Refresh_DeletedWhilePlanned(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		f := MustWrite(t, t.TempDir(), "catalog-info.yaml", docs(teamA, component("svc")))
		loc := MustCreateLocation(t, db, ingest.TypeFile, f)
		rs := &recordingStore{DB: db}
		rs.before = func(*catalog.ChangeSet) {
			if _, err := db.DeleteLocation(context.Background(), loc.ID); err != nil {
				t.Error(err)
			}
		}
		_, err := ingest.NewEngine(rs, ingest.Options{}).Refresh(context.Background(), loc)
		if portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Fatalf("refresh of a deleted location: %v; want NOT_FOUND", err)
		}
		if refs := MustRefs(t, db); len(refs) != 0 {
			t.Errorf("stored %v; want nothing", refs)
		}
	})
}

// TestEngine_Refresh_StaleOrphanTaken checks the re-check of a row the
// plan changes: an orphan this location emits again, taken by another
// location between planning and applying, stays with that location.
func TestEngine_Refresh_StaleOrphanTaken(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		dir := t.TempDir()
		a := MustWrite(t, dir, "a.yaml", docs(teamA, component("svc")))
		locA := MustCreateLocation(t, db, ingest.TypeFile, a)
		engA := ingest.NewEngine(db, ingest.Options{})
		MustRefresh(t, engA, locA)
		MustWrite(t, dir, "a.yaml", teamA) // svc becomes an orphan of a
		MustRefresh(t, engA, locA)

		b := MustWrite(t, dir, "b.yaml", component("svc"))
		locB := MustCreateLocation(t, db, ingest.TypeFile, b)
		MustWrite(t, dir, "a.yaml", docs(teamA, component("svc")))
		rs := &recordingStore{DB: db}
		var once sync.Once
		rs.before = func(*catalog.ChangeSet) {
			once.Do(func() { MustRefresh(t, ingest.NewEngine(db, ingest.Options{}), locB) })
		}
		stats := MustRefresh(t, ingest.NewEngine(rs, ingest.Options{}), locA)
		if rs.attempts != 2 || stats.Conflicts != 1 || stats.Updated != 0 {
			t.Errorf("%d attempts, stats %+v; want 2 attempts, and a conflict instead of taking svc back", rs.attempts, stats)
		}
		rec, err := db.EntityByRef(context.Background(), "component:default/svc")
		if err != nil {
			t.Fatal(err)
		}
		if rec.LocationID != locB.ID || rec.Orphan {
			t.Errorf("svc: location %s orphan %v; want %s's, no orphan", rec.LocationID, rec.Orphan, locB.ID)
		}
	})
}
