package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/greenroomhq/greenroom/internal/store"
)

// plugin is a techradar process started by run, serving on a free port.
type plugin struct {
	url  string
	stop func() error
}

// startPlugin runs the plugin with args until the test ends, and waits for
// it to serve.
func startPlugin(t testing.TB, args ...string) *plugin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append(args, "--listen", addr), func(string) string { return "" }, slog.New(slog.DiscardHandler))
	}()
	p := &plugin{url: "http://" + addr, stop: sync.OnceValue(func() error { cancel(); return <-done })}
	t.Cleanup(func() { p.stop() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("the plugin stopped: %v", err)
		default:
		}
		if resp, err := http.Get(p.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the plugin did not start")
		}
	}
}

// query runs a GraphQL query and decodes its data, failing on errors.
func (p *plugin) query(t *testing.T, q string, vars map[string]any, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	resp, err := http.Post(p.url+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []map[string]any
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &r); err != nil || len(r.Errors) > 0 {
		t.Fatalf("%s: %s", q, b)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		t.Fatal(err)
	}
}

// failure runs a query that must fail and returns its first error's code.
func (p *plugin) failure(t *testing.T, q string, vars map[string]any) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	resp, err := http.Post(p.url+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	json.NewDecoder(resp.Body).Decode(&r)
	if len(r.Errors) == 0 {
		t.Fatalf("%s: no error", q)
	}
	return r.Errors[0].Extensions.Code
}

func writeFile(t *testing.T, path, data string, at time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(path, at, at)
}

func exampleRadar(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "techradar", "radar.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type entry struct {
	ID, Title string
	Ring      struct{ ID, Name string }
	Quadrant  struct{ ID string }
	Moved     int
	Timeline  []struct {
		Date  string
		Ring  struct{ ID string }
		Moved int
	}
}

// TestPlugin serves two radars from files over a real HTTP server: the
// subgraph's fields and filters, the snapshots kept as a file changes, a
// bad edit that leaves the last good radar serving, Backstage's endpoint,
// and a restart that serves the stored radar when the file is broken.
func TestPlugin(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testPlugin(t, filepath.Join(t.TempDir(), "techradar.db")) })
	t.Run("postgres", func(t *testing.T) {
		server := os.Getenv("GREENROOM_TEST_POSTGRES_URL")
		if server == "" {
			t.Skip("GREENROOM_TEST_POSTGRES_URL is not set")
		}
		dsn, drop, err := store.CreatePostgresDatabase(t.Context(), server, "techradar_test_")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { drop() })
		testPlugin(t, dsn)
	})
}

func testPlugin(t *testing.T, db string) {
	dir := t.TempDir()
	file, csv := filepath.Join(dir, "radar.yaml"), filepath.Join(dir, "data.csv")
	writeFile(t, file, exampleRadar(t), time.Now().Add(-time.Hour))
	writeFile(t, csv, "title,ring,quadrant,moved,description,url,date\n"+
		"DuckDB,trial,tools,1,In-process analytics,https://duckdb.org,2025-01-10\n"+
		"Spark,hold,platforms,-1,,,2025-02-01\n", time.Now().Add(-time.Hour))
	args := []string{"--radar", "larkspur=" + file, "--radar", csv, "--database", db, "--poll", "1s"}
	p := startPlugin(t, args...)

	var got struct {
		TechRadars []struct {
			ID, Source string
			Quadrants  []struct{ ID string }
			Rings      []struct {
				ID, Color   string
				Description *string
			}
			Entries []entry
		}
	}
	p.query(t, `{ techRadars { id source quadrants { id } rings { id color description } entries { id title ring { id name } quadrant { id } moved timeline { date ring { id } moved } } } }`, nil, &got)
	if len(got.TechRadars) != 2 || got.TechRadars[0].ID != "data" || got.TechRadars[1].ID != "larkspur" {
		t.Fatalf("radars %+v; want data and larkspur, by id", got.TechRadars)
	}
	lark := got.TechRadars[1]
	if len(lark.Quadrants) != 4 || len(lark.Rings) != 4 || len(lark.Entries) != 8 || lark.Source != file {
		t.Fatalf("larkspur: %d quadrants, %d rings, %d entries, from %s", len(lark.Quadrants), len(lark.Rings), len(lark.Entries), lark.Source)
	}
	if lark.Rings[0].ID != "adopt" || lark.Rings[0].Color != "#5BA300" || lark.Rings[0].Description == nil {
		t.Errorf("first ring %+v; want adopt, #5BA300, with its description", lark.Rings[0])
	}
	var goEntry entry
	for _, e := range lark.Entries {
		if e.ID == "go" {
			goEntry = e
		}
	}
	// Newest first, whatever the file's order; moved derived from the ring before.
	if goEntry.Ring.ID != "adopt" || goEntry.Moved != 1 || len(goEntry.Timeline) != 2 ||
		goEntry.Timeline[0].Date != "2024-05-15" || goEntry.Timeline[1].Ring.ID != "trial" {
		t.Errorf("go: %+v; want adopt, moved in, its timeline newest first", goEntry)
	}
	if d := got.TechRadars[0].Entries; len(d) != 2 || d[0].Title != "DuckDB" || d[0].Moved != 1 || d[1].Moved != -1 {
		t.Errorf("the CSV radar's entries: %+v", d)
	}

	filter := func(args string) []string {
		var r struct {
			TechRadar struct{ Entries []struct{ ID string } }
		}
		p.query(t, `{ techRadar(id: "larkspur") { entries(`+args+`) { id } } }`, nil, &r)
		var ids []string
		for _, e := range r.TechRadar.Entries {
			ids = append(ids, e.ID)
		}
		return ids
	}
	for args, want := range map[string]string{
		`quadrant: "data"`:                       "[cassandra postgresql]",
		`ring: "hold"`:                           "[php]",
		`quadrant: "data", ring: "adopt"`:        "[postgresql]",
		`quadrant: "platforms", ring: "adopt"`:   "[kafka kubernetes]",
		`text: "KOT"`:                            "[kotlin]",
		`text: "docs"`:                           "[techdocs]",
		`quadrant: "nope"`:                       "[]",
		`text: "` + strings.Repeat("x", 5) + `"`: "[]",
	} {
		if got := filter(args); strings.Join(got, " ") != strings.Trim(want, "[]") {
			t.Errorf("entries(%s) = %v; want %s", args, got, want)
		}
	}
	var none struct{ TechRadar *struct{ ID string } }
	p.query(t, `{ techRadar(id: "nope") { id } }`, nil, &none)
	if none.TechRadar != nil {
		t.Error("an unknown radar is not null")
	}

	// CatalogEntity.techRadarEntries uses the tags the gateway sends in
	// each representation (@requires), any case, with no request to the
	// core (the plugin has none here); gateway/e2e_test.go checks it with a
	// real core and gateway.
	var ents struct {
		Entities []struct {
			Ref              string
			TechRadarEntries []struct{ ID string }
		} `json:"_entities"`
	}
	p.query(t, `query($r: [_Any!]!) { _entities(representations: $r) { ... on CatalogEntity { ref techRadarEntries { id } } } }`,
		map[string]any{"r": []any{
			map[string]any{"__typename": "Component", "ref": "component:default/a", "tags": []string{"Kafka", "go", "nope"}},
			map[string]any{"__typename": "System", "ref": "system:default/b", "tags": []string{}},
			map[string]any{"__typename": "API", "ref": "api:default/c", "tags": []string{"kotlin"}},
		}}, &ents)
	var used []string
	for _, e := range ents.Entities {
		var ids []string
		for _, x := range e.TechRadarEntries {
			ids = append(ids, x.ID)
		}
		used = append(used, e.Ref+"="+strings.Join(ids, ","))
	}
	if got := strings.Join(used, " "); got != "component:default/a=go,kafka system:default/b= api:default/c=kotlin" {
		t.Errorf("_entities with tags: %s", got)
	}

	// A bad edit keeps the last good radar and adds no snapshot; a good
	// one adds a snapshot, and the old one can still be read.
	writeFile(t, file, strings.Replace(exampleRadar(t), "quadrant: data", "quadrant: databases", 1), time.Now().Add(-30*time.Minute))
	time.Sleep(1500 * time.Millisecond)
	writeFile(t, file, strings.Replace(exampleRadar(t), "title: Kotlin", "title: Kotlin (JVM)", 1), time.Now())
	var snaps struct {
		TechRadar struct {
			Snapshots []struct {
				ID         string
				EntryCount int
			}
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		p.query(t, `{ techRadar(id: "larkspur") { snapshots { id entryCount } } }`, nil, &snaps)
		if len(snaps.TechRadar.Snapshots) == 2 || time.Now().After(deadline) {
			break
		}
	}
	if s := snaps.TechRadar.Snapshots; len(s) != 2 || s[0].ID <= s[1].ID || s[0].EntryCount != 8 {
		t.Fatalf("snapshots %+v; want two, newest first (the bad edit adds none)", s)
	}
	var then struct {
		TechRadar struct {
			Entry   struct{ Title string }
			Earlier struct{ Entry struct{ Title string } }
		}
	}
	p.query(t, `query($s: ID!) { techRadar(id: "larkspur") { entry(id: "kotlin") { title } earlier: atSnapshot(id: $s) { entry(id: "kotlin") { title } } } }`,
		map[string]any{"s": snaps.TechRadar.Snapshots[1].ID}, &then)
	if then.TechRadar.Entry.Title != "Kotlin (JVM)" || then.TechRadar.Earlier.Entry.Title != "Kotlin" {
		t.Errorf("kotlin now %q, at the first snapshot %q; want Kotlin (JVM) and Kotlin", then.TechRadar.Entry.Title, then.TechRadar.Earlier.Entry.Title)
	}
	for _, q := range []string{`{ techRadar(id: "larkspur") { atSnapshot(id: "x") { id } } }`, `{ techRadar(id: "larkspur") { snapshots(first: 100000) { id } } }`} {
		if code := p.failure(t, q, nil); code != "INVALID" {
			t.Errorf("%s: code %s; want INVALID", q, code)
		}
	}

	// Backstage's endpoint, which its stock page reads, validated against
	// the rules of Backstage's TechRadarLoaderResponse.
	validate := backstageSchema(t)
	for _, path := range []string{"/api/tech-radar/data", "/api/tech-radar/data?id=data"} {
		resp, err := http.Get(p.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		if err := validate.Validate(doc); err != nil {
			t.Errorf("%s is not Backstage's TechRadarLoaderResponse: %v", path, err)
		}
	}
	if resp, err := http.Get(p.url + "/api/tech-radar/data?id=nope"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown radar: %v %v; want 404", resp.Status, err)
	}

	// Restarted with the file broken, the plugin serves the stored radar.
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, file, "quadrants: [", time.Now().Add(time.Minute))
	p = startPlugin(t, args...)
	var again struct {
		TechRadar struct{ Entry struct{ Title string } }
	}
	p.query(t, `{ techRadar(id: "larkspur") { entry(id: "kotlin") { title } } }`, nil, &again)
	if again.TechRadar.Entry.Title != "Kotlin (JVM)" {
		t.Errorf("after a restart with a broken file: %q; want the stored Kotlin (JVM)", again.TechRadar.Entry.Title)
	}
}

// backstageSchema compiles testdata/backstage-radar.schema.json.
func backstageSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(filepath.Join("testdata", "backstage-radar.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRun_BadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "radar.csv")
	writeFile(t, bad, "title,ring\n", time.Now())
	db := filepath.Join(dir, "techradar.db")
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--radar", bad, "--database", db}, `radar.csv: line 1: no "quadrant" column`},
		{nil, "--radar [ID=]FILE|URL is needed"},
		{[]string{"--radar", "a=" + bad, "--radar", "a=" + bad}, `two radars have the id "a"`},
		{[]string{"--radar", "Bad Id=" + bad}, "must be lower-case"},
		{[]string{"--radar", bad, "--poll", "10ms"}, "at least 1s"},
	} {
		err := run(t.Context(), append(c.args, "--listen", "127.0.0.1:0"), func(string) string { return "" }, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("run %v: %v; want an error saying %q", c.args, err, c.says)
		}
	}
}
