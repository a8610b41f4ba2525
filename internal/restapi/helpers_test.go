package restapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/restapi"
	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/resolvers"
)

// allowAll lets every caller do everything.
const allowAll = `rules:
  - name: all
    allow: ["*"]
    to: [anyone]
`

// ownersRead lets users read only what they own.
const ownersRead = `rules:
  - name: owners-read
    allow: [catalog.entity.read]
    to: [users]
    when: {isOwner: true}
`

// principalHeader names, in tests, the user a request acts as and the one
// group it owns through: "user:default/u group:default/team-a". The
// server's authentication middleware wraps GraphQL and REST alike, so a
// test one stands for it.
const principalHeader = "X-Test-Principal"

func testAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := r.Header.Get(principalHeader); h != "" {
			refs := strings.Fields(h)
			p := &portal.Principal{Kind: portal.PrincipalUser, Ref: refs[0], Ownership: refs}
			r = r.WithContext(portal.NewContextWithPrincipal(r.Context(), p))
		}
		next.ServeHTTP(w, r)
	})
}

type fixedPolicy struct{ p *policy.Policy }

func (f fixedPolicy) Current() *policy.Policy { return f.p }

// mustServe registers each target as a file location, reads them, and
// serves the API, GraphQL and REST, as greenroom serve wires it, under the
// policy.
func mustServe(t *testing.T, db *store.DB, policyYAML string, targets ...string) *httptest.Server {
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
	pol, err := policy.Parse([]byte(policyYAML), "test-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	svc := app.New(app.Deps{Store: db, Engine: eng, Policies: fixedPolicy{pol}}).Catalog
	srv := httptest.NewServer(server.New(server.Options{
		Resolver:     &resolvers.Resolver{Catalog: svc, Ingest: svc, Access: svc},
		Loaders:      svc,
		REST:         restapi.New(restapi.Options{Catalog: svc}),
		Authenticate: testAuth,
	}))
	t.Cleanup(srv.Close)
	return srv
}

func mustWriteFile(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func exampleCatalog(tb testing.TB) string {
	tb.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "examples", "catalog", "all.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// response is an HTTP response read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with optional headers (name, value, name, value…).
func do(t *testing.T, srv *httptest.Server, method, path string, body any, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if raw, ok := body.([]byte); ok { // sent as it is, valid JSON or not
		rd = bytes.NewReader(raw)
	} else if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// mustGet gets path, which must answer 200, and decodes its body into out.
func mustGet(t *testing.T, srv *httptest.Server, path string, out any, headers ...string) response {
	t.Helper()
	r := do(t, srv, http.MethodGet, path, nil, headers...)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, r.status, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, r.body)
		}
	}
	return r
}

// mustPost posts body as JSON to path, which must answer 200, and decodes
// its answer into out.
func mustPost(t *testing.T, srv *httptest.Server, path string, body, out any) {
	t.Helper()
	r := do(t, srv, http.MethodPost, path, body)
	if r.status != http.StatusOK {
		t.Fatalf("POST %s: status %d: %s", path, r.status, r.body)
	}
	if err := json.Unmarshal(r.body, out); err != nil {
		t.Fatalf("POST %s: %v\n%s", path, err, r.body)
	}
}

// entity is an entity as the REST API returns it.
type entity struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		UID         string            `json:"uid"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec      map[string]any `json:"spec"`
	Relations []struct {
		Type      string `json:"type"`
		TargetRef string `json:"targetRef"`
	} `json:"relations"`
}

func (e entity) ref() string {
	return strings.ToLower(e.Kind + ":" + e.Metadata.Namespace + "/" + e.Metadata.Name)
}

func refs(es []entity) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ref()
	}
	slices.Sort(out)
	return out
}

// graphQLRefs returns the refs of every entity a GraphQL filter selects,
// as the caller in headers sees them, sorted.
func graphQLRefs(t *testing.T, srv *httptest.Server, filter map[string]any, headers ...string) []string {
	t.Helper()
	body := map[string]any{
		"query":     `query($f: EntityFilter) { entities(filter: $f, first: 1000) { edges { node { ref } } } }`,
		"variables": map[string]any{"f": filter},
	}
	r := do(t, srv, http.MethodPost, "/graphql", body, headers...)
	var got struct {
		Data struct {
			Entities struct {
				Edges []struct{ Node struct{ Ref string } }
			}
		}
		Errors []any
	}
	if err := json.Unmarshal(r.body, &got); err != nil || len(got.Errors) > 0 {
		t.Fatalf("graphql: %v %s", err, r.body)
	}
	var out []string
	for _, e := range got.Data.Entities.Edges {
		out = append(out, e.Node.Ref)
	}
	slices.Sort(out)
	return out
}

// sqlText matches what SQL or a database driver would put in a message.
var sqlText = regexp.MustCompile(`(?i)\b(select|insert|update|delete)\b.*\b(from|into|set|where)\b|\bsqlite\b|\bpq:|sqlstate|\bjsonb?_each|syntax error at`)
