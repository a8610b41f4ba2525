package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/restapi"
	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/resolvers"
)

// exampleCatalog is the root descriptor of the example catalog.
func exampleCatalog(tb testing.TB) string {
	tb.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "examples", "catalog", "all.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// MustServeFiles registers each target as a file location, reads them all,
// and serves the API over a real HTTP server whose registerLocation allows
// both url and file locations.
func MustServeFiles(t *testing.T, db *store.DB, targets ...string) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	for _, target := range targets {
		if _, _, err := db.CreateLocation(ctx, ingest.TypeFile, target); err != nil {
			t.Fatal(err)
		}
	}
	eng := ingest.NewEngine(db, ingest.Options{})
	if err := eng.RefreshAll(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(serverOptions(t, db, eng, allowAll)))
	t.Cleanup(srv.Close)
	return srv
}

// allowAll is a policy that lets every caller do everything.
const allowAll = `rules:
  - name: all
    allow: ["*"]
    to: [anyone]
`

// serverOptions wires the API as greenroom serve does, with the policy
// given as YAML, registerLocation allowing url and file locations, and
// audit events recorded in db. Requests are anonymous unless the caller
// sets Authenticate.
func serverOptions(tb testing.TB, db *store.DB, eng *ingest.Engine, policyYAML string) server.Options {
	tb.Helper()
	return optionsRegistering(tb, db, eng, policyYAML, ingest.TypeURL, ingest.TypeFile)
}

// optionsRegistering are [serverOptions] whose registerLocation allows
// the location types given (none: url only, the default).
func optionsRegistering(tb testing.TB, db *store.DB, eng *ingest.Engine, policyYAML string, types ...string) server.Options {
	tb.Helper()
	return options(tb, app.Deps{Store: db, Engine: eng, RegisterTypes: types}, policyYAML)
}

// options are the server options of the services deps, under the policy.
func options(tb testing.TB, deps app.Deps, policyYAML string) server.Options {
	tb.Helper()
	pol, err := policy.Parse([]byte(policyYAML), "test-policy.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	deps.Policies = fixedPolicy{pol}
	if db, ok := deps.Store.(*store.DB); ok {
		deps.Search, deps.Docs, deps.Plugins = db, db, db
	}
	svcs := app.New(deps)
	svc := svcs.Catalog
	return server.Options{
		Resolver: &resolvers.Resolver{Catalog: svc, Ingest: svc, Access: svc, Jobs: svcs.Jobs, History: svc, Searcher: svcs.Search,
			Docs: svcs.Docs, Registry: svcs.Plugins},
		Search:  restapi.NewSearch(restapi.SearchOptions{Search: svcs.Search}),
		Loaders: svc,
	}
}

// fixedPolicy is a policy that does not change.
type fixedPolicy struct{ p *policy.Policy }

func (f fixedPolicy) Current() *policy.Policy { return f.p }

// MustWriteFile writes content to name under dir and returns its path.
func MustWriteFile(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// sqlText matches what SQL or a database driver would put in a message.
var sqlText = regexp.MustCompile(`(?i)\b(select|insert|update|delete)\b.*\b(from|into|set|where)\b|\bsqlite\b|\bpq:|sqlstate|\bjsonb?_each|syntax error at|\bduplicate key\b`)

// send posts a request and checks that no error shows SQL or driver text.
func send(t *testing.T, srv *httptest.Server, query string, vars map[string]any) gqlResponse {
	t.Helper()
	r := post(t, srv, query, vars)
	for _, e := range r.Errors {
		if sqlText.MatchString(e.Message) {
			t.Errorf("error message shows SQL or driver text: %q", e.Message)
		}
	}
	return r
}

// MustQuery posts a request and decodes its data into out, failing the
// test on any error.
func MustQuery(t *testing.T, srv *httptest.Server, query string, vars map[string]any, out any) {
	t.Helper()
	mustData(t, send(t, srv, query, vars), out)
}

// MustFail posts a request that must fail, and returns the code and
// message of its first error.
func MustFail(t *testing.T, srv *httptest.Server, query string, vars map[string]any) (code, message string) {
	t.Helper()
	r := send(t, srv, query, vars)
	if len(r.Errors) == 0 {
		t.Fatalf("got data %s and no error; want an error", r.Data)
	}
	code, _ = r.Errors[0].Extensions["code"].(string)
	return code, r.Errors[0].Message
}

// wantCode checks that a request fails with code.
func wantCode(t *testing.T, srv *httptest.Server, want, query string, vars map[string]any) {
	t.Helper()
	if code, msg := MustFail(t, srv, query, vars); code != want {
		t.Errorf("code %q (message %q); want %s", code, msg, want)
	}
}

// MustJSON decodes a JSON literal written in a test.
func MustJSON(tb testing.TB, s string) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		tb.Fatalf("bad JSON in test: %v\n%s", err, s)
	}
	return v
}

// diffJSON compares data decoded from a response with a JSON literal.
func diffJSON(tb testing.TB, want string, got json.RawMessage) string {
	tb.Helper()
	var g any
	if err := json.Unmarshal(got, &g); err != nil {
		tb.Fatal(err)
	}
	return cmp.Diff(MustJSON(tb, want), g)
}

// ref is one node with its ref, as most queries here select.
type refNode struct {
	Ref string `json:"ref"`
}

// refsOf returns the refs of nodes.
func refsOf(nodes []refNode) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Ref
	}
	return out
}

// entityPage is a page of entities as the connection tests select it.
type entityPage struct {
	Edges []struct {
		Cursor string  `json:"cursor"`
		Node   refNode `json:"node"`
	} `json:"edges"`
	PageInfo struct {
		HasNextPage     bool    `json:"hasNextPage"`
		HasPreviousPage bool    `json:"hasPreviousPage"`
		StartCursor     *string `json:"startCursor"`
		EndCursor       *string `json:"endCursor"`
	} `json:"pageInfo"`
	TotalCount int `json:"totalCount"`
}

func (p entityPage) refs() []string {
	out := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node.Ref
	}
	return out
}

// listQuery pages through entities with a filter and order.
const listQuery = `query($filter: EntityFilter, $orderBy: EntityOrder, $first: Int, $after: String, $last: Int, $before: String) {
	entities(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
		edges { cursor node { ref } }
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		totalCount
	}
}`

// MustList returns one page of entities.
func MustList(t *testing.T, srv *httptest.Server, vars map[string]any) entityPage {
	t.Helper()
	var got struct{ Entities entityPage }
	MustQuery(t, srv, listQuery, vars, &got)
	return got.Entities
}

// MustFilter returns the refs of every entity a filter selects, in ref
// order, checking that totalCount agrees.
func MustFilter(t *testing.T, srv *httptest.Server, filter any) []string {
	t.Helper()
	p := MustList(t, srv, map[string]any{"filter": filter, "first": 1000})
	if p.PageInfo.HasNextPage {
		t.Fatalf("filter %v selects more than 1000 entities", filter)
	}
	if p.TotalCount != len(p.Edges) {
		t.Errorf("filter %v: totalCount %d; listed %d", filter, p.TotalCount, len(p.Edges))
	}
	return p.refs()
}

// component returns a Component descriptor owned by team-data that
// depends on the given refs.
func component(name string, dependsOn ...string) string {
	deps := ""
	if len(dependsOn) > 0 {
		deps = "\n  dependsOn: [" + strings.Join(dependsOn, ", ") + "]"
	}
	return fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: %s
spec:
  type: service
  lifecycle: production
  owner: team-data%s
`, name, deps)
}

// resource returns a Resource descriptor owned by team-data.
func resource(name string) string {
	return fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: %s
spec:
  type: database
  owner: team-data
`, name)
}

// yamlDocs joins descriptors into one multi-document file.
func yamlDocs(docs ...string) string { return strings.Join(docs, "---\n") }

// extrasYAML adds to the example catalog what it lacks: an entity of a
// kind Greenroom does not model, owned by a user; a subdomain; a component
// whose owner and dependency are not in the catalog; and one that fails
// validation. MustServeExtras adds one more, which it turns into an orphan.
const extrasYAML = `apiVersion: example.com/v1
kind: AiResource
metadata:
  name: summarizer
  description: Summarises liner notes.
spec:
  owner: user:jane.doe
  model: small
---
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata:
  name: charts
spec:
  owner: team-discovery
  subdomainOf: listening-experience
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ghost-service
spec:
  type: service
  lifecycle: production
  owner: ghosts
  dependsOn: [resource:default/missing-db]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: half-done
spec:
  type: service
  owner: team-data
`

const leftoverYAML = `---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: leftover
spec:
  type: service
  lifecycle: production
  owner: team-data
`

// MustServeExtras serves the example catalog plus extrasYAML, registered
// as a second file location, and component:default/leftover, an orphan:
// it was in the extras file, then removed from it, then refreshed. It
// returns the server and the extras file.
func MustServeExtras(t *testing.T, db *store.DB) (*httptest.Server, string) {
	t.Helper()
	extras := MustWriteFile(t, t.TempDir(), "extras.yaml", extrasYAML+leftoverYAML)
	srv := MustServeFiles(t, db, exampleCatalog(t), extras)
	MustWriteFile(t, filepath.Dir(extras), "extras.yaml", extrasYAML)
	MustRefresh(t, srv, MustLocationID(t, srv, extras))
	return srv, extras
}

// MustLocationID returns the id of the registered location with target.
func MustLocationID(t *testing.T, srv *httptest.Server, target string) string {
	t.Helper()
	var got struct {
		Locations []struct{ ID, Target string }
	}
	MustQuery(t, srv, `{ locations { id target } }`, nil, &got)
	for _, l := range got.Locations {
		if l.Target == target {
			return l.ID
		}
	}
	t.Fatalf("no location with target %s among %+v", target, got.Locations)
	return ""
}

// refreshStats is RefreshStats as the API returns it.
type refreshStats struct {
	Emitted, Added, Updated, Unchanged, Kept, Orphaned, Deleted, Conflicts, Errors int
}

const refreshMutation = `mutation($id: ID!) { refreshLocation(id: $id) {
	location { id }
	stats { emitted added updated unchanged kept orphaned deleted conflicts errors }
} }`

// MustRefresh refreshes a location through the API and returns its stats.
func MustRefresh(t *testing.T, srv *httptest.Server, id string) refreshStats {
	t.Helper()
	var got struct {
		RefreshLocation struct {
			Location struct{ ID string }
			Stats    refreshStats
		}
	}
	MustQuery(t, srv, refreshMutation, map[string]any{"id": id}, &got)
	if got.RefreshLocation.Location.ID != id {
		t.Errorf("refreshed location %q; want %q", got.RefreshLocation.Location.ID, id)
	}
	return got.RefreshLocation.Stats
}
