package ingest_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// MustWrite writes content to name (slash-separated, relative to dir),
// creating directories as needed, and returns the file's absolute path.
func MustWrite(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	p, err := filepath.Abs(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// MustCreateLocation registers a location.
func MustCreateLocation(tb testing.TB, db *store.DB, typ, target string) catalog.Location {
	tb.Helper()
	loc, created, err := db.CreateLocation(context.Background(), typ, target)
	if err != nil {
		tb.Fatal(err)
	}
	if !created {
		tb.Fatalf("location %s:%s already registered", typ, target)
	}
	return loc
}

// MustRefresh refreshes one location.
func MustRefresh(tb testing.TB, eng *ingest.Engine, loc catalog.Location) catalog.RefreshStats {
	tb.Helper()
	stats, err := eng.Refresh(context.Background(), loc)
	if err != nil {
		tb.Fatalf("refresh %s: %v", loc.Key(), err)
	}
	return stats
}

// MustEntity returns a stored entity.
func MustEntity(tb testing.TB, db *store.DB, ref string) *catalog.Entity {
	tb.Helper()
	rec, err := db.EntityByRef(context.Background(), ref)
	if err != nil {
		tb.Fatalf("entity %s: %v", ref, err)
	}
	e, err := rec.Entity()
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// MustEntities returns every stored entity, ordered by ref.
func MustEntities(tb testing.TB, db *store.DB) []*catalog.Entity {
	tb.Helper()
	var all []*catalog.Entity
	q := catalog.EntityQuery{Limit: store.MaxPageSize}
	for {
		page, err := db.FindEntities(context.Background(), q)
		if err != nil {
			tb.Fatal(err)
		}
		for _, rec := range page.Records {
			e, err := rec.Entity()
			if err != nil {
				tb.Fatal(err)
			}
			all = append(all, e)
		}
		if !page.HasMore {
			return all
		}
		last := len(page.Records) - 1
		q.After = &catalog.Position{Key: page.Keys[last], Ref: page.Records[last].Ref}
	}
}

// MustRefs returns the refs of every stored entity, sorted.
func MustRefs(tb testing.TB, db *store.DB) []string {
	tb.Helper()
	refs := []string{}
	for _, e := range MustEntities(tb, db) {
		refs = append(refs, e.Ref().String())
	}
	return refs
}

// MustLocationErrors returns the problems of a location.
func MustLocationErrors(tb testing.TB, db *store.DB, loc catalog.Location) []catalog.ProcessingError {
	tb.Helper()
	errs, err := db.LocationErrors(context.Background(), loc.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return errs
}

// MustEntityErrors returns the problems of one entity.
func MustEntityErrors(tb testing.TB, db *store.DB, ref string) []catalog.ProcessingError {
	tb.Helper()
	byRef, err := db.EntityErrors(context.Background(), []string{ref})
	if err != nil {
		tb.Fatal(err)
	}
	return byRef[ref]
}

// MustCounts returns how many entities and relation rows are stored.
func MustCounts(tb testing.TB, db *store.DB) (entities, relations int) {
	tb.Helper()
	entities, relations, err := db.Counts(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return entities, relations
}

// problem is a processing error without its message, which tests check
// apart with [mustMention].
type problem struct {
	Level, Code, Key, Ref string
	Doc, Line             int
}

func problems(errs []catalog.ProcessingError) []problem {
	out := []problem{}
	for _, e := range errs {
		out = append(out, problem{Level: e.Level, Code: e.Code, Key: e.LocationKey, Ref: e.EntityRef, Doc: e.Document, Line: e.Line})
	}
	return out
}

// mustMention fails unless the message of every error mentions each word.
func mustMention(tb testing.TB, errs []catalog.ProcessingError, words ...string) {
	tb.Helper()
	for _, e := range errs {
		for _, w := range words {
			if !strings.Contains(e.Message, w) {
				tb.Errorf("error %q does not mention %q", e.Message, w)
			}
		}
	}
}

func generatedRef(loc catalog.Location) string {
	return loc.EntityRef()
}

// component returns a valid Component document owned by team-a, with
// extra lines appended to its spec.
func component(name string, spec ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n", name)
	for _, l := range spec {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// teamA is the group every [component] names as owner, so that it leaves
// no dangling reference.
const teamA = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
`

// location returns a Location document.
func location(name string, spec ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: %s\nspec:\n", name)
	for _, l := range spec {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// docs joins YAML documents into one file.
func docs(d ...string) string { return strings.Join(d, "---\n") }

func TestEngine_Refresh_Identity(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		root := MustWrite(t, dir, "catalog-info.yaml", docs(teamA, location("nested", "target: ./svc/catalog-info.yaml")))
		svc := MustWrite(t, dir, "svc/catalog-info.yaml", component("svc"))
		loc := MustCreateLocation(t, db, ingest.TypeFile, root)
		eng := ingest.NewEngine(db, ingest.Options{})

		stats := MustRefresh(t, eng, loc)
		if diff := cmp.Diff(catalog.RefreshStats{Emitted: 4, Added: 4}, stats); diff != "" {
			t.Errorf("first refresh stats mismatch (-want +got):\n%s", diff)
		}
		wantAnnotations := map[string][2]string{
			generatedRef(loc):         {"file:" + root, "file:" + root},
			"group:default/team-a":    {"file:" + root, "file:" + root},
			"location:default/nested": {"file:" + root, "file:" + root},
			"component:default/svc":   {"file:" + svc, "file:" + root},
		}
		first := map[string]*catalog.Entity{}
		for ref, want := range wantAnnotations {
			e := MustEntity(t, db, ref)
			first[ref] = e
			got := [2]string{e.Metadata.Annotations[catalog.AnnotationManagedByLocation], e.Metadata.Annotations[catalog.AnnotationManagedByOriginLocation]}
			if got != want {
				t.Errorf("%s managed-by-location, managed-by-origin-location = %q; want %q", ref, got, want)
			}
			if e.Metadata.UID == "" || e.Metadata.Etag == "" {
				t.Errorf("%s uid = %q, etag = %q; want both set", ref, e.Metadata.UID, e.Metadata.Etag)
			}
			if _, ok := e.Metadata.Annotations[catalog.AnnotationViewURL]; ok {
				t.Errorf("%s has a view-url; want none for a file location", ref)
			}
		}
		uids := map[string]bool{}
		for _, e := range first {
			uids[e.Metadata.UID] = true
		}
		if len(uids) != len(first) {
			t.Errorf("%d distinct uids for %d entities", len(uids), len(first))
		}

		t.Run("Unchanged", func(t *testing.T) {
			stats := MustRefresh(t, eng, loc)
			if diff := cmp.Diff(catalog.RefreshStats{Emitted: 4, Unchanged: 4}, stats); diff != "" {
				t.Errorf("stats mismatch (-want +got):\n%s", diff)
			}
			for ref, want := range first {
				if diff := cmp.Diff(want, MustEntity(t, db, ref)); diff != "" {
					t.Errorf("%s changed (-want +got):\n%s", ref, diff)
				}
			}
		})

		t.Run("ContentChanged", func(t *testing.T) {
			// The author's own uid and etag are not kept: the catalog owns the uid.
			MustWrite(t, dir, "svc/catalog-info.yaml", strings.Replace(component("svc"), "production", "experimental", 1))
			stats := MustRefresh(t, eng, loc)
			if diff := cmp.Diff(catalog.RefreshStats{Emitted: 4, Updated: 1, Unchanged: 3}, stats); diff != "" {
				t.Errorf("stats mismatch (-want +got):\n%s", diff)
			}
			before, after := first["component:default/svc"], MustEntity(t, db, "component:default/svc")
			if after.Metadata.UID != before.Metadata.UID {
				t.Errorf("uid = %q after a change; want %q", after.Metadata.UID, before.Metadata.UID)
			}
			if after.Metadata.Etag == before.Metadata.Etag {
				t.Errorf("etag %q unchanged after a change of content", after.Metadata.Etag)
			}
			if got := after.SpecString("lifecycle"); got != "experimental" {
				t.Errorf("lifecycle = %q; want experimental", got)
			}
		})

		t.Run("AuthorUID", func(t *testing.T) {
			MustWrite(t, dir, "svc/catalog-info.yaml", strings.Replace(component("svc"), "  name: svc\n", "  name: svc\n  uid: 00000000-0000-0000-0000-000000000000\n", 1))
			MustRefresh(t, eng, loc)
			if got, want := MustEntity(t, db, "component:default/svc").Metadata.UID, first["component:default/svc"].Metadata.UID; got != want {
				t.Errorf("uid = %q; want %q (the catalog's)", got, want)
			}
		})

		if errs := MustLocationErrors(t, db, loc); len(errs) != 0 {
			t.Errorf("location errors = %+v; want none", errs)
		}
	})
}

func TestEngine_Refresh_MultiDocument(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		// A leading "---", an empty document, an explicit null and a
		// trailing "---" are all null documents.
		content := "---\n" + component("one") + "---\n---\n~\n---\n" + component("two") + "---\n" + teamA + "---\n"
		f := MustWrite(t, dir, "catalog-info.yaml", content)
		merge := MustWrite(t, dir, "merge.yaml", `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: merged
spec:
  <<: {type: service, lifecycle: production, owner: team-a}
`)
		eng := ingest.NewEngine(db, ingest.Options{})
		loc := MustCreateLocation(t, db, ingest.TypeFile, f)
		stats := MustRefresh(t, eng, loc)
		if stats.Emitted != 4 {
			t.Errorf("emitted %d; want 4 (the generated location and three documents)", stats.Emitted)
		}
		want := []string{"component:default/one", "component:default/two", "group:default/team-a", generatedRef(loc)}
		slices.Sort(want)
		if diff := cmp.Diff(want, MustRefs(t, db)); diff != "" {
			t.Errorf("refs mismatch (-want +got):\n%s", diff)
		}
		if errs := MustLocationErrors(t, db, loc); len(errs) != 0 {
			t.Errorf("errors = %+v; want none", errs)
		}

		// "<<" is an ordinary key: the merged fields are missing.
		mloc := MustCreateLocation(t, db, ingest.TypeFile, merge)
		MustRefresh(t, eng, mloc)
		ref := "component:default/merged"
		errs := MustEntityErrors(t, db, ref)
		var missing []string
		for _, e := range errs {
			if e.Code != catalog.ErrorCodeInvalid || e.LocationKey != "file:"+merge {
				t.Errorf("error %+v; want an INVALID error of %s", e, merge)
			}
			for _, f := range []string{"spec.type", "spec.lifecycle", "spec.owner"} {
				if strings.Contains(e.Message, `"`+f+`" is required`) {
					missing = append(missing, f)
				}
			}
		}
		if diff := cmp.Diff([]string{"spec.lifecycle", "spec.owner", "spec.type"}, slices.Sorted(slices.Values(missing))); diff != "" {
			t.Errorf("fields reported missing (-want +got):\n%s\nerrors: %+v", diff, errs)
		}
		e := MustEntity(t, db, ref)
		if _, ok := e.Spec["<<"]; !ok {
			t.Errorf("spec = %v; want the key \"<<\" kept", e.Spec)
		}
		if _, ok := e.Spec["type"]; ok {
			t.Errorf("spec = %v; want no merged type", e.Spec)
		}
	})
}

// TestEngine_Refresh_BadInput checks that each kind of bad input becomes a
// processing error on its location, and on the entity when one can be
// named, while the valid documents beside it are still ingested.
func TestEngine_Refresh_BadInput(t *testing.T) {
	t.Parallel()
	const maxSize = 2048

	// syntax holds a mapping value where none may be, on line 21 of the
	// file once teamA precedes it.
	syntax := docs(component("before"), "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: broken: yes\n", component("after"))
	invalid := docs(component("good"), "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: no-owner\nspec:\n  type: service\n  lifecycle: production\n")
	nameless := docs("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  title: Who am I\nspec: {}\n", component("good"))
	malformed := docs(component("good"), component("bad-ref", "dependsOn:", "  - component:good", "  - foo"))
	large := component("big", "description: "+strings.Repeat("x", maxSize))

	tests := []struct {
		name    string
		files   map[string]string // to write, by name relative to the directory
		target  string            // registered target, relative to the directory
		url     bool              // register an unreachable URL instead
		want    []problem         // Key holds a file name relative to the directory; ignored for url
		words   []string          // every error message mentions these
		entity  string            // the entity the error is attached to, if any
		present []string          // refs ingested despite the error
	}{
		{
			name:    "Syntax",
			files:   map[string]string{"catalog-info.yaml": teamA + "---\n" + syntax},
			target:  "catalog-info.yaml",
			want:    []problem{{Level: "error", Code: catalog.ErrorCodeSyntax, Key: "catalog-info.yaml", Doc: 2, Line: 21}},
			words:   []string{"line 21", "mapping values are not allowed"},
			present: []string{"component:default/after", "component:default/before"},
		},
		{
			name:    "Invalid",
			files:   map[string]string{"catalog-info.yaml": teamA + "---\n" + invalid},
			target:  "catalog-info.yaml",
			want:    []problem{{Level: "error", Code: catalog.ErrorCodeInvalid, Key: "catalog-info.yaml", Ref: "component:default/no-owner", Doc: 2, Line: 22}},
			words:   []string{`"spec.owner" is required`},
			entity:  "component:default/no-owner",
			present: []string{"component:default/good"},
		},
		{
			name:    "Nameless",
			files:   map[string]string{"catalog-info.yaml": teamA + "---\n" + nameless},
			target:  "catalog-info.yaml",
			want:    []problem{{Level: "error", Code: catalog.ErrorCodeInvalid, Key: "catalog-info.yaml", Doc: 1, Line: 11}},
			words:   []string{`"metadata.name" is required`},
			present: []string{"component:default/good"},
		},
		{
			name:    "MalformedReference",
			files:   map[string]string{"catalog-info.yaml": teamA + "---\n" + malformed},
			target:  "catalog-info.yaml",
			want:    []problem{{Level: "error", Code: catalog.ErrorCodeReference, Key: "catalog-info.yaml", Ref: "component:default/bad-ref", Doc: 2, Line: 28}},
			words:   []string{`"foo"`, "missing or empty kind"},
			entity:  "component:default/bad-ref",
			present: []string{"component:default/good"},
		},
		{
			name:  "TooLarge",
			files: map[string]string{"a/catalog-info.yaml": teamA, "b/catalog-info.yaml": large},
			// A glob, so that the small file beside the large one is read.
			target:  "**/catalog-info.yaml",
			want:    []problem{{Level: "error", Code: catalog.ErrorCodeTooLarge, Key: "b/catalog-info.yaml", Doc: -1}},
			words:   []string{"b/catalog-info.yaml", "2048 bytes"},
			present: []string{"group:default/team-a"},
		},
		{
			name:  "UnreachableURL",
			url:   true,
			want:  []problem{{Level: "error", Code: catalog.ErrorCodeRead, Key: "", Doc: -1}},
			words: []string{"connection refused"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
				eng := ingest.NewEngine(db, ingest.Options{MaxFileSize: maxSize})
				dir := t.TempDir()
				for name, content := range tt.files {
					MustWrite(t, dir, name, content)
				}
				var loc catalog.Location
				var key func(string) string
				if tt.url {
					target := closedURL(t) + "/catalog-info.yaml"
					loc = MustCreateLocation(t, db, ingest.TypeURL, target)
					key = func(string) string { return "url:" + target }
				} else {
					loc = MustCreateLocation(t, db, ingest.TypeFile, filepath.Join(dir, tt.target))
					key = func(name string) string { return "file:" + filepath.Join(dir, filepath.FromSlash(name)) }
				}
				MustRefresh(t, eng, loc)

				want := []problem{}
				for _, p := range tt.want {
					p.Key = key(p.Key)
					if p.Code == catalog.ErrorCodeRead || p.Code == catalog.ErrorCodeTooLarge {
						// The registered location's own Location entity led to the file.
						p.Ref = loc.EntityRef()
					}
					want = append(want, p)
				}
				errs := MustLocationErrors(t, db, loc)
				if diff := cmp.Diff(want, problems(errs)); diff != "" {
					t.Errorf("location errors mismatch (-want +got):\n%s", diff)
				}
				mustMention(t, errs, tt.words...)
				if tt.entity != "" {
					if diff := cmp.Diff(errs, MustEntityErrors(t, db, tt.entity)); diff != "" {
						t.Errorf("errors of %s mismatch (-want +got):\n%s", tt.entity, diff)
					}
				}
				refs := MustRefs(t, db)
				for _, ref := range append(tt.present, generatedRef(loc)) {
					if !slices.Contains(refs, ref) {
						t.Errorf("%s not ingested", ref)
					}
				}
			})
		})
	}
}

// closedURL returns the base URL of a loopback port nothing listens on.
func closedURL(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		tb.Fatal(err)
	}
	return "http://" + addr
}

func TestEngine_Refresh_DanglingReference(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		eng := ingest.NewEngine(db, ingest.Options{})
		svc := MustWrite(t, dir, "svc/catalog-info.yaml", component("svc", "dependsOn: [resource:db]"))
		loc := MustCreateLocation(t, db, ingest.TypeFile, svc)
		MustRefresh(t, eng, loc)

		ref := "component:default/svc"
		want := []problem{
			{Level: "warning", Code: catalog.ErrorCodeReference, Key: "file:" + svc, Ref: ref, Doc: -1},
			{Level: "warning", Code: catalog.ErrorCodeReference, Key: "file:" + svc, Ref: ref, Doc: -1},
		}
		errs := MustLocationErrors(t, db, loc)
		if diff := cmp.Diff(want, problems(errs)); diff != "" {
			t.Fatalf("location errors mismatch (-want +got):\n%s", diff)
		}
		mustMention(t, errs[:1], "dependsOn", "resource:default/db", "not in the catalog")
		mustMention(t, errs[1:], "ownedBy", "group:default/team-a", "not in the catalog")
		if diff := cmp.Diff(errs, MustEntityErrors(t, db, ref)); diff != "" {
			t.Errorf("entity errors mismatch (-want +got):\n%s", diff)
		}
		// The entity is valid: it is stored as written, relations and all.
		rels, err := db.Relations(context.Background(), ref)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rels {
			got = append(got, r.Type+" "+r.Target.String())
		}
		if diff := cmp.Diff([]string{"dependsOn resource:default/db", "ownedBy group:default/team-a"}, got); diff != "" {
			t.Errorf("relations mismatch (-want +got):\n%s", diff)
		}

		// Another location supplies the targets: the warnings go, with no
		// refresh of the first location.
		other := MustWrite(t, dir, "infra/catalog-info.yaml", docs(teamA, "apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata:\n  name: db\nspec:\n  type: database\n  owner: team-a\n"))
		MustRefresh(t, eng, MustCreateLocation(t, db, ingest.TypeFile, other))
		if errs := MustLocationErrors(t, db, loc); len(errs) != 0 {
			t.Errorf("location errors = %+v; want none once the targets exist", errs)
		}
		if errs := MustEntityErrors(t, db, ref); len(errs) != 0 {
			t.Errorf("entity errors = %+v; want none once the targets exist", errs)
		}
	})
}

// TestEngine_Refresh_KeepsLastGoodVersion checks that an entity that stops
// validating, or whose file stops parsing, keeps its last good version, and
// carries the error that explains why.
func TestEngine_Refresh_KeepsLastGoodVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		code    string
		ref     string // the entity the error names, if any
	}{
		{
			name:    "Invalid",
			content: docs(teamA, strings.Replace(component("svc", "dependsOn: [component:svc2]"), "  owner: team-a\n", "", 1), component("svc2")),
			code:    catalog.ErrorCodeInvalid,
			ref:     "component:default/svc",
		},
		{
			name: "Syntax",
			// svc2 is gone from the file, but what the file held is kept.
			content: docs(teamA, strings.Replace(component("svc"), "owner: team-a", "owner: [team-a", 1)),
			code:    catalog.ErrorCodeSyntax,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
				dir := t.TempDir()
				eng := ingest.NewEngine(db, ingest.Options{})
				f := MustWrite(t, dir, "catalog-info.yaml", docs(teamA, component("svc", "dependsOn: [component:svc2]"), component("svc2")))
				loc := MustCreateLocation(t, db, ingest.TypeFile, f)
				MustRefresh(t, eng, loc)
				before := MustEntities(t, db)
				_, rels := MustCounts(t, db)

				MustWrite(t, dir, "catalog-info.yaml", tt.content)
				MustRefresh(t, eng, loc)
				if diff := cmp.Diff(before, MustEntities(t, db)); diff != "" {
					t.Errorf("entities changed (-want +got):\n%s", diff)
				}
				if _, got := MustCounts(t, db); got != rels {
					t.Errorf("%d relation rows; want %d, as before", got, rels)
				}
				errs := MustLocationErrors(t, db, loc)
				if len(errs) != 1 || errs[0].Code != tt.code || errs[0].EntityRef != tt.ref {
					t.Fatalf("location errors = %+v; want one %s error naming %q", errs, tt.code, tt.ref)
				}
				if tt.ref != "" {
					if diff := cmp.Diff(errs, MustEntityErrors(t, db, tt.ref)); diff != "" {
						t.Errorf("entity errors mismatch (-want +got):\n%s", diff)
					}
				} else {
					// The file's error is on every entity kept from it, and on
					// no entity read again.
					for _, ref := range []string{"component:default/svc", "component:default/svc2"} {
						want := errs[0]
						want.EntityRef = ref
						if diff := cmp.Diff([]catalog.ProcessingError{want}, MustEntityErrors(t, db, ref)); diff != "" {
							t.Errorf("%s: entity errors mismatch (-want +got):\n%s", ref, diff)
						}
					}
					if errs := MustEntityErrors(t, db, "group:default/team-a"); len(errs) != 0 {
						t.Errorf("team-a, read again: entity errors %+v; want none", errs)
					}
				}

				// Fixed again: the new version replaces the kept one, and the error goes.
				MustWrite(t, dir, "catalog-info.yaml", docs(teamA, component("svc", "dependsOn: [component:svc2]"), component("svc2")))
				if stats := MustRefresh(t, eng, loc); stats.Updated != 0 || stats.Added != 0 {
					t.Errorf("stats = %+v; want nothing added or updated when the content is back as it was", stats)
				}
				if errs := MustLocationErrors(t, db, loc); len(errs) != 0 {
					t.Errorf("location errors = %+v; want none", errs)
				}
			})
		})
	}
}
