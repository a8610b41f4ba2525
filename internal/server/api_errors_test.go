package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// TestErrors_Codes checks that every kind of failure reaches the client
// with its code in extensions.code, a message, the path of the field, and
// no SQL: send fails the test on any error message that shows SQL.
func TestErrors_Codes(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServeFiles(t, db, exampleCatalog(t))
		locID := MustLocationID(t, srv, exampleCatalog(t))
		const missingID = "00000000-0000-0000-0000-000000000000"
		tests := []struct {
			name, query string
			vars        map[string]any
			code, path  string
		}{
			{"EntityBadRef", `{ entity(ref: "component:") { ref } }`, nil, "INVALID", "entity"},
			{"EntitiesFirstAndLast", `{ entities(first: 1, last: 1) { totalCount } }`, nil, "INVALID", "entities"},
			{"EntitiesBadCursor", `{ entities(after: "x") { totalCount } }`, nil, "INVALID", "entities"},
			{"EntitiesBadFilter", `{ entities(filter: {relation: [{type: "x", targetRef: "group:a"}]}) { totalCount } }`, nil, "INVALID", "entities"},
			{"EntitiesByRefsBadRef", `{ entitiesByRefs(refs: ["a:"]) { ref } }`, nil, "INVALID", "entitiesByRefs"},
			{"FacetUnknown", `{ entityFacets(facets: ["colour"]) { facet } }`, nil, "INVALID", "entityFacets"},
			{"RelationsUnknownType", `{ entity(ref: "group:team-data") { relations(type: "x") { totalCount } } }`, nil, "INVALID", "entity.relations"},
			{"TraverseDepth", `{ entity(ref: "group:team-data") { traverse(relations: ["parentOf"], maxDepth: 11) { totalCount } } }`, nil, "INVALID", "entity.traverse"},
			{"RegisterNotAbsolute", `mutation { registerLocation(type: "file", target: "x.yaml") { dryRun } }`, nil, "INVALID", "registerLocation"},
			{"RegisterTwice", `mutation($t: String!) { registerLocation(type: "file", target: $t) { dryRun } }`, map[string]any{"t": exampleCatalog(t)}, "CONFLICT", "registerLocation"},
			{"RefreshLocationMissing", `mutation($id: ID!) { refreshLocation(id: $id) { stats { emitted } } }`, map[string]any{"id": missingID}, "NOT_FOUND", "refreshLocation"},
			{"RefreshEntityMissing", `mutation { refreshEntity(ref: "component:no-such") { entity { ref } } }`, nil, "NOT_FOUND", "refreshEntity"},
			{"DeleteLocationMissing", `mutation($id: ID!) { deleteLocation(id: $id) { id } }`, map[string]any{"id": missingID}, "NOT_FOUND", "deleteLocation"},
			{"DeleteEntityMissing", `mutation { deleteEntity(ref: "component:no-such") { ref } }`, nil, "NOT_FOUND", "deleteEntity"},
			{"DeleteEntityEmitted", `mutation { deleteEntity(ref: "component:catalog-service") { ref } }`, nil, "CONFLICT", "deleteEntity"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := send(t, srv, tt.query, tt.vars)
				if len(r.Errors) != 1 {
					t.Fatalf("got %d errors (%+v) and data %s; want one", len(r.Errors), r.Errors, r.Data)
				}
				e := r.Errors[0]
				if code, _ := e.Extensions["code"].(string); code != tt.code {
					t.Errorf("code %q (message %q); want %s", code, e.Message, tt.code)
				}
				if e.Message == "" || e.Message == "internal error" {
					t.Errorf("message %q; want one that says what is wrong", e.Message)
				}
				if got := pathOf(t, srv, tt.query, tt.vars); got != tt.path {
					t.Errorf("path %q; want %q", got, tt.path)
				}
			})
		}
		// The example location is untouched by all of the above.
		if st := MustRefresh(t, srv, locID); st.Emitted != 44 || st.Unchanged != 44 {
			t.Errorf("example location refresh %+v; want 44 entities, all unchanged", st)
		}
	})
}

// pathOf returns the path of a request's first error, joined with dots.
func pathOf(t *testing.T, srv *httptest.Server, query string, vars map[string]any) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post(srv.URL+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Errors []struct{ Path []any }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) == 0 {
		return ""
	}
	parts := make([]string, len(out.Errors[0].Path))
	for i, p := range out.Errors[0].Path {
		parts[i] = fmt.Sprint(p)
	}
	return strings.Join(parts, ".")
}

// TestErrors_Internal checks that a failure of the database reaches the
// client as an INTERNAL error that shows nothing of it.
func TestErrors_Internal(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServe(t, db)
		db.Close()
		for _, q := range []string{
			`{ entities(filter: {kind: ["component"]}) { totalCount edges { node { ref } } } }`,
			`{ entity(ref: "component:catalog-service") { ref } }`,
			`{ locations { id } }`,
			`{ entityFacets(facets: ["kind"]) { facet } }`,
		} {
			r := send(t, srv, q, nil)
			if len(r.Errors) == 0 {
				t.Fatalf("%s: no error from a closed database", q)
			}
			for _, e := range r.Errors {
				if code, _ := e.Extensions["code"].(string); code != "INTERNAL" || e.Message != "internal error" {
					t.Errorf("%s: code %q message %q; want INTERNAL, \"internal error\"", q, code, e.Message)
				}
			}
		}
	})
}
