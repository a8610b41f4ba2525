package ingest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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
	n := len(s.applied)
	s.mu.Unlock()
	return s.since(t, n-1)
}

// since is [recordingStore.last] for every change set applied from the
// i-th on, in order.
func (s *recordingStore) since(t *testing.T, i int) []string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []string{}
	for _, c := range slices.Concat(s.applied[i:]...) {
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
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
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
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
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
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
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
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
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

// TestEngine_Refresh_Parts refreshes a location larger than a part: it is
// applied a part at a time as it is read, a stale part is planned again
// alone, the stored uid is kept, and the events of all the parts are the
// location's, in document order. The entity that makes the part stale is
// its first, and then one far into it: on SQLite a part checks what it
// writes a window at a time, as it reaches it.
func TestEngine_Refresh_Parts(t *testing.T) {
	t.Parallel()
	for _, late := range []int{0, ingest.PartSize - 300} {
		t.Run(fmt.Sprintf("stale-c-%03d", late), func(t *testing.T) {
			t.Parallel()
			testRefreshParts(t, late)
		})
	}
}

func testRefreshParts(t *testing.T, late int) {
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		const n = ingest.PartSize + 200 // more than a part, and more than one chunk of writes
		// content gives every component lifecycle, but component only, when
		// not negative, experimental.
		content := func(lifecycle string, only int) string {
			d := []string{teamA}
			for i := range n {
				l := lifecycle
				if only >= 0 {
					l = map[bool]string{true: "experimental", false: "production"}[i == only]
				}
				d = append(d, strings.Replace(component(fmt.Sprintf("c-%03d", i), fmt.Sprintf("dependsOn: [component:c-%03d]", (i+1)%n)), "production", l, 1))
			}
			return docs(d...)
		}
		dir := t.TempDir()
		f := MustWrite(t, dir, "catalog-info.yaml", content("production", -1))
		loc := MustCreateLocation(t, db, ingest.TypeFile, f)
		rs := &recordingStore{DB: db}
		eng := ingest.NewEngine(rs, ingest.Options{})
		if st := MustRefresh(t, eng, loc); st.Added != n+2 || rs.attempts != 2 {
			t.Fatalf("first refresh added %d in %d change sets, want %d in 2", st.Added, rs.attempts, n+2)
		}
		before, err := db.EntityByRef(context.Background(), "component:default/c-500")
		if err != nil {
			t.Fatal(err)
		}

		// Every component changes. Before the first part applies, another
		// engine stores one component's change alone: the part is stale,
		// and is planned again from what was read.
		MustWrite(t, dir, "catalog-info.yaml", content("experimental", -1))
		rs.before = func(cs *catalog.ChangeSet) {
			rs.before = nil
			if !cs.Part {
				t.Errorf("the first change set of %d entities is not a part", n)
			}
			MustWrite(t, dir, "catalog-info.yaml", content("", late))
			if _, err := ingest.NewEngine(db, ingest.Options{}).Refresh(context.Background(), loc); err != nil {
				t.Error(err)
			}
		}
		rs.attempts = 0
		mark := len(rs.applied)
		if st := MustRefresh(t, eng, loc); st.Updated != n-1 || rs.attempts != 3 {
			t.Fatalf("second refresh updated %d in %d attempts, want %d in 3 (a stale part, the part, the rest)", st.Updated, rs.attempts, n-1)
		}
		var want []string
		for i := range n {
			if i != late {
				want = append(want, fmt.Sprintf("UPDATED component:default/c-%03d spec.lifecycle", i))
			}
		}
		if diff := cmp.Diff(want, rs.since(t, mark)); diff != "" {
			t.Errorf("events mismatch, each of spec.lifecycle in document order, c-%03d aside (-want +got):\n%s", late, diff)
		}
		after, err := db.EntityByRef(context.Background(), "component:default/c-500")
		if err != nil {
			t.Fatal(err)
		}
		var e catalog.Entity
		if err := e.UnmarshalJSON(after.Data); err != nil {
			t.Fatal(err)
		}
		if after.UID != before.UID || e.Metadata.UID != before.UID || e.SpecString("lifecycle") != "experimental" {
			t.Errorf("c-500 after the update: id %s, metadata.uid %s, lifecycle %s; want id and uid %s, experimental",
				after.UID, e.Metadata.UID, e.SpecString("lifecycle"), before.UID)
		}
		rels, err := db.Relations(context.Background(), "component:default/c-500")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(rels, func(r catalog.Relation) bool {
			return r.Type == catalog.RelationDependsOn && r.Target.String() == "component:default/c-501"
		}) {
			t.Errorf("relations of c-500 %v; want dependsOn c-501", rels)
		}
	})
}

// TestEngine_Refresh_PartYields starts a write while the first part of a
// refresh is being applied: the write does not wait for the whole part.
// On SQLite, whose one writer the part holds, the part commits what it
// has written and lets the write go first; on PostgreSQL the write never
// waits for it. Either way the write's event comes before the part's
// last, and every entity of the part is written once. The write starts
// once it sees the part's transaction open, which on a busy machine can
// be after the part's last chunk began: a few refreshes are tried.
func TestEngine_Refresh_PartYields(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		const n = ingest.PartSize + 200 // a part (several chunks of writes), then the rest
		content := func(attempt int) string {
			d := []string{teamA}
			for i := range n {
				d = append(d, component(fmt.Sprintf("c-%04d", i), fmt.Sprintf("system: s%d", attempt)))
			}
			return docs(d...)
		}
		dir := t.TempDir()
		loc := MustCreateLocation(t, db, ingest.TypeFile, MustWrite(t, dir, "catalog-info.yaml", content(0)))
		ctx := context.Background()
		rs := &recordingStore{DB: db}
		eng := ingest.NewEngine(rs, ingest.Options{})
		var failures []string
		for attempt := range 4 {
			MustWrite(t, dir, "catalog-info.yaml", content(attempt))
			head, err := db.ChangeHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			other := make(chan error, 1)
			rs.before = func(cs *catalog.ChangeSet) {
				rs.before = nil
				go func() {
					// Once the part's transaction holds a writer connection.
					for db.PoolStats()["writer"].InUse == 0 {
						time.Sleep(20 * time.Microsecond)
					}
					_, _, err := db.CreateLocation(ctx, ingest.TypeFile, fmt.Sprintf("/elsewhere/%d/catalog-info.yaml", attempt))
					other <- err
				}()
			}
			MustRefresh(t, eng, loc)
			if err := <-other; err != nil {
				t.Fatal(err)
			}
			changes, err := db.ReadChanges(ctx, head, 2*n)
			if err != nil {
				t.Fatal(err)
			}
			var written []string
			var otherAt int64 = -1
			for _, c := range changes {
				switch c.Op {
				case catalog.ChangeLocationCreated:
					otherAt = c.Position
				case catalog.ChangeCreated, catalog.ChangeUpdated:
					written = append(written, c.Ref)
				}
			}
			want := n // every component changes its system
			if attempt == 0 {
				want = n + 2 // and the first refresh creates them all, with the group and its location
			}
			if slices.Sort(written); len(slices.Compact(written)) != want {
				t.Fatalf("refresh %d wrote %d distinct entities, want %d", attempt, len(written), want)
			}
			rs.mu.Lock()
			part := rs.applied[len(rs.applied)-2] // then the last change set
			rs.mu.Unlock()
			lastOfPart := part[len(part)-1].Position
			if otherAt >= 0 && otherAt < lastOfPart {
				return
			}
			failures = append(failures, fmt.Sprintf("the write's event at %d, the part's last at %d", otherAt, lastOfPart))
		}
		t.Errorf("the write waited for the whole part each time: %s", strings.Join(failures, "; "))
	})
}

// TestEngine_Refresh_UpdatedRelations checks that an update keeps an
// entity's relations when they did not change and replaces them when they
// did.
func TestEngine_Refresh_UpdatedRelations(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		f := MustWrite(t, dir, "catalog-info.yaml", docs(teamA, component("svc", "dependsOn: [component:a]")))
		loc := MustCreateLocation(t, db, ingest.TypeFile, f)
		eng := ingest.NewEngine(db, ingest.Options{})
		MustRefresh(t, eng, loc)
		dependsOn := func() []string {
			t.Helper()
			rels, err := db.Relations(context.Background(), "component:default/svc")
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range rels {
				if r.Type == catalog.RelationDependsOn {
					out = append(out, r.Target.String())
				}
			}
			return out
		}
		for _, step := range []struct{ spec, want string }{
			{"dependsOn: [component:a]\n  tier: gold", "component:default/a"}, // a change that leaves the relations
			{"dependsOn: [component:b]", "component:default/b"},
		} {
			MustWrite(t, dir, "catalog-info.yaml", docs(teamA, component("svc", step.spec)))
			if st := MustRefresh(t, eng, loc); st.Updated != 1 {
				t.Fatalf("refresh with %q updated %d, want 1", step.spec, st.Updated)
			}
			if got := dependsOn(); !slices.Equal(got, []string{step.want}) {
				t.Errorf("after %q: dependsOn %v, want [%s]", step.spec, got, step.want)
			}
		}
	})
}
