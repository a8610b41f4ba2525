package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// lockedLog collects what a server logs, from any goroutine.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedLog) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// MustServeLimits serves the catalog already in db under lim, wired as
// MustServeFiles wires it, and returns the server and what it logs.
func MustServeLimits(t *testing.T, db *store.DB, lim server.Limits) (*httptest.Server, *lockedLog) {
	t.Helper()
	logs := &lockedLog{}
	opts := serverOptions(t, db, ingest.NewEngine(db, ingest.Options{}), allowAll)
	opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	opts.Limits = lim
	srv := httptest.NewServer(server.New(opts))
	t.Cleanup(srv.Close)
	return srv, logs
}

// rawRequest sends body to the GraphQL endpoint with the given method and
// headers, and returns the response and its body.
func rawRequest(t *testing.T, srv *httptest.Server, method, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/graphql", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// decodeGraphQL decodes a GraphQL response.
func decodeGraphQL(t *testing.T, b []byte) gqlResponse {
	t.Helper()
	var r gqlResponse
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("response is no GraphQL response: %v\n%s", err, b)
	}
	return r
}

// wantRefused checks that r failed with exactly one error, whose
// extensions are the JSON object want and whose message names the limit.
func wantRefused(t *testing.T, r gqlResponse, want string) {
	t.Helper()
	if len(r.Errors) != 1 {
		t.Fatalf("got %d errors %+v, data %s; want one", len(r.Errors), r.Errors, r.Data)
	}
	if diff := cmp.Diff(MustJSON(t, want), any(r.Errors[0].Extensions)); diff != "" {
		t.Errorf("extensions mismatch (-want +got):\n%s", diff)
	}
	if max, ok := r.Errors[0].Extensions["max"]; ok && !strings.Contains(r.Errors[0].Message, fmt.Sprint(max)) {
		t.Errorf("message %q does not name the limit %v", r.Errors[0].Message, max)
	}
}

// wantOK checks that r has data and no error.
func wantOK(t *testing.T, r gqlResponse) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v", r.Errors)
	}
	if len(r.Data) == 0 || string(r.Data) == "null" {
		t.Fatalf("no data")
	}
}

// nested returns a query whose selection sets nest depth levels deep:
// entity, depth-2 owners, then ref.
func nested(depth int) string {
	return `{ entity(ref: "component:catalog-service") { ` + strings.Repeat("owner { ", depth-2) + "ref" +
		strings.Repeat(" }", depth-2) + " } }"
}

func TestLimits(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		// Ingests the example catalog, and serves it under the defaults.
		defaults := MustServeFiles(t, db, exampleCatalog(t))

		t.Run("Defaults", func(t *testing.T) {
			want := server.Limits{
				MaxTokens: 1000, MaxDepth: 15, MaxComplexity: 75_000, MaxAliases: 30, MaxBatch: 10, MaxBodyBytes: 1 << 20,
				MaxResponseBytes: 16 << 20, Timeout: 30 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: time.Minute,
				MaxConcurrentRequests: 64, QueueTimeout: time.Second, MaxSubscriptions: 10_000, APQCacheSize: 1000,
			}
			if diff := cmp.Diff(want, server.DefaultLimits()); diff != "" {
				t.Errorf("DefaultLimits mismatch (-want +got):\n%s", diff)
			}
			// A zero Limits stands for the defaults.
			wantOK(t, post(t, defaults, nested(15), nil))
			wantRefused(t, post(t, defaults, nested(50), nil),
				`{"code": "INVALID", "limit": "depth", "max": 15, "actual": 50}`)
			// Turned off, a limit admits what it refused.
			off, _ := MustServeLimits(t, db, server.Limits{MaxDepth: -1})
			wantOK(t, post(t, off, nested(50), nil))
		})

		t.Run("GraphiQL", func(t *testing.T) {
			// GraphiQL's introspection query, the deepest a client of the
			// page at / sends, fits the defaults.
			var got struct {
				Schema struct {
					QueryType struct{ Name string }
				} `json:"__schema"`
			}
			MustQuery(t, defaults, graphiQLIntrospection, nil, &got)
			if got.Schema.QueryType.Name != "Query" {
				t.Errorf("query type %q; want Query", got.Schema.QueryType.Name)
			}
			// It is exactly as deep as the default allows.
			tight, _ := MustServeLimits(t, db, server.Limits{MaxDepth: 14})
			wantRefused(t, post(t, tight, graphiQLIntrospection, nil),
				`{"code": "INVALID", "limit": "depth", "max": 14, "actual": 15}`)
		})

		t.Run("Tokens", func(t *testing.T) {
			srv, _ := MustServeLimits(t, db, server.Limits{MaxTokens: 11})
			// Comments are no tokens.
			wantOK(t, post(t, srv, "# the entity\n{ entity(ref: \"component:catalog-service\") { ref } }", nil))
			wantRefused(t, post(t, srv, `{ entity(ref: "component:catalog-service") { ref name } }`, nil),
				`{"code": "INVALID", "limit": "tokens", "max": 11, "actual": 12}`)
			// A selection of thousands of fields, which would take
			// validation seconds, is refused before it is parsed.
			start := time.Now()
			wantRefused(t, post(t, defaults, `{ entity(ref: "component:catalog-service") { `+strings.Repeat("ref ", 20_000)+`} }`, nil),
				`{"code": "INVALID", "limit": "tokens", "max": 1000, "actual": 20010}`)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s", d)
			}
		})

		t.Run("Depth", func(t *testing.T) {
			srv, _ := MustServeLimits(t, db, server.Limits{MaxDepth: 4})
			wantOK(t, post(t, srv, nested(4), nil))
			wantRefused(t, post(t, srv, nested(5), nil),
				`{"code": "INVALID", "limit": "depth", "max": 4, "actual": 5}`)
			// Fragments, named or inline, add no level of their own; their
			// fields do.
			const viaFragments = `{ entity(ref: "component:catalog-service") { ...Owner } }
				fragment Owner on CatalogEntity { owner { ... on Group { parent { %s } } } }`
			wantOK(t, post(t, srv, fmt.Sprintf(viaFragments, "ref"), nil))
			wantRefused(t, post(t, srv, fmt.Sprintf(viaFragments, "parent { ref }"), nil),
				`{"code": "INVALID", "limit": "depth", "max": 4, "actual": 5}`)
		})

		t.Run("FragmentCycle", func(t *testing.T) {
			// Validation refuses the cycle before the depth is measured.
			const q = `{ entity(ref: "component:catalog-service") { ...A } }
				fragment A on CatalogEntity { owner { ...B } }
				fragment B on Owner { owner { ...A } }`
			if code, msg := MustFail(t, defaults, q, nil); code != "GRAPHQL_VALIDATION_FAILED" {
				t.Errorf("code %q (message %q); want GRAPHQL_VALIDATION_FAILED", code, msg)
			}
		})

		t.Run("FragmentFanOut", func(t *testing.T) {
			// Each fragment spreads the next twice: 2^40 spreads expanded,
			// 40 fragments measured once each.
			var q strings.Builder
			q.WriteString("{ ...F0 }\n")
			for i := range 40 {
				fmt.Fprintf(&q, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
			}
			q.WriteString(`fragment F40 on Query { entity(ref: "component:catalog-service") { ref } }`)
			start := time.Now()
			wantOK(t, post(t, defaults, q.String(), nil))
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s", d)
			}
		})

		t.Run("Aliases", func(t *testing.T) {
			srv, _ := MustServeLimits(t, db, server.Limits{MaxAliases: 3})
			wantOK(t, post(t, srv, `{ a: entity(ref: "component:catalog-service") { b: ref c: name ref } }`, nil))
			// Aliases in fragments count where they are written.
			wantRefused(t, post(t, srv, `{ a: entity(ref: "component:catalog-service") { ...F } }
				fragment F on CatalogEntity { b: ref c: name d: kind }`, nil),
				`{"code": "INVALID", "limit": "aliases", "max": 3, "actual": 4}`)
		})

		t.Run("ComplexityOfFields", func(t *testing.T) {
			// Under a limit of 1 every query is refused with its complexity.
			srv, _ := MustServeLimits(t, db, server.Limits{MaxComplexity: 1})
			const e = `entity(ref: "component:catalog-service")`
			tests := []struct {
				name, query string
				want        int
			}{
				{"Scalar", `{ ` + e + ` { ref } }`, 5 + 1},
				{"Scalars", `{ ` + e + ` { ref name kind } }`, 5 + 3},
				{"Read", `{ ` + e + ` { owner { ref } } }`, 5 + (5 + 1)},
				{"DefaultPage", `{ entities { edges { node { ref } } } }`, 5 + 50*3},
				{"First", `{ entities(first: 10) { edges { node { ref } } } }`, 5 + 10*3},
				{"Last", `{ entities(last: 2) { edges { node { ref } } } }`, 5 + 2*3},
				{"FirstVariable", `query($n: Int) { entities(first: $n) { edges { node { ref } } } }`, 5 + 7*3},
				{"PageCap", `{ entities(first: 5000) { edges { node { ref } } } }`, 5 + 1000*3},
				{"Relations", `{ ` + e + ` { relations { totalCount } } }`, 5 + (5 + 50*1)},
				{"Traverse", `{ ` + e + ` { traverse(relations: ["dependsOn"], first: 3) { totalCount } } }`, 5 + (5*5 + 3*1)},
				{"TraverseDepth", `{ ` + e + ` { traverse(relations: ["dependsOn"], maxDepth: 2, first: 3) { totalCount } } }`, 5 + (2*5 + 3*1)},
				{"List", `{ ` + e + ` { ... on Component { dependents { ref } } } }`, 5 + (5 + 100*1)},
				{"ListFirst", `{ ` + e + ` { ... on Component { dependents(first: 7) { ref } } } }`, 5 + (5 + 7*1)},
				{"ListCap", `{ ` + e + ` { ... on Component { dependents(first: 5000) { ref } } } }`, 5 + (5 + 1000*1)},
				{"Interface", `{ ` + e + ` { ... on Owner { members { ref } ownedEntities { ref } } } }`, 5 + 2*(5+100*1)},
				{"ByRefs", `{ entitiesByRefs(refs: ["a:b", "c:d", "e:f"]) { ref } }`, 5 + 3*1},
				{"Federation", `{ _entities(representations: [
					{__typename: "Component", ref: "component:default/a"},
					{__typename: "Component", ref: "component:default/b"}]) { ... on Component { ref } } }`, 5 + 2*1},
				{"Mutation", `mutation { deleteEntity(ref: "component:x") { ref } }`, 100 + 1},
				{"ViewerOwns", `{ viewer { owns(first: 4) { edges { node { ref } } } } }`, 1 + (5 + 4*3)},
				{"AuditEvents", `{ auditEvents(first: 3) { edges { node { id } } } }`, 5 + 3*3},
				{"PagesOfPages", `{ entities(first: 100) { edges { node { relations(first: 100) { edges { node { target { ref } } } } } } } }`,
					5 + 100*(1+1+(5+100*(1+1+(5+1))))},
				{"FragmentSpreadTwice", `{ ...F ...F } fragment F on Query { ` + e + ` { ref } }`, 5 + 1},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					wantRefused(t, post(t, srv, tt.query, map[string]any{"n": 7}),
						fmt.Sprintf(`{"code": "INVALID", "limit": "complexity", "max": 1, "actual": %d}`, tt.want))
				})
			}
		})

		t.Run("Complexity", func(t *testing.T) {
			srv, _ := MustServeLimits(t, db, server.Limits{MaxComplexity: 35})
			const q = `query($n: Int) { entities(first: $n) { edges { node { ref } } } }`
			wantOK(t, post(t, srv, q, map[string]any{"n": 10}))
			wantRefused(t, post(t, srv, q, map[string]any{"n": 11}),
				`{"code": "INVALID", "limit": "complexity", "max": 35, "actual": 38}`)
			// The defaults admit the largest page with owners and systems,
			// and refuse pages of pages.
			wantOK(t, post(t, defaults, `{ entities(first: 1000) { edges { node {
				ref name ... on Component { owner { name } system { name } } } } } }`, nil))
			wantRefused(t, post(t, defaults, `{ entities(first: 100) { edges { node {
				relations(first: 100) { edges { node { target { ref } } } } } } } }`, nil),
				`{"code": "INVALID", "limit": "complexity", "max": 75000, "actual": 80705}`)
		})

		t.Run("Batch", func(t *testing.T) {
			srv, _ := MustServeLimits(t, db, server.Limits{MaxBatch: 2, MaxDepth: 4})
			op := func(q string) string {
				b, _ := json.Marshal(map[string]any{"query": q})
				return string(b)
			}
			resp, body := rawRequest(t, srv, http.MethodPost, "["+op(`{ entity(ref: "component:catalog-service") { ref } }`)+","+
				op(nested(5))+"]", nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d; want 200\n%s", resp.StatusCode, body)
			}
			var got []gqlResponse
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("batch response is no array: %v\n%s", err, body)
			}
			if len(got) != 2 {
				t.Fatalf("got %d responses; want 2\n%s", len(got), body)
			}
			// Each operation is answered, and limited, on its own.
			if diff := diffJSON(t, `{"entity": {"ref": "component:default/catalog-service"}}`, got[0].Data); diff != "" || len(got[0].Errors) > 0 {
				t.Errorf("first response: errors %+v, data mismatch (-want +got):\n%s", got[0].Errors, diff)
			}
			wantRefused(t, got[1], `{"code": "INVALID", "limit": "depth", "max": 4, "actual": 5}`)

			one := op(`{ entity(ref: "component:catalog-service") { ref } }`)
			resp, body = rawRequest(t, srv, http.MethodPost, " [ "+one+","+one+","+one+"]", nil)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d; want 400", resp.StatusCode)
			}
			wantRefused(t, decodeGraphQL(t, body), `{"code": "INVALID", "limit": "batch", "max": 2, "actual": 3}`)

			resp, body = rawRequest(t, srv, http.MethodPost, "[]", nil)
			if r := decodeGraphQL(t, body); resp.StatusCode != http.StatusBadRequest || errorCode(t, r) != "INVALID" {
				t.Errorf("empty batch: status %d, errors %+v; want 400 INVALID", resp.StatusCode, r.Errors)
			}
			// A single operation is answered as before: an object.
			_, body = rawRequest(t, srv, http.MethodPost, one, nil)
			wantOK(t, decodeGraphQL(t, body))
		})

		t.Run("BodySize", func(t *testing.T) {
			const size = 300
			srv, _ := MustServeLimits(t, db, server.Limits{MaxBodyBytes: size})
			body := func(n int) string {
				b := `{"query": "{ entity(ref: \"component:catalog-service\") { ref } }"}`
				return b[:len(b)-1] + strings.Repeat(" ", n-len(b)) + "}"
			}
			resp, b := rawRequest(t, srv, http.MethodPost, body(size), nil)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status %d at the limit; want 200", resp.StatusCode)
			}
			wantOK(t, decodeGraphQL(t, b))
			resp, b = rawRequest(t, srv, http.MethodPost, body(size+1), nil)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d over the limit; want 413", resp.StatusCode)
			}
			wantRefused(t, decodeGraphQL(t, b), `{"code": "INVALID", "limit": "bodySize", "max": 300}`)
		})

		t.Run("Timeout", func(t *testing.T) {
			// The deadline has passed before any resolver runs, so the
			// first database call fails with it.
			srv, logs := MustServeLimits(t, db, server.Limits{Timeout: time.Nanosecond})
			const q = `{ entity(ref: "component:catalog-service") {
				traverse(relations: ["dependsOn", "ownedBy", "partOf"], maxDepth: 10) { edges { node { ref } } } } }`
			r := post(t, srv, q, nil)
			if len(r.Errors) == 0 {
				t.Fatalf("got data %s and no error; want TIMEOUT", r.Data)
			}
			for _, e := range r.Errors {
				if diff := cmp.Diff(MustJSON(t, `{"code": "TIMEOUT", "limit": "timeout", "max": "1ns"}`), any(e.Extensions)); diff != "" {
					t.Errorf("extensions mismatch (-want +got):\n%s", diff)
				}
				if !strings.Contains(e.Message, "1ns") {
					t.Errorf("message %q does not name the limit", e.Message)
				}
			}
			if strings.Contains(logs.String(), "internal error") {
				t.Errorf("a timeout was logged as an internal error:\n%s", logs)
			}
			// Under the limit, the same query runs.
			srv, _ = MustServeLimits(t, db, server.Limits{Timeout: time.Minute})
			wantOK(t, post(t, srv, q, nil))
		})

		t.Run("Introspection", func(t *testing.T) {
			wantOK(t, post(t, defaults, `{ __schema { queryType { name } } }`, nil))
			srv, _ := MustServeLimits(t, db, server.Limits{DisableIntrospection: true})
			for _, q := range []string{
				`{ __schema { queryType { name } } }`,
				`{ __type(name: "CatalogEntity") { name } }`,
				`{ ...F } fragment F on Query { ... on Query { __schema { types { name } } } }`,
			} {
				wantRefused(t, post(t, srv, q, nil), `{"code": "INVALID", "limit": "introspection"}`)
			}
			wantOK(t, post(t, srv, `{ __typename entity(ref: "component:catalog-service") { __typename } }`, nil))
			wantOK(t, post(t, srv, `{ _service { sdl } }`, nil)) // what a gateway reads
		})

		t.Run("APQ", func(t *testing.T) {
			const q = `{ entity(ref: "component:catalog-service") { ref kind } }`
			sum := sha256.Sum256([]byte(q))
			ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
			persisted := func(srv *httptest.Server, withQuery bool) gqlResponse {
				body := map[string]any{"extensions": ext}
				if withQuery {
					body["query"] = q
				}
				b, _ := json.Marshal(body)
				_, resp := rawRequest(t, srv, http.MethodPost, string(b), nil)
				return decodeGraphQL(t, resp)
			}
			srv, _ := MustServeLimits(t, db, server.Limits{})
			r := persisted(srv, false)
			if code := errorCode(t, r); code != "PERSISTED_QUERY_NOT_FOUND" || r.Errors[0].Message != "PersistedQueryNotFound" {
				t.Errorf("hash alone, before the query: code %q message %q; want PERSISTED_QUERY_NOT_FOUND PersistedQueryNotFound",
					code, r.Errors[0].Message)
			}
			wantOK(t, persisted(srv, true))
			r = persisted(srv, false)
			wantOK(t, r)
			if diff := diffJSON(t, `{"entity": {"ref": "component:default/catalog-service", "kind": "Component"}}`, r.Data); diff != "" {
				t.Errorf("data mismatch (-want +got):\n%s", diff)
			}
			// Turned off, the hash alone is no query.
			off, _ := MustServeLimits(t, db, server.Limits{APQCacheSize: -1})
			persisted(off, true)
			if code := errorCode(t, persisted(off, false)); code == "PERSISTED_QUERY_NOT_FOUND" || code == "" {
				t.Errorf("APQ off: code %q; want an error that is not PERSISTED_QUERY_NOT_FOUND", code)
			}
		})

		t.Run("CORS", func(t *testing.T) {
			const allowed, other = "https://portal.example.com", "https://elsewhere.example.com"
			srv, _ := MustServeLimits(t, db, server.Limits{CORS: server.CORS{AllowedOrigins: []string{allowed}}})
			query := `{"query": "{ __typename }"}`
			preflight := map[string]string{
				"Access-Control-Request-Method":  "POST",
				"Access-Control-Request-Headers": "content-type",
			}
			withOrigin := func(h map[string]string, origin string) map[string]string {
				out := map[string]string{"Origin": origin}
				for k, v := range h {
					out[k] = v
				}
				return out
			}
			tests := []struct {
				name                  string
				srv                   *httptest.Server
				method, origin        string
				header                map[string]string
				wantStatus            int
				wantOrigin, wantCreds string
			}{
				{"Allowed", srv, http.MethodPost, allowed, nil, http.StatusOK, allowed, ""},
				{"Denied", srv, http.MethodPost, other, nil, http.StatusOK, "", ""},
				{"PreflightAllowed", srv, http.MethodOptions, allowed, preflight, http.StatusNoContent, allowed, ""},
				{"PreflightDenied", srv, http.MethodOptions, other, preflight, http.StatusNoContent, "", ""},
				{"DefaultDeniesAll", defaults, http.MethodPost, allowed, nil, http.StatusOK, "", ""},
				{"DefaultPreflight", defaults, http.MethodOptions, allowed, preflight, http.StatusNoContent, "", ""},
			}
			creds, _ := MustServeLimits(t, db, server.Limits{CORS: server.CORS{AllowedOrigins: []string{allowed}, AllowCredentials: true}})
			tests = append(tests, struct {
				name                  string
				srv                   *httptest.Server
				method, origin        string
				header                map[string]string
				wantStatus            int
				wantOrigin, wantCreds string
			}{"Credentials", creds, http.MethodOptions, allowed, preflight, http.StatusNoContent, allowed, "true"})
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					resp, body := rawRequest(t, tt.srv, tt.method, query, withOrigin(tt.header, tt.origin))
					if resp.StatusCode != tt.wantStatus {
						t.Errorf("status %d; want %d\n%s", resp.StatusCode, tt.wantStatus, body)
					}
					if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tt.wantOrigin {
						t.Errorf("Access-Control-Allow-Origin %q; want %q", got, tt.wantOrigin)
					}
					if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != tt.wantCreds {
						t.Errorf("Access-Control-Allow-Credentials %q; want %q", got, tt.wantCreds)
					}
					if tt.method == http.MethodOptions && tt.wantOrigin != "" {
						if got := resp.Header.Get("Access-Control-Allow-Methods"); got != "POST" {
							t.Errorf("Access-Control-Allow-Methods %q; want POST", got)
						}
						if got := resp.Header.Get("Access-Control-Allow-Headers"); got != "content-type" {
							t.Errorf("Access-Control-Allow-Headers %q; want content-type", got)
						}
					}
				})
			}
		})
	})
}

// graphiQLIntrospection is the query the GraphiQL page at / sends to learn
// the schema, as its bundle (graphiql/graphiql.min.js.gz) writes it.
const graphiQLIntrospection = `query IntrospectionQuery {
	__schema {
		description
		queryType { name }
		mutationType { name }
		subscriptionType { name }
		types { ...FullType }
		directives {
			name
			description
			isRepeatable
			locations
			args(includeDeprecated: true) { ...InputValue }
		}
	}
}

fragment FullType on __Type {
	kind
	name
	description
	specifiedByURL
	fields(includeDeprecated: true) {
		name
		description
		args(includeDeprecated: true) { ...InputValue }
		type { ...TypeRef }
		isDeprecated
		deprecationReason
	}
	inputFields(includeDeprecated: true) { ...InputValue }
	interfaces { ...TypeRef }
	enumValues(includeDeprecated: true) {
		name
		description
		isDeprecated
		deprecationReason
	}
	possibleTypes { ...TypeRef }
}

fragment InputValue on __InputValue {
	name
	description
	type { ...TypeRef }
	defaultValue
	isDeprecated
	deprecationReason
}

fragment TypeRef on __Type {
	kind name ofType {
		kind name ofType {
			kind name ofType {
				kind name ofType {
					kind name ofType {
						kind name ofType {
							kind name ofType {
								kind name ofType {
									kind name ofType {
										kind name
									}
								}
							}
						}
					}
				}
			}
		}
	}
}`
