package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/forge"
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
	// Forges are the GitHub and GitLab hosts whose web URLs of files
	// (…/blob/REF/PATH) are read through their APIs, with their tokens, as
	// Backstage's UrlReaders read them; github.com and gitlab.com are
	// known without one (public repositories).
	Forges []forge.Integration
	// Observer watches every refresh, for metrics and traces; nil watches
	// none.
	Observer Observer
	// Watcher is told the files each refresh of a file location read;
	// nil tells no one.
	Watcher Watcher
}

// Watcher watches the files of file locations, so that an edit is
// refreshed at once rather than at the next interval (internal/watch).
type Watcher interface {
	// Watch replaces what loc is watched for with files: paths or globs,
	// absolute. None stops watching it.
	Watch(loc catalog.Location, files []string)
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
	r.forges = opts.Forges
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
// URLs with no transaction open and has the store apply what it read in
// short transactions, a part at a time as it reads (see [Engine.refresh]),
// so that no other write waits on the network, on the reads or on a whole
// location. An error means the location's errors, orphans and stamp were
// not written, and its stats count the parts that were; problems in the
// location's content are not errors but
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
		what := "The last refresh of this location failed"
		var tooLarge *locationTooLarge
		if errors.As(err, &tooLarge) {
			what = "The last refresh of this location stopped: " + tooLarge.Error() + " (catalog.maxLocationSize)"
		}
		msg := what + " and stored nothing; the catalog serves what the refresh before it stored."
		if n := stats.Added + stats.Updated; n > 0 {
			msg = fmt.Sprintf("%s after storing %d of the entities it had read as they are now; nothing was orphaned or deleted, and the rest is what the refresh before it stored.", what, n)
		}
		if tooLarge == nil {
			msg += " The server log has the details."
		}
		if err := e.store.RecordRefreshFailure(ctx, loc, msg); err != nil {
			e.log.ErrorContext(ctx, "could not record a failed refresh", "location", loc.Key(), "err", err)
		}
	}
	return stats, err
}

// maxPlans bounds how many times a refresh plans a change set again
// when writes of others make it stale before it applies.
const maxPlans = 4

// refresh reads loc and applies what it reads as it reads: each part of
// [partSize] documents is planned and applied in a short transaction of
// its own while the reading goes on, and the last change set, planned once
// everything is read, takes what the location stopped emitting, its errors
// and its stamp. No transaction is open while files and URLs are read. A
// change set made stale by another write meanwhile is planned again from
// the documents already read. When the refresh fails after parts were
// applied, those parts stay: each entity in them is what its file says
// now, and nothing was orphaned or deleted. The stats count what was
// applied.
func (e *Engine) refresh(ctx context.Context, loc catalog.Location) (catalog.RefreshStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	parts := make(chan []*catalog.EntityDoc, 1) // one part read ahead of the one applying
	var (
		last    *readSet
		readErr error
	)
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer close(parts)
		last, readErr = e.read(ctx, loc, parts)
	}()
	opts := catalog.RefreshOptions{DeleteOrphans: e.opts.DeleteOrphans}
	done := &applied{seen: map[string]bool{}}
	var applyErr error
	for docs := range parts {
		if applyErr != nil {
			continue // the reading stops at ctx's end
		}
		var cs *catalog.ChangeSet
		if cs, applyErr = e.apply(ctx, loc, opts, &readSet{docs: docs, part: true, before: done}); applyErr == nil {
			done.add(docs, cs)
		} else {
			cancel()
		}
	}
	<-read
	if w := e.opts.Watcher; w != nil && loc.Type == TypeFile && readErr == nil {
		// Even when applying failed: what the location depends on is known.
		w.Watch(loc, last.inputs)
	}
	switch {
	case applyErr != nil:
		return done.stats, applyErr
	case readErr != nil:
		return done.stats, fmt.Errorf("ingest: refresh %s: %w", loc.Key(), readErr)
	}
	last.before = done
	cs, err := e.apply(ctx, loc, opts, last)
	if err != nil {
		return done.stats, err
	}
	return cs.Stats, nil
}

// apply plans the change set of loc with set and applies it, planning
// again when it turns out stale. A part with nothing to write is not
// applied.
func (e *Engine) apply(ctx context.Context, loc catalog.Location, opts catalog.RefreshOptions, set *readSet) (*catalog.ChangeSet, error) {
	for attempt := 1; ; attempt++ {
		cs, err := plan(ctx, e.store, loc, opts, set)
		if err == nil && (!cs.Part || len(cs.Writes) > 0) {
			_, err = e.store.ApplyChangeSet(ctx, cs)
		}
		switch {
		case err == nil:
			return cs, nil
		case errors.Is(err, catalog.ErrStale) && attempt < maxPlans:
			e.log.DebugContext(ctx, "change set stale, planning again", "location", loc.Key(), "attempt", attempt, "err", err)
		case portal.ErrorCode(err) == portal.ENOTFOUND:
			return nil, err
		default:
			return nil, fmt.Errorf("ingest: apply change set of %s: %w", loc.Key(), err)
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
	cs, err := e.apply(ctx, loc, catalog.RefreshOptions{DeleteOrphans: e.opts.DeleteOrphans, Remove: true}, &readSet{})
	if err != nil {
		return catalog.RefreshStats{}, err
	}
	if w := e.opts.Watcher; w != nil && loc.Type == TypeFile {
		w.Watch(loc, nil)
	}
	return cs.Stats, nil
}

// read reads everything loc leads to, with no transaction open, handing
// each full part of its documents to parts (when set) as it goes, and
// returns the rest.
func (e *Engine) read(ctx context.Context, loc catalog.Location, parts chan<- []*catalog.EntityDoc) (*readSet, error) {
	ctx, cancel := context.WithCancel(ctx) // stops the workers of a pass that ends early
	defer cancel()
	sink := &readSink{parts: parts}
	run := newRun(e.reader, e.rules, e.limits(), loc, sink)
	run.stored = func(ctx context.Context, key string) ([]*catalog.Entity, error) {
		return e.store.StoredLocations(ctx, loc.ID, key)
	}
	run.encode = encodeEntity
	if err := run.walk(ctx); err != nil {
		return nil, err
	}
	sink.set.inputs = run.inputs.list()
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
