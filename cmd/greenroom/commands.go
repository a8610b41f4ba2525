package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/changefeed"
	"github.com/greenroomhq/greenroom/internal/hooks"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/jobs"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/restapi"
	"github.com/greenroomhq/greenroom/internal/scaffolder"
	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/settings"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/techdocs"
	"github.com/greenroomhq/greenroom/internal/watch"
	"github.com/greenroomhq/greenroom/resolvers"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// configFlags declares the flags shared by the commands that read Config.
type configFlags struct {
	fs         *flag.FlagSet
	config     string
	listen     string
	database   string
	locations  stringList
	interval   time.Duration
	orphans    string
	logLevel   string
	logFormat  string
	policy     string
	production bool
}

// newConfigFlags declares every setting's flag, for serve and ingest.
func newConfigFlags(name string, stderr io.Writer) *configFlags {
	f := newDatabaseFlags(name, stderr)
	f.fs.StringVar(&f.listen, "listen", "", "HTTP listen address (default 127.0.0.1:7007; GREENROOM_LISTEN)")
	f.fs.Var(&f.locations, "location", "register a location: a path or glob of descriptor files, or an http(s) URL; repeatable (GREENROOM_LOCATIONS, comma-separated)")
	f.fs.DurationVar(&f.interval, "refresh-interval", 0, "time between two reads of every location (default 3m; GREENROOM_REFRESH_INTERVAL)")
	f.fs.StringVar(&f.orphans, "orphans", "", "keep or delete entities their location no longer emits (default keep; GREENROOM_ORPHANS)")
	f.fs.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error (default info; GREENROOM_LOG_LEVEL)")
	f.fs.StringVar(&f.logFormat, "log-format", "", "auto, text or json (default auto; GREENROOM_LOG_FORMAT)")
	f.fs.StringVar(&f.policy, "policy", "", "permission policy file, reloaded when it changes (GREENROOM_POLICY); none lets everyone do everything")
	f.fs.BoolVar(&f.production, "production", false, "refuse to start without authentication and a policy (GREENROOM_PRODUCTION)")
	return f
}

// newFileFlags declares only --config, for the commands that read settings
// but have no flag of their own for them, so that their -h lists only what
// they use.
func newFileFlags(name string, stderr io.Writer) *configFlags {
	f := &configFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.fs.SetOutput(stderr)
	f.fs.StringVar(&f.config, "config", "", "read settings from this YAML file (also GREENROOM_CONFIG)")
	return f
}

// newDatabaseFlags declares --config and --database, for the commands that
// work on the database alone.
func newDatabaseFlags(name string, stderr io.Writer) *configFlags {
	f := newFileFlags(name, stderr)
	f.fs.StringVar(&f.database, "database", "", "SQLite path or sqlite: URL, or a postgres:// URL (default ./greenroom.db; GREENROOM_DATABASE)")
	return f
}

// dbCommand is a command that works on the database: its flags, and how
// it reports a failure (exit 2).
type dbCommand struct {
	*configFlags
	name   string // as messages name it: "jobs", "locations add"
	stderr io.Writer
}

// newDBCommand declares --config and --database for the command name,
// whose -h prints usage and then the flags.
func newDBCommand(name, usage string, stderr io.Writer) *dbCommand {
	c := &dbCommand{configFlags: newDatabaseFlags(name, stderr), name: name, stderr: stderr}
	c.fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		c.fs.PrintDefaults()
	}
	return c
}

// parse parses the flags wherever they stand and returns the other
// arguments; when the command must stop there, ok is false and code is
// its exit code: 0 after -h, 2 after a bad flag (reported by the flag set).
func (c *dbCommand) parse(args []string) (rest []string, code int, ok bool) {
	rest, err := parseInterspersed(c.fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, 0, false
	case err != nil:
		return nil, 2, false
	}
	return rest, 0, true
}

// fail reports err as the command's and returns exit code 2.
func (c *dbCommand) fail(err error) int {
	fmt.Fprintf(c.stderr, "greenroom %s: %v\n", c.name, err)
	return 2
}

// open loads the settings and opens the database, which must exist.
func (c *dbCommand) open(ctx context.Context, getenv func(string) string) (Config, *store.DB, error) {
	cfg, err := c.load(getenv)
	if err != nil {
		return cfg, nil, err
	}
	db, err := openExistingStore(ctx, cfg.Database)
	return cfg, db, err
}

// parseInterspersed parses flags wherever they stand among the arguments,
// as in "migrate status --database URL", and returns the other arguments
// in order. Everything after "--" is an argument.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		stopped := len(args) - fs.NArg()
		if fs.NArg() == 0 || (stopped > 0 && args[stopped-1] == "--") {
			return append(rest, fs.Args()...), nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// load builds the Config: defaults, then the config file, then the
// environment, then the flags that were set.
func (f *configFlags) load(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	path := f.config
	if path == "" {
		path = getenv("GREENROOM_CONFIG")
	}
	if path != "" {
		if err := c.loadFile(path); err != nil {
			return c, err
		}
	}
	if err := c.loadEnv(getenv); err != nil {
		return c, err
	}
	f.fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "listen":
			c.Listen = f.listen
		case "database":
			c.Database = f.database
		case "location":
			c.Locations, c.dir = f.locations, ""
		case "refresh-interval":
			c.Catalog.RefreshInterval = settings.Duration(f.interval)
		case "orphans":
			c.Catalog.Orphans = f.orphans
		case "log-level":
			c.Log.Level = f.logLevel
		case "log-format":
			c.Log.Format = f.logFormat
		case "policy":
			c.Policy, c.policyDir = f.policy, ""
		case "production":
			c.Production = f.production
		}
	})
	return c, c.validate()
}

// setup parses a command's flags and returns its settings and logger.
func setup(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, *slog.Logger, error) {
	f := newConfigFlags(name, stderr)
	rest, err := parseInterspersed(f.fs, args)
	if err != nil {
		return Config{}, nil, err
	}
	if len(rest) > 0 {
		// An unquoted glob (--location catalog/*.yaml) expands to several
		// arguments, of which the flag takes only the first.
		return Config{}, nil, fmt.Errorf("%s takes no arguments, and got %s: each flag takes one value, so quote a glob "+
			"(--location 'catalog/*.yaml') or repeat --location for each file", name, quoteAll(rest))
	}
	cfg, err := f.load(getenv)
	if err != nil {
		return cfg, nil, err
	}
	log, err := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	return cfg, log, err
}

// quoteAll quotes each argument and joins them, for messages.
func quoteAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return strings.Join(q, " ")
}

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, log, err := setup("serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	// A request for a large list allocates much short-lived garbage while the
	// live heap stays small: collecting less often cuts its latency by a
	// quarter. The memory limit keeps the heap bounded all the same. Both
	// yield to GOGC and GOMEMLIMIT when they are set.
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
	m := &Main{Config: cfg, Log: log}
	if err := m.Run(ctx); err != nil {
		return err
	}
	// SIGHUP asks for a refresh of every location now.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			log.Info("SIGHUP: refreshing every location")
			if _, err := m.requestRefreshes(ctx); err != nil {
				log.Error("SIGHUP: could not ask for refreshes", "err", err)
			}
		case <-ctx.Done():
			log.Info("shutting down")
			return m.Close()
		}
	}
}

// Main is a running server: the database, the jobs that refresh locations
// and the HTTP server, wired together.
type Main struct {
	Config Config
	Log    *slog.Logger
	// TracerProvider, when set, gets the server's spans instead of the
	// exporter the tracing settings name (tests set an in-memory one).
	TracerProvider trace.TracerProvider

	ops    *operations
	db     *store.DB
	engine *ingest.Engine
	feed   *changefeed.Feed
	tasks  *app.Tasks
	jobs   *jobs.Jobs
	watch  *watch.Watcher // nil when files are not watched
	ready  atomic.Bool    // every configured location refreshed since start
	sec    *security
	srv    *http.Server
	ln     net.Listener
	stop   context.CancelFunc
	done   chan struct{}
}

// Run opens and migrates the database, registers the configured locations,
// starts running jobs, asks for a refresh of every location and starts
// serving. It returns once the server
// listens; [Main.Close] stops it.
func (m *Main) Run(ctx context.Context) error {
	if m.Log == nil {
		m.Log = slog.New(slog.DiscardHandler)
	}
	started := false
	ops, err := newOperations(ctx, m.Config, m.TracerProvider)
	if err != nil {
		return err
	}
	var traced []store.Option
	if ops.tracer != nil {
		traced = append(traced, store.WithTracerProvider(ops.tracer))
	}
	db, err := openStore(ctx, m.Config.Database, m.Log, traced...)
	if err != nil {
		return err
	}
	m.db, m.ops = db, ops
	if err := ops.register(db, db); err != nil {
		db.Close()
		return err
	}
	opts, err := engineOptions(m.Config, m.Log)
	if err != nil {
		db.Close()
		return err
	}
	opts.Observer = ops.ingestObserver()
	if m.Config.Catalog.WatchFiles {
		// Watching is an addition to the interval refreshes: without it a
		// change waits for the next one.
		if m.watch, err = watch.New(fileRefresher{m}, watch.Options{Logger: m.Log}); err != nil {
			m.Log.Warn("cannot watch files: file locations are refreshed at the interval only", "err", err)
		} else {
			opts.Watcher = m.watch
			defer func() {
				if !started {
					m.watch.Close()
				}
			}()
		}
	}
	m.engine = ingest.NewEngine(db, opts)
	if err := registerLocations(ctx, db, m.engine, m.Config, m.Log); err != nil {
		db.Close()
		return err
	}
	forges := scaffolder.NewForges(m.Config.integrations(), nil)
	entities := &catalogReader{}
	actions := templateActions(forges, entities)
	runner := &scaffolder.Tasks{Store: db, Registry: actions, Integrations: forges.Integrations(), Sources: forges,
		WorkDir: m.Config.Scaffolder.WorkingDirectory, StepTimeout: time.Duration(m.Config.Scaffolder.StepTimeout),
		User: userEntity(db), Log: m.Log}
	if m.jobs, err = newJobs(db, m.engine, runner, m.Config, m.Log, ops.jobObserver()); err != nil {
		db.Close()
		return err
	}
	sec, err := newSecurity(ctx, m.Config, db, m.Log)
	if err != nil {
		db.Close()
		return err
	}
	m.sec = sec
	m.feed = changefeed.New(db, changefeed.Options{Retention: time.Duration(m.Config.ChangeFeed.Retention),
		HistoryRetention: time.Duration(m.Config.History.Retention), Log: m.Log})
	svcs := app.New(app.Deps{Store: db, Engine: m.engine, Jobs: m.jobs, Queue: m.jobs, Policies: sec.policies,
		RegisterTypes: m.Config.Catalog.RegisterTypes, Feed: m.feed, Logger: m.Log,
		Docs: db, DocsQueue: m.jobs, Search: db, Plugins: db,
		Tasks: db, TaskQueue: m.jobs, TaskOptions: app.TaskOptions{Registry: actions, Integrations: forges.Integrations(), Sources: forges,
			WorkDir: m.Config.Scaffolder.WorkingDirectory, StepTimeout: time.Duration(m.Config.Scaffolder.StepTimeout)}})
	runner.Woke, entities.svc = svcs.Tasks.Woke, svcs.Catalog
	m.tasks = svcs.Tasks
	svc := svcs.Catalog
	lim := m.Config.API.Limits()
	handler := server.New(server.Options{
		Resolver: &resolvers.Resolver{Catalog: svc, Ingest: svc, Access: svc, Jobs: svcs.Jobs, Live: svcs.Live, History: svc, Tasks: svcs.Tasks, Docs: svcs.Docs,
			Searcher: svcs.Search, Registry: svcs.Plugins},
		Loaders: svc,
		REST: restapi.New(restapi.Options{Catalog: svc, Logger: m.Log,
			Timeout: lim.Effective().Timeout, WriteTimeout: lim.Effective().WriteTimeout}),
		Search: restapi.NewSearch(restapi.SearchOptions{Search: svcs.Search, Logger: m.Log,
			Timeout: lim.Effective().Timeout}),
		Docs:             techdocs.Handler(svcs.Docs),
		BackstageDocs:    techdocs.BackstageHandler(svcs.Docs, svcs.Docs),
		Logger:           m.Log,
		Limits:           lim,
		Authenticate:     sec.authenticate,
		AuthenticateInit: sec.authenticateInit,
		Observer:         ops.serverObserver(),
		Metrics:          ops.onAPI,
		Hooks: hooks.New(hooks.Options{
			Secrets: map[string]string{
				hooks.GitHub: m.Config.Hooks.Secrets.GitHub, hooks.GitLab: m.Config.Hooks.Secrets.GitLab,
				hooks.Gitea: m.Config.Hooks.Secrets.Gitea, hooks.Bitbucket: m.Config.Hooks.Secrets.Bitbucket,
			},
			Locations: db, Refresher: docsOnPush{Jobs: m.jobs, db: db},
			Principal: &portal.Principal{Kind: jobs.System.Kind, Ref: jobs.System.Ref},
			Logger:    m.Log,
		}),
		Ready: func(ctx context.Context) error {
			if err := db.Ping(ctx); err != nil {
				return errors.New("database unavailable")
			}
			if !m.ready.Load() {
				return errors.New("first refresh of the configured locations still running")
			}
			return nil
		},
	})
	ln, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		sec.close()
		db.Close()
		return fmt.Errorf("listen on %s: %w", m.Config.Listen, err)
	}
	if err := ops.serve(m.Config, m.Log); err != nil {
		ln.Close()
		sec.close()
		db.Close()
		return err
	}
	m.ln = ln
	// No ReadTimeout or WriteTimeout: they would hold for every
	// connection, long-lived streams included; the API sets them on each
	// GraphQL request instead (api.readTimeout, api.writeTimeout).
	m.srv = &http.Server{
		Handler:           ops.propagate(handler),
		ReadHeaderTimeout: time.Duration(m.Config.API.ReadHeaderTimeout),
		IdleTimeout:       time.Duration(m.Config.API.IdleTimeout),
	}

	loopCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stop, m.done = stop, make(chan struct{})
	if err := m.jobs.Start(loopCtx); err != nil {
		stop()
		ln.Close()
		sec.close()
		db.Close()
		return err
	}
	// The feed (made before the services, which subscriptions follow it
	// through) wakes its readers and prunes what is older than its
	// retention.
	feedDone := make(chan struct{})
	go func() {
		defer close(feedDone)
		m.feed.Run(loopCtx)
	}()
	// Other replicas' task events wake this one's followers.
	tasksDone := make(chan struct{})
	go func() {
		defer close(tasksDone)
		if err := db.WatchTaskEvents(loopCtx, m.tasks.Woke); err != nil {
			m.Log.Error("task events of other processes are not followed", "err", err)
		}
	}()
	go func() {
		defer close(m.done)
		m.warmUp(loopCtx)
		<-feedDone
		<-tasksDone
	}()
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("http server stopped", "err", err)
		}
	}()
	m.Log.Info("greenroom listening", "addr", "http://"+ln.Addr().String(), "graphql", "http://"+ln.Addr().String()+"/graphql",
		"database", string(db.Dialect()), "locations", len(m.Config.Locations))
	started = true
	return nil
}

// Addr returns the address the server listens on.
func (m *Main) Addr() string { return m.ln.Addr().String() }

// Close stops serving, waits up to 10 s for the jobs in progress to end
// (then cancels them: another process, or this one restarted, retries
// them), and closes the database.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := m.srv.Shutdown(ctx)
	m.stop()
	<-m.done
	if m.watch != nil {
		m.watch.Close()
	}
	return errors.Join(err, m.jobs.Stop(ctx), m.ops.close(ctx), m.sec.close(), m.db.Close())
}

// catalogReader reads entities for catalog:fetch and registers locations
// for catalog:register through the catalog service, as the task's
// creator, once the service is built.
type catalogReader struct{ svc *app.Catalog }

func (c *catalogReader) Register(ctx context.Context, target string, annotations map[string]string) ([]string, error) {
	if _, err := c.svc.RegisterAnnotatedLocation(ctx, ingest.TypeURL, target, annotations); err != nil {
		return nil, err
	}
	// What it emits, read again as Backstage's catalog:register does:
	// registering answers with the location alone.
	_, res, err := c.svc.RegisterLocation(ctx, ingest.TypeURL, target, true)
	if err != nil {
		return nil, err
	}
	refs := make([]string, 0, len(res.Emitted))
	for _, e := range res.Emitted {
		refs = append(refs, e.Entity.Ref().String())
	}
	return refs, nil
}

func (c *catalogReader) Entity(ctx context.Context, ref string) (map[string]any, error) {
	rec, err := c.svc.EntityByRef(ctx, ref)
	if portal.ErrorCode(err) == portal.ENOTFOUND || (err == nil && rec == nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var entity map[string]any
	return entity, json.Unmarshal(rec.Data, &entity)
}

// userEntity returns the User entity of a task's creator, for
// ${{ user.entity }}: nil for a service or a user not in the catalog.
func userEntity(db *store.DB) func(ctx context.Context, ref string) (map[string]any, error) {
	return func(ctx context.Context, ref string) (map[string]any, error) {
		if !strings.HasPrefix(ref, "user:") {
			return nil, nil
		}
		rec, err := db.EntityByRef(ctx, ref)
		if err != nil || rec == nil {
			return nil, err
		}
		var entity map[string]any
		return entity, json.Unmarshal(rec.Data, &entity)
	}
}

// fileRefresher asks for the refreshes of locations whose files changed.
type fileRefresher struct{ m *Main }

// RequestRefresh makes the location's job due now; ENOTFOUND once the
// location is deleted.
func (r fileRefresher) RequestRefresh(ctx context.Context, id string) error {
	if _, err := r.m.db.Location(ctx, id); err != nil {
		return err
	}
	ctx = portal.NewContextWithPrincipal(ctx, &portal.Principal{Kind: jobs.System.Kind, Ref: jobs.System.Ref})
	return r.m.jobs.RefreshSoon(ctx, id)
}

// newJobs returns the jobs of a server: every location refreshed by its
// job at the refresh interval, with eng, and template tasks run by tasks.
func newJobs(db *store.DB, eng *ingest.Engine, tasks jobs.TaskRunner, cfg Config, log *slog.Logger, obs jobs.Observer) (*jobs.Jobs, error) {
	drv, err := db.JobDriver()
	if err != nil {
		return nil, err
	}
	ws := jobs.NewWorkers()
	var j *jobs.Jobs
	jobs.AddRefreshes(ws, db, docsAfterRefresh{Refresher: eng, db: db, jobs: func() *jobs.Jobs { return j },
		every: time.Duration(cfg.TechDocs.CheckInterval), log: log}, time.Duration(cfg.Catalog.RefreshInterval))
	jobs.AddTasks(ws, tasks)
	docs := &techdocs.Builder{Store: db, Entity: entityDocument(db), Forges: cfg.integrations(), PublishDir: cfg.TechDocs.PublishDirectory, Log: log}
	jobs.AddDocs(ws, func(ctx context.Context, ref string) (any, error) { return docs.BuildEntity(ctx, ref) }, docs.Prune)
	j, err = jobs.New(drv, ws, jobs.Options{Logger: log, Observer: obs, Processes: db,
		Timeout: time.Duration(cfg.Jobs.Timeout), RescueAfter: time.Duration(cfg.Jobs.RescueAfter),
		DeadAfter: time.Duration(cfg.Jobs.DeadAfter)})
	return j, err
}

// docsAfterRefresh asks for a docs build of each entity of a refreshed
// location that has docs and that the refresh changed, or whose docs were
// last looked at longer than every ago: an edit of a docs folder shows
// then (or at once with refreshDocs, refreshEntity or a push webhook; a
// build that finds its source as it was writes nothing).
type docsAfterRefresh struct {
	jobs.Refresher
	db    *store.DB
	jobs  func() *jobs.Jobs
	every time.Duration
	log   *slog.Logger
}

// docsOnPush asks, beside the refresh a push webhook asks for, for docs
// builds of the location's documented entities: a push may change docs
// without changing the catalog's files.
type docsOnPush struct {
	*jobs.Jobs
	db *store.DB
}

func (p docsOnPush) RefreshSoon(ctx context.Context, locationID string) error {
	if err := p.Jobs.RefreshSoon(ctx, locationID); err != nil {
		return err
	}
	refs, err := p.db.EntitiesWithAnnotation(ctx, locationID, catalog.AnnotationTechDocsRef)
	if err != nil {
		return err
	}
	return p.Jobs.BuildDocs(ctx, refs...)
}

func (r docsAfterRefresh) Refresh(ctx context.Context, loc catalog.Location) (catalog.RefreshStats, error) {
	start := time.Now()
	stats, err := r.Refresher.Refresh(ctx, loc)
	if err != nil {
		return stats, err
	}
	refs, err := r.db.DocsToCheck(ctx, loc.ID, start, time.Now().Add(-r.every))
	if err == nil {
		err = r.jobs().BuildDocs(ctx, refs...)
	}
	if err != nil {
		r.log.WarnContext(ctx, "could not ask for docs builds", "location_id", loc.ID, "err", err)
	}
	return stats, nil
}

// entityDocument reads an entity's document; nil when there is none.
func entityDocument(db *store.DB) func(ctx context.Context, ref string) (map[string]any, error) {
	return func(ctx context.Context, ref string) (map[string]any, error) {
		rec, err := db.EntityByRef(ctx, ref)
		if portal.ErrorCode(err) == portal.ENOTFOUND {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		var doc map[string]any
		return doc, json.Unmarshal(rec.Data, &doc)
	}
}

// requestRefreshes asks for a refresh of every location now, by whichever
// replica takes each job.
func (m *Main) requestRefreshes(ctx context.Context) ([]*jobs.RefreshRequest, error) {
	locs, err := m.db.Locations(ctx)
	if err != nil {
		return nil, err
	}
	ctx = portal.NewContextWithPrincipal(ctx, &portal.Principal{Kind: jobs.System.Kind, Ref: jobs.System.Ref})
	return m.jobs.RequestRefreshes(ctx, locs)
}

// warmUp refreshes every location at start, as a new configuration or
// files changed while no server ran may ask, and makes the server ready
// once each configured location has been refreshed (by this replica or
// another); registered ones, such as a slow URL, do not hold it up.
func (m *Main) warmUp(ctx context.Context) {
	reqs, err := m.requestRefreshes(ctx)
	if err != nil {
		if ctx.Err() == nil {
			m.Log.Error("could not ask for the first refreshes; ready without them", "err", err)
			m.ready.Store(true)
		}
		return
	}
	configured := map[string]bool{}
	if locs, err := m.db.Locations(ctx); err == nil {
		for _, l := range locs {
			configured[l.ID] = l.Configured
		}
	}
	for _, req := range reqs {
		if !configured[req.Location] {
			continue
		}
		if _, err := m.jobs.Wait(ctx, req); err != nil && ctx.Err() != nil {
			return
		}
	}
	m.ready.Store(true)
}

func openStore(ctx context.Context, dsn string, log *slog.Logger, opts ...store.Option) (*store.DB, error) {
	db, err := store.Open(ctx, dsn, log, opts...)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func engineOptions(cfg Config, log *slog.Logger) (ingest.Options, error) {
	rules := cfg.rules()
	if _, err := ingest.NewRules(rules); err != nil {
		return ingest.Options{}, fmt.Errorf("config: catalog.rules: %w", err)
	}
	auth, err := cfg.urlAuth()
	if err != nil {
		return ingest.Options{}, err
	}
	return ingest.Options{
		DeleteOrphans:   cfg.Catalog.Orphans == "delete",
		MaxFileSize:     cfg.Catalog.MaxFileSize,
		MaxEntitySize:   cfg.Catalog.MaxEntitySize,
		MaxLocationSize: cfg.Catalog.MaxLocationSize,
		Logger:          log,
		Rules:           rules,
		FileRoots:       cfg.fileRoots(),
		AllowedHosts:    cfg.Catalog.AllowedHosts,
		URLAuth:         auth,
		Forges:          cfg.integrations(),
	}, nil
}

func cmdIngest(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, log, err := setup("ingest", args, getenv, stderr)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg.Database, log)
	if err != nil {
		return err
	}
	defer db.Close()
	opts, err := engineOptions(cfg, log)
	if err != nil {
		return err
	}
	eng := ingest.NewEngine(db, opts)
	if err := registerLocations(ctx, db, eng, cfg, log); err != nil {
		return err
	}
	locs, err := db.Locations(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	for _, loc := range locs {
		st, err := eng.Refresh(ctx, loc)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %s (%d added, %d updated, %d unchanged, %d orphaned, %d deleted), %s, %s\n",
			loc.Key(), count(st.Emitted, "entity"), st.Added, st.Updated, st.Unchanged, st.Orphaned, st.Deleted,
			count(st.Conflicts, "conflict"), count(st.Errors, "error"))
	}
	ents, rels, err := db.Counts(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "stored %s and %s in %.2fs\n", count(ents, "entity"), count(rels, "relation"), time.Since(start).Seconds())
	return nil
}

func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newDatabaseFlags("migrate", stderr)
	f.fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: greenroom migrate up|down|status [--database URL] [--config FILE]")
		f.fs.PrintDefaults()
	}
	verbs, err := parseInterspersed(f.fs, args)
	if err != nil {
		return err
	}
	if len(verbs) != 1 {
		f.fs.Usage()
		return errors.New("migrate needs one of up, down or status")
	}
	// Only up may create the database; down and status look at one.
	open := store.OpenExisting
	switch verbs[0] {
	case "up":
		open = store.Open
	case "down", "status":
	default:
		return fmt.Errorf("migrate: unknown action %q; want up, down or status", verbs[0])
	}
	cfg, err := f.load(getenv)
	if err != nil {
		return err
	}
	db, err := open(ctx, cfg.Database, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	switch verbs[0] {
	case "up":
		if err := db.Migrate(ctx); err != nil {
			return err
		}
	case "down":
		if err := db.MigrateDown(ctx); err != nil {
			return err
		}
	}
	st, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	for _, s := range st {
		state := "pending"
		switch {
		case s.Applied && s.AppliedAt.IsZero(): // River keeps no time
			state = "applied"
		case s.Applied:
			state = "applied " + s.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(stdout, "%05d %-40s %s\n", s.Version, s.Name, state)
	}
	return nil
}

// cmdValidate prints every problem as file:line and exits 1 if any is an error.
func cmdValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: greenroom validate FILE_OR_DIR...\n\nChecks Backstage descriptor files offline. A directory stands for every catalog-info.yaml below it.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	res, err := ingest.Validate(ctx, fs.Args(), ingest.DefaultMaxFileSize)
	if err != nil {
		fmt.Fprintln(stderr, "greenroom validate:", err)
		return 2
	}
	errs := printProblems(stdout, res.Problems)
	fmt.Fprintf(stdout, "%s, %s, %s, %s\n", count(res.Files, "file"), count(res.Entities, "valid entity"), count(errs, "error"), count(len(res.Problems)-errs, "warning"))
	if errs > 0 {
		return 1
	}
	return 0
}

// printProblems writes one line per problem and returns how many are errors.
func printProblems(w io.Writer, problems []catalog.ProcessingError) int {
	errs := 0
	for _, p := range problems {
		if p.Level != catalog.LevelWarning {
			errs++
		}
		where := strings.TrimPrefix(strings.TrimPrefix(p.LocationKey, "file:"), "url:")
		if p.Line > 0 {
			where = fmt.Sprintf("%s:%d", where, p.Line)
		}
		doc := ""
		if p.Document >= 0 {
			doc = fmt.Sprintf(" (document %d)", p.Document+1)
		}
		subject := ""
		if p.EntityRef != "" {
			subject = " " + p.EntityRef + ":"
		}
		level := p.Level
		if level == "" {
			level = catalog.LevelError
		}
		fmt.Fprintf(w, "%s%s: %s [%s]%s %s\n", where, doc, level, p.Code, subject, p.Message)
	}
	return errs
}

func cmdErrors(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c := newDBCommand("errors", "usage: greenroom errors [--database URL] [LOCATION_ID]\n\nLists the processing errors and warnings of every location, or of one.\n", stderr)
	ids, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(ids) > 1 {
		fmt.Fprintf(stderr, "greenroom errors: one location id at most, not %s\n", quoteAll(ids))
		return 2
	}
	_, db, err := c.open(ctx, getenv)
	if err != nil {
		return c.fail(err)
	}
	defer db.Close()
	id := ""
	if len(ids) == 1 {
		id = ids[0]
		if _, err := db.Location(ctx, id); err != nil {
			fmt.Fprintf(stderr, "greenroom errors: %v; greenroom locations list shows the ids\n", err)
			return 2
		}
	}
	problems, err := db.LocationErrors(ctx, id)
	if err != nil {
		return c.fail(err)
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].LocationKey < problems[j].LocationKey })
	errs := printProblems(stdout, problems)
	warnings := len(problems) - errs
	docs, err := db.DocsProblems(ctx, id)
	if err != nil {
		return c.fail(err)
	}
	de, dw := printDocsProblems(stdout, docs)
	errs, warnings = errs+de, warnings+dw
	fmt.Fprintf(stdout, "%s, %s\n", count(errs, "error"), count(warnings, "warning"))
	if errs > 0 {
		return 1
	}
	return 0
}

// printDocsProblems prints the docs builds that failed (errors) and the
// warnings of the others' reports, under the folder each was read from.
func printDocsProblems(w io.Writer, sites []*portal.DocsSite) (errs, warnings int) {
	for _, s := range sites {
		if s.Status == portal.DocsFailed {
			fmt.Fprintf(w, "%s: error: the docs of %s do not build: %s\n", s.Source, s.EntityRef, s.Error)
			errs++
		}
		var report []techdocs.Warning
		json.Unmarshal(s.Report, &report)
		for _, x := range report {
			where := s.Source + "/" + x.File
			if x.Line > 0 {
				where += ":" + strconv.Itoa(x.Line)
			}
			fmt.Fprintf(w, "%s: warning: %s (docs of %s)\n", where, x.Message, s.EntityRef)
			warnings++
		}
	}
	return errs, warnings
}

// openExistingStore opens, for a command that only reads, a database that
// must exist, and brings its schema up to date.
func openExistingStore(ctx context.Context, dsn string) (*store.DB, error) {
	db, err := store.OpenExisting(ctx, dsn, nil)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// count writes n with a noun, plural unless n is 1: "1 file", "2 files",
// "1 valid entity", "2 valid entities".
func count(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "y"):
		return strconv.Itoa(n) + " " + strings.TrimSuffix(noun, "y") + "ies"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
