package policy_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

func TestPolicy_Filter(t *testing.T) {
	pol := MustParse(t, decidePolicy)
	ptr := func(s string) *string { return &s }
	owners := catalog.EntityFilter{Owners: []string{"user:default/jane", "group:default/team-a", "group:default/eng"}}
	notProduction := catalog.EntityFilter{Labels: []catalog.KeyFilter{{Key: "env", Value: ptr("production")}}}
	tests := []struct {
		name      string
		perm      string
		p         *portal.Principal
		want      catalog.EntityFilter
		all, none bool
	}{
		{"Unconditional", policy.EntityRead, anon, catalog.EntityFilter{}, true, false},
		{"NilPrincipalIsAnonymous", policy.LocationRead, nil, catalog.EntityFilter{}, false, true},
		{"Owner", policy.EntityRefresh, jane, catalog.EntityFilter{Or: []catalog.EntityFilter{owners}}, false, false},
		{"OwnerMinusDeny", policy.EntityDelete, jane,
			catalog.EntityFilter{Or: []catalog.EntityFilter{owners}, Not: &notProduction}, false, false},
		{"AllMinusDeny", policy.EntityDelete, bob, catalog.EntityFilter{Not: &notProduction}, false, false},
		// nobody owns through no ref: an empty Owners list would select
		// every entity, so the owner rule must drop out instead.
		{"OwnerWithoutOwnership", policy.EntityRefresh, nobody, catalog.EntityFilter{}, false, true},
		{"NoRule", policy.EntityDelete, deployBot, catalog.EntityFilter{}, false, true},
		{"Basic", policy.LocationDelete, jane, catalog.EntityFilter{}, true, false},
		{"BasicDenied", policy.LocationRead, anon, catalog.EntityFilter{}, false, true},
		{"Unknown", "catalog.entity.update", bob, catalog.EntityFilter{}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, all, none := pol.Filter(tt.perm, tt.p)
			if all != tt.all || none != tt.none {
				t.Errorf("all, none = %v, %v; want %v, %v", all, none, tt.all, tt.none)
			}
			if diff := cmp.Diff(tt.want, f); diff != "" {
				t.Errorf("filter mismatch (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("KeysAreAnded", func(t *testing.T) {
		pol := MustParse(t, conditionsPolicy)
		f, _, _ := pol.Filter(policy.EntityRead, deployBot)
		want := catalog.EntityFilter{Or: []catalog.EntityFilter{{
			Labels: []catalog.KeyFilter{{Key: "env"}},
			Or:     []catalog.EntityFilter{{Labels: []catalog.KeyFilter{{Key: "team", Value: ptr("a")}}}},
		}}}
		if diff := cmp.Diff(want, f); diff != "" {
			t.Errorf("filter mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("FilterDoesNotShareThePolicy", func(t *testing.T) {
		pol := MustParse(t, conditionsPolicy)
		f, _, _ := pol.Filter(policy.EntityRead, nobody)
		f.Or[0].Kinds[0] = "resource"
		f, _, _ = pol.Filter(policy.EntityRead, nobody)
		if got := f.Or[0].Kinds[0]; got != "api" {
			t.Errorf("Kinds[0] = %q after editing an earlier filter; want api", got)
		}
	})
}

// agreementCatalog is a small catalog over two namespaces: groups nested
// two deep, users in them, and entities with owners, labels and
// annotations that the agreement policies pick apart.
const agreementCatalog = `
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: eng}
spec: {type: department, children: [team-a, team-b]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, parent: eng, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-b, labels: {env: staging}}
spec: {type: team, parent: eng, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: admins}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: sre, namespace: ops}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jane}
spec: {memberOf: [team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: bob}
spec: {memberOf: [admins]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: carol, namespace: ops}
spec: {memberOf: [sre]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
  labels: {env: production, tier: "1"}
  annotations: {greenroom.io/on-call: pager}
spec: {type: service, lifecycle: production, owner: team-a, system: platform}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: web, labels: {env: staging}}
spec: {type: website, lifecycle: production, owner: team-b}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: lib}
spec: {type: library, lifecycle: experimental, owner: user:jane}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: monitor, namespace: ops, labels: {Env: Production, tier: "2"}}
spec: {type: service, lifecycle: production, owner: sre}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: haunted, labels: {env: production, tier: "3"}, annotations: {greenroom.io/on-call: pager}}
spec: {type: service, lifecycle: deprecated, owner: ghost}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: payments-api, labels: {env: production, tier: "1"}}
spec: {type: openapi, lifecycle: production, owner: team-a, definition: "openapi: 3.0.0"}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: alerts-api, namespace: ops, annotations: {greenroom.io/on-call: PAGER}}
spec: {type: asyncapi, lifecycle: production, owner: sre, definition: "asyncapi: 2.0.0"}
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: {name: db, labels: {tier: "1"}}
spec: {type: database, owner: eng}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: platform}
spec: {owner: eng}
`

// The agreement policies, each with rules whose conditions the filter must
// turn into SQL that selects what Decide allows.
var agreementPolicies = map[string]string{
	"owners": `rules:
  - name: owners-read
    allow: [catalog.entity.read]
    to: [users]
    when: {isOwner: true}
  - name: public-kinds
    allow: [catalog.entity.read]
    to: [anyone]
    when: {kind: [API, group, USER]}
  - name: sre-reads-ops
    allow: [catalog.entity.*]
    to: [group:ops/sre]
    when: {namespace: [OPS]}
  - name: services-read
    allow: [catalog.entity.read, catalog.entity.refresh]
    to: [services]
  - name: services-not-production
    deny: [catalog.entity.read]
    to: [services]
    when: {labels: {env: PRODUCTION}}
  - name: anonymous-not-paged
    deny: ["*"]
    to: [anonymous]
    when: {annotations: {greenroom.io/on-call: "*"}}
  - name: owners-maintain
    allow: [catalog.entity.refresh, catalog.entity.delete]
    to: [users]
    when: {isOwner: true, kind: [component]}
`,
	"keys": `rules:
  - name: tier1-production
    allow: [catalog.*]
    to: [anyone]
    when: {labels: {env: production, TIER: "1"}, annotations: {greenroom.io/on-call: Pager}}
  - name: admins
    allow: ["*"]
    to: [group:default/admins]
  - name: not-own-components
    deny: [catalog.entity.read, catalog.entity.delete]
    to: [users]
    when: {isOwner: true, kind: [Component]}
  - name: not-staging
    deny: [catalog.entity.*]
    to: [anyone]
    when: {labels: {env: staging}}
  - name: ops-refresh
    allow: [catalog.entity.refresh]
    to: [users]
    when: {namespace: [ops], labels: {tier: "*"}}
`,
	"users-denied": `rules:
  - name: everyone-reads
    allow: [catalog.entity.read]
    to: [anyone]
  - name: not-users
    deny: ["*"]
    to: [users]
`,
}

// TestPolicy_FilterAgreesWithDecide ingests a catalog into each database
// and checks, for several policies and callers, that the entities the
// store selects with Filter are exactly those Decide allows.
func TestPolicy_FilterAgreesWithDecide(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	policies := map[string]*policy.Policy{"example": MustParse(t, string(example))}
	for name, src := range agreementPolicies {
		policies[name] = MustParse(t, src)
	}
	carol := &portal.Principal{Kind: portal.PrincipalUser, Ref: "user:ops/carol",
		Ownership: []string{"user:ops/carol", "group:ops/sre"}}
	operator := &portal.Principal{Kind: portal.PrincipalCLI, Ref: "cli:jane", Ownership: []string{"cli:jane"}}
	callers := map[string]*portal.Principal{
		"jane": jane, "bob": bob, "carol": carol, "nobody": nobody, "deploy-bot": deployBot, "anonymous": anon,
		"operator": operator,
	}
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		resources := MustIngest(t, db, agreementCatalog)
		if got, want := len(resources), 18; got != want {
			t.Fatalf("ingested %d entities; want %d: %v", got, want, refs(resources))
		}
		generated := resources[12].Ref // its name is a hash of the file's path
		if !strings.HasPrefix(generated, "location:default/generated-") {
			t.Fatalf("entity 12 is %s; want the generated location", generated)
		}
		read := map[string][]string{} // policy/caller → refs readable
		for pname, pol := range policies {
			for cname, p := range callers {
				for _, perm := range []string{policy.EntityRead, policy.EntityRefresh, policy.EntityDelete} {
					selected := MustSelect(t, db, pol, perm, p)
					var decided []string
					for _, r := range resources {
						if pol.Decide(perm, p, r).Allowed {
							decided = append(decided, r.Ref)
						}
					}
					if diff := cmp.Diff(decided, selected); diff != "" {
						t.Errorf("%s, %s, %s: Decide (-) and Filter (+) disagree:\n%s", pname, cname, perm, diff)
					}
					_, all, _ := pol.Filter(perm, p)
					if every := pol.Decide(perm, p, nil).Allowed; every != all {
						t.Errorf("%s, %s, %s: Decide on every entity = %v; Filter all = %v", pname, cname, perm, every, all)
					}
					if perm == policy.EntityRead {
						read[pname+"/"+cname] = selected
					}
				}
			}
		}
		// Agreement alone would pass if both sides were wrong the same
		// way; pin down a few answers by hand.
		want := map[string][]string{
			"owners/jane": {
				"api:default/payments-api", "api:ops/alerts-api", "component:default/lib", "component:default/payments",
				"group:default/admins", "group:default/eng", "group:default/team-a", "group:default/team-b", "group:ops/sre",
				"resource:default/db", "system:default/platform", "user:default/bob", "user:default/jane", "user:ops/carol",
			},
			"owners/carol": {
				"api:default/payments-api", "api:ops/alerts-api", "component:ops/monitor",
				"group:default/admins", "group:default/eng", "group:default/team-a", "group:default/team-b", "group:ops/sre",
				"user:default/bob", "user:default/jane", "user:ops/carol",
			},
			"owners/deploy-bot": {
				"api:ops/alerts-api", "component:default/lib", "component:default/web",
				"group:default/admins", "group:default/eng", "group:default/team-a", "group:default/team-b", "group:ops/sre",
				generated, "resource:default/db", "system:default/platform",
				"user:default/bob", "user:default/jane", "user:ops/carol",
			},
			"owners/anonymous": {
				"api:default/payments-api",
				"group:default/admins", "group:default/eng", "group:default/team-a", "group:default/team-b", "group:ops/sre",
				"user:default/bob", "user:default/jane", "user:ops/carol",
			},
			"keys/anonymous": {"component:default/payments"},
			"keys/jane":      nil,
			"keys/bob": {
				"api:default/payments-api", "api:ops/alerts-api", "component:default/haunted", "component:default/lib",
				"component:default/payments", "component:ops/monitor",
				"group:default/admins", "group:default/eng", "group:default/team-a", "group:ops/sre",
				generated, "resource:default/db", "system:default/platform",
				"user:default/bob", "user:default/jane", "user:ops/carol",
			},
			"users-denied/jane":      nil,
			"users-denied/anonymous": refs(resources),
			// A greenroom command holds the database: no policy limits it.
			"keys/operator":         refs(resources),
			"users-denied/operator": refs(resources),
		}
		for k, w := range want {
			if diff := cmp.Diff(w, read[k]); diff != "" {
				t.Errorf("%s reads (-want +got):\n%s", k, diff)
			}
		}
	})
}

// MustIngest writes a catalog file in a temporary directory, registers it
// as a file location, runs one ingest pass and returns every stored entity
// (the catalog's, and the Location entity generated for the registered
// location) as a resource, ordered by ref.
func MustIngest(tb testing.TB, db *store.DB, content string) []*policy.Resource {
	tb.Helper()
	root := filepath.Join(tb.TempDir(), "entities.yaml")
	mustWrite(tb, root, content)
	ctx := context.Background()
	if _, _, err := db.CreateLocation(ctx, ingest.TypeFile, root); err != nil {
		tb.Fatal(err)
	}
	if err := ingest.NewEngine(db, ingest.Options{}).RefreshAll(ctx); err != nil {
		tb.Fatal(err)
	}
	page, err := db.FindEntities(ctx, catalog.EntityQuery{Limit: store.MaxPageSize})
	if err != nil {
		tb.Fatal(err)
	}
	var out []*policy.Resource
	for _, rec := range page.Records {
		e, err := rec.Entity()
		if err != nil {
			tb.Fatal(err)
		}
		rels, err := db.Relations(ctx, rec.Ref)
		if err != nil {
			tb.Fatal(err)
		}
		var owners []string
		for _, rel := range rels {
			if rel.Type == catalog.RelationOwnedBy {
				owners = append(owners, rel.Target.String())
			}
		}
		out = append(out, policy.EntityResource(e, owners))
	}
	return out
}

// MustSelect returns the refs of the entities the store selects with the
// policy's filter, ordered by ref; every entity when the filter says all.
func MustSelect(tb testing.TB, db *store.DB, pol *policy.Policy, perm string, p *portal.Principal) []string {
	tb.Helper()
	f, all, none := pol.Filter(perm, p)
	switch {
	case none:
		return nil
	case all:
		f = catalog.EntityFilter{}
	}
	page, err := db.FindEntities(context.Background(), catalog.EntityQuery{Filter: f, Limit: store.MaxPageSize})
	if err != nil {
		tb.Fatal(err)
	}
	if page.HasMore {
		tb.Fatal("more entities than one page")
	}
	var out []string
	for _, rec := range page.Records {
		out = append(out, rec.Ref)
	}
	return out
}

func refs(resources []*policy.Resource) []string {
	out := make([]string, len(resources))
	for i, r := range resources {
		out[i] = r.Ref
	}
	return out
}

func mustWrite(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}
