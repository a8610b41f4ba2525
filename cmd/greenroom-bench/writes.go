package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Writes while refreshes run: the platform-core issue's target is that a
// write never waits on a refresh's reads, p99 under 50 ms.
const (
	churnEntities = 2000             // the refreshed location's size
	writeTime     = 15 * time.Second // how long writes are measured
	writeRuns     = 300              // at most this many of each write
)

const (
	registerQ = `mutation($t: String!) { registerLocation(target: $t) { location { id } } }`
	deleteQ   = `mutation($id: ID!) { deleteLocation(id: $id) { deletedEntities } }`
	refreshQ  = `mutation($id: ID!) { refreshLocation(id: $id) { stats { emitted } } }`
)

// catalogSource serves, from this process, a location whose entities
// change on every read (/churn.yaml: churnEntities components whose
// descriptions count the reads), and tiny locations of one component each
// (/tiny/N.yaml).
type catalogSource struct {
	reads atomic.Int64
	url   string
	srv   *http.Server
}

func startCatalogSource() (*catalogSource, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &catalogSource{url: "http://" + ln.Addr().String()}
	c.srv = &http.Server{Handler: http.HandlerFunc(c.serve), ReadHeaderTimeout: 10 * time.Second}
	go c.srv.Serve(ln)
	return c, nil
}

func (c *catalogSource) serve(w http.ResponseWriter, r *http.Request) {
	const doc = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\n  description: read %d\nspec:\n  type: service\n  lifecycle: production\n  owner: bench\n---\n"
	switch {
	case r.URL.Path == "/churn.yaml":
		n := c.reads.Add(1)
		var b strings.Builder
		for i := range churnEntities {
			fmt.Fprintf(&b, doc, fmt.Sprintf("churn-%d", i), n)
		}
		w.Write([]byte(b.String()))
	case strings.HasPrefix(r.URL.Path, "/tiny/"):
		name := "tiny-" + strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/tiny/"), ".yaml")
		fmt.Fprintf(w, doc, name, 0)
	default:
		http.NotFound(w, r)
	}
}

// measureWrites registers the churning location and refreshes it in a
// loop from one client, each refresh rewriting churnEntities entities;
// meanwhile a second client registers a tiny location and deletes it
// again, over and over, and each of those writes is timed. deleteLocation
// is a write and nothing else; registerLocation also reads its own tiny
// location, but no other location's.
func measureWrites(ctx context.Context, srv *server, database string, n int) []apiResult {
	fail := func(err error) []apiResult {
		fmt.Printf("%s writes: FAILED: %v\n", database, err)
		return []apiResult{{database: database, entities: n, query: "(writes)", failure: err.Error()}}
	}
	src, err := startCatalogSource()
	if err != nil {
		return fail(err)
	}
	defer src.srv.Close()
	churnID, err := register(ctx, srv, src.url+"/churn.yaml")
	if err != nil {
		return fail(fmt.Errorf("register the churning location: %w", err))
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		refreshes   atomic.Int64
		refreshErr  error
		refreshBusy time.Duration
		wg          sync.WaitGroup
	)
	wg.Go(func() {
		body := mustBody(refreshQ, map[string]any{"id": churnID})
		for ctx.Err() == nil {
			_, d, err := srv.post(ctx, body, false)
			if err != nil {
				if ctx.Err() == nil {
					refreshErr = err
					cancel()
				}
				return
			}
			refreshes.Add(1)
			refreshBusy += d
		}
	})
	// Let the first refresh start reading before the writes begin.
	time.Sleep(200 * time.Millisecond)

	var reg, del []time.Duration
	var writeErr error
	start := time.Now()
	for i := 0; i < writeRuns && time.Since(start) < writeTime && ctx.Err() == nil; i++ {
		t0 := time.Now()
		id, err := register(ctx, srv, fmt.Sprintf("%s/tiny/%d.yaml", src.url, i))
		if err != nil {
			writeErr = fmt.Errorf("registerLocation %d: %w", i, err)
			break
		}
		reg = append(reg, time.Since(t0))
		_, d, err := srv.post(ctx, mustBody(deleteQ, map[string]any{"id": id}), false)
		if err != nil {
			writeErr = fmt.Errorf("deleteLocation %d: %w", i, err)
			break
		}
		del = append(del, d)
	}
	elapsed := time.Since(start)
	cancel()
	wg.Wait()
	switch {
	case writeErr != nil:
		return fail(writeErr)
	case refreshErr != nil:
		return fail(fmt.Errorf("refreshLocation: %w", refreshErr))
	case refreshes.Load() == 0:
		return fail(fmt.Errorf("no refresh of the churning location completed in %s", elapsed.Round(time.Second)))
	}
	note := fmt.Sprintf("(%d refreshes of %d entities ran, %.0f ms each)", refreshes.Load(), churnEntities,
		float64(refreshBusy.Milliseconds())/float64(refreshes.Load()))
	out := []apiResult{
		writeResult(database, n, "deleteLocation while refreshes run", del, elapsed, note),
		writeResult(database, n, "registerLocation (tiny URL) while refreshes run", reg, elapsed, note),
	}
	for i := range out {
		r := &out[i]
		if n == apiTargetEntities {
			r.target, r.pass = "p99 < 50 ms", r.p99 < 50*time.Millisecond
		}
		fmt.Printf("%s writes: %s: %d writes, p50 %s, p99 %s %s\n", database, r.query, r.runs, ms(r.p50), ms(r.p99), r.note)
	}
	return out
}

func writeResult(database string, n int, name string, lat []time.Duration, elapsed time.Duration, note string) apiResult {
	slices.Sort(lat)
	return apiResult{database: database, entities: n, query: name, runs: len(lat), clients: 1,
		p50: percentile(lat, 50), p99: percentile(lat, 99), rps: float64(len(lat)) / elapsed.Seconds(),
		latencies: lat, elapsed: elapsed, note: note}
}

// register registers a URL location and returns its id.
func register(ctx context.Context, srv *server, target string) (string, error) {
	data, _, err := srv.post(ctx, mustBody(registerQ, map[string]any{"t": target}), true)
	if err != nil {
		return "", err
	}
	var v struct {
		RegisterLocation struct{ Location struct{ ID string } }
	}
	if err := json.Unmarshal(data, &v); err != nil || v.RegisterLocation.Location.ID == "" {
		return "", fmt.Errorf("no location id in %s", clip(data))
	}
	return v.RegisterLocation.Location.ID, nil
}

func mustBody(query string, vars map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic(err) // strings and maps of strings always marshal
	}
	return b
}
