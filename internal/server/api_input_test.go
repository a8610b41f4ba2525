package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// inputLocations is what the input tests read of the registered locations.
type inputLocations struct {
	Locations []struct {
		ID     string
		Target string
		Errors []struct {
			Code, Message, EntityRef string
			Line                     *int
		}
	}
}

const inputLocationsQuery = `{ locations { id target errors { code message entityRef line } } }`

// TestAPI_UnstorableText checks, over HTTP on both databases, that a
// document with a NUL character in a string, as written or deep in its
// spec, is refused with an INVALID error on its location, and that the
// good document beside it is served: PostgreSQL used to refuse the whole
// location, silently.
func TestAPI_UnstorableText(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
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
		var got inputLocations
		MustQuery(t, srv, inputLocationsQuery, nil, &got)
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
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		if db.Dialect() == store.SQLite {
			storetest.MustExec(t, db, `CREATE TRIGGER poison BEFORE INSERT ON entities WHEN NEW.name = 'poison'
				BEGIN SELECT RAISE(ABORT, 'poisoned entity'); END`)
		} else {
			storetest.MustExec(t, db, `ALTER TABLE entities ADD CONSTRAINT poison CHECK (name <> 'poison')`)
		}
		f := MustWriteFile(t, t.TempDir(), "catalog-info.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: poison\nspec: {type: service, lifecycle: production, owner: guests}\n")
		srv := MustServeFiles(t, db, f)
		var got inputLocations
		MustQuery(t, srv, inputLocationsQuery, nil, &got)
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

// bombYAML is a Component whose spec.bomb expands, through aliases, to
// 10^levels copies of a 1,000-character string.
func bombYAML(name string, levels int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec:\n  type: service\n  lifecycle: production\n  owner: guests\n", name)
	b.WriteString("  l0: &l0 " + strings.Repeat("x", 1000) + "\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "  l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", i-1), 10), ","))
	}
	fmt.Fprintf(&b, "  bomb: *l%d\n", levels)
	return b.String()
}

// TestAPI_ValidateEntitiesTooLarge checks that validateEntities, which
// anyone may call, refuses a document whose aliases expand past an
// entity's limit with a TOO_LARGE error, and YAML whose documents expand
// past twice the file limit together with an INVALID error, with a small
// response and little memory. It used to return 111 MB for a 7 kB
// document. It does not run in parallel, so that
// the memory it measures is its own.
func TestAPI_ValidateEntitiesTooLarge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := MustServeFiles(t, db)
		const q = `mutation($yaml: String!) { validateEntities(yaml: $yaml) {
			valid entities { ref entity { ref description } } errors { code document line message } } }`
		type result struct {
			Data struct {
				ValidateEntities struct {
					Valid    bool
					Entities []struct{ Ref string }
					Errors   []struct {
						Code     string
						Document int
						Message  string
					}
				}
			}
			Errors []struct {
				Message    string
				Extensions struct{ Code string }
			}
		}
		call := func(yaml string) (result, int, uint64) {
			t.Helper()
			body, _ := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"yaml": yaml}})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			resp, err := http.Post(srv.URL+"/graphql", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			var r result
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatal(err)
			}
			return r, len(raw), after.TotalAlloc - before.TotalAlloc
		}

		t.Run("OneBomb", func(t *testing.T) {
			good := "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: good\nspec: {type: service, lifecycle: production, owner: guests}\n"
			r, size, alloc := call(bombYAML("bomb", 5) + "---\n" + good)
			if len(r.Errors) > 0 {
				t.Fatalf("errors %+v", r.Errors)
			}
			got := r.Data.ValidateEntities
			if got.Valid || len(got.Errors) != 1 || got.Errors[0].Code != "TOO_LARGE" || got.Errors[0].Document != 1 ||
				!strings.Contains(got.Errors[0].Message, "over the size limit") {
				t.Errorf("errors %+v; want one TOO_LARGE error on the first document", got.Errors)
			}
			if len(got.Entities) != 1 || got.Entities[0].Ref != "component:default/good" {
				t.Errorf("entities %+v; want the good one", got.Entities)
			}
			if size > 64<<10 || alloc > 64<<20 {
				t.Errorf("response of %d bytes, %d MiB allocated; want a small response and under 64 MiB", size, alloc>>20)
			}
		})
		t.Run("ManyBombs", func(t *testing.T) {
			// Each expands to some 900 kB, under an entity's limit; 40 of
			// them would be 36 MB.
			var docs []string
			for i := range 40 {
				docs = append(docs, strings.Replace(bombYAML(fmt.Sprintf("bomb-%d", i), 2), "*l1]", "*l1]\n  more: [*l2,*l2,*l2,*l2,*l2,*l2,*l2]", 1))
			}
			r, size, alloc := call(strings.Join(docs, "---\n"))
			if len(r.Errors) != 1 || r.Errors[0].Extensions.Code != "INVALID" || !strings.Contains(r.Errors[0].Message, "over the size limit") {
				t.Errorf("errors %+v; want one INVALID error saying the YAML is over the size limit", r.Errors)
			}
			// The limit is twice the file size limit, 8 MiB by default.
			if size > 64<<10 || alloc > 256<<20 {
				t.Errorf("response of %d bytes, %d MiB allocated; want both bounded", size, alloc>>20)
			}
		})
	})
}

// TestAPI_RefreshTooLarge checks, over HTTP on both databases, that a
// registered file whose aliases or $text placeholders would make entities
// of a hundred megabytes shows TOO_LARGE errors on its location, and that
// the good document beside them is served.
func TestAPI_RefreshTooLarge(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		texts := "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: texts\nspec:\n  type: service\n  lifecycle: production\n  owner: guests\n  texts:\n" +
			strings.Repeat("    - $text: ./big.txt\n", 50)
		MustWriteFile(t, dir, "big.txt", strings.Repeat("y", 2<<20))
		f := MustWriteFile(t, dir, "catalog-info.yaml", strings.Join([]string{
			"apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: guests\nspec: {type: team, children: []}\n",
			bombYAML("bomb", 5), texts,
		}, "---\n"))
		srv := MustServeFiles(t, db, f)
		var got inputLocations
		MustQuery(t, srv, inputLocationsQuery, nil, &got)
		if len(got.Locations) != 1 || len(got.Locations[0].Errors) != 51 {
			t.Fatalf("locations %+v; want one with 51 errors", got.Locations)
		}
		for _, e := range got.Locations[0].Errors {
			if e.Code != "TOO_LARGE" || !strings.Contains(e.Message, "over the size limit") {
				t.Errorf("error %+v; want TOO_LARGE", e)
			}
		}
		var entity struct{ Entity *refNode }
		MustQuery(t, srv, `{ entity(ref: "group:guests") { ref } }`, nil, &entity)
		if entity.Entity == nil {
			t.Error("group:default/guests not served")
		}
	})
}
