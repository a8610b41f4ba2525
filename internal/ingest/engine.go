package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Store is what ingestion needs from storage. Ingestion reads what it
// needs to plan with plain reads and hands the store a change set to apply;
// the store decides nothing.
type Store interface {
	PlanReader
	// Locations returns every registered location.
	Locations(ctx context.Context) ([]catalog.Location, error)
	// ApplyChangeSet writes a change set in one short transaction that
	// first re-checks what the plan was made against, and returns the
	// change feed's events it appended. It returns an error wrapping [catalog.ErrStale],
	// having written nothing, when the plan no longer holds, and ENOTFOUND
	// when the location has been deleted.
	ApplyChangeSet(ctx context.Context, cs *catalog.ChangeSet) ([]catalog.Change, error)
	// StoredLocations returns the valid Location entities that a location
	// last stored from one file or URL (key "type:target"), orphans aside.
	StoredLocations(ctx context.Context, locationID, key string) ([]*catalog.Entity, error)
	// RecordRefreshFailure records on a location, in a transaction of its
	// own, that a refresh failed and stored nothing; the next refresh that
	// commits clears it.
	RecordRefreshFailure(ctx context.Context, loc catalog.Location, message string) error
}

// Options configures an [Engine].
type Options struct {
	DeleteOrphans bool
	MaxFileSize   int64 // bytes; 0 means DefaultMaxFileSize
	// MaxEntitySize bounds one entity, aliases expanded and placeholders
	// substituted, in bytes; 0 means DefaultMaxEntitySize.
	MaxEntitySize int64
	// MaxLocationSize bounds every entity of one location together, in
	// bytes; 0 means DefaultMaxLocationSize.
	MaxLocationSize int64
	HTTPClient      *http.Client // for url locations; nil means a client with a 30 s timeout
	Logger          *slog.Logger
	// Rules are the catalog rules (see [Rules]); nil means the defaults.
	// NewEngine panics on rules [NewRules] refuses: check them first.
	Rules []Rule
	// FileRoots, when set, are the only directories files may be read from
	// (targets, globs and placeholders, symbolic links followed).
	FileRoots []string
	// AllowedHosts, when set, are the host patterns URLs may be fetched
	// from (see [HostAllowed]), redirects included.
	AllowedHosts []string
	// URLAuth are credentials sent to some hosts, so that location URLs
	// need not carry them.
	URLAuth []URLAuth
	// Observer watches every refresh, for metrics and traces; nil watches
	// none.
	Observer Observer
}

// Observer watches refreshes (see internal/telemetry).
type Observer interface {
	// StartRefresh is called as a refresh of loc starts. The refresh runs
	// in the context it returns (which may carry a span), and calls end
	// once with its outcome: the error is nil when it committed.
	StartRefresh(ctx context.Context, loc catalog.Location) (_ context.Context, end func(catalog.RefreshStats, error))
}

// Engine refreshes locations; when each is refreshed is internal/jobs' decision.
// Refreshes of one location run one at a time; refreshes of different
// locations may run side by side, since each applies a change set that
// re-checks what it was planned against (see [Engine.Refresh]).
type Engine struct {
	store  Store
	reader *reader
	rules  *Rules
	opts   Options
	log    *slog.Logger

	locks sync.Map // location id → *sync.Mutex, held for the duration of a refresh of it
}

// NewEngine returns an engine over store.
func NewEngine(store Store, opts Options) *Engine {
	if opts.MaxEntitySize <= 0 {
		opts.MaxEntitySize = DefaultMaxEntitySize
	}
	if opts.MaxLocationSize <= 0 {
		opts.MaxLocationSize = DefaultMaxLocationSize
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rules, err := NewRules(opts.Rules)
	if err != nil {
		panic("ingest: " + err.Error())
	}
	r := newReader(opts.HTTPClient, opts.MaxFileSize)
	r.guard(opts.AllowedHosts, opts.URLAuth)
	r.fileRoots = opts.FileRoots
	return &Engine{
		store:  store,
		reader: r,
		rules:  rules,
		opts:   opts,
		log:    log.With("component", "ingest"),
	}
}

// Refresh reads one location and writes what it emits. It reads files and
// URLs and plans the location's change set with no transaction open, then
// has the store apply it in one short transaction, so that no other write
// waits on the network or on the reads. An error means nothing was
// written; problems in the location's content are not errors but
// processing errors recorded with the results. A refresh that fails for any
// other reason than ctx ending is logged and recorded on the location, so
// that it never fails silently.
func (e *Engine) Refresh(ctx context.Context, loc catalog.Location) (catalog.RefreshStats, error) {
	m, _ := e.locks.LoadOrStore(loc.ID, new(sync.Mutex))
	mu := m.(*sync.Mutex)
	mu.Lock()
	defer mu.Unlock()
	if o := e.opts.Observer; o != nil {
		var end func(catalog.RefreshStats, error)
		ctx, end = o.StartRefresh(ctx, loc)
		stats, err := e.refreshOrRecord(ctx, loc)
		end(stats, err)
		return stats, err
	}
	return e.refreshOrRecord(ctx, loc)
}

// refreshOrRecord is [Engine.Refresh] with the location's lock held.
func (e *Engine) refreshOrRecord(ctx context.Context, loc catalog.Location) (catalog.RefreshStats, error) {
	stats, err := e.refresh(ctx, loc)
	if err != nil && ctx.Err() == nil && portal.ErrorCode(err) != portal.ENOTFOUND {
		e.log.ErrorContext(ctx, "refresh failed", "location", loc.Key(), "err", err)
		// The details may be SQL or driver text, which clients never see.
		msg := "The last refresh of this location failed and stored nothing; the catalog serves what the refresh before it stored. The server log has the details."
		var tooLarge *locationTooLarge
		if errors.As(err, &tooLarge) {
			msg = "The last refresh of this location stored nothing: " + tooLarge.Error() + " (catalog.maxLocationSize); the catalog serves what the refresh before it stored."
		}
		if err := e.store.RecordRefreshFailure(ctx, loc, msg); err != nil {
			e.log.ErrorContext(ctx, "could not record a failed refresh", "location", loc.Key(), "err", err)
		}
	}
	return stats, err
}

// maxPlans bounds how many times a refresh plans its change set again
// when writes of others make it stale before it applies.
const maxPlans = 4

// refresh reads loc and plans its change set with no transaction open,
// then applies it in one short transaction; a change set made stale by
// another write meanwhile is planned again from the documents already
// read.
func (e *Engine) refresh(ctx context.Context, loc catalog.Location) (catalog.RefreshStats, error) {
	set, err := e.read(ctx, loc)
	if err != nil {
		return catalog.RefreshStats{}, fmt.Errorf("ingest: refresh %s: %w", loc.Key(), err)
	}
	defer set.close()
	return e.apply(ctx, loc, catalog.RefreshOptions{DeleteOrphans: e.opts.DeleteOrphans}, set)
}

// apply plans the change set of loc with set and applies it, planning
// again when it turns out stale.
func (e *Engine) apply(ctx context.Context, loc catalog.Location, opts catalog.RefreshOptions, set *readSet) (catalog.RefreshStats, error) {
	for attempt := 1; ; attempt++ {
		cs, err := plan(ctx, e.store, loc, opts, set)
		if err == nil {
			_, err = e.store.ApplyChangeSet(ctx, cs)
		}
		switch {
		case err == nil:
			return cs.Stats, nil
		case errors.Is(err, catalog.ErrStale) && attempt < maxPlans:
			e.log.DebugContext(ctx, "change set stale, planning again", "location", loc.Key(), "attempt", attempt, "err", err)
		case portal.ErrorCode(err) == portal.ENOTFOUND:
			return catalog.RefreshStats{}, err
		default:
			return catalog.RefreshStats{}, fmt.Errorf("ingest: apply change set of %s: %w", loc.Key(), err)
		}
	}
}

// Remove removes a location that left the configuration, treating its
// entities as a refresh treats those a location stopped emitting: marked
// with backstage.io/orphan until another location emits them, or deleted
// with catalog.orphans: delete. Its generated Location entity is deleted
// either way, and its processing errors go. Configured again, it comes
// back with its orphans. Returns ENOTFOUND if there is no such location.
func (e *Engine) Remove(ctx context.Context, loc catalog.Location) (catalog.RefreshStats, error) {
	m, _ := e.locks.LoadOrStore(loc.ID, new(sync.Mutex))
	mu := m.(*sync.Mutex)
	mu.Lock()
	defer mu.Unlock()
	return e.apply(ctx, loc, catalog.RefreshOptions{DeleteOrphans: e.opts.DeleteOrphans, Remove: true}, &readSet{})
}

// read reads everything loc leads to, with no transaction open.
func (e *Engine) read(ctx context.Context, loc catalog.Location) (*readSet, error) {
	ctx, cancel := context.WithCancel(ctx) // stops the workers of a pass that ends early
	defer cancel()
	sink := &readSink{}
	run := newRun(e.reader, e.rules, e.limits(), loc, sink)
	run.stored = func(ctx context.Context, key string) ([]*catalog.Entity, error) {
		return e.store.StoredLocations(ctx, loc.ID, key)
	}
	if err := run.walk(ctx); err != nil {
		sink.set.close()
		return nil, err
	}
	return &sink.set, nil
}

func (e *Engine) limits() limits {
	return limits{entity: e.opts.MaxEntitySize, location: e.opts.MaxLocationSize}
}

// RefreshAll refreshes every registered location, one after the other. A
// location that fails is logged and does not stop the others.
func (e *Engine) RefreshAll(ctx context.Context) error {
	locs, err := e.store.Locations(ctx)
	if err != nil {
		return fmt.Errorf("ingest: list locations: %w", err)
	}
	for _, loc := range locs {
		if _, err := e.Refresh(ctx, loc); err != nil && ctx.Err() != nil {
			return ctx.Err()
		} // other failures are logged and recorded by Refresh
	}
	return nil
}
