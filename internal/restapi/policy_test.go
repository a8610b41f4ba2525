package restapi_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// TestReadPolicy checks that a caller who may read only what it owns sees
// nothing else through any endpoint, and an anonymous one nothing at all.
func TestReadPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := mustServe(t, db, ownersRead, mustWriteFile(t, t.TempDir(), "fixture.yaml", fixtureYAML))
		as := []string{principalHeader, "user:default/u group:default/team-a"}
		want := []string{"api:default/gamma", "component:default/alpha"}
		var list []entity
		mustGet(t, srv, "/api/catalog/entities", &list, as...)
		if diff := cmp.Diff(want, refs(list)); diff != "" {
			t.Errorf("streamed (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(graphQLRefs(t, srv, nil, as...), refs(list)); diff != "" {
			t.Errorf("REST and GraphQL differ (-graphql +rest):\n%s", diff)
		}
		nd := mustGet(t, srv, "/api/catalog/entities", nil, append(as, "Accept", "application/x-ndjson")...)
		if n := strings.Count(string(nd.body), "\n"); n != 2 {
			t.Errorf("NDJSON has %d entities; want 2", n)
		}
		mustGet(t, srv, "/api/catalog/entities?limit=10&filter=kind=component", &list, as...)
		if diff := cmp.Diff(want[1:], refs(list)); diff != "" {
			t.Errorf("paged (-want +got):\n%s", diff)
		}
		var p queryPage
		mustGet(t, srv, "/api/catalog/entities/by-query?orderField=metadata.name", &p, as...)
		if diff := cmp.Diff(want, refs(p.Items)); diff != "" || p.TotalItems != 2 {
			t.Errorf("by-query (-want +got):\n%s; total %d", diff, p.TotalItems)
		}
		r := do(t, srv, http.MethodPost, "/api/catalog/entities/by-query", map[string]any{"query": map[string]any{"$all": []any{}}}, as...)
		p = queryPage{}
		if err := json.Unmarshal(r.body, &p); err != nil || r.status != http.StatusOK {
			t.Fatalf("POST by-query: %d %s", r.status, r.body)
		}
		if diff := cmp.Diff(want, refs(p.Items)); diff != "" || p.TotalItems != 2 {
			t.Errorf("POST by-query (-want +got):\n%s; total %d", diff, p.TotalItems)
		}
		r = do(t, srv, http.MethodPost, "/api/catalog/entity-facets", map[string]any{"facets": []string{"kind"}, "query": map[string]any{"kind": map[string]any{"$exists": true}}}, as...)
		if got := strings.TrimSpace(string(r.body)); !strings.Contains(got, `"kind":[{"value":"API","count":1},{"value":"Component","count":1}]`) {
			t.Errorf("POST facets: %s", got)
		}
		r = do(t, srv, http.MethodGet, "/api/catalog/entities/by-name/component/default/beta", nil, as...)
		wantError(t, r, http.StatusNotFound, "NotFoundError", "No entity named 'beta' found, with kind 'component' in namespace 'default'")
		r = do(t, srv, http.MethodPost, "/api/catalog/entities/by-refs", map[string]any{
			"entityRefs": []string{"component:default/beta", "component:default/alpha"}, "fields": []string{"kind"}}, as...)
		if got := strings.TrimSpace(string(r.body)); got != `{"items":[null,{"kind":"Component"}]}` {
			t.Errorf("by-refs: %s", got)
		}
		var facets struct {
			Facets map[string][]struct {
				Value string
				Count int
			}
		}
		mustGet(t, srv, "/api/catalog/entity-facets?facet=kind", &facets, as...)
		if got := fmt.Sprint(facets.Facets["kind"]); got != "[{API 1} {Component 1}]" {
			t.Errorf("facets: %s", got)
		}

		// Anonymous: nothing.
		mustGet(t, srv, "/api/catalog/entities", &list)
		mustGet(t, srv, "/api/catalog/entity-facets?facet=kind", &facets)
		if len(list) != 0 || len(facets.Facets["kind"]) != 0 {
			t.Errorf("anonymous sees %v and facets %v", refs(list), facets.Facets)
		}
	})
}

// TestBadInput checks that bad parameters are refused with HTTP 400 and
// Backstage's error body, showing no SQL.
func TestBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := mustServe(t, db, allowAll, mustWriteFile(t, t.TempDir(), "fixture.yaml", fixtureYAML))
		b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
		for _, path := range []string{
			"/api/catalog/entities?fields=metadata.tags[0]",
			"/api/catalog/entities?filter==x",
			"/api/catalog/entities?limit=-1",
			"/api/catalog/entities?limit=ten",
			"/api/catalog/entities?order=up:metadata.name",
			"/api/catalog/entities?order=asc:kind&order=desc:metadata.name",
			"/api/catalog/entities?after=!!!",
			"/api/catalog/entities/by-query?cursor=!!!",
			"/api/catalog/entities/by-query?cursor=" + b64(`{"orderFieldValues":["a"]}`),
			"/api/catalog/entities/by-query?cursor=" + b64(`{"sql":"1; DROP TABLE entities"}`),
			"/api/catalog/entities/by-query?orderField=metadata.name,up",
			"/api/catalog/entities/by-query?limit=-5",
			"/api/catalog/entities/by-query?totalItems=maybe",
			"/api/catalog/entity-facets",
			"/api/catalog/entity-facets?facet=metadata.tags[0]",
		} {
			t.Run("", func(t *testing.T) {
				wantError(t, do(t, srv, http.MethodGet, path, nil), http.StatusBadRequest, "InputError", "")
			})
		}
		wantError(t, do(t, srv, http.MethodPost, "/api/catalog/entities/by-refs", map[string]any{"entityRefs": "x"}),
			http.StatusBadRequest, "InputError", "")
		wantError(t, do(t, srv, http.MethodGet, "/api/catalog/nothing", nil), http.StatusNotFound, "NotFoundError", "")
	})
}

// TestStream_StatementsPerPage streams 2,500 entities and counts the
// statements: each page of 1,000 is one read of the entities and one of
// their relations, whatever the catalog's size, so the list is read and
// written page by page rather than whole.
func TestStream_StatementsPerPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var docs []string
		for i := range 2500 {
			docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: bulk-%04d}\nspec: {type: service, lifecycle: production, owner: team-%d}\n", i, i%7))
		}
		srv := mustServe(t, db, allowAll, mustWriteFile(t, t.TempDir(), "bulk.yaml", strings.Join(docs, "---\n")))
		before := db.ReadStatements()
		var list []entity
		mustGet(t, srv, "/api/catalog/entities", &list)
		if got := db.ReadStatements() - before; got != 6 {
			t.Errorf("streaming 3 pages ran %d statements; want 6", got)
		}
		if len(list) != 2501 { // and the Location entity of the file
			t.Fatalf("streamed %d entities; want 2501", len(list))
		}
		for i, e := range list[:2500] {
			if e.Metadata.Name != fmt.Sprintf("bulk-%04d", i) || len(e.Relations) != 1 || e.Relations[0].Type != "ownedBy" {
				t.Fatalf("entity %d: %+v", i, e)
			}
		}
	})
}
