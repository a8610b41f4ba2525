package restapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// fixtureYAML is a small catalog whose fields the filter cases tell apart.
const fixtureYAML = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-b}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: alpha
  tags: [java, data]
  labels: {env: prod}
  annotations:
    example.com/Tier: Gold
    backstage.io/techdocs-ref: dir:.
spec: {type: service, lifecycle: production, owner: team-a, dependsOn: [resource:db]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: Beta, tags: [go]}
spec: {type: website, lifecycle: experimental, owner: team-b}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: gamma}
spec: {type: openapi, lifecycle: production, owner: team-a, definition: "openapi: 3.0.0"}
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: {name: db}
spec: {type: database, owner: team-b}
`

// TestFilter checks Backstage's filter semantics (backstage-spec.md §2.8)
// on the streamed list and the paged one alike.
func TestFilter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := mustServe(t, db, allowAll, mustWriteFile(t, t.TempDir(), "fixture.yaml", fixtureYAML))
		const (
			alpha = "component:default/alpha"
			beta  = "component:default/beta"
			gamma = "api:default/gamma"
			dbRes = "resource:default/db"
			teamA = "group:default/team-a"
			teamB = "group:default/team-b"
		)
		cases := []struct {
			filters []string
			want    []string
		}{
			{[]string{"kind=component"}, []string{alpha, beta}},
			{[]string{"kind=Component,spec.type=service"}, []string{alpha}},                     // AND within a set
			{[]string{"kind=api", "spec.type=website"}, []string{gamma, beta}},                  // sets OR-ed
			{[]string{"kind=api,kind=resource"}, []string{gamma, dbRes}},                        // a repeated key OR-ed
			{[]string{"spec.lifecycle"}, []string{alpha, beta, gamma}},                          // exists
			{[]string{"SPEC.TYPE=SERVICE"}, []string{alpha}},                                    // case-insensitive
			{[]string{"metadata.name=beta"}, []string{beta}},                                    // the name is Beta
			{[]string{"metadata.tags=java"}, []string{alpha}},                                   // an array's element
			{[]string{"metadata.tags.go"}, []string{beta}},                                      // …or its key
			{[]string{"metadata.tags.java=true,metadata.tags.data"}, []string{alpha}},           // both tags
			{[]string{"metadata.annotations.example.com/tier=gold"}, []string{alpha}},           // dots and slashes
			{[]string{"metadata.annotations.backstage.io/techdocs-ref"}, []string{alpha}},       // exists
			{[]string{"metadata.labels.env=prod"}, []string{alpha}},                             // labels
			{[]string{"relations.ownedBy=group:default/team-a"}, []string{alpha, gamma}},        // relations
			{[]string{"relations.ownedby=GROUP:default/team-b,kind=resource"}, []string{dbRes}}, // type and target in any case
			{[]string{"relations.dependencyOf"}, []string{dbRes}},                               // a relation's other direction
			{[]string{"spec.owner=team-a"}, []string{alpha, gamma}},                             // spec as written
			{[]string{"spec.dependsOn=resource:db"}, []string{alpha}},
			{[]string{"metadata.namespace=default,kind=group"}, []string{teamA, teamB}},
			{[]string{"spec.nothing"}, nil},
			{[]string{"relations"}, nil},    // not a search row in Backstage
			{[]string{"status.items"}, nil}, // nor status
		}
		for _, c := range cases {
			q := url.Values{"filter": c.filters}
			var streamed, paged []entity
			mustGet(t, srv, "/api/catalog/entities?"+q.Encode(), &streamed)
			q.Set("limit", "100")
			mustGet(t, srv, "/api/catalog/entities?"+q.Encode(), &paged)
			want := append([]string(nil), c.want...)
			slices.Sort(want)
			if diff := cmp.Diff(want, refs(streamed), cmpEmpty); diff != "" {
				t.Errorf("filter %q streamed (-want +got):\n%s", c.filters, diff)
			}
			if diff := cmp.Diff(want, refs(paged), cmpEmpty); diff != "" {
				t.Errorf("filter %q paged (-want +got):\n%s", c.filters, diff)
			}
		}
		// The same filter through GraphQL selects the same entities.
		var rest []entity
		mustGet(t, srv, "/api/catalog/entities?filter=kind=component,spec.lifecycle=production", &rest)
		gql := graphQLRefs(t, srv, map[string]any{"kind": []string{"Component"}, "lifecycle": []string{"production"}})
		if diff := cmp.Diff(gql, refs(rest)); diff != "" {
			t.Errorf("REST and GraphQL differ (-graphql +rest):\n%s", diff)
		}
	})
}

var cmpEmpty = cmp.Transformer("nilToEmpty", func(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
})

// TestEntities_WholeAndStreamed compares the streamed list of the example
// catalog, as a JSON array and as NDJSON, with GraphQL: the same entities,
// each its raw document with its relations.
func TestEntities_WholeAndStreamed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := mustServe(t, db, allowAll, exampleCatalog(t))
		var list []entity
		r := mustGet(t, srv, "/api/catalog/entities", &list)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q", ct)
		}
		gql := graphQLRefs(t, srv, nil)
		if diff := cmp.Diff(gql, refs(list)); diff != "" {
			t.Errorf("REST and GraphQL differ (-graphql +rest):\n%s", diff)
		}
		nd := mustGet(t, srv, "/api/catalog/entities", nil, "Accept", "application/x-ndjson")
		if ct := nd.header.Get("Content-Type"); ct != "application/x-ndjson" {
			t.Errorf("NDJSON Content-Type %q", ct)
		}
		lines := strings.Split(strings.TrimSuffix(string(nd.body), "\n"), "\n")
		if len(lines) != len(list) {
			t.Fatalf("NDJSON has %d lines; the array %d entities", len(lines), len(list))
		}
		for i, line := range lines {
			var e entity
			if err := json.Unmarshal([]byte(line), &e); err != nil || e.ref() != list[i].ref() {
				t.Errorf("line %d: %v %q; want %s", i, err, line, list[i].ref())
			}
		}

		// One entity: its raw document and relations, as GraphQL has them.
		const ref = "component:default/catalog-service"
		body := map[string]any{"query": `{ entity(ref: "` + ref + `") { raw relations(first: 100) { edges { node { type targetRef } } } } }`}
		var gq struct {
			Data struct {
				Entity struct {
					Raw       map[string]any
					Relations struct {
						Edges []struct {
							Node struct {
								Type      string `json:"type"`
								TargetRef string `json:"targetRef"`
							}
						}
					}
				}
			}
		}
		if err := json.Unmarshal(do(t, srv, http.MethodPost, "/graphql", body).body, &gq); err != nil {
			t.Fatal(err)
		}
		want := gq.Data.Entity.Raw
		var rels []any
		for _, e := range gq.Data.Entity.Relations.Edges {
			rels = append(rels, map[string]any{"type": e.Node.Type, "targetRef": e.Node.TargetRef})
		}
		want["relations"] = rels
		var got map[string]any
		mustGet(t, srv, "/api/catalog/entities/by-name/Component/default/catalog-service", &got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("by-name entity differs from GraphQL's raw + relations (-graphql +rest):\n%s", diff)
		}
		var streamed map[string]any
		for i, e := range list {
			if e.ref() == ref {
				var all []map[string]any
				json.Unmarshal(mustGet(t, srv, "/api/catalog/entities", nil).body, &all)
				streamed = all[i]
			}
		}
		if diff := cmp.Diff(want, streamed); diff != "" {
			t.Errorf("streamed entity differs (-graphql +rest):\n%s", diff)
		}
	})
}

// TestEntities_Paged follows the link header through a list two at a
// time, and checks fields, order and offset.
func TestEntities_Paged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := mustServe(t, db, allowAll, exampleCatalog(t))
		var all []entity
		mustGet(t, srv, "/api/catalog/entities?filter=kind=component", &all)
		var seen []string
		next := "/entities?filter=kind%3Dcomponent&limit=2"
		link := regexp.MustCompile(`^<(/entities\?[^>]*)>; rel="next"$`)
		for pages := 0; next != ""; pages++ {
			if pages > len(all) {
				t.Fatal("the links do not end")
			}
			var page []entity
			r := mustGet(t, srv, "/api/catalog"+next, &page)
			if len(page) > 2 {
				t.Errorf("page of %d entities; limit 2", len(page))
			}
			for _, e := range page {
				seen = append(seen, e.ref())
			}
			next = ""
			if h := r.header.Get("Link"); h != "" {
				m := link.FindStringSubmatch(h)
				if m == nil {
					t.Fatalf("link header %q", h)
				}
				next = m[1]
			}
		}
		if diff := cmp.Diff(refs(all), seen); diff != "" {
			t.Errorf("pages (-all +paged):\n%s", diff)
		}

		var named []map[string]any
		mustGet(t, srv, "/api/catalog/entities?filter=kind=component&fields=metadata.name,metadata.annotations.backstage.io/techdocs-ref&order=desc:metadata.name&offset=1&limit=2", &named)
		if len(named) != 2 {
			t.Fatalf("got %d entities; want 2", len(named))
		}
		for _, e := range named {
			md := e["metadata"].(map[string]any)
			if len(e) != 1 || md["name"] == nil || len(md) > 2 {
				t.Errorf("fields not pruned: %v", e)
			}
		}
		names := []string{all[len(all)-2].Metadata.Name, all[len(all)-3].Metadata.Name}
		if got := []any{named[0]["metadata"].(map[string]any)["name"], named[1]["metadata"].(map[string]any)["name"]}; fmt.Sprint(got) != fmt.Sprint(names) {
			t.Errorf("desc:metadata.name offset 1 gave %v; want %v", got, names)
		}

		// Streamed, the list keeps the order asked for; entities without the
		// field are left out, as in a page.
		for _, q := range []string{"order=desc:metadata.name", "order=asc:spec.lifecycle"} {
			var paged, streamed []entity
			mustGet(t, srv, "/api/catalog/entities?"+q+"&limit=1000", &paged)
			mustGet(t, srv, "/api/catalog/entities?"+q, &streamed)
			if len(streamed) == 0 || len(streamed) != len(paged) {
				t.Fatalf("%s: streamed %d entities, paged %d", q, len(streamed), len(paged))
			}
			for i := range paged {
				if streamed[i].ref() != paged[i].ref() {
					t.Fatalf("%s: entity %d streamed is %s, paged %s", q, i, streamed[i].ref(), paged[i].ref())
				}
			}
		}
		var byName []entity
		mustGet(t, srv, "/api/catalog/entities?order=desc:metadata.name", &byName)
		if !slices.IsSortedFunc(byName, func(a, b entity) int {
			return strings.Compare(strings.ToLower(b.Metadata.Name), strings.ToLower(a.Metadata.Name))
		}) {
			t.Errorf("streamed order=desc:metadata.name is not in that order")
		}
	})
}
