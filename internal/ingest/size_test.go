package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// bombComponent is a Component whose spec.bomb expands, through aliases,
// to more than 100 MB from a file of a few kilobytes.
func bombComponent(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n", name)
	b.WriteString("  l0: &l0 " + strings.Repeat("x", 1000) + "\n")
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&b, "  l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", i-1), 10), ","))
	}
	b.WriteString("  bomb: *l5\n")
	return b.String()
}

// TestEngine_Refresh_TooLarge checks that an entity that aliases or
// placeholders would blow up is refused with a TOO_LARGE error before the
// memory is spent, and that the documents beside it are stored.
func TestEngine_Refresh_TooLarge(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		placeholders := []string{"texts:"}
		for range 50 {
			placeholders = append(placeholders, "  - $text: ./big.txt")
		}
		f := MustWrite(t, dir, "catalog-info.yaml", docs(teamA, bombComponent("bomb"), component("texts", placeholders...), component("good")))
		MustWrite(t, dir, "big.txt", strings.Repeat("y", 2<<20))
		loc := MustCreateLocation(t, db, ingest.TypeFile, f)

		start := time.Now()
		MustRefresh(t, ingest.NewEngine(db, ingest.Options{}), loc)
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("refresh took %s", d)
		}

		errs := MustLocationErrors(t, db, loc)
		key := "file:" + f
		want := []problem{{Level: "error", Code: catalog.ErrorCodeTooLarge, Key: key, Doc: 1, Line: 9}}
		for i := range 50 {
			want = append(want, problem{Level: "error", Code: catalog.ErrorCodeTooLarge, Key: key, Ref: "component:default/texts", Doc: 2, Line: 34 + i})
		}
		if diff := cmp.Diff(want, problems(errs)); diff != "" {
			t.Errorf("location errors mismatch (-want +got):\n%s", diff)
		}
		mustMention(t, errs[:1], "over the size limit", "1048576 bytes", "line")
		mustMention(t, errs[1:], "over the size limit")
		refs := MustRefs(t, db)
		if slices.Contains(refs, "component:default/bomb") || !slices.Contains(refs, "component:default/good") {
			t.Errorf("stored %v; want good and not bomb", refs)
		}
		// The entity whose placeholders failed is stored as written, small.
		b, err := json.Marshal(MustEntity(t, db, "component:default/texts"))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 64<<10 {
			t.Errorf("component:default/texts takes %d bytes; want its placeholders as written", len(b))
		}
	})
}

// TestEngine_Refresh_LocationTooLarge checks that a location whose entities
// together pass the location limit stores nothing, keeps what it served,
// and says so on the location.
func TestEngine_Refresh_LocationTooLarge(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		f := MustWrite(t, dir, "catalog-info.yaml", docs(teamA, component("one")))
		loc := MustCreateLocation(t, db, ingest.TypeFile, f)
		eng := ingest.NewEngine(db, ingest.Options{MaxLocationSize: 4 << 10})
		MustRefresh(t, eng, loc)
		before := MustRefs(t, db)

		var many []string
		for i := range 20 {
			many = append(many, component(fmt.Sprintf("c%d", i), "description: "+strings.Repeat("z", 200)))
		}
		MustWrite(t, dir, "catalog-info.yaml", docs(append([]string{teamA}, many...)...))
		if _, err := eng.Refresh(context.Background(), loc); err == nil {
			t.Fatal("refresh succeeded; want the location over its limit")
		}
		errs := MustLocationErrors(t, db, loc)
		if diff := cmp.Diff([]problem{{Level: "error", Code: catalog.ErrorCodeRefreshFailed, Key: loc.Key(), Doc: -1}}, problems(errs)); diff != "" {
			t.Errorf("location errors mismatch (-want +got):\n%s", diff)
		}
		mustMention(t, errs, "over the size limit", "4096 bytes", "catalog.maxLocationSize")
		if diff := cmp.Diff(before, MustRefs(t, db)); diff != "" {
			t.Errorf("stored entities changed (-want +got):\n%s", diff)
		}
		// A dry run says so to its caller.
		if _, err := eng.DryRun(context.Background(), loc); portal.ErrorCode(err) != portal.EINVALID || !strings.Contains(err.Error(), "over the size limit") {
			t.Errorf("dry run: %v; want EINVALID saying the location is over the size limit", err)
		}
	})
}

// TestEngine_Refresh_FailsAfterParts checks a refresh that fails once
// parts of it were applied: those parts stay, nothing is orphaned, and the
// location says what was stored.
func TestEngine_Refresh_FailsAfterParts(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		root := MustWrite(t, dir, "catalog-info.yaml", docs(teamA, component("one")))
		loc := MustCreateLocation(t, db, ingest.TypeFile, root)
		eng := ingest.NewEngine(db, ingest.Options{MaxLocationSize: 1 << 20})
		MustRefresh(t, eng, loc)

		// A part's worth of small components and 100 more, then one of 800 KB
		// that takes the location over its limit after the first part was
		// read.
		var small []string
		for i := range ingest.PartSize + 100 {
			small = append(small, component(fmt.Sprintf("c%03d", i)))
		}
		MustWrite(t, dir, "a.yaml", docs(small...))
		MustWrite(t, dir, "b.yaml", component("big", "description: "+strings.Repeat("z", 800<<10)))
		MustWrite(t, dir, "catalog-info.yaml", docs(teamA, component("one"), location("more", "targets: [./a.yaml, ./b.yaml]")))
		stats, err := eng.Refresh(context.Background(), loc)
		if err == nil {
			t.Fatal("refresh succeeded; want the location over its limit")
		}
		// The first part: the generated Location, team-a, one, more and the
		// first PartSize-4 components; team-a and one were stored before.
		added := ingest.PartSize - 3
		if stats.Added != added || stats.Orphaned+stats.Deleted != 0 {
			t.Errorf("stats %+v; want %d added (the first part's new entities), nothing orphaned", stats, added)
		}
		refs := MustRefs(t, db)
		last, next := fmt.Sprintf("component:default/c%03d", ingest.PartSize-5), fmt.Sprintf("component:default/c%03d", ingest.PartSize-4)
		if !slices.Contains(refs, last) || slices.Contains(refs, next) || !slices.Contains(refs, "component:default/one") {
			t.Errorf("stored %d refs; want the first part's (to %s) and one, not %s", len(refs), last, next)
		}
		for _, ref := range refs {
			if e := MustEntity(t, db, ref); e.Metadata.Annotations[catalog.AnnotationOrphan] != "" {
				t.Errorf("%s orphaned by a refresh that failed", ref)
			}
		}
		errs := MustLocationErrors(t, db, loc)
		if diff := cmp.Diff([]problem{{Level: "error", Code: catalog.ErrorCodeRefreshFailed, Key: loc.Key(), Doc: -1}}, problems(errs)); diff != "" {
			t.Errorf("location errors mismatch (-want +got):\n%s", diff)
		}
		mustMention(t, errs, "catalog.maxLocationSize", fmt.Sprintf("after storing %d of the entities", added), "nothing was orphaned")
	})
}
