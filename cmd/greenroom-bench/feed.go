package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/store"
)

// feedWrites is how many writes the change feed measurement times.
const feedWrites = 200

// feedTargets are the p99 targets of write → consumer in another process.
var feedTargets = map[string]time.Duration{"postgres": 50 * time.Millisecond, "sqlite": 250 * time.Millisecond}

// feedResult is the latency from a write to its event at a consumer in
// another process.
type feedResult struct {
	database      string
	p50, p99, max time.Duration
	writeP50      time.Duration // the write alone, for reference
	failure       string
}

// feedEvent is an event as greenroom changes prints it, and when the bench
// read it.
type feedEvent struct {
	Position  int64  `json:"position"`
	Operation string `json:"operation"`
	Ref       string `json:"ref"`
	received  time.Time
}

// feed measures the change feed across processes on a fresh database: a
// one-component file location is refreshed feedWrites times, each time
// with a new title, by this process through the store (the write a refresh
// makes), while a second process,
//
//	greenroom changes --database DSN --after head --follow
//
// prints the events it follows (woken by NOTIFY on PostgreSQL, its 100 ms
// poll on SQLite). The latency runs from the start of the write to the
// moment this process reads the event's line from the child's stdout. Each
// write waits for the event of the one before, then a random 0–100 ms, so
// that writes fall anywhere in the period of SQLite's poll rather than just
// after it.
func (b *bench) feed(ctx context.Context, database, dsn, dir string) feedResult {
	res := feedResult{database: database}
	fail := func(format string, args ...any) feedResult {
		res.failure = fmt.Sprintf(format, args...)
		fmt.Printf("%s: change feed: FAILED: %s\n", database, res.failure)
		return res
	}
	db, err := store.Open(ctx, dsn, nil)
	if err != nil {
		return fail("%v", err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return fail("%v", err)
	}
	path := filepath.Join(dir, "feed-"+database+".yaml")
	write := func(i int) error {
		return os.WriteFile(path, fmt.Appendf(nil, `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: feed-bench, title: "Write %d"}
spec: {type: service, lifecycle: production, owner: nobody}
`, i), 0o644)
	}
	if err := write(-1); err != nil {
		return fail("%v", err)
	}
	loc, _, err := db.CreateLocation(ctx, ingest.TypeFile, path)
	if err != nil {
		return fail("%v", err)
	}
	eng := ingest.NewEngine(db, ingest.Options{})
	if _, err := eng.Refresh(ctx, loc); err != nil {
		return fail("%v", err)
	}

	args := []string{"changes", "--database", dsn, "--after", "head", "--follow"}
	fmt.Println(show(b.bin, redactArgs(args)...))
	cmd := exec.CommandContext(ctx, b.bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fail("%v", err)
	}
	if err := cmd.Start(); err != nil {
		return fail("%v", err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	events := make(chan feedEvent, 1000)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var e feedEvent
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				e.received = time.Now()
				events <- e
			}
		}
		close(events)
	}()
	const ref = "component:default/feed-bench"
	// await returns when the update of the component arrives.
	await := func(timeout time.Duration) (time.Time, error) {
		deadline := time.After(timeout)
		for {
			select {
			case e, ok := <-events:
				if !ok {
					return time.Time{}, fmt.Errorf("greenroom changes exited")
				}
				if e.Ref == ref && e.Operation == string(catalog.ChangeUpdated) {
					return e.received, nil
				}
			case <-deadline:
				return time.Time{}, fmt.Errorf("no event within %v", timeout)
			}
		}
	}
	// Warm-up: until the child follows (it starts after its own head).
	for i := 0; ; i++ {
		if err := write(1_000_000 + i); err != nil {
			return fail("%v", err)
		}
		if _, err := eng.Refresh(ctx, loc); err != nil {
			return fail("%v", err)
		}
		if _, err := await(time.Second); err == nil {
			break
		}
		if i == 10 {
			return fail("the consumer saw no event in 10 s")
		}
	}
	var lat, writes []time.Duration
	for i := range feedWrites {
		time.Sleep(time.Duration(rand.IntN(100_000)) * time.Microsecond)
		if err := write(i); err != nil {
			return fail("%v", err)
		}
		start := time.Now()
		if _, err := eng.Refresh(ctx, loc); err != nil {
			return fail("%v", err)
		}
		writes = append(writes, time.Since(start))
		got, err := await(5 * time.Second)
		if err != nil {
			return fail("write %d: %v", i, err)
		}
		lat = append(lat, got.Sub(start))
	}
	slices.Sort(lat)
	slices.Sort(writes)
	res.p50, res.p99, res.max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	res.writeP50 = writes[len(writes)/2]
	fmt.Printf("%s: change feed, write → consumer in another process: p50 %s, p99 %s, max %s (%d writes)\n",
		database, ms(res.p50), ms(res.p99), ms(res.max), len(lat))
	return res
}

// reportFeed prints the change feed's table and says whether a
// measurement failed or missed its target.
func reportFeed(results []feedResult) (failed, missed bool) {
	fmt.Println("\n# change feed: write → consumer in another process (greenroom changes --follow)")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "database\tp50\tp99\tmax\twrite alone p50\ttarget")
	for _, r := range results {
		if r.failure != "" {
			failed = true
			fmt.Fprintf(w, "%s\tFAILED: %s\n", r.database, r.failure)
			continue
		}
		t := feedTargets[r.database]
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.database, ms(r.p50), ms(r.p99), ms(r.max), ms(r.writeP50),
			verdict(r.p99 < t, "p99 < "+ms(t), &missed))
	}
	w.Flush()
	return failed, missed
}
