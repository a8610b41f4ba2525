package server_test

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

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
//
// Loaders batch by time: a batch is sent once the operation has asked for
// nothing for a moment. A stall of the process (the first request's
// allocations, a garbage collection, other processes on the CPUs under
// go test -race ./...) can still split a batch. So the test warms the
// server up, does not run in parallel with the package's other tests, and
// asks for each page until it gets the fewest statements possible, a few
// times at most, counting the fewest it got: a request that reads per item
// costs at least as many statements as items every time, and fails.
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
		// One statement for the page, one for the owners, one for the
		// relations of the components, one for the entities they name,
		// and one each for the relations and entities of their systems.
		const want, maxStatements, attempts = 6, 10, 20
		var warm page
		MustQuery(t, srv, q, map[string]any{"first": 200}, &warm)
		fewest := map[int]int64{}
		for _, n := range []int{20, 200} {
			var counts []int64
			for i := range attempts {
				if i > 0 {
					time.Sleep(20 * time.Millisecond) // let a burst of load pass
				}
				runtime.GC()
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
				counts = append(counts, count)
				if count <= want {
					break
				}
			}
			fewest[n] = slices.Min(counts)
			t.Logf("first %d: %v statements", n, counts)
			if fewest[n] > maxStatements {
				t.Errorf("first %d: at best %d statements; want at most %d", n, fewest[n], maxStatements)
			}
		}
		if fewest[20] != fewest[200] {
			t.Errorf("%d statements for 20 components, %d for 200; want the same", fewest[20], fewest[200])
		}
	})
}
