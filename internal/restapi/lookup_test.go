package restapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// queryPage is a page of GET /entities/by-query.
type queryPage struct {
	Items      []entity `json:"items"`
	TotalItems int      `json:"totalItems"`
	PageInfo   struct {
		NextCursor *string `json:"nextCursor"`
		PrevCursor *string `json:"prevCursor"`
	} `json:"pageInfo"`
}

func names(es []entity) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Metadata.Name
	}
	return out
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}

// TestByQuery pages forward and back through a query ordered by name.
func TestByQuery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := mustServe(t, db, allowAll, mustWriteFile(t, t.TempDir(), "fixture.yaml", fixtureYAML))
		var p queryPage
		mustGet(t, srv, "/api/catalog/entities/by-query?filter=kind=component&filter=kind=api&filter=kind=resource&orderField=metadata.name,desc&limit=2", &p)
		if p.TotalItems != 4 || p.PageInfo.PrevCursor != nil || p.PageInfo.NextCursor == nil {
			t.Fatalf("first page: total %d, cursors %v %v", p.TotalItems, p.PageInfo.PrevCursor, p.PageInfo.NextCursor)
		}
		got := names(p.Items)
		var p2 queryPage
		mustGet(t, srv, "/api/catalog/entities/by-query?limit=2&cursor="+url.QueryEscape(*p.PageInfo.NextCursor), &p2)
		got = append(got, names(p2.Items)...)
		if diff := cmp.Diff([]string{"gamma", "db", "Beta", "alpha"}, got); diff != "" {
			t.Errorf("order (-want +got):\n%s", diff)
		}
		if p2.TotalItems != 4 || p2.PageInfo.NextCursor != nil || p2.PageInfo.PrevCursor == nil {
			t.Fatalf("last page: total %d, cursors %v %v", p2.TotalItems, p2.PageInfo.PrevCursor, p2.PageInfo.NextCursor)
		}
		var back queryPage
		mustGet(t, srv, "/api/catalog/entities/by-query?limit=2&cursor="+url.QueryEscape(*p2.PageInfo.PrevCursor), &back)
		if diff := cmp.Diff([]string{"gamma", "db"}, names(back.Items)); diff != "" || back.PageInfo.PrevCursor != nil {
			t.Errorf("previous page (-want +got):\n%s (prevCursor %v)", diff, back.PageInfo.PrevCursor)
		}

		// Entities without the order field are left out, of the count too;
		// the default limit is 200; totalItems=exclude gives 0.
		mustGet(t, srv, "/api/catalog/entities/by-query?orderField=spec.lifecycle", &p)
		if p.TotalItems != 3 || len(p.Items) != 3 {
			t.Errorf("ordered by spec.lifecycle: %d items, total %d; want 3", len(p.Items), p.TotalItems)
		}
		mustGet(t, srv, "/api/catalog/entities/by-query?totalItems=exclude", &p)
		if p.TotalItems != 0 || len(p.Items) != 7 { // with the Location entity of the file
			t.Errorf("totalItems=exclude: %d items, total %d; want 7, 0", len(p.Items), p.TotalItems)
		}
		// Without an order field, by metadata.uid, as Backstage, page after page.
		var uids, paged []string
		for _, e := range p.Items {
			uids = append(uids, e.Metadata.UID)
		}
		for next := "/api/catalog/entities/by-query?limit=3"; next != ""; {
			var page queryPage
			mustGet(t, srv, next, &page)
			for _, e := range page.Items {
				paged = append(paged, e.Metadata.UID)
			}
			next = ""
			if c := page.PageInfo.NextCursor; c != nil && len(paged) <= len(uids) {
				next = "/api/catalog/entities/by-query?limit=3&cursor=" + url.QueryEscape(*c)
			}
		}
		if !slices.IsSorted(uids) || !slices.Equal(uids, paged) {
			t.Errorf("without an order field: %v, in pages of 3 %v; want both in uid order", uids, paged)
		}
		// Full text: the order field by default, or the fields named.
		mustGet(t, srv, "/api/catalog/entities/by-query?orderField=metadata.name,asc&fullTextFilterTerm=%20TEAM%20", &p)
		if diff := cmp.Diff([]string{"team-a", "team-b"}, names(p.Items)); diff != "" {
			t.Errorf("full text on the order field (-want +got):\n%s", diff)
		}
		mustGet(t, srv, "/api/catalog/entities/by-query?fullTextFilterTerm=dat&fullTextFilterFields=spec.type,metadata.tags", &p)
		if diff := cmp.Diff([]string{"alpha", "db"}, sorted(names(p.Items))); diff != "" { // in uid order
			t.Errorf("full text on named fields (-want +got):\n%s", diff)
		}
	})
}

// TestLookups covers by-name, by-refs and entity-facets.
func TestLookups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := mustServe(t, db, allowAll, mustWriteFile(t, t.TempDir(), "fixture.yaml", fixtureYAML))
		var e entity
		mustGet(t, srv, "/api/catalog/entities/by-name/COMPONENT/default/BETA", &e)
		if e.Metadata.Name != "Beta" || len(e.Relations) != 1 || e.Relations[0].TargetRef != "group:default/team-b" {
			t.Errorf("by-name: %+v", e)
		}
		r := do(t, srv, http.MethodGet, "/api/catalog/entities/by-name/component/default/nope", nil)
		wantError(t, r, http.StatusNotFound, "NotFoundError", "No entity named 'nope' found, with kind 'component' in namespace 'default'")

		body := map[string]any{
			"entityRefs": []string{"api:default/gamma", "component:default/none", "Component:default/Alpha", "beta", "resource:default/db"},
			"fields":     []string{"kind", "metadata.name"},
		}
		r = do(t, srv, http.MethodPost, "/api/catalog/entities/by-refs?filter=kind=api,kind=component", body)
		var got struct{ Items []map[string]any }
		if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 {
			t.Fatalf("by-refs: %d %v %s", r.status, err, r.body)
		}
		want := []map[string]any{
			{"kind": "API", "metadata": map[string]any{"name": "gamma"}},
			nil,
			{"kind": "Component", "metadata": map[string]any{"name": "alpha"}},
			nil, // not a full ref
			nil, // left out by the filter
		}
		if diff := cmp.Diff(want, got.Items); diff != "" {
			t.Errorf("by-refs (-want +got):\n%s", diff)
		}

		var facets struct {
			Facets map[string][]struct {
				Value string
				Count int
			}
		}
		mustGet(t, srv, "/api/catalog/entity-facets?facet=kind&facet=spec.type&facet=relations.ownedBy&facet=metadata.tags&filter=kind=component,kind=api", &facets)
		type vc = struct {
			Value string
			Count int
		}
		wantFacets := map[string][]vc{
			"kind":              {{"API", 1}, {"Component", 2}},
			"spec.type":         {{"openapi", 1}, {"service", 1}, {"website", 1}},
			"relations.ownedBy": {{"group:default/team-a", 2}, {"group:default/team-b", 1}},
			"metadata.tags":     {{"data", 1}, {"go", 1}, {"java", 1}},
		}
		if diff := cmp.Diff(wantFacets, facets.Facets); diff != "" {
			t.Errorf("facets (-want +got):\n%s", diff)
		}
	})
}

// wantError checks a response against Backstage's error shape.
func wantError(t *testing.T, r response, status int, name, message string) {
	t.Helper()
	var got struct {
		Error struct {
			Name, Message string
		}
		Request struct {
			Method, URL string
		}
		Response struct {
			StatusCode int
		}
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if r.status != status || got.Response.StatusCode != status || got.Error.Name != name || got.Request.Method == "" || got.Request.URL == "" {
		t.Errorf("status %d, body %s; want %d %s", r.status, r.body, status, name)
	}
	if message != "" && got.Error.Message != message {
		t.Errorf("message %q; want %q", got.Error.Message, message)
	}
	if sqlText.Match(r.body) {
		t.Errorf("error shows SQL: %s", r.body)
	}
}

// TestDocument_SameAsREST finds GraphQL's Entity.document of each entity
// byte for byte what the REST API serves for it.
func TestDocument_SameAsREST(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := mustServe(t, db, allowAll, mustWriteFile(t, t.TempDir(), "fixture.yaml", fixtureYAML))
		r := do(t, srv, http.MethodPost, "/graphql", map[string]any{"query": `{ entities(first: 100) { edges { node { ref document } } } }`})
		var got struct {
			Data struct {
				Entities struct {
					Edges []struct {
						Node struct {
							Ref      string
							Document json.RawMessage
						}
					}
				}
			}
		}
		if err := json.Unmarshal(r.body, &got); err != nil || len(got.Data.Entities.Edges) != 7 {
			t.Fatalf("graphql: %v %s", err, r.body)
		}
		for _, e := range got.Data.Entities.Edges {
			kind, rest, _ := strings.Cut(e.Node.Ref, ":")
			ns, name, _ := strings.Cut(rest, "/")
			rest2 := mustGet(t, srv, "/api/catalog/entities/by-name/"+kind+"/"+ns+"/"+name, nil)
			if string(e.Node.Document) != strings.TrimSpace(string(rest2.body)) {
				t.Errorf("%s: document\n%s\nREST\n%s", e.Node.Ref, e.Node.Document, rest2.body)
			}
			if !strings.Contains(string(e.Node.Document), `"relations":[`) {
				t.Errorf("%s: no relations in %s", e.Node.Ref, e.Node.Document)
			}
		}
	})
}
