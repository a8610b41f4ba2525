package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// TestReplicas runs two greenroom serve processes on one PostgreSQL with 50
// file locations refreshed every 2 s, for 60 s, and kills one of them with
// SIGKILL in the middle of a refresh (of a URL location that answers
// slowly, once). Every location is refreshed about 30 times in all, never
// by both at once; the survivor carries on within an interval; the killed
// refresh is retried by the survivor within seconds, once the victim's
// heartbeats stop (River's own rescue is minutes away); no write is lost
// or doubled.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute of two servers")
	}
	dsn := storetest.PostgresURL(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "greenroom")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	const (
		n         = 50
		interval  = 2 * time.Second
		deadAfter = 5 * time.Second // jobs.deadAfter's default
	)
	var locs []string
	writeLoc := func(i int, names ...string) {
		var b strings.Builder
		for _, name := range names {
			fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: %s}\nspec: {type: service, lifecycle: production, owner: team}\n", name)
		}
		p := filepath.Join(dir, fmt.Sprintf("loc%02d", i), "catalog-info.yaml")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p+".tmp", []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(p+".tmp", p); err != nil { // a refresh reads the old file or the new
			t.Fatal(err)
		}
	}
	for i := range n {
		writeLoc(i, fmt.Sprintf("a-%02d", i), fmt.Sprintf("b-%02d", i))
		locs = append(locs, filepath.Join(dir, fmt.Sprintf("loc%02d", i), "catalog-info.yaml"))
	}

	// The slow location: once armed, its next reader waits 3 s for it, and
	// the test learns which replica that is (by the header urlAuth sends).
	var (
		mu     sync.Mutex
		armed  bool
		caught = make(chan string, 1)
	)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hold := armed
		armed = false
		mu.Unlock()
		if hold {
			caught <- r.Header.Get("X-Replica")
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		}
		fmt.Fprint(w, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: slow}\nspec: {type: service, lifecycle: production, owner: team}\n")
	}))
	defer slow.Close()
	host := strings.TrimPrefix(slow.URL, "http://")

	cfg := fmt.Sprintf("database: %q\nlocations:\n", dsn)
	for _, l := range locs {
		cfg += fmt.Sprintf("  - %q\n", l)
	}
	cfg += fmt.Sprintf("  - %q\ncatalog:\n  refreshInterval: %s\n  urlAuth:\n    - {host: %q, header: X-Replica, value: \"${REPLICA}\", allowHTTP: true}\n"+
		"jobs:\n  timeout: 4s\n  rescueAfter: 5m\n  deadAfter: %s\nlog:\n  format: json\nmetrics:\n  listen: \"off\"\n", slow.URL+"/catalog-info.yaml", interval, host, deadAfter)
	cfgPath := filepath.Join(dir, "greenroom.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	type replica struct {
		name, addr, log string
		cmd             *exec.Cmd
	}
	start := time.Now()
	replicas := map[string]*replica{}
	for _, name := range []string{"one", "two"} {
		r := &replica{name: name, addr: freeAddr(t), log: filepath.Join(dir, name+".log")}
		out, err := os.Create(r.log)
		if err != nil {
			t.Fatal(err)
		}
		r.cmd = exec.Command(bin, "serve", "--config", cfgPath, "--listen", r.addr)
		r.cmd.Env = append(os.Environ(), "REPLICA="+name)
		r.cmd.Stdout, r.cmd.Stderr = out, out
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.cmd.Process.Kill(); r.cmd.Wait(); out.Close() })
		replicas[name] = r
	}
	// Each replica is ready once the 51 locations were refreshed once, one
	// at a time per replica: under -race beside the other packages on two
	// cores that took over 60 s twice (alone: a few seconds).
	for _, r := range replicas {
		if !readyWithin("http://"+r.addr, 180*time.Second) {
			log, _ := os.ReadFile(r.log)
			t.Fatalf("replica %s not ready after 180 s; its log ends:\n%s", r.name, tail(log, 4000))
		}
	}

	// Halfway through, ten files change: their b component goes, a c
	// component comes.
	time.Sleep(time.Until(start.Add(15 * time.Second)))
	mu.Lock()
	armed = true
	mu.Unlock()
	var victim *replica
	select {
	case name := <-caught:
		victim = replicas[name]
	case <-time.After(10 * time.Second):
		t.Fatal("no replica read the slow location within 10 s")
	}
	time.Sleep(500 * time.Millisecond) // into the refresh, the read pending
	killed := time.Now()
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var survivor *replica
	for _, r := range replicas {
		if r != victim {
			survivor = r
		}
	}
	time.Sleep(time.Until(start.Add(30 * time.Second)))
	for i := range 10 {
		writeLoc(i, fmt.Sprintf("a-%02d", i), fmt.Sprintf("c-%02d", i))
	}
	time.Sleep(time.Until(start.Add(60 * time.Second)))
	end := time.Now()

	// The refreshes, from both logs.
	type run struct {
		replica    string
		start, end time.Time
	}
	runs := map[string][]run{} // by location key
	for _, r := range replicas {
		f, err := os.Open(r.log)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct {
				Msg      string `json:"msg"`
				Location string `json:"location"`
				Started  string `json:"started"`
				Duration int64  `json:"duration_ms"`
			}
			if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg != "refreshed location" {
				continue
			}
			s, err := time.Parse(time.RFC3339Nano, line.Started)
			if err != nil {
				t.Fatal(err)
			}
			runs[line.Location] = append(runs[line.Location], run{r.name, s, s.Add(time.Duration(line.Duration) * time.Millisecond)})
		}
		f.Close()
	}
	for i, l := range locs {
		rs := runs["file:"+l]
		sort.Slice(rs, func(a, b int) bool { return rs[a].start.Before(rs[b].start) })
		within := 0
		for j, r := range rs {
			if !r.start.After(end) {
				within++
			}
			if j > 0 && r.start.Before(rs[j-1].end) {
				t.Errorf("location %d refreshed twice at once: by %s from %s and by %s from %s", i, rs[j-1].replica, rs[j-1].start, r.replica, r.start)
			}
		}
		if within < 25 || within > 36 {
			t.Errorf("location %d refreshed %d times in 60 s at an interval of 2 s, want about 30", i, within)
		}
		// The survivor carries on: no gap longer than an interval and a
		// poll (and a little) after the kill.
		last := killed
		for _, r := range rs {
			if r.start.After(killed) {
				if gap := r.start.Sub(last); gap > 3500*time.Millisecond {
					t.Errorf("location %d waited %s for a refresh after the kill (at %s)", i, gap, last.Sub(start))
				}
				last = r.start
			}
		}
	}

	// The killed refresh is retried by the survivor once the victim's
	// heartbeats have stopped for deadAfter, and within two intervals more
	// (the survivor's polls and its own heartbeats).
	slowKey := "url:" + slow.URL + "/catalog-info.yaml"
	bound := 2*interval + deadAfter
	retried := func() (time.Duration, bool) {
		data, _ := os.ReadFile(survivor.log)
		for _, line := range strings.Split(string(data), "\n") {
			var l struct {
				Msg, Location, Started string
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "refreshed location" && l.Location == slowKey {
				if s, err := time.Parse(time.RFC3339Nano, l.Started); err == nil && s.After(killed) {
					return s.Sub(killed), true
				}
			}
		}
		return 0, false
	}
	for {
		after, ok := retried()
		if ok {
			t.Logf("the killed refresh was retried %s after the kill", after.Round(100*time.Millisecond))
			if after > bound {
				t.Errorf("the killed refresh was retried %s after the kill; want within %s", after, bound)
			}
			break
		}
		if time.Since(killed) > bound+10*time.Second {
			t.Fatalf("the refresh killed with its replica was not retried within %s", bound)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// Nothing lost or doubled: each location holds what its file says now.
	db, err := store.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	page, err := db.FindEntities(context.Background(), catalog.EntityQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]int{}
	for _, e := range page.Records {
		if strings.EqualFold(e.Kind, "component") && !e.Orphan {
			live[e.Name]++
		}
	}
	for i := range n {
		want := []string{fmt.Sprintf("a-%02d", i), fmt.Sprintf("b-%02d", i)}
		if i < 10 {
			want[1] = fmt.Sprintf("c-%02d", i)
		}
		for _, name := range want {
			if live[name] != 1 {
				t.Errorf("component %s stored %d times, want once", name, live[name])
			}
		}
	}
	if len(live) != 2*n+1 {
		t.Errorf("%d live components, want %d", len(live), 2*n+1)
	}

	// greenroom jobs lists every location's job, none failed.
	out, err := exec.Command(bin, "jobs", "--database", dsn).CombinedOutput()
	if err != nil || strings.Count(string(out), "refresh_location") != n+1 {
		t.Errorf("greenroom jobs: %v\n%s", err, out)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// tail is the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
