package server_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// cycleYAML is a dependency graph with cycles: cyc-a depends on cyc-b,
// cyc-b on cyc-c and cyc-c on cyc-a; cyc-db is depended on by cyc-a,
// cyc-c and cyc-d; cyc-e depends on cyc-d and cyc-b.
var cycleYAML = yamlDocs(
	component("cyc-a", "component:cyc-b", "resource:cyc-db"),
	component("cyc-b", "component:cyc-c"),
	component("cyc-c", "component:cyc-a", "resource:cyc-db"),
	component("cyc-d", "resource:cyc-db"),
	component("cyc-e", "component:cyc-d", "component:cyc-b"),
	resource("cyc-db"),
)

const traverseQuery = `query($ref: String!, $relations: [String!]!, $direction: Direction, $maxDepth: Int, $kinds: [String!], $first: Int, $after: String) {
	entity(ref: $ref) {
		traverse(relations: $relations, direction: $direction, maxDepth: $maxDepth, kinds: $kinds, first: $first, after: $after) {
			totalCount
			edges { cursor depth path node { __typename ref } }
			pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		}
	}
}`

type traversalPage struct {
	Entity struct {
		Traverse struct {
			TotalCount int
			Edges      []struct {
				Cursor string
				Depth  int
				Path   []string
				Node   struct {
					Typename string `json:"__typename"`
					Ref      string
				}
			}
			PageInfo struct {
				HasNextPage, HasPreviousPage bool
				StartCursor, EndCursor       *string
			}
		}
	}
}

// shortRef leaves the default namespace out of a ref.
func shortRef(ref string) string {
	kind, rest, _ := strings.Cut(ref, ":")
	return kind + ":" + strings.TrimPrefix(rest, "default/")
}

// hits returns the entities a traversal reached, each as "ref depth path",
// with the path's refs joined by ">".
func (p traversalPage) hits() []string {
	var out []string
	for _, e := range p.Entity.Traverse.Edges {
		path := make([]string, len(e.Path))
		for i, r := range e.Path {
			path[i] = shortRef(r)
		}
		out = append(out, shortRef(e.Node.Ref)+" "+strconv.Itoa(e.Depth)+" "+strings.Join(path, ">"))
	}
	return out
}

func TestQuery_Traverse(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServeFiles(t, db, exampleCatalog(t), MustWriteFile(t, t.TempDir(), "cycle.yaml", cycleYAML))
		tests := []struct {
			name string
			vars map[string]any
			want []string // "ref depth path", ordered by depth then ref
		}{
			{
				name: "Outgoing",
				vars: map[string]any{"ref": "component:cyc-a", "relations": []string{"dependsOn"}},
				want: []string{"component:cyc-b 1 component:cyc-b", "resource:cyc-db 1 resource:cyc-db", "component:cyc-c 2 component:cyc-b>component:cyc-c"},
			},
			{
				name: "OutgoingDeeper",
				vars: map[string]any{"ref": "component:cyc-e", "relations": []string{"DEPENDSON"}, "direction": "OUTGOING"},
				want: []string{
					"component:cyc-b 1 component:cyc-b", "component:cyc-d 1 component:cyc-d",
					"component:cyc-c 2 component:cyc-b>component:cyc-c", "resource:cyc-db 2 component:cyc-d>resource:cyc-db",
					"component:cyc-a 3 component:cyc-b>component:cyc-c>component:cyc-a",
				},
			},
			{
				name: "CycleEndsAtMaxDepth10",
				vars: map[string]any{"ref": "component:cyc-b", "relations": []string{"dependsOn"}, "maxDepth": 10},
				want: []string{
					"component:cyc-c 1 component:cyc-c", "component:cyc-a 2 component:cyc-c>component:cyc-a",
					"resource:cyc-db 2 component:cyc-c>resource:cyc-db",
				},
			},
			{
				name: "MaxDepth1",
				vars: map[string]any{"ref": "component:cyc-e", "relations": []string{"dependsOn"}, "maxDepth": 1},
				want: []string{"component:cyc-b 1 component:cyc-b", "component:cyc-d 1 component:cyc-d"},
			},
			{
				name: "MaxDepth2",
				vars: map[string]any{"ref": "component:cyc-e", "relations": []string{"dependsOn"}, "maxDepth": 2},
				want: []string{
					"component:cyc-b 1 component:cyc-b", "component:cyc-d 1 component:cyc-d",
					"component:cyc-c 2 component:cyc-b>component:cyc-c", "resource:cyc-db 2 component:cyc-d>resource:cyc-db",
				},
			},
			{
				name: "Incoming",
				vars: map[string]any{"ref": "resource:cyc-db", "relations": []string{"dependsOn"}, "direction": "INCOMING"},
				want: []string{
					"component:cyc-a 1 component:cyc-a", "component:cyc-c 1 component:cyc-c", "component:cyc-d 1 component:cyc-d",
					"component:cyc-b 2 component:cyc-c>component:cyc-b", "component:cyc-e 2 component:cyc-d>component:cyc-e",
				},
			},
			{
				name: "IncomingLeaf",
				vars: map[string]any{"ref": "component:cyc-e", "relations": []string{"dependsOn"}, "direction": "INCOMING"},
				want: nil,
			},
			{
				name: "KindsPassThrough",
				vars: map[string]any{"ref": "component:cyc-e", "relations": []string{"dependsOn"}, "kinds": []string{"RESOURCE"}},
				want: []string{"resource:cyc-db 2 component:cyc-d>resource:cyc-db"},
			},
			{
				name: "BlastRadius",
				vars: map[string]any{"ref": "resource:catalog-db", "relations": []string{"dependsOn"}, "direction": "INCOMING"},
				want: []string{
					"component:catalog-ingest-worker 1 component:catalog-ingest-worker",
					"component:catalog-service 1 component:catalog-service",
					"resource:catalog-db-replica 1 resource:catalog-db-replica",
					"component:label-portal 2 component:catalog-ingest-worker>component:label-portal",
					"component:playback-service 2 component:catalog-service>component:playback-service",
					"component:recommendations-service 2 component:catalog-service>component:recommendations-service",
					// Through catalog-service and catalog-db-replica: the
					// smaller ref makes the path.
					"component:search-service 2 component:catalog-service>component:search-service",
					"component:top-charts-legacy 2 component:catalog-service>component:top-charts-legacy",
					"component:web-player 3 component:catalog-service>component:playback-service>component:web-player",
				},
			},
			{
				name: "GroupTreeMembers",
				vars: map[string]any{"ref": "group:larkspur-records", "relations": []string{"parentOf", "hasMember"}, "kinds": []string{"user"}},
				want: []string{
					"user:ada.okafor 2 group:engineering>user:ada.okafor",
					"user:noor.haddad 2 group:product>user:noor.haddad",
					"user:jane.doe 3 group:engineering>group:platform-admins>user:jane.doe",
					"user:mei.tanaka 3 group:product>group:team-discovery>user:mei.tanaka",
					"user:priya.nair 3 group:engineering>group:team-data>user:priya.nair",
					"user:ravi.menon 3 group:engineering>group:platform-admins>user:ravi.menon",
					"user:sofia.lindqvist 3 group:engineering>group:team-playback>user:sofia.lindqvist",
					"user:tom.becker 3 group:engineering>group:team-playback>user:tom.becker",
				},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var p traversalPage
				MustQuery(t, srv, traverseQuery, tt.vars, &p)
				got := p.hits()
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s", diff)
				}
				if p.Entity.Traverse.TotalCount != len(tt.want) {
					t.Errorf("totalCount %d; want %d", p.Entity.Traverse.TotalCount, len(tt.want))
				}
				seen := map[string]bool{}
				for _, e := range p.Entity.Traverse.Edges {
					if seen[e.Node.Ref] {
						t.Errorf("%s reached twice", e.Node.Ref)
					}
					seen[e.Node.Ref] = true
					if len(e.Path) != e.Depth || e.Path[len(e.Path)-1] != e.Node.Ref {
						t.Errorf("%s: path %v at depth %d; want depth refs ending with the entity", e.Node.Ref, e.Path, e.Depth)
					}
				}
			})
		}

		t.Run("BlastRadiusTypes", func(t *testing.T) {
			var p traversalPage
			MustQuery(t, srv, traverseQuery, map[string]any{"ref": "resource:catalog-db", "relations": []string{"dependsOn"}, "direction": "INCOMING", "maxDepth": 1}, &p)
			var got []string
			for _, e := range p.Entity.Traverse.Edges {
				got = append(got, e.Node.Typename+" "+e.Node.Ref)
			}
			want := []string{"Component component:default/catalog-ingest-worker", "Component component:default/catalog-service", "Resource resource:default/catalog-db-replica"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})

		t.Run("Pages", func(t *testing.T) {
			vars := map[string]any{"ref": "resource:catalog-db", "relations": []string{"dependsOn"}, "direction": "INCOMING", "first": 4}
			var all traversalPage
			MustQuery(t, srv, traverseQuery, map[string]any{"ref": "resource:catalog-db", "relations": []string{"dependsOn"}, "direction": "INCOMING"}, &all)
			var got []string
			for pages := 0; ; pages++ {
				var p traversalPage
				MustQuery(t, srv, traverseQuery, vars, &p)
				tr := p.Entity.Traverse
				if tr.TotalCount != 9 || len(tr.Edges) > 4 || tr.PageInfo.HasPreviousPage != (pages > 0) {
					t.Errorf("page %d: totalCount %d, %d edges, hasPreviousPage %v", pages, tr.TotalCount, len(tr.Edges), tr.PageInfo.HasPreviousPage)
				}
				got = append(got, p.hits()...)
				if !tr.PageInfo.HasNextPage {
					break
				}
				if pages > 9 {
					t.Fatal("pagination does not end")
				}
				vars["after"] = *tr.PageInfo.EndCursor
			}
			if diff := cmp.Diff(all.hits(), got); diff != "" {
				t.Errorf("pages mismatch (-one page +pages of 4):\n%s", diff)
			}
		})

		t.Run("Errors", func(t *testing.T) {
			var p traversalPage
			MustQuery(t, srv, traverseQuery, map[string]any{"ref": "resource:cyc-db", "relations": []string{"dependsOn"}, "direction": "INCOMING", "first": 1}, &p)
			cursor := *p.Entity.Traverse.PageInfo.EndCursor
			base := map[string]any{"ref": "resource:cyc-db", "relations": []string{"dependsOn"}, "direction": "INCOMING"}
			with := func(k string, v any) map[string]any {
				m := map[string]any{}
				for key, x := range base {
					m[key] = x
				}
				m[k] = v
				return m
			}
			tests := []struct {
				name string
				vars map[string]any
			}{
				{"MaxDepth0", with("maxDepth", 0)},
				{"MaxDepth11", with("maxDepth", 11)},
				{"MaxDepthNegative", with("maxDepth", -1)},
				{"NoRelations", with("relations", []string{})},
				{"UnknownRelation", with("relations", []string{"dependsOn", "likes"})},
				{"FirstOverCap", with("first", 1001)},
				{"CursorOfAnotherDirection", with("direction", "OUTGOING")},
				{"CursorOfAnotherDepth", with("maxDepth", 4)},
				{"CursorOfAnotherKinds", with("kinds", []string{"component"})},
				{"MalformedCursor", with("after", "!!")},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					vars := tt.vars
					if strings.HasPrefix(tt.name, "CursorOf") {
						vars["after"] = cursor
					}
					wantCode(t, srv, "INVALID", traverseQuery, vars)
				})
			}
		})
	})
}
