package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

const registerMutation = `mutation($type: String, $target: String!, $dryRun: Boolean) {
	registerLocation(type: $type, target: $target, dryRun: $dryRun) {
		location { id type target }
		dryRun
		entities { ref kind namespace name raw relations { type targetRef } errors { level code entityRef } entity { ref } }
		errors { level code entityRef }
	}
}`

type ingestedEntity struct {
	Ref, Kind, Namespace, Name string
	Raw                        map[string]any
	Relations                  []struct{ Type, TargetRef string }
	Errors                     []struct {
		Level, Code string
		EntityRef   *string
	}
	Entity *refNode
}

type registerPayload struct {
	Location *struct{ ID, Type, Target string }
	DryRun   bool
	Entities []ingestedEntity
	Errors   []struct {
		Level, Code string
		EntityRef   *string
	}
}

// MustRegister registers a file location through the API.
func MustRegister(t *testing.T, srv *httptest.Server, target string, dryRun bool) registerPayload {
	t.Helper()
	var got struct{ RegisterLocation registerPayload }
	MustQuery(t, srv, registerMutation, map[string]any{"type": "file", "target": target, "dryRun": dryRun}, &got)
	return got.RegisterLocation
}

// MustEntityRef returns the ref of the entity ref names, or "" when there
// is none.
func MustEntityRef(t *testing.T, srv *httptest.Server, ref string) string {
	t.Helper()
	var got struct{ Entity *refNode }
	MustQuery(t, srv, `query($ref: String!) { entity(ref: $ref) { ref } }`, map[string]any{"ref": ref}, &got)
	if got.Entity == nil {
		return ""
	}
	return got.Entity.Ref
}

// dependentsOfCatalogDB lists what depends on resource:default/catalog-db.
func dependentsOfCatalogDB(t *testing.T, srv *httptest.Server) []string {
	t.Helper()
	var got struct {
		Entity struct{ Dependents []refNode }
	}
	MustQuery(t, srv, `{ entity(ref: "resource:catalog-db") { ... on Resource { dependents { ref } } } }`, nil, &got)
	return refsOf(got.Entity.Dependents)
}

func generatedRef(target string) string {
	return catalog.Location{Type: "file", Target: target}.EntityRef()
}

func TestMutation_RegisterLocation(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServeFiles(t, db, exampleCatalog(t))
		// A new component, and one the example catalog emits already.
		target := MustWriteFile(t, t.TempDir(), "new.yaml", yamlDocs(
			component("fresh-service", "resource:default/catalog-db"),
			component("catalog-service"),
		))
		gen := generatedRef(target)

		t.Run("DryRun", func(t *testing.T) {
			got := MustRegister(t, srv, target, true)
			if got.Location != nil || !got.DryRun {
				t.Errorf("location %+v dryRun %v; want no location, a dry run", got.Location, got.DryRun)
			}
			type row struct {
				Ref, Kind, Name string
				Relations       []string
				Errors          []string
				Stored          bool
			}
			var rows []row
			for _, e := range got.Entities {
				r := row{Ref: e.Ref, Kind: e.Kind, Name: e.Name, Stored: e.Entity != nil}
				for _, rel := range e.Relations {
					r.Relations = append(r.Relations, rel.Type+" "+rel.TargetRef)
				}
				for _, pe := range e.Errors {
					r.Errors = append(r.Errors, pe.Level+" "+pe.Code+" "+deref(pe.EntityRef))
				}
				if e.Namespace != "default" {
					t.Errorf("%s namespace %q; want default", e.Ref, e.Namespace)
				}
				if md, _ := e.Raw["metadata"].(map[string]any); md["name"] != e.Name || e.Raw["kind"] != e.Kind {
					t.Errorf("%s raw %v; want the entity", e.Ref, e.Raw)
				}
				rows = append(rows, r)
			}
			want := []row{
				{Ref: gen, Kind: "Location", Name: strings.TrimPrefix(gen, "location:default/")},
				{Ref: "component:default/fresh-service", Kind: "Component", Name: "fresh-service", Relations: []string{
					"ownedBy group:default/team-data", "ownerOf component:default/fresh-service",
					"dependsOn resource:default/catalog-db", "dependencyOf component:default/fresh-service",
				}},
				{Ref: "component:default/catalog-service", Kind: "Component", Name: "catalog-service", Relations: []string{
					"ownedBy group:default/team-data", "ownerOf component:default/catalog-service",
				}, Errors: []string{"error CONFLICT component:default/catalog-service"}},
			}
			if diff := cmp.Diff(want, rows); diff != "" {
				t.Errorf("entities mismatch (-want +got):\n%s", diff)
			}
			var errs []string
			for _, pe := range got.Errors {
				errs = append(errs, pe.Level+" "+pe.Code+" "+deref(pe.EntityRef))
			}
			if diff := cmp.Diff([]string{"error CONFLICT component:default/catalog-service"}, errs); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
			// Nothing was stored.
			if ref := MustEntityRef(t, srv, "component:fresh-service"); ref != "" {
				t.Errorf("dry run stored %s", ref)
			}
			if ref := MustEntityRef(t, srv, gen); ref != "" {
				t.Errorf("dry run stored %s", ref)
			}
			var locs struct{ Locations []struct{ ID string } }
			MustQuery(t, srv, `{ locations { id } }`, nil, &locs)
			if len(locs.Locations) != 1 {
				t.Errorf("%d locations after a dry run; want 1", len(locs.Locations))
			}
		})

		t.Run("OK", func(t *testing.T) {
			got := MustRegister(t, srv, target, false)
			if got.Location == nil || got.Location.ID == "" || got.Location.Type != "file" || got.Location.Target != target || got.DryRun {
				t.Fatalf("location %+v dryRun %v; want the new file location", got.Location, got.DryRun)
			}
			var refs, stored []string
			for _, e := range got.Entities {
				refs = append(refs, e.Ref)
				if e.Entity != nil {
					stored = append(stored, e.Entity.Ref)
				}
			}
			// The conflicting catalog-service stays with the example catalog.
			want := []string{"component:default/fresh-service", gen}
			if diff := cmp.Diff(want, refs); diff != "" {
				t.Errorf("entities mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, stored); diff != "" {
				t.Errorf("stored entities mismatch (-want +got):\n%s", diff)
			}
			var rels []string
			for _, rel := range got.Entities[0].Relations {
				rels = append(rels, rel.Type+" "+rel.TargetRef)
			}
			if diff := cmp.Diff([]string{"dependsOn resource:default/catalog-db", "ownedBy group:default/team-data"}, rels); diff != "" {
				t.Errorf("stored relations mismatch (-want +got):\n%s", diff)
			}
			var errs []string
			for _, pe := range got.Errors {
				errs = append(errs, pe.Level+" "+pe.Code+" "+deref(pe.EntityRef))
			}
			if diff := cmp.Diff([]string{"error CONFLICT component:default/catalog-service"}, errs); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}

			var e struct {
				Fresh, Existing struct{ SourceLocation struct{ ID string } }
			}
			MustQuery(t, srv, `{
				fresh: entity(ref: "component:fresh-service") { sourceLocation { id } }
				existing: entity(ref: "component:catalog-service") { sourceLocation { id } }
			}`, nil, &e)
			if e.Fresh.SourceLocation.ID != got.Location.ID {
				t.Errorf("fresh-service comes from %q; want %q", e.Fresh.SourceLocation.ID, got.Location.ID)
			}
			if e.Existing.SourceLocation.ID == got.Location.ID {
				t.Error("catalog-service moved to the new location")
			}
			if deps := dependentsOfCatalogDB(t, srv); !contains(deps, "component:default/fresh-service") {
				t.Errorf("catalog-db dependents %v; want fresh-service among them", deps)
			}
		})

		t.Run("ErrConflict", func(t *testing.T) {
			wantCode(t, srv, "CONFLICT", registerMutation, map[string]any{"type": "file", "target": target})
			// The same file, written another way.
			wantCode(t, srv, "CONFLICT", registerMutation, map[string]any{"type": "file", "target": filepath.Dir(target) + "/./new.yaml"})
		})

		t.Run("ErrInvalid", func(t *testing.T) {
			for _, vars := range []map[string]any{
				{"type": "file", "target": "relative/catalog-info.yaml"},
				{"type": "ftp", "target": "ftp://example.com/catalog-info.yaml"},
				{"target": "not a url"},
				{"type": "url", "target": "file:///etc/passwd"},
				{"type": "url", "target": "https://"},
				{"type": "url", "target": "https://jane:ghp_secret@git.example.com/catalog-info.yaml"},
			} {
				wantCode(t, srv, "INVALID", registerMutation, vars)
			}
		})

		t.Run("ErrFileNotAllowed", func(t *testing.T) {
			// MustServe's server registers only url locations, as Backstage does.
			urlOnly := MustServe(t, storetest.MustOpenSQLite(t))
			for _, dry := range []bool{false, true} {
				code, msg := MustFail(t, urlOnly, registerMutation, map[string]any{"type": "file", "target": target, "dryRun": dry})
				if code != "INVALID" || !strings.Contains(msg, "file") {
					t.Errorf("dryRun %v: code %q message %q; want INVALID naming the type", dry, code, msg)
				}
			}
		})
	})
}

func TestMutation_RefreshLocation(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServeFiles(t, db, exampleCatalog(t))
		dir := t.TempDir()
		target := MustWriteFile(t, dir, "svc.yaml", yamlDocs(component("keep"), component("change"), component("drop")))
		id := MustRegister(t, srv, target, false).Location.ID

		t.Run("Unchanged", func(t *testing.T) {
			want := refreshStats{Emitted: 4, Unchanged: 4}
			if diff := cmp.Diff(want, MustRefresh(t, srv, id)); diff != "" {
				t.Errorf("stats mismatch (-want +got):\n%s", diff)
			}
		})
		t.Run("Changed", func(t *testing.T) {
			MustWriteFile(t, dir, "svc.yaml", yamlDocs(
				component("keep"),
				component("change", "resource:default/catalog-db"),
				component("added"),
				component("catalog-service"), // emitted by the example catalog
			))
			want := refreshStats{Emitted: 5, Added: 1, Updated: 1, Unchanged: 2, Orphaned: 1, Conflicts: 1, Errors: 1}
			if diff := cmp.Diff(want, MustRefresh(t, srv, id)); diff != "" {
				t.Errorf("stats mismatch (-want +got):\n%s", diff)
			}
			var got struct {
				Location struct {
					Entities struct {
						Edges []struct {
							Node struct {
								Ref    string
								Orphan bool
							}
						}
					}
					Errors []struct{ Code string }
				}
			}
			MustQuery(t, srv, `query($id: ID!) { location(id: $id) { entities { edges { node { ref orphan } } } errors { code } } }`, map[string]any{"id": id}, &got)
			var refs []string
			for _, e := range got.Location.Entities.Edges {
				refs = append(refs, e.Node.Ref+" orphan="+map[bool]string{true: "yes", false: "no"}[e.Node.Orphan])
			}
			want2 := []string{
				"component:default/added orphan=no", "component:default/change orphan=no",
				"component:default/drop orphan=yes", "component:default/keep orphan=no", generatedRef(target) + " orphan=no",
			}
			if diff := cmp.Diff(want2, refs); diff != "" {
				t.Errorf("entities mismatch (-want +got):\n%s", diff)
			}
			if len(got.Location.Errors) != 1 || got.Location.Errors[0].Code != "CONFLICT" {
				t.Errorf("errors %+v; want one CONFLICT", got.Location.Errors)
			}
		})
		t.Run("OrphanComesBack", func(t *testing.T) {
			orphanFilter := map[string]any{"annotations": []map[string]any{{"key": "backstage.io/orphan"}}}
			if got := MustFilter(t, srv, orphanFilter); !cmp.Equal(got, []string{"component:default/drop"}) {
				t.Errorf("orphans by annotation %v; want component:default/drop", got)
			}
			MustWriteFile(t, dir, "svc.yaml", yamlDocs(
				component("keep"), component("change", "resource:default/catalog-db"), component("added"), component("drop"),
			))
			want := refreshStats{Emitted: 5, Updated: 1, Unchanged: 4}
			if diff := cmp.Diff(want, MustRefresh(t, srv, id)); diff != "" {
				t.Errorf("stats mismatch (-want +got):\n%s", diff)
			}
			var e struct {
				Entity struct {
					Orphan bool
					Note   *string
				}
			}
			MustQuery(t, srv, `{ entity(ref: "component:drop") { orphan note: annotation(key: "backstage.io/orphan") } }`, nil, &e)
			if e.Entity.Orphan || e.Entity.Note != nil {
				t.Errorf("orphan %v annotation %v; want neither once the file has it again", e.Entity.Orphan, e.Entity.Note)
			}
			if got := MustFilter(t, srv, orphanFilter); len(got) != 0 {
				t.Errorf("orphans by annotation %v; want none", got)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			for _, bad := range []string{"00000000-0000-0000-0000-000000000000", "nope"} {
				wantCode(t, srv, "NOT_FOUND", refreshMutation, map[string]any{"id": bad})
			}
		})
	})
}

func TestMutation_RefreshEntity(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServeFiles(t, db, exampleCatalog(t))
		dir := t.TempDir()
		const desc = "\nmetadata:\n  name: mutable\n  description: %s\n"
		write := func(description string) string {
			return MustWriteFile(t, dir, "mutable.yaml", strings.Replace(component("mutable"), "\nmetadata:\n  name: mutable\n",
				strings.Replace(desc, "%s", description, 1), 1))
		}
		MustRegister(t, srv, write("first version"), false)
		const q = `mutation($ref: String!, $wait: Boolean) { refreshEntity(ref: $ref, wait: $wait) {
			entity { __typename ref description etag ... on Component { lifecycle } } stats { updated } jobId } }`
		type entity struct {
			Typename    string `json:"__typename"`
			Ref, Etag   string
			Description *string
			Lifecycle   string
		}
		type refreshed struct {
			Entity entity
			Stats  *struct{ Updated int }
			JobID  *string
		}
		var before struct{ RefreshEntity refreshed }
		MustQuery(t, srv, q, map[string]any{"ref": "component:mutable"}, &before)
		if deref(before.RefreshEntity.Entity.Description) != "first version" {
			t.Fatalf("description %v; want the first version", before.RefreshEntity.Entity.Description)
		}

		t.Run("OK", func(t *testing.T) {
			write("second version")
			var got struct{ RefreshEntity refreshed }
			MustQuery(t, srv, q, map[string]any{"ref": "Component:Default/Mutable"}, &got)
			e := got.RefreshEntity.Entity
			if st := got.RefreshEntity.Stats; st == nil || st.Updated != 1 || got.RefreshEntity.JobID != nil {
				t.Errorf("stats %+v, job %v; want one entity updated and no job (waited)", st, got.RefreshEntity.JobID)
			}
			if e.Typename != "Component" || e.Ref != "component:default/mutable" || deref(e.Description) != "second version" || e.Lifecycle != "production" {
				t.Errorf("got %+v; want the second version", e)
			}
			if e.Etag == before.RefreshEntity.Entity.Etag {
				t.Error("etag unchanged after the entity changed")
			}
			var read struct{ Entity struct{ Description *string } }
			MustQuery(t, srv, `{ entity(ref: "component:mutable") { description } }`, nil, &read)
			if deref(read.Entity.Description) != "second version" {
				t.Errorf("stored description %v; want the second version", read.Entity.Description)
			}
		})
		t.Run("Unchanged", func(t *testing.T) {
			var got struct{ RefreshEntity refreshed }
			MustQuery(t, srv, q, map[string]any{"ref": "component:catalog-service"}, &got)
			if got.RefreshEntity.Entity.Ref != "component:default/catalog-service" {
				t.Errorf("got %+v", got.RefreshEntity)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			wantCode(t, srv, "NOT_FOUND", q, map[string]any{"ref": "component:no-such"})
		})
		t.Run("NoWaitWithoutJobs", func(t *testing.T) {
			// This server refreshes in the request: there is no job to return.
			wantCode(t, srv, "UNAVAILABLE", q, map[string]any{"ref": "component:mutable", "wait": false})
		})
		t.Run("ErrInvalidRef", func(t *testing.T) {
			wantCode(t, srv, "INVALID", q, map[string]any{"ref": "component:"})
		})
	})
}

const deleteLocationMutation = `mutation($id: ID!) { deleteLocation(id: $id) { id deletedEntities } }`

func TestMutation_DeleteLocation(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServeFiles(t, db, exampleCatalog(t))
		dir := t.TempDir()
		target := MustWriteFile(t, dir, "three.yaml", yamlDocs(component("one", "resource:catalog-db"), component("two"), component("three")))
		id := MustRegister(t, srv, target, false).Location.ID
		// An orphan of the location goes with it too.
		MustWriteFile(t, dir, "three.yaml", yamlDocs(component("one", "resource:catalog-db"), component("two")))
		if st := MustRefresh(t, srv, id); st.Orphaned != 1 {
			t.Fatalf("orphaned %d; want 1", st.Orphaned)
		}
		if deps := dependentsOfCatalogDB(t, srv); !contains(deps, "component:default/one") {
			t.Fatalf("catalog-db dependents %v; want component:default/one among them", deps)
		}

		t.Run("OK", func(t *testing.T) {
			var got struct {
				DeleteLocation struct {
					ID              string
					DeletedEntities int
				}
			}
			MustQuery(t, srv, deleteLocationMutation, map[string]any{"id": id}, &got)
			if got.DeleteLocation.ID != id || got.DeleteLocation.DeletedEntities != 4 {
				t.Errorf("got %+v; want id %s and 4 entities deleted (3 components and the generated Location)", got.DeleteLocation, id)
			}
			for _, ref := range []string{"component:one", "component:two", "component:three", generatedRef(target)} {
				if got := MustEntityRef(t, srv, ref); got != "" {
					t.Errorf("%s still there", got)
				}
			}
			if deps := dependentsOfCatalogDB(t, srv); contains(deps, "component:default/one") {
				t.Errorf("catalog-db dependents %v still include the deleted component:default/one", deps)
			}
			r := send(t, srv, `query($id: ID!) { location(id: $id) { id } }`, map[string]any{"id": id})
			if string(r.Data) != `{"location":null}` {
				t.Errorf("location(id) after delete: %s", r.Data)
			}
			// The example catalog is untouched.
			if n := MustList(t, srv, nil).TotalCount; n != 44 {
				t.Errorf("%d entities left; want the example catalog's 44", n)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			wantCode(t, srv, "NOT_FOUND", deleteLocationMutation, map[string]any{"id": id})
			wantCode(t, srv, "NOT_FOUND", deleteLocationMutation, map[string]any{"id": "nope"})
		})
	})
}

const deleteEntityMutation = `mutation($ref: String!) { deleteEntity(ref: $ref) { ref } }`

func TestMutation_DeleteEntity(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServeFiles(t, db, exampleCatalog(t))
		dir := t.TempDir()
		target := MustWriteFile(t, dir, "pair.yaml", yamlDocs(component("stays"), component("goes", "resource:default/catalog-db")))
		id := MustRegister(t, srv, target, false).Location.ID

		t.Run("ErrConflict", func(t *testing.T) {
			for _, ref := range []string{"component:catalog-service", "component:goes"} {
				code, msg := MustFail(t, srv, deleteEntityMutation, map[string]any{"ref": ref})
				if code != "CONFLICT" {
					t.Errorf("%s: code %q (message %q); want CONFLICT", ref, code, msg)
				}
				if MustEntityRef(t, srv, ref) == "" {
					t.Errorf("%s was deleted", ref)
				}
			}
		})
		t.Run("Orphan", func(t *testing.T) {
			MustWriteFile(t, dir, "pair.yaml", component("stays"))
			MustRefresh(t, srv, id)
			var e struct{ Entity struct{ Orphan bool } }
			MustQuery(t, srv, `{ entity(ref: "component:goes") { orphan } }`, nil, &e)
			if !e.Entity.Orphan {
				t.Fatal("component:default/goes is not an orphan after it left its file")
			}
			var got struct{ DeleteEntity struct{ Ref string } }
			MustQuery(t, srv, deleteEntityMutation, map[string]any{"ref": "Component:Goes"}, &got)
			if got.DeleteEntity.Ref != "component:default/goes" {
				t.Errorf("deleted %q; want component:default/goes", got.DeleteEntity.Ref)
			}
			if ref := MustEntityRef(t, srv, "component:goes"); ref != "" {
				t.Errorf("%s still there", ref)
			}
			if deps := dependentsOfCatalogDB(t, srv); contains(deps, "component:default/goes") {
				t.Errorf("catalog-db dependents %v still include the deleted orphan", deps)
			}
			if MustEntityRef(t, srv, "component:stays") == "" {
				t.Error("component:default/stays went too")
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			wantCode(t, srv, "NOT_FOUND", deleteEntityMutation, map[string]any{"ref": "component:goes"})
		})
		t.Run("ErrInvalidRef", func(t *testing.T) {
			wantCode(t, srv, "INVALID", deleteEntityMutation, map[string]any{"ref": "goes"})
		})
	})
}

func TestMutation_ValidateEntities(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServe(t, db)
		const q = `mutation($yaml: String!) { validateEntities(yaml: $yaml) {
			valid
			entities { ref entity { ref } relations { type targetRef } errors { code } }
			errors { level code document line entityRef }
		} }`
		type payload struct {
			Valid    bool
			Entities []struct {
				Ref       string
				Entity    *refNode
				Relations []struct{ Type, TargetRef string }
				Errors    []struct{ Code string }
			}
			Errors json.RawMessage
		}
		validate := func(t *testing.T, yaml string) payload {
			var got struct{ ValidateEntities payload }
			MustQuery(t, srv, q, map[string]any{"yaml": yaml}, &got)
			return got.ValidateEntities
		}
		t.Run("Valid", func(t *testing.T) {
			got := validate(t, yamlDocs(component("checked", "resource:catalog-db"), resource("checked-db")))
			if !got.Valid {
				t.Errorf("valid false; errors %s", got.Errors)
			}
			if diff := diffJSON(t, `[]`, got.Errors); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
			var refs []string
			for _, e := range got.Entities {
				refs = append(refs, e.Ref)
				if e.Entity != nil {
					t.Errorf("%s: entity %v; want null, nothing is stored", e.Ref, e.Entity)
				}
			}
			if diff := cmp.Diff([]string{"component:default/checked", "resource:default/checked-db"}, refs); diff != "" {
				t.Errorf("entities mismatch (-want +got):\n%s", diff)
			}
			if len(got.Entities) > 0 && len(got.Entities[0].Relations) != 4 {
				t.Errorf("checked has relations %+v; want ownedBy and dependsOn, both ways", got.Entities[0].Relations)
			}
			// Validating stores nothing.
			if ref := MustEntityRef(t, srv, "component:checked"); ref != "" {
				t.Errorf("validation stored %s", ref)
			}
		})
		t.Run("SyntaxError", func(t *testing.T) {
			// Document 1 starts at line 10; its line 4 (file line 13)
			// opens a flow sequence that never closes.
			yaml := component("fine") + "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  tags: [one, two\n  name: broken\n"
			got := validate(t, yaml)
			if got.Valid {
				t.Error("valid true for broken YAML")
			}
			var errs []struct {
				Level, Code string
				Document    *int
				Line        *int
			}
			if err := json.Unmarshal(got.Errors, &errs); err != nil {
				t.Fatal(err)
			}
			if len(errs) != 1 || errs[0].Code != "SYNTAX" || errs[0].Level != "error" || errs[0].Document == nil || *errs[0].Document != 2 ||
				errs[0].Line == nil || *errs[0].Line < 10 {
				t.Errorf("errors %s; want one SYNTAX error in document 2, at a line of that document", got.Errors)
			}
			if len(got.Entities) != 1 || got.Entities[0].Ref != "component:default/fine" {
				t.Errorf("entities %+v; want the valid first document", got.Entities)
			}
		})
		t.Run("InvalidEntity", func(t *testing.T) {
			// The second document's component has no owner: the error is at
			// the line of its spec, the file's 13th.
			yaml := resource("ok-db") + "---\n" + strings.Replace(component("ownerless"), "  owner: team-data\n", "", 1)
			got := validate(t, yaml)
			if got.Valid {
				t.Error("valid true for a component without an owner")
			}
			want := `[{"level": "error", "code": "INVALID", "document": 2, "line": 13, "entityRef": "component:default/ownerless"}]`
			if diff := diffJSON(t, want, got.Errors); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
		})
		t.Run("NotYAML", func(t *testing.T) {
			got := validate(t, "{{{ not yaml")
			if got.Valid {
				t.Error("valid true for text that is not YAML")
			}
		})
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestMutation_RegisterLocationURL registers a url location, the default
// type and the only one MustServe's server allows, served over HTTP.
func TestMutation_RegisterLocationURL(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServe(t, db)
		files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/repo/catalog-info.yaml" {
				http.NotFound(w, r)
				return
			}
			io.WriteString(w, yamlDocs(component("remote-service", "resource:catalog-db"), resource("remote-db")))
		}))
		t.Cleanup(files.Close)
		target := files.URL + "/repo/catalog-info.yaml"
		const q = `mutation($target: String!, $dryRun: Boolean) { registerLocation(target: $target, dryRun: $dryRun) {
			location { type target } dryRun entities { ref entity { ref } } errors { code }
		} }`
		type payload struct {
			RegisterLocation struct {
				Location *struct{ Type, Target string }
				DryRun   bool
				Entities []struct {
					Ref    string
					Entity *refNode
				}
				Errors []struct{ Code string }
			}
		}
		summary := func(p payload) []string {
			var out []string
			for _, e := range p.RegisterLocation.Entities {
				out = append(out, fmt.Sprintf("%s stored=%v", e.Ref, e.Entity != nil))
			}
			return out
		}
		gen := catalog.Location{Type: "url", Target: target}.EntityRef()

		var dry payload
		MustQuery(t, srv, q, map[string]any{"target": target, "dryRun": true}, &dry)
		want := []string{gen + " stored=false", "component:default/remote-service stored=false", "resource:default/remote-db stored=false"}
		if diff := cmp.Diff(want, summary(dry)); diff != "" || dry.RegisterLocation.Location != nil || len(dry.RegisterLocation.Errors) != 0 {
			t.Errorf("dry run: location %v errors %v; entities mismatch (-want +got):\n%s", dry.RegisterLocation.Location, dry.RegisterLocation.Errors, diff)
		}
		if ref := MustEntityRef(t, srv, "component:remote-service"); ref != "" {
			t.Errorf("dry run stored %s", ref)
		}

		var got payload
		MustQuery(t, srv, q, map[string]any{"target": target}, &got)
		want = []string{"component:default/remote-service stored=true", gen + " stored=true", "resource:default/remote-db stored=true"}
		if diff := cmp.Diff(want, summary(got)); diff != "" {
			t.Errorf("entities mismatch (-want +got):\n%s", diff)
		}
		if l := got.RegisterLocation.Location; l == nil || l.Type != "url" || l.Target != target {
			t.Errorf("location %+v; want url %s", l, target)
		}
		var e struct {
			Entity struct{ Annotation *string }
		}
		MustQuery(t, srv, `{ entity(ref: "component:remote-service") { annotation(key: "backstage.io/managed-by-location") } }`, nil, &e)
		if deref(e.Entity.Annotation) != "url:"+target {
			t.Errorf("managed-by-location %v; want url:%s", e.Entity.Annotation, target)
		}
		wantCode(t, srv, "CONFLICT", q, map[string]any{"target": target})

		// A URL that answers 404 registers, with a READ error to show for it.
		var missing payload
		MustQuery(t, srv, q, map[string]any{"target": files.URL + "/repo/missing.yaml"}, &missing)
		if errs := missing.RegisterLocation.Errors; len(errs) != 1 || errs[0].Code != "READ" {
			t.Errorf("errors %+v; want one READ error", errs)
		}
	})
}
