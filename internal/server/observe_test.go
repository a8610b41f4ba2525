package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/resolvers"
)

// recorder is an [server.Observer] that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	requests []string
	ops      []string
}

func (r *recorder) ObserveRequest(route, method string, status int, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, method+" "+route+" "+http.StatusText(status))
}

func (r *recorder) StartOperation(ctx context.Context, op server.Operation) (context.Context, func([]string)) {
	if op.Start.IsZero() || time.Since(op.Start) > time.Minute {
		panic("operation without its start")
	}
	return ctx, func(codes []string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.ops = append(r.ops, strings.TrimSpace(op.Type+" "+op.Name+" "+strings.Join(codes, ",")))
	}
}

// TestServer_Observer checks what an Observer is told, and that /metrics
// is served before authentication.
func TestServer_Observer(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "greenroom.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	var rec recorder
	refuseTokens := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(server.New(server.Options{
		Resolver:     &resolvers.Resolver{Catalog: db},
		Loaders:      db,
		Observer:     &rec,
		Authenticate: refuseTokens,
		Limits:       server.Limits{MaxDepth: 2},
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("metrics\n"))
		}),
	}))
	t.Cleanup(srv.Close)

	send := func(method, path, body, token string) int {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	send("POST", "/graphql", `{"query":"query Named { __typename }"}`, "")
	send("POST", "/graphql", `{"query":"{ entity(ref: \"component:default/x\") { owner { ref } } }"}`, "") // too deep
	send("POST", "/graphql", `{"query":"{ nope }"}`, "")
	send("POST", "/graphql", `[{"query":"query A { __typename }"},{"query":"mutation B { __typename }"}]`, "")
	send("BREW", "/graphql", "", "")
	send("GET", "/graphiql/init.js", "", "")
	send("GET", "/wp-admin", "", "")
	if code := send("GET", "/metrics", "", "bad"); code != http.StatusOK {
		t.Errorf("/metrics with a token the server refuses: %d; want 200", code)
	}
	if code := send("GET", "/healthz", "", "bad"); code != http.StatusUnauthorized {
		t.Errorf("/healthz with a bad token: %d; want 401, as authentication stands before it", code)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	// The second is anonymous, the third names no operation the server found.
	wantOps := []string{"query Named", "query  INVALID", "GRAPHQL_VALIDATION_FAILED", "query A", "mutation B"}
	if diff := cmp.Diff(wantOps, rec.ops); diff != "" {
		t.Errorf("operations mismatch (-want +got):\n%s", diff)
	}
	wantReqs := []string{
		"POST /graphql OK", "POST /graphql OK", "POST /graphql Unprocessable Entity", "POST /graphql OK",
		"other /graphql Method Not Allowed", "GET /graphiql/{name} OK", "GET other Not Found", "GET /metrics OK", "GET /healthz Unauthorized",
	}
	if diff := cmp.Diff(wantReqs, rec.requests); diff != "" {
		t.Errorf("requests mismatch (-want +got):\n%s", diff)
	}
}
