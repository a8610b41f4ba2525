package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// The live-catalog issue's targets: a write reaches every one of a
// thousand subscribed clients within 100 ms (p99), a saved file is in the
// catalog within a second.
const (
	liveSubscriptions = 1000
	liveWrites        = 30 // mutations timed, each at every client
	liveWarmWrites    = 3  // mutations before them, not timed: the subscriptions' first events
	liveSaves         = 20 // file saves timed
	liveWriteTarget   = 100 * time.Millisecond
	liveSaveTarget    = time.Second
)

// liveResult is the live-catalog measurement on one database.
type liveResult struct {
	database               string
	subscriptions          int
	perSubscription        float64 // bytes of server heap per idle subscription
	write50, write99, wmax time.Duration
	save50, save99, smax   time.Duration
	failure                string
}

const liveSubscribe = `subscription { catalogChanged(filter: { kind: ["Component"] }) { cursor operation ref entity { ref name } } }`

// liveClient is one graphql-transport-ws client with one subscription; it
// records when each ref's event arrived.
type liveClient struct {
	conn *websocket.Conn
	mu   sync.Mutex
	got  map[string]time.Time
	wake chan struct{}
}

func dialLiveClient(ctx context.Context, url string) (*liveClient, error) {
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	c := &liveClient{conn: conn, got: map[string]time.Time{}, wake: make(chan struct{}, 1)}
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]any{}}); err != nil {
		return nil, err
	}
	var ack struct{ Type string }
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		return nil, fmt.Errorf("no connection_ack: %v %s", err, ack.Type)
	}
	if err := wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": liveSubscribe}}); err != nil {
		return nil, err
	}
	return c, nil
}

// read records the events until the connection closes. It reads the raw
// messages and finds the event's ref without decoding them, to keep the
// load generator's CPU off the server's two cores.
func (c *liveClient) read(ctx context.Context) {
	for {
		_, data, err := c.conn.Read(ctx)
		if err != nil {
			return
		}
		now := time.Now()
		_, rest, ok := bytes.Cut(data, []byte(`"ref":"`))
		if !ok || !bytes.Contains(data, []byte(`"type":"next"`)) {
			continue
		}
		end := bytes.IndexByte(rest, '"')
		if end < 0 {
			continue
		}
		c.mu.Lock()
		c.got[string(rest[:end])] = now
		c.mu.Unlock()
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// await returns when the event of ref arrived, or an error after timeout.
func (c *liveClient) await(ref string, timeout time.Duration) (time.Time, error) {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		at, ok := c.got[ref]
		c.mu.Unlock()
		if ok {
			return at, nil
		}
		select {
		case <-c.wake:
		case <-deadline:
			return time.Time{}, fmt.Errorf("no event for %s within %v", ref, timeout)
		}
	}
}

// heapInuse reads the server's go_memstats_heap_inuse_bytes.
func heapInuse(ctx context.Context, srv *server) (float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.url+"/metrics", nil)
	resp, err := srv.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("no go_memstats_heap_inuse_bytes in /metrics")
}

// live measures subscriptions on a fresh database served by greenroom
// serve: a file location of one component, liveSubscriptions WebSocket
// subscriptions to catalogChanged, opened from this process. It reports
// the server's heap per idle subscription (heap in use after opening them
// less before, divided by their number), the time from the start of a
// registerLocation mutation, which stores a new component, to the event's
// arrival at each of the clients (liveWrites mutations, each awaited at
// every client before the next), and the time from a file of the location
// saved to its new content served by entity(ref) (liveSaves saves, the
// file watcher refreshing it; polled every 5 ms).
func (b *bench) live(ctx context.Context, database, dsn, dir string) liveResult {
	res := liveResult{database: database}
	fail := func(format string, args ...any) liveResult {
		res.failure = fmt.Sprintf(format, args...)
		fmt.Printf("%s: live: FAILED: %s\n", database, res.failure)
		return res
	}
	file := filepath.Join(dir, "live-"+database, "catalog-info.yaml")
	save := func(title string) error {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		return os.WriteFile(file, fmt.Appendf(nil, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: live-bench, title: %q}\nspec: {type: service, lifecycle: production, owner: bench}\n", title), 0o644)
	}
	if err := save("start"); err != nil {
		return fail("%v", err)
	}
	source, err := startCatalogSource()
	if err != nil {
		return fail("%v", err)
	}
	defer source.srv.Close()
	srv, err := b.startServer(ctx, dsn, file, nil)
	if err != nil {
		return fail("%v", err)
	}
	defer srv.stop()

	before, err := heapInuse(ctx, srv)
	if err != nil {
		return fail("%v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	clients := make([]*liveClient, 0, liveSubscriptions)
	defer func() {
		for _, c := range clients {
			c.conn.CloseNow()
		}
	}()
	for range liveSubscriptions {
		c, err := dialLiveClient(cctx, srv.url)
		if err != nil {
			return fail("subscribe: %v", err)
		}
		clients = append(clients, c)
		go c.read(cctx)
	}
	res.subscriptions = len(clients)
	time.Sleep(2 * time.Second) // every subscription idle
	after, err := heapInuse(ctx, srv)
	if err != nil {
		return fail("%v", err)
	}
	res.perSubscription = (after - before) / float64(len(clients))
	fmt.Printf("%s: live: %d subscriptions open; server heap in use %.0f MB → %.0f MB, %.1f KB per subscription\n",
		database, len(clients), before/1e6, after/1e6, res.perSubscription/1e3)

	var lat []time.Duration
	for i := range liveWarmWrites + liveWrites {
		ref := fmt.Sprintf("component:default/tiny-live-%d", i)
		start := time.Now()
		if _, err := register(ctx, srv, fmt.Sprintf("%s/tiny/live-%d.yaml", source.url, i)); err != nil {
			return fail("write %d: %v", i, err)
		}
		for _, c := range clients {
			at, err := c.await(ref, 10*time.Second)
			if err != nil {
				return fail("write %d: %v", i, err)
			}
			if i >= liveWarmWrites {
				lat = append(lat, at.Sub(start))
			}
		}
	}
	slices.Sort(lat)
	res.write50, res.write99, res.wmax = percentile(lat, 50), percentile(lat, 99), lat[len(lat)-1]
	fmt.Printf("%s: live: registerLocation → event at each of %d clients: p50 %s, p99 %s, max %s (%d events)\n",
		database, len(clients), ms(res.write50), ms(res.write99), ms(res.wmax), len(lat))

	var saves []time.Duration
	for i := range liveSaves {
		title := fmt.Sprintf("save %d", i)
		start := time.Now()
		if err := save(title); err != nil {
			return fail("%v", err)
		}
		for {
			data, _, err := srv.post(ctx, mustBody(`{ entity(ref: "component:live-bench") { title } }`, nil), true)
			if err != nil {
				return fail("save %d: %v", i, err)
			}
			var v struct{ Entity struct{ Title string } }
			if json.Unmarshal(data, &v) == nil && v.Entity.Title == title {
				break
			}
			if time.Since(start) > 10*time.Second {
				return fail("save %d: not visible after 10 s", i)
			}
			time.Sleep(5 * time.Millisecond)
		}
		saves = append(saves, time.Since(start))
		time.Sleep(200 * time.Millisecond) // the next save is a new edit, not part of this one
	}
	slices.Sort(saves)
	res.save50, res.save99, res.smax = percentile(saves, 50), percentile(saves, 99), saves[len(saves)-1]
	fmt.Printf("%s: live: file saved → visible to entity(ref): p50 %s, p99 %s, max %s (%d saves)\n",
		database, ms(res.save50), ms(res.save99), ms(res.smax), len(saves))
	return res
}

// reportLive prints the live table and says whether a measurement failed
// or missed its target.
func reportLive(results []liveResult) (failed, missed bool) {
	fmt.Println("\n# live catalog: subscriptions, writes → events, saved files → queries")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "database\tsubscriptions\theap per idle subscription\twrite → event p50\tp99\tmax\ttarget\tfile saved → visible p50\tp99\tmax\ttarget")
	for _, r := range results {
		if r.failure != "" {
			failed = true
			fmt.Fprintf(w, "%s\tFAILED: %s\n", r.database, r.failure)
			continue
		}
		fmt.Fprintf(w, "%s\t%d\t%.1f KB\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.database, r.subscriptions, r.perSubscription/1e3,
			ms(r.write50), ms(r.write99), ms(r.wmax), verdict(r.write99 < liveWriteTarget, "p99 < "+ms(liveWriteTarget), &missed),
			ms(r.save50), ms(r.save99), ms(r.smax), verdict(r.save99 < liveSaveTarget, "p99 < "+ms(liveSaveTarget), &missed))
	}
	w.Flush()
	return failed, missed
}
