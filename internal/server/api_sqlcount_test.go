package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// largeCatalogYAML returns a catalog of 200 components with their owners,
// systems, domains, APIs and resources: every component is owned by a
// group, is part of a system (itself part of a domain), provides an API
// and depends on another component and on a resource.
func largeCatalogYAML(components int) string {
	const groups, domains, systems, apis, resources = 10, 3, 8, 60, 20
	var docs []string
	for i := range groups {
		docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: bulk-team-%d\nspec:\n  type: team\n  children: []\n", i))
	}
	for i := range domains {
		docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Domain\nmetadata:\n  name: bulk-domain-%d\nspec:\n  owner: bulk-team-%d\n", i, i%groups))
	}
	for i := range systems {
		docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: bulk-system-%d\nspec:\n  owner: bulk-team-%d\n  domain: bulk-domain-%d\n", i, i%groups, i%domains))
	}
	for i := range apis {
		docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: bulk-api-%d\nspec:\n  type: openapi\n  lifecycle: production\n  owner: bulk-team-%d\n  system: bulk-system-%d\n  definition: \"openapi: 3.0.0\"\n", i, i%groups, i%systems))
	}
	for i := range resources {
		docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata:\n  name: bulk-db-%d\nspec:\n  type: database\n  owner: bulk-team-%d\n", i, i%groups))
	}
	for i := range components {
		docs = append(docs, fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: bulk-svc-%03d
spec:
  type: service
  lifecycle: production
  owner: bulk-team-%d
  system: bulk-system-%d
  providesApis: [bulk-api-%d]
  dependsOn: [component:bulk-svc-%03d, resource:bulk-db-%d]
`, i, i%groups, i%systems, i%apis, (i+1)%components, i%resources))
	}
	return strings.Join(docs, "---\n")
}

// TestQuery_StatementCount proves that the fields of a list are read in
// batches: a page of 20 components and a page of 200, with their owners,
// systems, domains, APIs and dependencies, cost the same few statements.
// The page's resolver reads each level of the query for all its items at
// once (see resolvers/prefetch.go), so the count is exact, not a matter of
// timing.
func TestQuery_StatementCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := MustServeFiles(t, db, MustWriteFile(t, t.TempDir(), "bulk.yaml", largeCatalogYAML(200)))
		const q = `query($first: Int) { entities(filter: {kind: ["Component"]}, first: $first) { edges { node { ... on Component {
			owner { name } system { name domain { name } } providesApis { name } dependsOn { name }
		} } } } }`
		type page struct {
			Entities struct {
				Edges []struct {
					Node struct {
						Owner  *struct{ Name string }
						System *struct {
							Name   string
							Domain *struct{ Name string }
						}
						ProvidesApis []struct{ Name string }
						DependsOn    []struct{ Name string }
					}
				}
			}
		}
		// With nothing cached: two statements for the page (its refs, then
		// their records); then one for the relations of the components and
		// one for the entities they name; then the same two for the
		// systems' domains. Asked again, the whole page comes from the read
		// cache.
		const want, warm = 6, 0
		for _, n := range []int{20, 200} {
			db.InvalidateCache() // the reads themselves, not the cache's memory of them
			before := db.ReadStatements()
			var p page
			MustQuery(t, srv, q, map[string]any{"first": n}, &p)
			count := db.ReadStatements() - before
			if len(p.Entities.Edges) != n {
				t.Fatalf("first %d: got %d components", n, len(p.Entities.Edges))
			}
			for i, e := range p.Entities.Edges {
				c := e.Node
				if c.Owner == nil || c.System == nil || c.System.Domain == nil || len(c.ProvidesApis) != 1 || len(c.DependsOn) != 2 {
					t.Fatalf("first %d: component %d is missing fields: %+v", n, i, c)
				}
			}
			if count != want {
				t.Errorf("first %d: %d statements; want %d", n, count, want)
			}
			before = db.ReadStatements()
			MustQuery(t, srv, q, map[string]any{"first": n}, &p)
			if count := db.ReadStatements() - before; count != warm {
				t.Errorf("first %d again: %d statements; want %d", n, count, warm)
			}
		}
	})
}

// TestQuery_EntityStatementCount pins what one entity costs with nothing
// cached: one statement for the entity, one for its relations, and one for
// the entities they name only when the query selects something of them.
func TestQuery_EntityStatementCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := MustServeFiles(t, db, MustWriteFile(t, t.TempDir(), "bulk.yaml", largeCatalogYAML(20)))
		for _, c := range []struct {
			query string
			want  int64
		}{
			{`{ entity(ref: "component:bulk-svc-001") { ref name } }`, 1},
			{`{ entity(ref: "component:bulk-svc-001") { ref document } }`, 2},
			{`{ entity(ref: "component:bulk-svc-001") { ref relations(first: 100) { edges { node { type targetRef } } } } }`, 2},
			{`{ entity(ref: "component:bulk-svc-001") { ref relations { edges { node { type target { name } } } } } }`, 3},
		} {
			db.InvalidateCache()
			before := db.ReadStatements()
			var out struct{ Entity *struct{ Ref string } }
			MustQuery(t, srv, c.query, nil, &out)
			if out.Entity == nil {
				t.Fatalf("%s: no entity", c.query)
			}
			if got := db.ReadStatements() - before; got != c.want {
				t.Errorf("%s: %d statements; want %d", c.query, got, c.want)
			}
		}
	})
}

// TestMutation_RegisterLocationStatementCount pins what registerLocation
// reads after its refresh: nothing when the query asks for the location
// alone, and the same few statements for 5 entities as for 50 when it asks
// for them with their relations and errors.
func TestMutation_RegisterLocationStatementCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := MustServeFiles(t, db)
		dir := t.TempDir()
		const (
			idOnly = `mutation($t: String!) { registerLocation(type: "file", target: $t) { location { id } } }`
			whole  = `mutation($t: String!) { registerLocation(type: "file", target: $t) { location { id }
				entities { ref relations { type targetRef } errors { message } } errors { message } } }`
		)
		count := func(query, prefix string, n int) int64 {
			var docs []string
			for i := range n {
				docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s-%d\nspec:\n  type: service\n  lifecycle: production\n  owner: team-%d\n", prefix, i, i%3))
			}
			file := MustWriteFile(t, dir, prefix+".yaml", strings.Join(docs, "---\n"))
			db.InvalidateCache()
			before := db.ReadStatements()
			var out struct {
				RegisterLocation struct {
					Location struct{ ID string }
					Entities []struct{ Relations []struct{ Type string } }
				}
			}
			MustQuery(t, srv, query, map[string]any{"t": file}, &out)
			if out.RegisterLocation.Location.ID == "" {
				t.Fatalf("%s: no location", prefix)
			}
			if query == whole && (len(out.RegisterLocation.Entities) != n+1 || len(out.RegisterLocation.Entities[0].Relations) == 0) {
				t.Fatalf("%s: entities %+v; want %d and the location's Location entity, with their relations", prefix, out.RegisterLocation.Entities, n)
			}
			return db.ReadStatements() - before
		}
		small, large := count(idOnly, "id-small", 5), count(idOnly, "id-large", 50)
		if small != large {
			t.Errorf("registering 5 entities read %d statements, 50 read %d; want the same", small, large)
		}
		wSmall, wLarge := count(whole, "whole-small", 5), count(whole, "whole-large", 50)
		if wSmall != wLarge {
			t.Errorf("registering 5 entities, asking for them whole, read %d statements, 50 read %d; want the same", wSmall, wLarge)
		}
		t.Logf("id only %d, whole %d", small, wSmall)
	})
}

// TestQuery_DocumentStatementCount reads pages of 20 and of 200 whole
// components (Entity.document) in the same three statements: the page's
// refs, their records, and the relations of them all.
func TestQuery_DocumentStatementCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := MustServeFiles(t, db, MustWriteFile(t, t.TempDir(), "bulk.yaml", largeCatalogYAML(200)))
		const q = `query($first: Int) { entities(filter: {kind: ["Component"]}, first: $first) { edges { node { document } } } }`
		for _, n := range []int{20, 200} {
			db.InvalidateCache()
			before := db.ReadStatements()
			var p struct {
				Entities struct {
					Edges []struct {
						Node struct {
							Document struct {
								Metadata  struct{ Name string }
								Relations []struct{ Type, TargetRef string }
							}
						}
					}
				}
			}
			MustQuery(t, srv, q, map[string]any{"first": n}, &p)
			if got := db.ReadStatements() - before; got != 3 {
				t.Errorf("first %d: %d statements; want 3", n, got)
			}
			if len(p.Entities.Edges) != n {
				t.Fatalf("first %d: %d components", n, len(p.Entities.Edges))
			}
			for _, e := range p.Entities.Edges {
				if d := e.Node.Document; d.Metadata.Name == "" || len(d.Relations) < 5 {
					t.Fatalf("first %d: document %+v; want the entity with its relations", n, d)
				}
			}
			// EntityConnection.documents: the same documents, in the
			// same statements, byte for byte.
			db.InvalidateCache()
			before = db.ReadStatements()
			var both struct {
				Entities struct {
					Documents []json.RawMessage
					Edges     []struct {
						Node struct{ Document json.RawMessage }
					}
				}
			}
			MustQuery(t, srv, `query($first: Int) { entities(filter: {kind: ["Component"]}, first: $first) { documents edges { node { document } } } }`,
				map[string]any{"first": n}, &both)
			if got := db.ReadStatements() - before; got != 3 {
				t.Errorf("first %d, documents: %d statements; want 3", n, got)
			}
			if len(both.Entities.Documents) != n || len(both.Entities.Edges) != n {
				t.Fatalf("first %d: %d documents, %d edges", n, len(both.Entities.Documents), len(both.Entities.Edges))
			}
			for i, d := range both.Entities.Documents {
				if want := both.Entities.Edges[i].Node.Document; !bytes.Equal(d, want) {
					t.Fatalf("first %d: documents[%d] = %.200s; want the node's document %.200s", n, i, d, want)
				}
			}
		}
	})
}
