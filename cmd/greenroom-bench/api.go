package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/store"
)

// The measured GraphQL operations, as the issue states them.
const (
	entityQuery = `query($ref:String!){ entity(ref:$ref){ ref kind name relations(first:100){ edges{ node{ type targetRef } } } } }`
	list500     = `{ entities(filter:{kind:["Component"]}, first:500){ edges{ node{ ref name ... on Component { owner{ name } system{ name } providesApis{ name } } } } } }`
	list100     = `{ entities(filter:{kind:["Component"]}, first:100){ edges{ node{ name ... on Component { owner{ name members{ name } } providesApis{ name } consumesApis{ name } } } } } }`
	wholeQ      = `{ entities(filter:{kind:["Component"]}, first:500){ documents } }`
	wholeNodesQ = `{ entities(filter:{kind:["Component"]}, first:500){ edges{ node{ document } } } }`
	leanQ       = `{ entities(filter:{kind:["Component"]}, first:500){ edges{ node{ ref name } } } }`
	asOfQ       = `query($ref:String!, $at:DateTime){ entity(ref:$ref, asOf:$at){ ref name description } }`
	traverseQ   = `query($ref:String!){ entity(ref:$ref){ traverse(relations:["dependsOn"], direction:INCOMING, maxDepth:5, first:1000){ totalCount edges{ depth node{ ref } } } } }`
)

// apiTargetEntities is the catalog size the API targets are set for; other
// sizes get figures only.
const apiTargetEntities = 10000

// Bounds of the API measurements: every one stops at its request count or
// its duration, whichever comes first.
const (
	readyTimeout = 10 * time.Minute // first refresh pass of the served catalog
	entityRefs   = 200              // component refs entity(ref) cycles through
	latencyRuns  = 3000             // entity(ref), 1 client
	listRuns     = 50               // each list and traversal query, 1 client
	loadClients  = 8
	loadTime     = 5 * time.Second
	maxTime      = 30 * time.Second // of any single-client measurement
	// pageRuns is how many times the pages of 500 whole or lean entities
	// are read: their p50s are held against Backstage's, and 50 reads of a
	// few ms each moved by ±30% between runs on a shared 2-core machine.
	pageRuns = 200
)

// The REST pages of 500 components Backstage's catalog serves: whole, as
// Backstage's by-query returns them, and pruned to a few fields.
const (
	restWhole = "/api/catalog/entities/by-query?filter=kind=component&limit=500"
	restLean  = "/api/catalog/entities/by-query?filter=kind=component&limit=500&fields=kind,metadata.name"
)

// backstageWholePage is Backstage 4.0.5's p50 for its REST page of 500
// whole components on this machine, the target's measure when no Backstage
// runs beside the bench (-backstage), timed side by side with this bench's
// client on 2026-12-07: on SQLite 30.2–32.1 ms at 10,000 entities (the
// whole-entities issue gave 10.8 ms at 1,000) and 426 ms at 100,000, where
// its kind filter alone takes 0.45 s; on PostgreSQL 23.4 ms at 10,000 (the
// issue's 22.9). The issue asks for half of it at 10,000 and 100,000
// entities; the targets at 100,000 without -backstage take the 10,000
// figures, which favours Backstage.
var backstageWholePage = map[string]time.Duration{"sqlite": 30200 * time.Microsecond, "postgres": 22900 * time.Microsecond}

// apiCase is one measurement: an operation, how hard to drive it, and the
// target the issue sets for 10,000 entities.
type apiCase struct {
	name    string
	query   string
	path    string                     // a REST path to GET instead of the GraphQL query
	vars    func(i int) map[string]any // variables of request i; nil for none
	clients int
	warm    int           // warm-up requests, whose responses are validated in full
	runs    int           // measured requests, at most
	time    time.Duration // measured time, at most
	target  string
	pass    func(apiResult) bool
	// larger: the target holds at larger catalogs too (the whole pages:
	// see backstageWholePage).
	larger bool
	check  func(data []byte) (note string, err error) // validates a warm-up response's data
}

// apiResult is one API measurement on one served database.
type apiResult struct {
	database, query string
	entities        int
	runs            int
	p50, p99        time.Duration
	rps             float64
	clients         int
	latencies       []time.Duration // of every measured request, sorted
	elapsed         time.Duration   // of the measured requests, all clients together
	target          string
	pass            bool
	note            string // what the responses held, such as a traversal's totalCount
	failure         string
}

// serveAPI serves the ingested database at dsn with greenroom serve and
// measures the API over loopback HTTP.
func (b *bench) serveAPI(ctx context.Context, database string, n int, m manifest, dsn, location string) []apiResult {
	fail := func(err error) []apiResult {
		fmt.Printf("%s api: FAILED: %v\n", database, err)
		return []apiResult{{database: database, entities: n, query: "(api)", failure: err.Error()}}
	}
	refs, resource, dependents, err := pickRefs(ctx, dsn, m)
	if err != nil {
		return fail(fmt.Errorf("pick refs: %w", err))
	}
	fmt.Printf("%s api: %d component refs from %s; traversal from %s (%d direct dependents)\n",
		database, len(refs), refs[0], resource, dependents)

	owner, err := pickOwner(ctx, dsn)
	if err != nil {
		return fail(fmt.Errorf("pick owner: %w", err))
	}
	start := time.Now()
	versions, err := fillHistory(ctx, dsn)
	if err != nil {
		return fail(err)
	}
	fmt.Printf("%s api: %d older versions written in %.1fs (%d versions per entity)\n",
		database, versions, time.Since(start).Seconds(), historyVersions)
	srv, err := b.startServer(ctx, dsn, location, nil)
	if err != nil {
		return fail(err)
	}
	defer srv.stop()
	fmt.Printf("%s api: server ready after %.1fs (first refresh pass)\n", database, srv.ready.Seconds())

	components := min(500, m.Counts["Component"])
	// Whole pages: twice as fast as Backstage's REST page.
	wholeTarget := backstageWholePage[database] / 2
	cases := []apiCase{{
		name: "entity(ref) + relations, 1 client", query: entityQuery,
		vars:    func(i int) map[string]any { return map[string]any{"ref": refs[i%len(refs)]} },
		clients: 1, warm: len(refs), runs: latencyRuns, time: maxTime,
		target: "p99 < 2 ms", pass: func(r apiResult) bool { return r.p99 < 2*time.Millisecond },
		check: checkEntity,
	}, {
		name: fmt.Sprintf("entity(ref) + relations, %d clients", loadClients), query: entityQuery,
		vars:    func(i int) map[string]any { return map[string]any{"ref": refs[i%len(refs)]} },
		clients: loadClients, warm: len(refs), runs: 1 << 20, time: loadTime,
		target: "> 3000 req/s", pass: func(r apiResult) bool { return r.rps > 3000 },
		check: checkEntity,
	}, {
		name: "500 components + owner, system, providesApis", query: list500,
		clients: 1, warm: 5, runs: listRuns, time: maxTime,
		target: "p50 < 15 ms", pass: func(r apiResult) bool { return r.p50 < 15*time.Millisecond },
		check: checkEdges(min(500, components)),
	}, {
		name: "100 components + owner members, APIs", query: list100,
		clients: 1, warm: 5, runs: listRuns, time: maxTime,
		target: "p50 < 10 ms", pass: func(r apiResult) bool { return r.p50 < 10*time.Millisecond },
		check: checkEdges(min(100, components)),
	}, {
		name: "500 whole components (documents)", query: wholeQ,
		clients: 1, warm: 5, runs: pageRuns, time: maxTime,
		target: "p50 < " + ms(wholeTarget), pass: func(r apiResult) bool { return r.p50 < wholeTarget },
		larger: true,
		check:  checkDocuments(components),
	}, {
		name: "500 whole components (each node's document)", query: wholeNodesQ,
		clients: 1, warm: 5, runs: pageRuns, time: maxTime,
		check: checkEdges(components),
	}, {
		name: "500 components ref, name", query: leanQ,
		clients: 1, warm: 5, runs: pageRuns, time: maxTime,
		check: checkEdges(components),
	}, {
		name: "REST by-query 500 whole components", path: restWhole,
		clients: 1, warm: 5, runs: pageRuns, time: maxTime,
		target: "p50 < " + ms(wholeTarget), pass: func(r apiResult) bool { return r.p50 < wholeTarget },
		larger: true,
		check:  checkItems(components),
	}, {
		name: "REST by-query 500 components, fields kind, name", path: restLean,
		clients: 1, warm: 5, runs: pageRuns, time: maxTime,
		check: checkItems(components),
	}, {
		// At 100,000 entities with 10 versions each (the live-catalog issue).
		name: "entity(ref, asOf) + name, description", query: asOfQ,
		vars: func(i int) map[string]any {
			at := time.Now().Add(-time.Duration(i%(historyDays*24*4)) * 15 * time.Minute)
			return map[string]any{"ref": refs[i%len(refs)], "at": at.UTC().Format(time.RFC3339)}
		},
		clients: 1, warm: len(refs), runs: latencyRuns, time: maxTime,
		target: "p99 < 20 ms", pass: func(r apiResult) bool { return r.p99 < 20*time.Millisecond },
		check: checkEntity,
	}, {
		name: "traverse dependsOn INCOMING depth 5", query: traverseQ,
		vars:    func(int) map[string]any { return map[string]any{"ref": resource} },
		clients: 1, warm: 5, runs: listRuns, time: maxTime,
		target: "p50 < 50 ms", pass: func(r apiResult) bool { return r.p50 < 50*time.Millisecond },
		check: checkTraversal,
	}}
	var out []apiResult
	for _, c := range cases {
		if ctx.Err() != nil {
			break
		}
		r := srv.measure(ctx, c)
		r.database, r.entities = database, n
		if (n == apiTargetEntities || c.larger && n > apiTargetEntities) && r.failure == "" && c.pass != nil {
			r.target = c.target
			r.pass = c.pass(r)
		}
		if r.failure != "" {
			fmt.Printf("%s api: %s: FAILED: %s\n", database, c.name, r.failure)
		} else {
			fmt.Printf("%s api: %s: %d requests, p50 %s, p99 %s, %.0f req/s %s\n",
				database, c.name, r.runs, ms(r.p50), ms(r.p99), r.rps, r.note)
		}
		out = append(out, r)
	}
	if ctx.Err() != nil {
		return out
	}
	for _, u := range b.backstage[database] {
		out = append(out, compareBackstage(ctx, srv, u, database, n)...)
	}
	out = append(out, srv.measureStream(ctx, database, n))
	if ctx.Err() != nil {
		return out
	}
	out = append(out, b.measureAuth(ctx, srv, database, n, dsn, location, refs, owner)...)
	if ctx.Err() != nil {
		return out
	}
	return append(out, measureWrites(ctx, srv, database, n)...)
}

// pickRefs reads from the database the component refs entity(ref) cycles
// through, starting with the manifest's sample component, and the resource
// with the most incoming dependsOn relations.
func pickRefs(ctx context.Context, dsn string, m manifest) (refs []string, resource string, dependents int, err error) {
	db, err := store.Open(ctx, dsn, nil)
	if err != nil {
		return nil, "", 0, err
	}
	defer db.Close()
	page, err := db.FindEntities(ctx, catalog.EntityQuery{
		Filter: catalog.EntityFilter{Kinds: []string{"Component"}}, Limit: store.MaxPageSize})
	if err != nil {
		return nil, "", 0, err
	}
	if m.Samples.Component != "" {
		refs = append(refs, "component:default/"+strings.ToLower(m.Samples.Component))
	}
	step := max(1, len(page.Records)/entityRefs)
	for i := 0; i < len(page.Records) && len(refs) < entityRefs; i += step {
		if r := page.Records[i].Ref; !slices.Contains(refs, r) {
			refs = append(refs, r)
		}
	}
	if len(refs) == 0 {
		return nil, "", 0, errors.New("no components stored")
	}

	// Every resource, a page at a time, and its incoming dependsOn rows.
	incoming := map[string]int{}
	q := catalog.EntityQuery{Filter: catalog.EntityFilter{Kinds: []string{"Resource"}}, Limit: store.MaxPageSize}
	for {
		page, err := db.FindEntities(ctx, q)
		if err != nil {
			return nil, "", 0, err
		}
		var batch []string
		for _, r := range page.Records {
			batch = append(batch, r.Ref)
		}
		for chunk := range slices.Chunk(batch, 500) {
			rows, err := db.RelationsByTargets(ctx, chunk, []string{catalog.RelationDependsOn})
			if err != nil {
				return nil, "", 0, err
			}
			for _, row := range rows {
				incoming[row.Target]++
			}
		}
		if !page.HasMore {
			break
		}
		last := len(page.Records) - 1
		q.After = &catalog.Position{Key: page.Keys[last], Ref: page.Records[last].Ref}
	}
	for ref, c := range incoming {
		if c > dependents || (c == dependents && ref < resource) {
			resource, dependents = ref, c
		}
	}
	if resource == "" {
		return nil, "", 0, errors.New("no resource has a dependsOn relation to it")
	}
	return refs, resource, dependents, nil
}

// server is a greenroom serve child process.
type server struct {
	token   string // sent as a bearer token when set
	stopped bool
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	output  bytes.Buffer  // its stdout and stderr; read once done
	url     string
	client  *http.Client
	ready   time.Duration // from start to the first 200 from /readyz
}

// startServer starts greenroom serve on a free loopback port and waits until
// it is ready, which is after its first refresh pass of the location. The
// location is configured again, as greenroom ingest configured it: a serve
// without it would remove it, and orphaned users grant nothing.
func (b *bench) startServer(ctx context.Context, dsn, location string, extra []string, env ...string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	args := append([]string{"serve", "--database", dsn, "--location", location, "--listen", addr, "--log-level", "warn"}, extra...)
	fmt.Println(show(b.bin, redactArgs(args)...))
	s := &server{
		cmd:  exec.Command(b.bin, args...),
		done: make(chan struct{}),
		url:  "http://" + addr,
		client: &http.Client{
			Timeout:   time.Minute,
			Transport: &http.Transport{MaxIdleConnsPerHost: 2 * loadClients, DisableCompression: true},
		},
	}
	s.cmd.Dir, s.cmd.Stdout, s.cmd.Stderr = b.root, &s.output, &s.output
	s.cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.cmd.Wait(); close(s.done) }()

	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/readyz", nil)
		if resp, err := s.client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.ready = time.Since(start)
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("greenroom serve exited: %v; output:\n%s", s.cmd.ProcessState, indent(s.output.Bytes()))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Since(start) > readyTimeout {
			s.stop()
			return nil, fmt.Errorf("greenroom serve not ready after %s", readyTimeout)
		}
	}
}

// stop sends SIGTERM and waits for the server to exit, killing it after
// 30 s, then prints what it logged but the polls of /readyz.
func (s *server) stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	s.client.CloseIdleConnections()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		fmt.Println("greenroom serve did not stop after SIGTERM in 30s: killed")
		s.cmd.Process.Kill()
		<-s.done
	}
	// Leave out the 503s of /readyz while the first refresh pass ran.
	var logged []string
	for _, line := range strings.Split(s.output.String(), "\n") {
		if line != "" && !strings.Contains(line, "/readyz") {
			logged = append(logged, line)
		}
	}
	if len(logged) > 0 {
		fmt.Println("greenroom serve logged:")
		os.Stdout.Write(indent([]byte(strings.Join(logged, "\n"))))
	}
}

// measure warms up with c.warm requests, validating each response, then
// sends c's requests from c.clients concurrent clients and times each.
func (s *server) measure(ctx context.Context, c apiCase) apiResult {
	var r apiResult
	r.query, r.clients = c.name, c.clients
	bodies := make([][]byte, max(c.warm, 1))
	body := func(i int) []byte {
		return bodies[i%len(bodies)]
	}
	for i := range bodies {
		var vars map[string]any
		if c.vars != nil {
			vars = c.vars(i)
		}
		bodies[i], _ = json.Marshal(map[string]any{"query": c.query, "variables": vars})
	}
	send := func(i int, decode bool) ([]byte, time.Duration, error) {
		if c.path != "" {
			return s.get(ctx, c.path)
		}
		return s.post(ctx, body(i), decode)
	}
	for i := range c.warm {
		data, _, err := send(i, true)
		if err == nil {
			r.note, err = c.check(data)
		}
		if err != nil {
			r.failure = fmt.Sprintf("warm-up: %v", err)
			return r
		}
	}

	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		mu       sync.Mutex
		firstErr error
		lat      []time.Duration
		wg       sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(c.time)
	for range c.clients {
		wg.Go(func() {
			var mine []time.Duration
			defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
			for {
				i := int(next.Add(1) - 1)
				if i >= c.runs || ctx.Err() != nil || time.Now().After(deadline) {
					return
				}
				_, d, err := send(i, false)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("request %d: %w", i, err)
					}
					mu.Unlock()
					cancel()
					return
				}
				mine = append(mine, d)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if parent.Err() != nil {
		r.failure = "interrupted"
		return r
	}
	if firstErr != nil {
		r.failure = firstErr.Error()
		return r
	}
	if len(lat) == 0 {
		r.failure = "no request completed"
		return r
	}
	slices.Sort(lat)
	r.runs = len(lat)
	r.p50, r.p99 = percentile(lat, 50), percentile(lat, 99)
	r.rps = float64(len(lat)) / elapsed.Seconds()
	r.latencies, r.elapsed = lat, elapsed
	return r
}

// post sends one GraphQL request and returns the response's data and the
// time from sending it to reading the whole response. Any status but 200
// and any GraphQL error is an error. With decode the body is decoded in
// full; without, it is only searched for an errors key, which keeps the
// load generator's CPU off the server's two cores.
func (s *server) post(ctx context.Context, body []byte, decode bool) ([]byte, time.Duration, error) {
	raw, d, err := s.send(ctx, http.MethodPost, "/graphql", body)
	if err != nil {
		return nil, d, err
	}
	if !decode && !bytes.Contains(raw, []byte(`"errors"`)) {
		return nil, d, nil
	}
	var out struct {
		Data   json.RawMessage
		Errors []json.RawMessage
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, d, fmt.Errorf("response is not JSON: %v: %s", err, clip(raw))
	}
	if len(out.Errors) > 0 {
		return nil, d, fmt.Errorf("GraphQL errors: %s", clip(raw))
	}
	return out.Data, d, nil
}

// get sends one GET of a REST path and returns the response's body and
// the time from sending it to reading the whole body. Any status but 200
// is an error.
func (s *server) get(ctx context.Context, path string) ([]byte, time.Duration, error) {
	return s.send(ctx, http.MethodGet, path, nil)
}

// send sends one request, with the server's token and a JSON body when
// there is one, and returns the response's body and the time from
// sending it to reading the whole body. Any status but 200 is an error.
func (s *server) send(ctx context.Context, method, path string, body []byte) ([]byte, time.Duration, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, rd)
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("HTTP %s: %s", resp.Status, clip(raw))
	}
	return raw, d, err
}

// checkItems wants a REST page of exactly n entities.
func checkItems(n int) func([]byte) (string, error) {
	return func(data []byte) (string, error) {
		var v struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(data, &v); err != nil || len(v.Items) != n {
			return "", fmt.Errorf("want %d items in %s", n, clip(data))
		}
		return "", nil
	}
}

func checkEntity(data []byte) (string, error) {
	var v struct {
		Entity *struct{ Ref string }
	}
	if err := json.Unmarshal(data, &v); err != nil || v.Entity == nil || v.Entity.Ref == "" {
		return "", fmt.Errorf("no entity in %s", clip(data))
	}
	return "", nil
}

// checkEdges wants a list of exactly n entities.
func checkEdges(n int) func([]byte) (string, error) {
	return func(data []byte) (string, error) {
		got, err := checkEdgesCount(data)
		if err != nil {
			return "", err
		}
		if got != n {
			return "", fmt.Errorf("%d entities listed, want %d", got, n)
		}
		return "", nil
	}
}

// checkDocuments checks that a page of documents holds n whole entities.
func checkDocuments(n int) func([]byte) (string, error) {
	return func(data []byte) (string, error) {
		var v struct {
			Entities struct {
				Documents []struct {
					Kind      string
					Relations []json.RawMessage
				}
			}
		}
		if err := json.Unmarshal(data, &v); err != nil {
			return "", err
		}
		if len(v.Entities.Documents) != n || n > 0 && (v.Entities.Documents[0].Kind == "" || v.Entities.Documents[0].Relations == nil) {
			return "", fmt.Errorf("%d documents, want %d whole entities", len(v.Entities.Documents), n)
		}
		return "", nil
	}
}

// checkEdgesCount returns how many entities a list response holds.
func checkEdgesCount(data []byte) (int, error) {
	var v struct {
		Entities struct{ Edges []json.RawMessage }
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return 0, err
	}
	return len(v.Entities.Edges), nil
}

func checkTraversal(data []byte) (string, error) {
	var v struct {
		Entity *struct {
			Traverse struct {
				TotalCount int
				Edges      []json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(data, &v); err != nil || v.Entity == nil {
		return "", fmt.Errorf("no entity in %s", clip(data))
	}
	t := v.Entity.Traverse
	if t.TotalCount == 0 || len(t.Edges) != min(t.TotalCount, 1000) {
		return "", fmt.Errorf("traversal of %d entities returned %d edges", t.TotalCount, len(t.Edges))
	}
	return "totalCount " + strconv.Itoa(t.TotalCount), nil
}

// percentile returns the nearest-rank p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func clip(b []byte) string {
	const n = 500
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// reportAPI prints the API table and Backstage's figures. It reports
// whether any measurement failed and whether any target was missed.
func reportAPI(results []apiResult) (failed, missed bool) {
	fmt.Println("\n# API latency and throughput (loopback HTTP, POST /graphql)")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "database\tentities\tquery\trequests\tp50\tp99\treq/s\ttarget\tverdict\tnote")
	for _, r := range results {
		if r.failure != "" {
			failed = true
			fmt.Fprintf(w, "%s\t%d\t%s\t-\t-\t-\t-\t%s\tFAILED\t%s\n", r.database, r.entities, r.query, or(r.target), r.failure)
			continue
		}
		v := "-"
		if r.target != "" {
			v = verdict(r.pass, "", &missed)
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%s\t%s\t%.0f\t%s\t%s\t%s\n", r.database, r.entities, r.query,
			r.runs, ms(r.p50), ms(r.p99), r.rps, or(r.target), strings.TrimSpace(v), r.note)
	}
	w.Flush()
	fmt.Printf("\nTargets (10,000 entities; other sizes get figures only, but the whole pages' targets hold at 100,000 too): entity(ref) p99 < 2 ms with 1 client and > 3000 req/s with %d; 500 components p50 < 15 ms; 100 components p50 < 10 ms; traversal p50 < 50 ms; writes while refreshes run p99 < 50 ms; whole pages of 500 at most half Backstage's time; export peak RSS < 100 MB and the server's RSS growing < 100 MB while it streams the REST list (at any size).\n", loadClients)
	fmt.Println("Backstage (from the issue): one entity by name 2.3–5.1 ms p50; a list of 500 components 29–43 ms; 51–77 ms across several REST calls for 100 components with owners and APIs.")
	fmt.Println("Backstage 4.0.5 REST by-query of 500 whole components on this machine: 30.2 ms p50 at 10,000 entities on SQLite (side by side, -backstage), 22.9 ms at 10,000 on PostgreSQL (the whole-entities issue); whole pages must take at most half, at 10,000 and 100,000 entities.")
	return failed, missed
}

func or(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
