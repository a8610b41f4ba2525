package app

import (
	"context"
	"log/slog"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/greenroomhq/greenroom/internal/access"
	"github.com/greenroomhq/greenroom/internal/audit"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/scaffolder"
)

// Store is the storage the services are built over: what the access
// guard reads, what ingestion writes, and the audit log.
type Store interface {
	access.Store
	ingest.Registry
	// RecordAuditEvent appends an event to the audit log.
	RecordAuditEvent(ctx context.Context, e audit.Event) error
}

// Deps are what [New] builds the services from.
type Deps struct {
	Store Store
	// Engine reads locations for the catalog's mutations; a process that
	// calls only the Jobs service goes without.
	Engine *ingest.Engine
	// Jobs, when set, run the refreshes the mutations ask for (in a
	// server, each location's job, so that replicas never refresh one
	// location twice at once) and take on the locations registered; nil
	// refreshes with Engine in the caller.
	Jobs ingest.Jobs
	// Policies give the permission policy in force; nil is a policy with
	// no rules, under which only an operator (a greenroom command) may act.
	Policies access.Policies
	// Queue is the queue of background jobs that the Jobs service lists
	// and cancels; nil leaves this process none to show, and the Jobs
	// service answers UNAVAILABLE to those who may use it.
	Queue JobQueue
	// RegisterTypes are the location types registerLocation accepts
	// (catalog.registerTypes); empty means url only.
	RegisterTypes []string
	// Feed is the change feed subscriptions follow; nil leaves the Live
	// service out.
	Feed Feed
	// Live bounds each subscription.
	Live LiveOptions
	// Tasks keeps software template tasks; nil leaves the Tasks service
	// out. TaskQueue runs them (nil: this process can read tasks and dry
	// run templates, but not run them); TaskOptions has the actions.
	Tasks       TaskStore
	TaskQueue   TaskQueue
	TaskOptions TaskOptions
	// Docs reads built docs sites, DocsQueue builds them; nil Docs leaves
	// the Docs service out.
	Docs      DocsStore
	DocsQueue DocsQueue
	// Search runs text searches; nil leaves the Search service out.
	Search SearchStore
	// Plugins keeps the plugin registry; nil leaves the Plugins service out.
	Plugins PluginStore
	Logger  *slog.Logger // nil logs nothing
}

// Services are every service, over one store and policy.
type Services struct {
	Catalog *Catalog
	Jobs    *Jobs
	Live    *Live    // nil without Deps.Feed
	Tasks   *Tasks   // nil without Deps.Tasks
	Docs    *Docs    // nil without Deps.Docs
	Search  *Search  // nil without Deps.Search
	Plugins *Plugins // nil without Deps.Plugins
}

// New returns the services over deps.
func New(deps Deps) Services {
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	policies := deps.Policies
	if policies == nil {
		policies = noRules{}
	}
	guard := access.New(deps.Store, policies)
	svc := ingest.NewService(deps.Engine, deps.Store, deps.RegisterTypes)
	if deps.Jobs != nil {
		svc.RefreshThrough(deps.Jobs)
	}
	aud := auditor{rec: deps.Store, log: log}
	out := Services{
		Catalog: &Catalog{Guard: guard, ingest: svc, audit: aud, docs: deps.DocsQueue},
		Jobs:    &Jobs{guard: guard, queue: deps.Queue, audit: aud},
	}
	if deps.Tasks != nil {
		reg := deps.TaskOptions.Registry
		if reg == nil {
			reg, _ = scaffolder.NewRegistry(scaffolder.Builtins()...) // the built-ins' schemas compile (tested)
		}
		out.Tasks = &Tasks{guard: guard, store: deps.Tasks, queue: deps.TaskQueue, audit: aud, registry: reg,
			runs: deps.TaskOptions, hub: newTaskHub()}
	}
	if deps.Docs != nil {
		out.Docs = &Docs{guard: guard, store: deps.Docs, queue: deps.DocsQueue, audit: aud}
	}
	if deps.Search != nil {
		out.Search = &Search{guard: guard, store: deps.Search}
	}
	if deps.Plugins != nil {
		out.Plugins = &Plugins{guard: guard, store: deps.Plugins, audit: aud, now: time.Now}
	}
	if deps.Feed != nil {
		opts := deps.Live
		if opts.Buffer <= 0 {
			opts.Buffer = DefaultLiveBuffer
		}
		if opts.SlowAfter <= 0 {
			opts.SlowAfter = DefaultSlowAfter
		}
		if opts.Remembered <= 0 {
			opts.Remembered = DefaultRemembered
		}
		pages, _ := lru.New[string, map[string]*catalog.Record](livePages) // a positive size never fails
		out.Live = &Live{catalog: out.Catalog, feed: deps.Feed, opts: opts, pages: pages}
	}
	return out
}

// Catalog is the catalog's service: the guard's reads, narrowed by the
// read policy, and the mutations, each authorized and audited.
type Catalog struct {
	*access.Guard
	ingest *ingest.Service
	audit  auditor
	docs   DocsQueue // nil: this process builds no docs
}

// RegisterLocation registers a location and refreshes it, or with dryRun
// reports what it would emit. It needs catalog.location.create, dry run or
// not: a dry run reads the target as the server, which is what the
// permission guards.
func (c *Catalog) RegisterLocation(ctx context.Context, typ, target string, dryRun bool) (loc *catalog.Location, res catalog.ReadResult, err error) {
	defer c.audit.record(ctx, "registerLocation", target, map[string]any{"type": typ, "target": target, "dryRun": dryRun}, &err)
	if err := c.Require(ctx, policy.LocationCreate, nil); err != nil {
		return nil, catalog.ReadResult{}, err
	}
	return c.ingest.RegisterLocation(ctx, typ, target, dryRun)
}

// RegisterAnnotatedLocation registers a location that stamps annotations
// on every entity it emits, as RegisterLocation does (the same permission
// and audit): what a template's catalog:register step registers carries
// its provenance.
func (c *Catalog) RegisterAnnotatedLocation(ctx context.Context, typ, target string, annotations map[string]string) (loc *catalog.Location, err error) {
	defer c.audit.record(ctx, "registerLocation", target, map[string]any{"type": typ, "target": target, "annotations": annotations}, &err)
	if err := c.Require(ctx, policy.LocationCreate, nil); err != nil {
		return nil, err
	}
	return c.ingest.RegisterAnnotatedLocation(ctx, typ, target, annotations)
}

// RefreshLocation reads a location again now. It needs
// catalog.entity.refresh on the location's Location entity: refreshing a
// location refreshes what it emits.
func (c *Catalog) RefreshLocation(ctx context.Context, id string) (loc catalog.Location, st catalog.RefreshStats, err error) {
	defer c.audit.record(ctx, "refreshLocation", id, map[string]any{"id": id}, &err)
	if err := c.RequireOnLocation(ctx, policy.EntityRefresh, id); err != nil {
		return catalog.Location{}, catalog.RefreshStats{}, err
	}
	return c.ingest.RefreshLocation(ctx, id)
}

// StartRefreshLocation asks for a refresh of a location by its job and
// returns at once with the job's id. It needs what RefreshLocation needs.
func (c *Catalog) StartRefreshLocation(ctx context.Context, id string) (loc catalog.Location, jobID string, err error) {
	defer c.audit.record(ctx, "refreshLocation", id, map[string]any{"id": id, "wait": false}, &err)
	if err := c.RequireOnLocation(ctx, policy.EntityRefresh, id); err != nil {
		return catalog.Location{}, "", err
	}
	return c.ingest.StartRefreshLocation(ctx, id)
}

// RefreshEntity reads an entity's location again now and returns the
// fresh entity, with what the refresh did. It needs catalog.entity.refresh
// on the entity. Returns EINVALID for a ref that does not parse.
func (c *Catalog) RefreshEntity(ctx context.Context, ref string) (rec *catalog.Record, st catalog.RefreshStats, err error) {
	canonical, perr := parseRef(ref)
	defer c.audit.record(ctx, "refreshEntity", canonical, map[string]any{"ref": ref}, &err)
	if err := perr; err != nil {
		return nil, st, err
	}
	if err := c.RequireOn(ctx, policy.EntityRefresh, canonical); err != nil {
		return nil, st, err
	}
	if rec, st, err = c.ingest.RefreshEntity(ctx, canonical); err == nil {
		err = c.buildDocs(ctx, rec)
	}
	return rec, st, err
}

// buildDocs asks for a build of a refreshed entity's docs, if it has
// any: refreshing an entity is how a person says it changed, docs and
// all, and a refresh of an unchanged file would leave its docs to the
// next check.
func (c *Catalog) buildDocs(ctx context.Context, rec *catalog.Record) error {
	if c.docs == nil || !HasDocs(rec) {
		return nil
	}
	return c.docs.BuildDocs(ctx, rec.Ref)
}

// StartRefreshEntity asks for a refresh of an entity's location by its job
// and returns at once with the entity as it is now and the job's id. It
// needs what RefreshEntity needs.
func (c *Catalog) StartRefreshEntity(ctx context.Context, ref string) (rec *catalog.Record, jobID string, err error) {
	canonical, perr := parseRef(ref)
	defer c.audit.record(ctx, "refreshEntity", canonical, map[string]any{"ref": ref, "wait": false}, &err)
	if err := perr; err != nil {
		return nil, "", err
	}
	if err := c.RequireOn(ctx, policy.EntityRefresh, canonical); err != nil {
		return nil, "", err
	}
	if rec, jobID, err = c.ingest.StartRefreshEntity(ctx, canonical); err == nil {
		err = c.buildDocs(ctx, rec)
	}
	return rec, jobID, err
}

// DeleteLocation unregisters a location and removes what it emitted, and
// returns how many entities went. It needs catalog.location.delete.
func (c *Catalog) DeleteLocation(ctx context.Context, id string) (n int, err error) {
	defer c.audit.record(ctx, "deleteLocation", id, map[string]any{"id": id}, &err)
	if err := c.Require(ctx, policy.LocationDelete, nil); err != nil {
		return 0, err
	}
	return c.ingest.DeleteLocation(ctx, id)
}

// DeleteEntity removes an orphaned entity and returns its canonical ref.
// It needs catalog.entity.delete on the entity. Returns EINVALID for a ref
// that does not parse.
func (c *Catalog) DeleteEntity(ctx context.Context, ref string) (canonical string, err error) {
	canonical, perr := parseRef(ref)
	defer c.audit.record(ctx, "deleteEntity", canonical, map[string]any{"ref": ref}, &err)
	if err := perr; err != nil {
		return "", err
	}
	if err := c.RequireOn(ctx, policy.EntityDelete, canonical); err != nil {
		return "", err
	}
	return canonical, c.ingest.DeleteEntity(ctx, canonical)
}

// ValidateYAML checks descriptor documents as ingestion would, storing
// nothing. It needs no permission: it reads nothing but its argument. It
// is audited all the same, with the document kept as its digest.
func (c *Catalog) ValidateYAML(ctx context.Context, data []byte) (res catalog.ReadResult, err error) {
	defer c.audit.record(ctx, "validateEntities", "", map[string]any{"yaml": audit.Digest(string(data))}, &err)
	return c.ingest.ValidateYAML(ctx, data)
}

// Operator returns ctx acting as the operator who runs a greenroom command
// on the database, named cli:<name> in the audit log.
func Operator(ctx context.Context, name string) context.Context {
	ref := "cli:" + name
	return portal.NewContextWithPrincipal(ctx, &portal.Principal{Kind: portal.PrincipalCLI, Ref: ref, Ownership: []string{ref}})
}

// noRules is the policy of services built without one.
type noRules struct{}

func (noRules) Current() *policy.Policy { return &policy.Policy{} }
