// Command greenroom-bench measures catalog ingestion: how long the real
// greenroom binary takes to go from an empty database to every entity and
// relation of a generated catalog stored, and how much memory it needs;
// then the latency and throughput of the GraphQL API serving that catalog.
//
// For each size it generates a synthetic catalog of N entities with
// ../shared/bench/gen_catalog.py into .bench/cat-N/ (reused while its
// manifest.json says N), builds cmd/greenroom once, and runs
//
//	greenroom ingest --database DSN --location .bench/cat-N/all.yaml --log-level warn
//
// as a child process against a fresh SQLite file and, when
// GREENROOM_BENCH_POSTGRES_URL or GREENROOM_TEST_POSTGRES_URL names a
// PostgreSQL server, a fresh database created on it and dropped afterwards.
// It records the wall-clock time from process start to exit and the child's
// peak resident set size (rusage maxrss), then opens the database and
// checks the load: N+2 entities (the catalog's Location plus the one
// Greenroom generates for the registered location) and exactly the relation
// rows the generator's manifest implies.
//
// Then, unless -api=false, it serves each verified database with
//
//	greenroom serve --database DSN --location .bench/cat-N/all.yaml --listen 127.0.0.1:PORT --log-level warn
//
// (a free port; the location configured again, as ingest configured it, or
// serve would remove it), waits until GET /readyz
// answers 200, which is after the server's first refresh pass, and drives
// POST /graphql over loopback with a keep-alive net/http client (api.go):
//
//   - entity(ref) with relations(first:100), cycling through 200 component
//     refs (the manifest's sample component, then components spread over the
//     first 1000 by ref): p50 and p99 with 1 client, then req/s with 8
//     concurrent clients for 5 s;
//   - 500 components with owner, system and providesApis;
//   - 100 components with owner { name members } and provided and consumed APIs;
//   - traverse(dependsOn, INCOMING, maxDepth 5, first 1000) from the resource
//     with the most incoming dependsOn relations, found with the store's
//     reads before serving;
//   - the page of 500 whole components, as GraphQL's
//     EntityConnection.documents and as Backstage's REST by-query, against
//     half Backstage's figure; as each node's document; and the same page
//     lean (ref and name; kind and name);
//   - with -backstage sqlite=URL, a running Backstage catalog backend's REST page
//     of 500 whole components timed beside Greenroom's in alternating
//     rounds, when it holds the same number of components (backstage.go);
//   - the whole catalog streamed by GET /api/catalog/entities as NDJSON,
//     with the server's RSS sampled while it streams (export.go).
//
// Then the cost of authentication and the permission policy: a second
// server is started beside the first, on the same database, with an HS256
// secret and examples/policy.yaml, every request to it carrying a token for
// a user whose group owns components. entity(ref) with 8 clients and a list
// of the components that group owns (owner filter, 100 per page) are
// measured on both servers in turns, five short slices each, so that the
// drift of a shared machine's speed falls on both alike. The targets: at
// least 85% of the development-mode throughput, and the list's p50 within
// 125%.
//
// The lists and the traversal run 50 times with 1 client, the pages of 500
// whole or lean entities 200 times, the owned list 500 times on each
// server. Each measurement starts with a warm-up whose
// responses are checked in full (the entity exists, the lists hold 500 and
// 100 entities, the traversal reaches some); every measured response must
// be HTTP 200 without GraphQL errors, or the measurement fails. Each is
// bounded: 3000 requests or 30 s with 1 client, 5 s with 8. The servers get
// SIGTERM afterwards.
//
// It prints a table with the ingestion targets (10,000 entities in under
// 5 s and 150 MB, 100,000 in under 60 s and 500 MB) and Backstage's figures
// for reference, then the API table with its targets for 10,000 entities
// (entity(ref) p99 < 2 ms and > 3000 req/s, 500 components p50 < 15 ms,
// 100 components p50 < 10 ms, the traversal p50 < 50 ms; other sizes get
// figures only) and Backstage's API figures. The exit status is 1 when a
// run or a measurement failed or did not verify and, with -strict, when a
// target was missed.
//
// Then, unless -feed=false, the change feed across processes on a fresh
// database of each kind (feed.go): 200 writes (refreshes of a one-component
// file location, each with a new title) followed by a second process,
// greenroom changes --follow; p50 and p99 from the start of a write to the
// moment its event is read from that process's output, against p99 < 50 ms
// on PostgreSQL and < 250 ms on SQLite (which polls every 100 ms).
//
// Run it from the repository root:
//
//	make bench
//	go run ./cmd/greenroom-bench -sizes 2000
//	go run ./cmd/greenroom-bench -api=false
//	GREENROOM_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' go run ./cmd/greenroom-bench
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
)

// target is what one catalog size should achieve on either database.
type target struct {
	seconds float64
	rssMB   float64
}

// targets are keyed by entity count; other sizes get no verdict.
var targets = map[int]target{
	10000:  {seconds: 5, rssMB: 150},
	100000: {seconds: 60, rssMB: 500},
}

// Backstage's figures for 10,000 entities on the same machine class.
const (
	backstageEntities    = 10000
	backstagePostgresSec = 168
	backstageSQLiteSec   = 246
	backstageRSS         = "550–780 MB"
)

// result is one ingestion of one catalog size into one database.
type result struct {
	database  string
	entities  int
	seconds   float64
	rssMB     float64 // peak RSS in MB (10^6 bytes)
	relations int
	wantRels  int    // expected relation rows, 0 when not derivable
	failure   string // why the run did not load or verify, "" when it did
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx)
	stop()
	os.Exit(code)
}

func run(ctx context.Context) int {
	sizesFlag := flag.String("sizes", "10000,100000", "comma-separated catalog sizes (entities)")
	genFlag := flag.String("generator", "", "path of gen_catalog.py (default ../shared/bench/gen_catalog.py from the repository root)")
	strict := flag.Bool("strict", false, "exit 1 when a time, RSS or API target is missed")
	api := flag.Bool("api", true, "serve each ingested database and measure the GraphQL API")
	feed := flag.Bool("feed", true, "measure the change feed from a write to a consumer in another process")
	live := flag.Bool("live", true, "measure subscriptions (1,000 clients) and saved files reaching queries")
	templates := flag.Bool("templates", true, "measure the template language on its compatibility corpus, dry runs and tasks")
	docs := flag.Bool("docs", true, "measure TechDocs builds of a generated 1,000-page site")
	backstage := flag.String("backstage", "", "DATABASE=URL[,DATABASE=URL…]: running Backstage catalog backends (on sqlite or postgres) each holding a generated catalog of one of the sizes; the one holding the same catalog has its REST page of 500 whole components timed beside Greenroom's on that database, in alternating rounds")
	searchFlag := flag.Bool("search", true, "measure search on each ingested database, with 50,000 docs sections added")
	workspaces := flag.String("workspaces", defaultWorkspaces(), "where the task benchmark's servers make task workspaces (their TMPDIR; empty: the system's temporary directory)")
	flag.Parse()

	sizes, err := parseSizes(*sizesFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "greenroom-bench:", err)
		return 2
	}
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "greenroom-bench:", err)
		return 2
	}
	// The generator runs from the repository root, so the default stays
	// relative to it and prints as the command a reader would type.
	gen := filepath.Join("..", "shared", "bench", "gen_catalog.py")
	if *genFlag != "" {
		if gen, err = filepath.Abs(*genFlag); err != nil {
			fmt.Fprintln(os.Stderr, "greenroom-bench:", err)
			return 2
		}
	}
	tmp, err := os.MkdirTemp("", "greenroom-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "greenroom-bench:", err)
		return 2
	}
	defer os.RemoveAll(tmp)

	backstages := map[string][]string{}
	for _, item := range strings.Split(*backstage, ",") {
		if item == "" {
			continue
		}
		database, u, ok := strings.Cut(item, "=")
		if !ok || (database != "sqlite" && database != "postgres") {
			fmt.Fprintf(os.Stderr, "-backstage: %q is not sqlite=URL or postgres=URL\n", item)
			os.Exit(2)
		}
		backstages[database] = append(backstages[database], strings.TrimSuffix(u, "/"))
	}
	b := &bench{root: root, backstage: backstages, bin: filepath.Join(tmp, "greenroom"), tmp: tmp, api: *api, search: *searchFlag, workspaces: *workspaces}
	fmt.Println("# build")
	if err := b.command(ctx, "go", "build", "-o", b.bin, "./cmd/greenroom"); err != nil {
		fmt.Fprintln(os.Stderr, "greenroom-bench: build greenroom:", err)
		return 2
	}

	pgURL := os.Getenv("GREENROOM_BENCH_POSTGRES_URL")
	if pgURL == "" {
		pgURL = os.Getenv("GREENROOM_TEST_POSTGRES_URL")
	}

	var (
		results    []result
		apiResults []apiResult
	)
	for _, n := range sizes {
		if ctx.Err() != nil {
			break // interrupted: report what ran
		}
		fmt.Printf("\n# %d entities\n", n)
		dir, m, err := b.catalog(ctx, gen, n)
		if err != nil {
			fmt.Fprintln(os.Stderr, "greenroom-bench:", err)
			return 2
		}
		location := filepath.Join(dir, "all.yaml")
		r, a := b.database(ctx, "sqlite", n, m, location, func() (string, func(), error) {
			path := filepath.Join(tmp, fmt.Sprintf("sqlite-%d.db", n))
			return path, func() { removeSQLite(path) }, nil
		})
		results, apiResults = append(results, r), append(apiResults, a...)
		if pgURL == "" {
			fmt.Println("postgres: skipped (set GREENROOM_BENCH_POSTGRES_URL or GREENROOM_TEST_POSTGRES_URL to a server URL)")
			continue
		}
		r, a = b.database(ctx, "postgres", n, m, location, func() (string, func(), error) {
			return createPostgres(ctx, pgURL)
		})
		results, apiResults = append(results, r), append(apiResults, a...)
	}
	var feedResults []feedResult
	if *feed && ctx.Err() == nil {
		fmt.Println("\n# change feed")
		path := filepath.Join(tmp, "feed.db")
		feedResults = append(feedResults, b.feed(ctx, "sqlite", path, tmp))
		removeSQLite(path)
		if pgURL != "" {
			if dsn, drop, err := createPostgres(ctx, pgURL); err != nil {
				feedResults = append(feedResults, feedResult{database: "postgres", failure: err.Error()})
			} else {
				feedResults = append(feedResults, b.feed(ctx, "postgres", dsn, tmp))
				drop()
			}
		}
	}
	var liveResults []liveResult
	if *live && ctx.Err() == nil {
		fmt.Println("\n# live catalog")
		path := filepath.Join(tmp, "live.db")
		liveResults = append(liveResults, b.live(ctx, "sqlite", path, tmp))
		removeSQLite(path)
		if pgURL != "" {
			if dsn, drop, err := createPostgres(ctx, pgURL); err != nil {
				liveResults = append(liveResults, liveResult{database: "postgres", failure: err.Error()})
			} else {
				liveResults = append(liveResults, b.live(ctx, "postgres", dsn, tmp))
				drop()
			}
		}
	}
	var tmpl templatingResult
	var taskResults []tasksResult
	if *templates && ctx.Err() == nil {
		tmpl = b.templating()
		fmt.Println("\n# software templates")
		path := filepath.Join(tmp, "tasks.db")
		taskResults = append(taskResults, b.tasks(ctx, "sqlite", path, tmp, 1))
		removeSQLite(path)
		if pgURL != "" {
			if dsn, drop, err := createPostgres(ctx, pgURL); err != nil {
				taskResults = append(taskResults, tasksResult{database: "postgres", failure: err.Error()})
			} else {
				taskResults = append(taskResults, b.tasks(ctx, "postgres", dsn, tmp, 2))
				drop()
			}
		}
	}
	var docsRes docsResult
	if *docs && ctx.Err() == nil {
		fmt.Println("\n# TechDocs")
		docsRes = b.docs(ctx, tmp, pgURL)
	}
	failed, missed := report(results)
	if *api {
		apiFailed, apiMissed := reportAPI(apiResults)
		failed, missed = failed || apiFailed, missed || apiMissed
	}
	if len(feedResults) > 0 {
		feedFailed, feedMissed := reportFeed(feedResults)
		failed, missed = failed || feedFailed, missed || feedMissed
	}
	if len(liveResults) > 0 {
		liveFailed, liveMissed := reportLive(liveResults)
		failed, missed = failed || liveFailed, missed || liveMissed
	}
	if *templates {
		tmplFailed, tmplMissed := reportTemplating(tmpl)
		tasksFailed, tasksMissed := reportTasks(taskResults, b.workspaces)
		failed, missed = failed || tmplFailed || tasksFailed, missed || tmplMissed || tasksMissed
	}
	if len(b.searchResults) > 0 {
		searchFailed, searchMissed := reportSearch(b.searchResults)
		failed, missed = failed || searchFailed, missed || searchMissed
	}
	if *docs {
		docsFailed, docsMissed := reportDocs(docsRes)
		failed, missed = failed || docsFailed, missed || docsMissed
	}
	switch {
	case failed:
		return 1
	case missed && *strict:
		return 1
	}
	return 0
}

// bench holds what every run shares: the repository root and the
// greenroom binary built for the runs.
type bench struct {
	root, bin string
	api       bool // measure the API on each ingested database
	// backstage holds the base URLs of running Backstage catalog backends
	// serving generated catalogs, by the database they store them in: the
	// one serving the same catalog is timed beside the whole pages.
	backstage map[string][]string
	// workspaces is where task workspaces are made ("" for the default).
	workspaces string
	tmp        string // the run's temporary directory
	// search measures search on each ingested database, with the pages of
	// a generated docs site (docsPages, built once) as docs sections.
	search        bool
	docsPages     []portal.DocsPage
	searchResults []searchResult
}

// command runs a preparation step from the repository root, printing it
// first and passing its output through.
func (b *bench) command(ctx context.Context, name string, args ...string) error {
	fmt.Println(show(name, args...))
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = b.root, os.Stdout, os.Stderr
	return cmd.Run()
}

// show formats a command line for the reader, quoting arguments the shell
// would split or expand.
func show(name string, args ...string) string {
	out := []string{name}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " '\"&?$*;|<>()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out = append(out, a)
	}
	return "$ " + strings.Join(out, " ")
}

// manifest is the part of the generator's manifest.json the bench reads.
type manifest struct {
	Entities          int            `json:"entities"`
	Seed              int            `json:"seed"`
	Counts            map[string]int `json:"counts"` // entities per kind
	ExpectedRelations map[string]int `json:"expected_relations"`
	Samples           struct {
		Component string `json:"component"` // a component name
	} `json:"samples"`
}

// relationRows returns how many relation rows Greenroom stores for the
// catalog. Every forward spec reference becomes two rows (the relation and
// its reverse). The manifest counts the references by their reverse
// relation: ownerOf (spec.owner), hasMember (User spec.memberOf),
// apiProvidedBy, apiConsumedBy and dependsOn (Component specs),
// System.hasPart (spec.system) and Domain.hasPart (System spec.domain).
// Group.parentOf counts groups with a parent, which the generator writes
// twice: spec.parent on the child and spec.children on the parent. Rows
// belong to the entity that emitted them, so both pairs are stored.
func (m manifest) relationRows() (int, bool) {
	keys := []string{"Group.ownerOf", "Group.hasMember", "Group.parentOf", "API.apiProvidedBy",
		"API.apiConsumedBy", "System.hasPart", "Domain.hasPart", "Component.dependsOn"}
	refs := 0
	for _, k := range keys {
		v, ok := m.ExpectedRelations[k]
		if !ok {
			return 0, false
		}
		refs += v
	}
	refs += m.ExpectedRelations["Group.parentOf"]
	return 2 * refs, true
}

// catalog returns .bench/cat-N and its manifest, generating the catalog
// unless a previous run left one of the same size there.
func (b *bench) catalog(ctx context.Context, gen string, n int) (string, manifest, error) {
	rel := filepath.Join(".bench", fmt.Sprintf("cat-%d", n))
	dir := filepath.Join(b.root, rel)
	if m, err := readManifest(dir); err == nil && m.Entities == n {
		if _, err := os.Stat(filepath.Join(dir, "all.yaml")); err == nil {
			fmt.Printf("reusing %s (manifest.json: %d entities, seed %d)\n", dir, m.Entities, m.Seed)
			return dir, m, nil
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", manifest{}, err
	}
	if err := b.command(ctx, "python3", gen, "--entities", strconv.Itoa(n), "--out", rel); err != nil {
		return "", manifest{}, fmt.Errorf("generate %d entities: %w", n, err)
	}
	m, err := readManifest(dir)
	if err != nil {
		return "", manifest{}, err
	}
	if m.Entities != n {
		return "", manifest{}, fmt.Errorf("%s: manifest says %d entities, want %d", dir, m.Entities, n)
	}
	return dir, m, nil
}

func readManifest(dir string) (manifest, error) {
	var m manifest
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%s/manifest.json: %w", dir, err)
	}
	return m, nil
}

// database ingests one catalog into a fresh database made by setup,
// exports it, measures the API on it unless -api=false, and removes it.
func (b *bench) database(ctx context.Context, database string, n int, m manifest, location string,
	setup func() (dsn string, cleanup func(), err error)) (result, []apiResult) {
	wantRels, _ := m.relationRows()
	dsn, cleanup, err := setup()
	if err != nil {
		fmt.Printf("%s: FAILED: %v\n", database, err)
		return result{database: database, entities: n, wantRels: wantRels, failure: err.Error()}, nil
	}
	defer cleanup()
	r := b.ingest(ctx, database, n, wantRels, location, dsn)
	if r.failure != "" || ctx.Err() != nil {
		return r, nil
	}
	exported := b.measureExport(ctx, database, n, dsn)
	var api []apiResult
	if b.api && ctx.Err() == nil {
		api = b.serveAPI(ctx, database, n, m, dsn, location)
	}
	if b.search && ctx.Err() == nil {
		b.searchResults = append(b.searchResults, b.measureSearch(ctx, database, n, dsn, location, b.tmp))
	}
	return r, append(api, exported)
}

// ingest runs greenroom ingest for one catalog into the empty database at
// dsn, then verifies what was stored.
func (b *bench) ingest(ctx context.Context, database string, n, wantRels int, location, dsn string) result {
	r := result{database: database, entities: n, wantRels: wantRels}
	args := []string{"ingest", "--database", dsn, "--location", location, "--log-level", "warn"}
	fmt.Println(show(b.bin, redactArgs(args)...))
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, b.bin, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = b.root, &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r.seconds = time.Since(start).Seconds()
	if st := cmd.ProcessState; st != nil {
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			r.rssMB = float64(ru.Maxrss) * 1024 / 1e6 // Maxrss is in KiB on Linux
		}
	}
	os.Stdout.Write(indent(stdout.Bytes()))
	if err != nil {
		r.failure = fmt.Sprintf("greenroom ingest: %v", err)
		fmt.Printf("%s: FAILED: %s; stderr:\n", database, r.failure)
		os.Stdout.Write(indent(stderr.Bytes()))
		return r
	}
	if stderr.Len() > 0 {
		fmt.Printf("%s: warnings:\n", database)
		os.Stdout.Write(indent(stderr.Bytes()))
	}

	ents, rels, err := counts(ctx, dsn)
	r.relations = rels
	switch {
	case err != nil:
		r.failure = fmt.Sprintf("verify: %v", err)
	case ents != n+2:
		r.failure = fmt.Sprintf("stored %d entities, want %d (%d generated + 2 Locations)", ents, n+2, n)
	case rels <= 0:
		r.failure = "stored no relations"
	case wantRels > 0 && rels != wantRels:
		r.failure = fmt.Sprintf("stored %d relation rows, want %d (from manifest.json)", rels, wantRels)
	}
	if r.failure != "" {
		fmt.Printf("%s: FAILED: %s\n", database, r.failure)
	} else {
		fmt.Printf("%s: verified %d entities and %d relation rows in %.2fs, peak RSS %.0f MB\n",
			database, ents, rels, r.seconds, r.rssMB)
	}
	return r
}

// counts opens the database as Greenroom does and counts what it holds.
func counts(ctx context.Context, dsn string) (entities, relations int, err error) {
	db, err := store.Open(ctx, dsn, nil)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	return db.Counts(ctx)
}

// createPostgres creates an empty database on the server at serverURL and
// returns its URL and a function that drops it.
func createPostgres(ctx context.Context, serverURL string) (string, func(), error) {
	dsn, drop, err := store.CreatePostgresDatabase(ctx, serverURL, "greenroom_bench_")
	if err != nil {
		return "", nil, err
	}
	return dsn, func() {
		if err := drop(); err != nil {
			fmt.Fprintln(os.Stderr, "greenroom-bench:", err)
		}
	}, nil
}

// removeSQLite deletes a SQLite database and its WAL files.
func removeSQLite(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(p)
	}
}

// redactArgs hides passwords in URL arguments.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if u, err := url.Parse(a); err == nil && u.User != nil {
			a = u.Redacted()
		}
		out[i] = a
	}
	return out
}

func indent(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return []byte("    " + strings.Join(lines, "\n    ") + "\n")
}

// report prints the results table, the targets and Backstage's figures. It
// reports whether any run failed and whether any target was missed.
func report(results []result) (failed, missed bool) {
	fmt.Println("\n# results")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "database\tentities\tseconds\tentities/s\tpeak RSS\trelations\ttime target\tRSS target\tload\t")
	for _, r := range results {
		load := "verified"
		if r.failure != "" {
			load, failed = "FAILED", true
		}
		timeV, rssV := "-", "-"
		if t, ok := targets[r.entities]; ok && r.failure == "" {
			timeV = verdict(r.seconds < t.seconds, fmt.Sprintf("< %g s", t.seconds), &missed)
			rssV = verdict(r.rssMB < t.rssMB, fmt.Sprintf("< %g MB", t.rssMB), &missed)
		}
		rels := strconv.Itoa(r.relations)
		if r.wantRels == 0 && r.failure == "" {
			rels += " (not checked)"
		}
		rate := "-"
		if r.seconds > 0 {
			rate = fmt.Sprintf("%.0f", float64(r.entities)/r.seconds)
		}
		fmt.Fprintf(w, "%s\t%d\t%.2f\t%s\t%.0f MB\t%s\t%s\t%s\t%s\t\n",
			r.database, r.entities, r.seconds, rate, r.rssMB, rels, timeV, rssV, load)
	}
	w.Flush()

	fmt.Printf("\nTargets: 10,000 entities in under 5 s and 150 MB peak RSS, 100,000 in under 60 s and 500 MB, on either database.\n")
	fmt.Printf("Backstage, 10,000 entities, same machine class: %d s on PostgreSQL, %d s on SQLite, %s peak RSS.\n",
		backstagePostgresSec, backstageSQLiteSec, backstageRSS)
	for _, r := range results {
		if r.entities != backstageEntities || r.failure != "" {
			continue
		}
		ref := float64(backstageSQLiteSec)
		if r.database == "postgres" {
			ref = backstagePostgresSec
		}
		fmt.Printf("Greenroom on %s, %d entities: %.2f s (%.0f× faster than Backstage), %.0f MB peak RSS.\n",
			r.database, r.entities, r.seconds, ref/r.seconds, r.rssMB)
	}
	for _, r := range results {
		if r.failure != "" {
			fmt.Printf("FAILED: %s, %d entities: %s\n", r.database, r.entities, r.failure)
		}
	}
	return failed, missed
}

func verdict(ok bool, what string, missed *bool) string {
	if ok {
		return "PASS " + what
	}
	*missed = true
	return "FAIL " + what
}

func parseSizes(s string) ([]int, error) {
	var sizes []int
	if strings.TrimSpace(s) == "" {
		return nil, nil // no catalogs: the change feed and live measurements only
	}
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 7 {
			return nil, fmt.Errorf("-sizes: %q is not a catalog size (an integer of at least 7)", f)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// repoRoot returns the directory of the go.mod above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory; run from the repository root")
		}
		dir = parent
	}
}
