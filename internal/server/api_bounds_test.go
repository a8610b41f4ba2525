package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// hubDependencies is how many components component:default/hub depends on:
// more than any list of related entities returns at once.
const hubDependencies = 1200

// hubCatalog writes a catalog in which component:default/hub depends on
// hubDependencies components dep-0000, dep-0001, …, each with a
// description, and serves it under lim.
func hubCatalog(t *testing.T, db *store.DB, lim server.Limits) *httptest.Server {
	t.Helper()
	docs := []string{component("hub", deps(hubDependencies)...)}
	for i := range hubDependencies {
		docs = append(docs, fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: dep-%04d
  description: one of the many components the hub depends on
spec:
  type: service
  lifecycle: production
  owner: team-data
`, i))
	}
	MustServeFiles(t, db, MustWriteFile(t, t.TempDir(), "hub.yaml", yamlDocs(docs...)))
	srv, _ := MustServeLimits(t, db, lim)
	return srv
}

func deps(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("component:dep-%04d", i)
	}
	return out
}

// TestRelatedLists_Bounded is the regression test of a query of a few
// hundred bytes over one entity with a thousand dependencies: each list of
// related entities returns at most its first (100 by default), is priced
// at that, and pages with after; the query that nests them three deep,
// which used to be priced as ten items a list and answered 1.44 million
// entities, is refused before it runs.
func TestRelatedLists_Bounded(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := hubCatalog(t, db, server.Limits{})

		t.Run("RefusedBeforeItRuns", func(t *testing.T) {
			const q = `{ entity(ref:"component:default/hub") { ... on Component { dependsOn { ... on Component {
				dependents { ... on Component { dependsOn { ref description } } } } } } } }`
			start := time.Now()
			wantRefused(t, post(t, srv, q, nil),
				`{"code": "INVALID", "limit": "complexity", "max": 75000, "actual": 2050510}`)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("refusal took %s", d)
			}
		})

		t.Run("DefaultWindow", func(t *testing.T) {
			var got struct {
				Entity struct {
					DependsOn []struct {
						Ref        string
						Dependents []struct{ Ref, Description string }
					}
				}
			}
			MustQuery(t, srv, `{ entity(ref:"component:default/hub") { ... on Component { dependsOn { ref ... on Component {
				dependents { ref description } } } } } }`, nil, &got)
			if n := len(got.Entity.DependsOn); n != 100 {
				t.Fatalf("dependsOn lists %d entities; want the default of 100", n)
			}
			for i, d := range got.Entity.DependsOn {
				if want := fmt.Sprintf("component:default/dep-%04d", i); d.Ref != want {
					t.Fatalf("dependsOn[%d] is %s; want %s (ordered by ref)", i, d.Ref, want)
				}
				if len(d.Dependents) != 1 || d.Dependents[0].Ref != "component:default/hub" {
					t.Fatalf("dependents of %s: %+v; want the hub", d.Ref, d.Dependents)
				}
			}
		})

		t.Run("Pages", func(t *testing.T) {
			var seen []string
			after := any(nil)
			for {
				var got struct {
					Entity struct{ DependsOn []struct{ Ref string } }
				}
				MustQuery(t, srv, `query($after: String) { entity(ref:"component:default/hub") { ... on Component {
					dependsOn(first: 500, after: $after) { ref } } } }`, map[string]any{"after": after}, &got)
				for _, d := range got.Entity.DependsOn {
					seen = append(seen, d.Ref)
				}
				if len(got.Entity.DependsOn) < 500 {
					break
				}
				after = seen[len(seen)-1]
			}
			if len(seen) != hubDependencies || seen[0] != "component:default/dep-0000" ||
				seen[len(seen)-1] != fmt.Sprintf("component:default/dep-%04d", hubDependencies-1) {
				t.Fatalf("paged through %d dependencies, %s … %s; want all %d", len(seen), seen[0], seen[len(seen)-1], hubDependencies)
			}
			// The window is the same through the prefetch of a page (entities)
			// and through the field's own resolver (entity).
			var page struct {
				Entities struct {
					Edges []struct {
						Node struct{ DependsOn []struct{ Ref string } }
					}
				}
			}
			MustQuery(t, srv, `{ entities(filter: {kind: ["Component"], name: ["hub"]}) { edges { node { ... on Component {
				dependsOn(first: 2, after: "component:dep-0009") { ref } } } } } }`, nil, &page)
			if e := page.Entities.Edges; len(e) != 1 || fmt.Sprint(e[0].Node.DependsOn) != "[{component:default/dep-0010} {component:default/dep-0011}]" {
				t.Errorf("window through a page: %+v", e)
			}
		})

		t.Run("FirstOutOfRange", func(t *testing.T) {
			wantCode(t, srv, portal.EINVALID, `{ entity(ref:"component:default/hub") { ... on Component { dependsOn(first: 1001) { ref } } } }`, nil)
			wantCode(t, srv, portal.EINVALID, `{ entity(ref:"component:default/hub") { ... on Component { dependsOn(after: "::") { ref } } } }`, nil)
			// Through the prefetch of a page too.
			wantCode(t, srv, portal.EINVALID, `{ entities(first: 1) { edges { node { ... on Component { dependsOn(first: -1) { ref } } } } } }`, nil)
			wantCode(t, srv, portal.EINVALID, `{ entities(first: 1) { edges { node { relations(first: -1) { edges { node { target { ref } } } } } } } }`, nil)
		})
	})
}

// TestResponseSize checks that a response that would be larger than
// MaxResponseBytes is stopped while it resolves and answered with the
// limit's error alone.
func TestResponseSize(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := hubCatalog(t, db, server.Limits{MaxResponseBytes: 20_000})
		const q = `{ entity(ref:"component:default/hub") { ... on Component { dependsOn(first: 1000) { ref description } } } }`
		r := post(t, srv, q, nil)
		if len(r.Errors) != 1 || string(r.Data) != "null" && len(r.Data) != 0 {
			t.Fatalf("got data %.200s and errors %+v; want no data and one error", r.Data, r.Errors)
		}
		ext := r.Errors[0].Extensions
		if ext["code"] != portal.EINVALID || ext["limit"] != "responseSize" || ext["max"] != float64(20_000) {
			t.Errorf("extensions %v; want code INVALID, limit responseSize, max 20000", ext)
		}
		// Stopped soon after the limit, not after resolving the rest.
		if actual, _ := ext["actual"].(float64); actual <= 20_000 || actual > 21_000 {
			t.Errorf("actual %v; want just over the limit", ext["actual"])
		}
		// Whole documents count by their size, though they write
		// themselves: they too are stopped soon after the limit, not
		// written whole and measured then.
		const docs = `{ entity(ref:"component:default/hub") { ... on Component { dependsOn(first: 100) { document } } } }`
		r = post(t, srv, docs, nil)
		if len(r.Errors) != 1 || r.Errors[0].Extensions["limit"] != "responseSize" {
			t.Fatalf("documents: errors %+v; want the responseSize limit's error", r.Errors)
		}
		// The documents of a list resolve concurrently, each checking the
		// budget with its size, so those in flight when one passes the
		// limit are counted too: at most eight documents over it (about
		// 5 KB), against the whole list's 100 (67 KB).
		var one struct {
			Entity struct {
				DependsOn []struct{ Document json.RawMessage }
			}
		}
		MustQuery(t, srv, `{ entity(ref:"component:default/hub") { ... on Component { dependsOn(first: 1) { document } } } }`, nil, &one)
		size := float64(len(one.Entity.DependsOn[0].Document))
		if actual, _ := r.Errors[0].Extensions["actual"].(float64); actual <= 20_000 || actual > 20_000+8*size {
			t.Errorf("documents: actual %v; want just over the limit (a document is %v bytes)", r.Errors[0].Extensions["actual"], size)
		}
		// A response under the limit is served whole.
		const part = `{ entity(ref:\"component:default/hub\") { ... on Component { dependsOn(first: 120) { ref description } } } }`
		wantOK(t, post(t, srv, strings.ReplaceAll(part, `\"`, `"`), nil))
		// The operations of a batch share the limit: the second of two
		// that each fit alone is refused.
		_, body := rawRequest(t, srv, http.MethodPost, `[{"query": "`+part+`"}, {"query": "`+part+`"}]`, nil)
		var batch []gqlResponse
		if err := json.Unmarshal(body, &batch); err != nil || len(batch) != 2 {
			t.Fatalf("batch response %.300s: %v", body, err)
		}
		wantOK(t, batch[0])
		if len(batch[1].Errors) != 1 || batch[1].Errors[0].Extensions["limit"] != "responseSize" {
			t.Errorf("second operation: %+v; want the responseSize limit's error", batch[1].Errors)
		}
	})
}

// TestTimeout_StopsResolution checks that an operation still resolving at
// its deadline stops there, with one TIMEOUT error, rather than resolving
// every field it asked for: here 1.44 million entities, under no
// complexity or response size limit.
func TestTimeout_StopsResolution(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := hubCatalog(t, db, server.Limits{Timeout: 300 * time.Millisecond, MaxComplexity: -1, MaxResponseBytes: -1})
		const q = `{ entity(ref:"component:default/hub") { ... on Component { dependsOn(first: 1000) { ... on Component {
			dependents(first: 1000) { ... on Component { dependsOn(first: 1000) { ref description } } } } } } } }`
		start := time.Now()
		r := post(t, srv, q, nil)
		t.Logf("answered in %s", time.Since(start))
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("the operation took %s under a timeout of 300ms", d)
		}
		if len(r.Errors) != 1 {
			t.Fatalf("got %d errors; want one: %.500v", len(r.Errors), r.Errors)
		}
		if code := r.Errors[0].Extensions["code"]; code != portal.ETIMEOUT {
			t.Errorf("code %v; want %s: %+v", code, portal.ETIMEOUT, r.Errors[0])
		}
		if !strings.Contains(r.Errors[0].Message, "300ms") {
			t.Errorf("message %q does not name the timeout", r.Errors[0].Message)
		}
	})
}

// TestSlowBody is the regression test of clients that send their body a
// byte every two seconds: the connection is answered 408 with code
// TIMEOUT and closed once ReadTimeout has passed, whatever the client
// still sends.
func TestSlowBody(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv, _ := MustServeLimits(t, db, server.Limits{ReadTimeout: time.Second})
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: greenroom\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			tick := time.NewTicker(2 * time.Second)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := conn.Write([]byte(" ")); err != nil {
						return
					}
				}
			}
		}()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no response after %s: %v", time.Since(start), err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
			t.Errorf("status %d, close %v; want 408 and the connection closed", resp.StatusCode, resp.Close)
		}
		r := decodeGraphQL(t, body)
		if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != portal.ETIMEOUT || r.Errors[0].Extensions["limit"] != "readTimeout" {
			t.Errorf("body %s; want one TIMEOUT error of the readTimeout limit", body)
		}
		// The server closes its end: reading finds the end of the stream.
		if n, err := conn.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("read %d bytes, %v after the response; want EOF", n, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("connection held %s under a read timeout of 1s", d)
		}
	})
}

// TestConcurrentRequests checks that a request over MaxConcurrentRequests
// waits QueueTimeout for a slot and then gets 503 with code UNAVAILABLE,
// while the health probe, which is not counted, still answers.
func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := hubCatalog(t, db, server.Limits{MaxConcurrentRequests: 1, QueueTimeout: 200 * time.Millisecond,
			Timeout: 2 * time.Second, MaxComplexity: -1, MaxResponseBytes: -1})
		// One slow operation takes the only slot until its timeout.
		slow := make(chan gqlResponse)
		go func() {
			slow <- post(t, srv, `{ entity(ref:"component:default/hub") { ... on Component { dependsOn(first: 1000) { ... on Component {
				dependents(first: 1000) { ... on Component { dependsOn(first: 1000) { ref description } } } } } } } }`, nil)
		}()
		// Wait until it holds the slot: until another request is refused.
		deadline := time.Now().Add(5 * time.Second)
		var resp *http.Response
		var body []byte
		for {
			start := time.Now()
			resp, body = rawRequest(t, srv, http.MethodPost, `{"query": "{ entities(first: 1) { totalCount } }"}`, nil)
			if resp.StatusCode == http.StatusServiceUnavailable {
				if d := time.Since(start); d < 200*time.Millisecond {
					t.Errorf("refused after %s; want a wait of the queue timeout first", d)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no request refused while another runs: last status %d", resp.StatusCode)
			}
		}
		r := decodeGraphQL(t, body)
		if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != portal.EUNAVAILABLE || resp.Header.Get("Retry-After") == "" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("refusal %s (headers %v); want one UNAVAILABLE error in JSON with Retry-After", body, resp.Header)
		}
		health, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		health.Body.Close()
		if health.StatusCode != http.StatusOK {
			t.Errorf("/healthz answered %d while the API was busy", health.StatusCode)
		}
		<-slow
		// The slot is free again.
		wantOK(t, post(t, srv, `{ entities(first: 1) { totalCount } }`, nil))
	})
}
