package server_test

import (
	"strings"
	"testing"

	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// locationErrors is what the input tests read of the registered locations.
type locationErrors struct {
	Locations []struct {
		ID     string
		Target string
		Errors []struct {
			Code, Message, EntityRef string
			Line                     *int
		}
	}
}

const locationErrorsQuery = `{ locations { id target errors { code message entityRef line } } }`

// TestAPI_UnstorableText checks, over HTTP on both databases, that a
// document with a NUL character in a string, as written or deep in its
// spec, is refused with an INVALID error on its location, and that the
// good document beside it is served: PostgreSQL used to refuse the whole
// location, silently.
func TestAPI_UnstorableText(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		f := MustWriteFile(t, t.TempDir(), "catalog-info.yaml", `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: guests
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: good
spec: {type: service, lifecycle: production, owner: guests}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: nul-description
  description: "a\0b"
spec: {type: service, lifecycle: production, owner: guests}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: nul-deep
spec:
  type: service
  lifecycle: production
  owner: guests
  config: {deep: [ok, "c\0d"]}
`)
		srv := MustServeFiles(t, db, f)
		var got locationErrors
		MustQuery(t, srv, locationErrorsQuery, nil, &got)
		if len(got.Locations) != 1 {
			t.Fatalf("locations %+v; want one", got.Locations)
		}
		errs := got.Locations[0].Errors
		want := []struct{ ref, field string }{{"component:default/nul-description", "metadata.description"}, {"component:default/nul-deep", "spec.config.deep.1"}}
		if len(errs) != len(want) {
			t.Fatalf("errors %+v; want %d", errs, len(want))
		}
		for i, w := range want {
			e := errs[i]
			if e.Code != "INVALID" || e.EntityRef != w.ref || e.Line == nil || !strings.Contains(e.Message, w.field) || !strings.Contains(e.Message, "NUL") {
				t.Errorf("error %d = %+v; want INVALID on %s naming %s, with a line", i, e, w.ref, w.field)
			}
		}
		var entity struct{ Entity *refNode }
		MustQuery(t, srv, `{ entity(ref: "component:good") { ref } }`, nil, &entity)
		if entity.Entity == nil {
			t.Error("component:default/good not served")
		}
	})
}

// TestAPI_RefreshFailureRecorded checks, over HTTP on both databases, that
// a refresh the database refuses is shown on its location, in
// locations { errors }, without the database's words.
func TestAPI_RefreshFailureRecorded(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		if db.Dialect() == store.SQLite {
			storetest.MustExec(t, db, `CREATE TRIGGER poison BEFORE INSERT ON entities WHEN NEW.name = 'poison'
				BEGIN SELECT RAISE(ABORT, 'poisoned entity'); END`)
		} else {
			storetest.MustExec(t, db, `ALTER TABLE entities ADD CONSTRAINT poison CHECK (name <> 'poison')`)
		}
		f := MustWriteFile(t, t.TempDir(), "catalog-info.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: poison\nspec: {type: service, lifecycle: production, owner: guests}\n")
		srv := MustServeFiles(t, db, f)
		var got locationErrors
		MustQuery(t, srv, locationErrorsQuery, nil, &got)
		if len(got.Locations) != 1 || len(got.Locations[0].Errors) != 1 {
			t.Fatalf("locations %+v; want one with one error", got.Locations)
		}
		e := got.Locations[0].Errors[0]
		if e.Code != "REFRESH_FAILED" || strings.Contains(e.Message, "poison") || sqlText.MatchString(e.Message) {
			t.Errorf("error %+v; want REFRESH_FAILED without the database's words", e)
		}
		// Refreshing on demand fails the same way, and says no more.
		code, msg := MustFail(t, srv, `mutation($id: ID!) { refreshLocation(id: $id) { stats { emitted } } }`, map[string]any{"id": got.Locations[0].ID})
		if code != "INTERNAL" || strings.Contains(msg, "poison") {
			t.Errorf("refreshLocation: %s %q; want INTERNAL without the database's words", code, msg)
		}
	})
}
