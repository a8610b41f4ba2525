package ingest_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// TestEngine_Refresh_UnstorableText checks that a document holding a NUL
// character or invalid UTF-8 anywhere, as written or read through a
// placeholder, is refused with an INVALID error naming the field and its
// line, while the documents beside it are stored: PostgreSQL refuses such
// text, and used to roll the whole location back.
func TestEngine_Refresh_UnstorableText(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		f := MustWrite(t, dir, "catalog-info.yaml", docs(
			teamA,
			component("good"),
			strings.Replace(component("nul-description"), "metadata:\n", "metadata:\n  description: \"a\\0b\"\n", 1),
			component("nul-deep", "config:", "  deep: [ok, {list: [\"c\\0d\"]}]"),
			component("nul-key", "\"k\\0\": v"),
			component("nul-text", "notes:", "  $text: ./nul.txt"),
			component("bad-utf8", "notes:", "  $text: ./latin1.txt"),
		))
		MustWrite(t, dir, "nul.txt", "x\x00y")
		MustWrite(t, dir, "latin1.txt", "caf\xe9")
		loc := MustCreateLocation(t, db, ingest.TypeFile, f)
		MustRefresh(t, ingest.NewEngine(db, ingest.Options{}), loc)

		key := "file:" + f
		want := []problem{
			{Level: "error", Code: catalog.ErrorCodeInvalid, Key: key, Ref: "component:default/nul-description", Doc: 2, Line: 21},
			{Level: "error", Code: catalog.ErrorCodeInvalid, Key: key, Ref: "component:default/nul-deep", Doc: 3, Line: 37},
			{Level: "error", Code: catalog.ErrorCodeInvalid, Key: key, Ref: "component:default/nul-key", Doc: 4, Line: 47},
			{Level: "error", Code: catalog.ErrorCodeInvalid, Key: key, Ref: "component:default/nul-text", Doc: 5, Line: 57},
			{Level: "error", Code: catalog.ErrorCodeInvalid, Key: key, Ref: "component:default/bad-utf8", Doc: 6, Line: 68},
		}
		errs := MustLocationErrors(t, db, loc)
		if diff := cmp.Diff(want, problems(errs)); diff != "" {
			t.Errorf("location errors mismatch (-want +got):\n%s", diff)
		}
		var messages []string
		for _, e := range errs {
			messages = append(messages, e.Message)
		}
		for i, w := range []string{`"metadata.description" holds a NUL`, `"spec.config.deep.1.list.0" holds a NUL`,
			`key at "spec.k\x00" holds a NUL`, `"spec.notes" holds a NUL`, `"spec.notes" is not valid UTF-8`} {
			if i >= len(messages) || !strings.Contains(messages[i], w) {
				t.Errorf("messages %q; want message %d to contain %q", messages, i, w)
			}
		}
		refs := MustRefs(t, db)
		if want := []string{"component:default/good", "group:default/team-a", loc.EntityRef()}; !cmp.Equal(refs, want) {
			t.Errorf("stored %v; want %v", refs, want)
		}
	})
}

// TestEngine_Refresh_FailureRecorded checks that a refresh the database
// refuses is recorded on its location, with a message that shows no SQL,
// keeps what the last good refresh stored, and is cleared by the next
// refresh that succeeds.
func TestEngine_Refresh_FailureRecorded(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		// The database refuses any entity named poison, as it would refuse
		// text it cannot hold, a full disk or a broken connection.
		if db.Dialect() == store.SQLite {
			storetest.MustExec(t, db, `CREATE TRIGGER poison BEFORE INSERT ON entities WHEN NEW.name = 'poison'
				BEGIN SELECT RAISE(ABORT, 'poisoned entity'); END`)
		} else {
			storetest.MustExec(t, db, `ALTER TABLE entities ADD CONSTRAINT poison CHECK (name <> 'poison')`)
		}
		dir := t.TempDir()
		f := MustWrite(t, dir, "catalog-info.yaml", docs(teamA, component("bad-ref", "dependsOn: [foo]")))
		loc := MustCreateLocation(t, db, ingest.TypeFile, f)
		eng := ingest.NewEngine(db, ingest.Options{})
		MustRefresh(t, eng, loc)
		before := MustLocationErrors(t, db, loc)
		if len(before) != 1 || before[0].Code != catalog.ErrorCodeReference {
			t.Fatalf("errors before = %+v; want one REFERENCE error", before)
		}

		MustWrite(t, dir, "catalog-info.yaml", docs(teamA, component("bad-ref", "dependsOn: [foo]"), component("poison")))
		for i := range 2 { // a failure replaces the one recorded before
			if _, err := eng.Refresh(context.Background(), loc); err == nil {
				t.Fatal("refresh succeeded; want the database to refuse it")
			}
			errs := MustLocationErrors(t, db, loc)
			// Errors are ordered by file, then document: the failure, on no
			// document of the location's file, comes first.
			want := append([]problem{{Level: "error", Code: catalog.ErrorCodeRefreshFailed, Key: loc.Key(), Doc: -1}}, problems(before)...)
			if diff := cmp.Diff(want, problems(errs)); diff != "" {
				t.Errorf("refresh %d: errors mismatch (-want +got):\n%s", i, diff)
			}
			for _, e := range errs {
				if strings.Contains(e.Message, "poison") || strings.Contains(strings.ToLower(e.Message), "insert") {
					t.Errorf("message %q shows the database's error", e.Message)
				}
			}
			if refs := MustRefs(t, db); slices.Contains(refs, "component:default/poison") || !slices.Contains(refs, "component:default/bad-ref") {
				t.Errorf("stored %v; want the last good refresh", refs)
			}
		}

		MustWrite(t, dir, "catalog-info.yaml", docs(teamA, component("bad-ref", "dependsOn: [foo]")))
		MustRefresh(t, eng, loc)
		if diff := cmp.Diff(problems(before), problems(MustLocationErrors(t, db, loc))); diff != "" {
			t.Errorf("errors after a good refresh mismatch (-want +got):\n%s", diff)
		}
	})
}
