// Package resolvers implements the GraphQL schema: thin functions that read
// arguments, call a catalog service or a loader, and convert the result.
// They hold no SQL and make no permission decisions.
//
// Some resolvers are written by greenroom-gqlgen rather than by hand, and
// rewritten by every `make generate`: those of relation fields, from their
// @relation in the schema (with the descriptions in relations_gen.go, which
// the prefetch shares), and those of the CatalogEntity interface's fields on every
// kind, which call the entity<Field> functions of entity.go.
package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/plugin/federation/fedruntime"

	"github.com/greenroomhq/greenroom/graph"
	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/audit"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/gqltype"
	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/scaffolder"
	"github.com/greenroomhq/greenroom/schema"
)

// Catalog is the read side of the catalog that resolvers query directly;
// batched reads go through internal/loader.
type Catalog interface {
	// EntityByRef returns an entity. Returns ENOTFOUND if there is none.
	EntityByRef(ctx context.Context, ref string) (*catalog.Record, error)
	// FindEntities returns a page of entities.
	FindEntities(ctx context.Context, q catalog.EntityQuery) (catalog.EntityPage, error)
	// CountEntities returns how many entities a filter selects.
	CountEntities(ctx context.Context, f catalog.EntityFilter) (int, error)
	// Traverse walks relations from an entity.
	Traverse(ctx context.Context, q catalog.TraversalQuery) (catalog.TraversalPage, error)
	// Facet counts entities by the values of a facet. Returns EINVALID for
	// an unknown facet.
	Facet(ctx context.Context, facet string, f catalog.EntityFilter) ([]catalog.FacetValue, error)
	// Locations returns every registered location.
	Locations(ctx context.Context) ([]catalog.Location, error)
	// Location returns a registered location. Returns ENOTFOUND if there is none.
	Location(ctx context.Context, id string) (catalog.Location, error)
	// LocationErrors returns a location's processing errors and warnings.
	LocationErrors(ctx context.Context, id string) ([]catalog.ProcessingError, error)
}

// Ingest carries out the mutations, each authorized, validated and audited
// by the service (see internal/app); refs are passed as the caller wrote
// them.
type Ingest interface {
	RegisterLocation(ctx context.Context, typ, target string, dryRun bool) (*catalog.Location, catalog.ReadResult, error)
	RefreshLocation(ctx context.Context, id string) (catalog.Location, catalog.RefreshStats, error)
	RefreshEntity(ctx context.Context, ref string) (*catalog.Record, catalog.RefreshStats, error)
	// StartRefreshLocation and StartRefreshEntity return at once with the
	// id of the refresh job.
	StartRefreshLocation(ctx context.Context, id string) (catalog.Location, string, error)
	StartRefreshEntity(ctx context.Context, ref string) (*catalog.Record, string, error)
	DeleteLocation(ctx context.Context, id string) (int, error)
	// DeleteEntity returns the canonical ref of the entity it deleted.
	DeleteEntity(ctx context.Context, ref string) (string, error)
	ValidateYAML(ctx context.Context, data []byte) (catalog.ReadResult, error)
}

// Access answers questions about what callers may do.
type Access interface {
	// Explain returns the policy's decision for the caller on perm, about
	// the entity ref ("" for none). Returns ENOTFOUND for an entity the
	// caller cannot read.
	Explain(ctx context.Context, perm, ref string) (policy.Decision, error)
	// AuditEvents returns a page of the audit log, newest first, after the
	// event with id after. Returns EFORBIDDEN unless the caller may read it.
	AuditEvents(ctx context.Context, f audit.Filter, after string, limit int) ([]audit.Event, bool, error)
}

// Jobs lists and cancels background jobs (see internal/app), each call
// authorized and each cancellation audited by the service.
type Jobs interface {
	// List returns a page of jobs, oldest first, and whether more follow.
	// Returns EFORBIDDEN unless the caller may read jobs.
	List(ctx context.Context, q app.JobQuery) ([]app.Job, bool, error)
	// Get returns a job. Returns EINVALID for a malformed id and
	// ENOTFOUND for an unknown one.
	Get(ctx context.Context, id string) (app.Job, error)
	// Cancel cancels a job and returns it. Returns EINVALID for a malformed
	// id and ENOTFOUND for an unknown one.
	Cancel(ctx context.Context, id string) (app.Job, error)
}

// Resolver is the root of every resolver: the services they call, which
// apply the caller's permissions and audit every change (see internal/app).
type Resolver struct {
	Catalog Catalog
	Ingest  Ingest
	Access  Access
	Jobs    Jobs
	// Live follows the catalog for subscriptions; nil refuses them.
	Live Live
	// History reads entities' histories.
	History History
	// Tasks runs software templates; nil answers UNAVAILABLE.
	Tasks Tasks
	// Docs serves TechDocs; nil leaves every entity without docs.
	Docs Docs
	// Searcher searches entities, templates and docs; nil answers
	// UNAVAILABLE.
	Searcher Searcher
	// Registry keeps the plugin registry; nil answers UNAVAILABLE.
	Registry Plugins
}

// Plugins keeps the plugin registry, each call authorized and each
// change audited by the service (see internal/app).
type Plugins interface {
	List(ctx context.Context) ([]portal.Plugin, error)
	Add(ctx context.Context, name, url string) (portal.Plugin, error)
	Remove(ctx context.Context, name string) (portal.Plugin, error)
}

// Tasks runs templates as tasks and reads, follows, cancels and retries
// them, each call authorized (and each change audited) by the service
// (see internal/app).
type Tasks interface {
	RunTemplate(ctx context.Context, ref string, values, secrets map[string]any) (*portal.Task, error)
	// Task returns ENOTFOUND for a task the caller may not read.
	Task(ctx context.Context, id string) (*portal.Task, error)
	Tasks(ctx context.Context, f portal.TaskFilter, after string, limit int) ([]*portal.Task, error)
	Steps(ctx context.Context, t *portal.Task) ([]portal.TaskStep, error)
	Events(ctx context.Context, t *portal.Task, after int64, limit int) ([]portal.TaskEvent, error)
	// Follow sends the events after after, then each as it is written,
	// until the task has ended.
	Follow(ctx context.Context, t *portal.Task, after int64, send func(portal.TaskEvent) error) error
	Cancel(ctx context.Context, id string) (*portal.Task, error)
	Retry(ctx context.Context, id string) (*portal.Task, error)
	Approve(ctx context.Context, id, comment string) (*portal.Task, error)
	Reject(ctx context.Context, id, comment string) (*portal.Task, error)
	DryRun(ctx context.Context, in app.DryRunInput) (*app.DryRunResult, error)
	Actions() []scaffolder.ActionInfo
}

// Live follows the catalog as it changes (see internal/app).
type Live interface {
	// CatalogChanges returns the changes after the cursor after that the
	// caller may see; the last event carries the reason it ends, if any.
	CatalogChanges(ctx context.Context, after string, f catalog.EntityFilter) (<-chan *app.LiveChange, error)
	// LocationChanges is CatalogChanges for registered locations; it
	// returns EFORBIDDEN unless the caller may read them.
	LocationChanges(ctx context.Context, after string) (<-chan *app.LiveChange, error)
}

var _ graph.FederationResolver = (*Resolver)(nil)

// FederationService returns the subgraph SDL for federation gateways.
func (r *Resolver) FederationService(context.Context) (fedruntime.Service, error) {
	return fedruntime.Service{SDL: schema.SDL()}, nil
}

// FederationEntities resolves entities by key for federation gateways.
func (r *Resolver) FederationEntities(ctx context.Context, reps []map[string]any) ([]gqltype.FederatedEntity, error) {
	return federatedEntities(ctx, reps)
}
