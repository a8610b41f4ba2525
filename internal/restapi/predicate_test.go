package restapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// TestPredicate checks the predicate query of POST bodies
// (backstage-spec.md §2.9) through POST /entities/by-query, and that
// POST /entity-facets and POST /entities/by-refs apply it too.
func TestPredicate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := mustServe(t, db, allowAll, mustWriteFile(t, t.TempDir(), "fixture.yaml", fixtureYAML))
		const (
			alpha = "component:default/alpha"
			beta  = "component:default/beta"
			gamma = "api:default/gamma"
			dbRes = "resource:default/db"
			teamA = "group:default/team-a"
			teamB = "group:default/team-b"
			loc   = "location:default/generated-"
		)
		cases := []struct {
			query string
			want  []string
		}{
			{`{"kind": "component"}`, []string{alpha, beta}},
			{`{"KIND": "Component", "spec.type": "service"}`, []string{alpha}}, // keys AND-ed, any case
			{`{"$all": [{"kind": "component"}, {"spec.lifecycle": "production"}]}`, []string{alpha}},
			{`{"$any": [{"kind": "api"}, {"spec.type": "website"}]}`, []string{beta, gamma}},
			{`{"$all": [{"kind": {"$in": ["component", "resource"]}}, {"$not": {"spec.type": "service"}}]}`, []string{beta, dbRes}},
			{`{"kind": {"$in": ["api", "resource"]}}`, []string{gamma, dbRes}},
			{`{"spec.lifecycle": {"$exists": true}}`, []string{alpha, beta, gamma}},
			{`{"$all": [{"kind": {"$in": ["component", "api", "resource"]}}, {"spec.lifecycle": {"$exists": false}}]}`, []string{dbRes}},
			{`{"metadata.name": {"$hasPrefix": "GA"}}`, []string{gamma}},
			{`{"metadata.name": {"$hasPrefix": "%"}}`, nil}, // LIKE's wildcards are literal
			{`{"metadata.tags": {"$contains": "java"}}`, []string{alpha}},
			{`{"relations": {"$contains": {"type": "ownedBy", "targetRef": "group:default/team-a"}}}`, []string{alpha, gamma}},
			{`{"relations": {"$contains": {"type": "OWNEDBY", "targetRef": {"$in": ["group:default/team-b"]}}}, "kind": "resource"}`, []string{dbRes}},
			{`{"relations": {"$contains": {"type": "dependencyOf"}}}`, []string{dbRes}},
			{`{"$all": []}`, []string{alpha, beta, gamma, dbRes, teamA, teamB, loc}},
			{`{"$any": []}`, nil},
			{`{"kind": {"$in": []}}`, nil},
			{`{"$all": [{"$not": {"$any": []}}, {"kind": "group"}]}`, []string{teamA, teamB}},
		}
		for _, c := range cases {
			var p queryPage
			r := do(t, srv, http.MethodPost, "/api/catalog/entities/by-query", map[string]any{"query": json.RawMessage(c.query)})
			if r.status != http.StatusOK {
				t.Errorf("%s: status %d: %s", c.query, r.status, r.body)
				continue
			}
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			got := refs(p.Items)
			for i, ref := range got { // the Location entity's name is a hash
				if strings.HasPrefix(ref, loc) {
					got[i] = loc
				}
			}
			want := append([]string{}, c.want...)
			slices.Sort(want)
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" || p.TotalItems != len(want) {
				t.Errorf("%s (-want +got):\n%s (totalItems %d)", c.query, diff, p.TotalItems)
			}
		}

		// Paging carries the query in the cursor; order, limit and offset apply.
		var p queryPage
		mustPost(t, srv, "/api/catalog/entities/by-query", map[string]any{
			"query": map[string]any{"kind": map[string]any{"$in": []string{"component", "api", "resource"}}}, "limit": 2,
			"orderBy": []map[string]string{{"field": "metadata.name", "order": "desc"}}}, &p)
		got := names(p.Items)
		if p.PageInfo.NextCursor == nil {
			t.Fatalf("first page %v: no next cursor", got)
		}
		var p2 queryPage
		mustPost(t, srv, "/api/catalog/entities/by-query", map[string]any{"cursor": *p.PageInfo.NextCursor, "limit": 2}, &p2)
		got = append(got, names(p2.Items)...)
		if diff := cmp.Diff([]string{"gamma", "db", "Beta", "alpha"}, got); diff != "" || p2.TotalItems != 4 {
			t.Errorf("pages (-want +got):\n%s (total %d)", diff, p2.TotalItems)
		}
		p = queryPage{}
		mustPost(t, srv, "/api/catalog/entities/by-query", map[string]any{
			"query": map[string]any{"kind": "component"}, "offset": 1, "fields": []string{"metadata.name"},
			"orderBy": []map[string]string{{"field": "metadata.name"}}}, &p)
		if diff := cmp.Diff([]string{"Beta"}, names(p.Items)); diff != "" || p.Items[0].Kind != "" {
			t.Errorf("offset 1, fields metadata.name (-want +got):\n%s (kind %q)", diff, p.Items[0].Kind)
		}

		var facets struct {
			Facets map[string][]struct {
				Value string
				Count int
			}
		}
		mustPost(t, srv, "/api/catalog/entity-facets", map[string]any{"facets": []string{"spec.type"}, "query": map[string]any{"kind": "component"}}, &facets)
		if diff := cmp.Diff(`[{service 1} {website 1}]`, fmt.Sprint(facets.Facets["spec.type"])); diff != "" {
			t.Errorf("facets (-want +got):\n%s", diff)
		}
		var byRefs struct{ Items []*entity }
		mustPost(t, srv, "/api/catalog/entities/by-refs", map[string]any{"entityRefs": []string{alpha, gamma}, "query": map[string]any{"kind": "api"}}, &byRefs)
		if len(byRefs.Items) != 2 || byRefs.Items[0] != nil || byRefs.Items[1] == nil || byRefs.Items[1].ref() != gamma {
			t.Errorf("by-refs with a query: %+v; want null, then gamma", byRefs.Items)
		}
	})
}

// TestPredicate_BadInput answers each malformed query with a 400 that says
// what is wrong, and keeps serving.
func TestPredicate_BadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := mustServe(t, db, allowAll, mustWriteFile(t, t.TempDir(), "fixture.yaml", fixtureYAML))
		deep := strings.Repeat(`{"$not":`, 40) + `{"kind":"api"}` + strings.Repeat(`}`, 40)
		wide := `{"$any":[` + strings.TrimSuffix(strings.Repeat(`{"kind":"api"},`, 1001), ",") + `]}`
		for _, c := range []struct{ body, want string }{
			{`{"query": "component"}`, "top-level primitive values are not supported"},
			{`{"query": 3}`, "top-level primitive"},
			{`{"query": [1]}`, "expected an object"},
			{`{"query": {"kind": {"$regex": "a"}}}`, `field "kind"`},
			{`{"query": {"kind": {"$in": "api"}}}`, `field "kind"`},
			{`{"query": {"kind": {"$in": [{"a": 1}]}}}`, `field "kind"`},
			{`{"query": {"kind": null}}`, `field "kind"`},
			{`{"query": {"$all": {"kind": "api"}}}`, "$all must be alone in its object and hold an array"},
			{`{"query": {"$any": [], "kind": "api"}}`, "$any must be alone"},
			{`{"query": {"$not": {"kind": "api"}, "kind": "api"}}`, "$not must be alone"},
			{`{"query": {"$nor": []}}`, "unknown operator $nor"},
			{`{"query": {"relations": {"$contains": {"targetRef": "x"}}}}`, "$contains on relations takes"},
			{`{"query": {"relations": {"$contains": {"type": "ownedBy", "targetRef": 3}}}}`, "targetRef takes"},
			{`{"query": {"metadata.tags[0]": "a"}}`, "is not a field"},
			{`{"query": ` + deep + `}`, "nested deeper than 32 levels"},
			{`{"query": ` + wide + `}`, "more than 1000 expressions"},
			{`{"query": {"kind": "api"}, "limit": -1}`, "must not be negative"},
			{`{"query": {"kind": "api"}, "orderBy": [{"field": "metadata.name", "order": "up"}]}`, "Invalid orderBy"},
			{`{"query": {"kind": "api"}, "totalItems": "some"}`, "Invalid totalItems"},
			{`{"query": {"kind": "api"}, "filter": "kind=api"}`, "unknown field"},
			{`{"cursor": "not-a-cursor"}`, "Malformed cursor"},
			{`not json`, "Invalid request body"},
		} {
			r := do(t, srv, http.MethodPost, "/api/catalog/entities/by-query", []byte(c.body))
			var e struct {
				Error struct{ Name, Message string }
			}
			json.Unmarshal(r.body, &e)
			if r.status != http.StatusBadRequest || e.Error.Name != "InputError" || !strings.Contains(e.Error.Message, c.want) {
				t.Errorf("%.80s: status %d, %s; want 400 InputError saying %q", c.body, r.status, r.body, c.want)
			}
		}
		r := do(t, srv, http.MethodPost, "/api/catalog/entity-facets", map[string]any{"query": map[string]any{"kind": "api"}})
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "Missing facet") {
			t.Errorf("facets without facets: %d %s", r.status, r.body)
		}
	})
}
