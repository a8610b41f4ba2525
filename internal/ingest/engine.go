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

// Store is what ingestion needs from storage.
type Store interface {
	// Locations returns every registered location.
	Locations(ctx context.Context) ([]catalog.Location, error)
	// BeginRefresh starts writing the results of one refresh of a location,
	// in one transaction. Nothing is visible to readers until Commit.
	BeginRefresh(ctx context.Context, loc catalog.Location, opts catalog.RefreshOptions) (catalog.Refresh, error)
	// StoredLocations returns the valid Location entities that a location
	// last stored from one file or URL (key "type:target"), orphans aside,
	// as committed before the refresh in progress.
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

// Engine refreshes locations, one at a time, so two never race on the same
// entities. When each is refreshed is internal/jobs' decision.
type Engine struct {
	store  Store
	reader *reader
	rules  *Rules
	opts   Options
	log    *slog.Logger

	mu sync.Mutex // held for the duration of one refresh
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

// Refresh reads one location and writes what it emits in one transaction.
// An error means nothing was written; problems in the location's content
// are not errors but processing errors recorded with the results. A refresh
// that fails for any other reason than ctx ending is logged and recorded on
// the location, so that it never fails silently.
func (e *Engine) Refresh(ctx context.Context, loc catalog.Location) (catalog.RefreshStats, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if o := e.opts.Observer; o != nil {
		var end func(catalog.RefreshStats, error)
		ctx, end = o.StartRefresh(ctx, loc)
		stats, err := e.refreshOrRecord(ctx, loc)
		end(stats, err)
		return stats, err
	}
	return e.refreshOrRecord(ctx, loc)
}

// refreshOrRecord is [Engine.Refresh] with e.mu held.
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

func (e *Engine) refresh(ctx context.Context, loc catalog.Location) (catalog.RefreshStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	tx, err := e.store.BeginRefresh(ctx, loc, catalog.RefreshOptions{DeleteOrphans: e.opts.DeleteOrphans})
	if err != nil {
		return catalog.RefreshStats{}, fmt.Errorf("ingest: begin refresh of %s: %w", loc.Key(), err)
	}
	defer tx.Rollback()

	b := newBatcher(ctx, tx)
	run := newRun(e.reader, e.rules, e.limits(), loc, b)
	run.stored = func(ctx context.Context, key string) ([]*catalog.Entity, error) {
		return e.store.StoredLocations(ctx, loc.ID, key)
	}
	walkErr := run.walk(ctx)
	if err := errors.Join(walkErr, b.close()); err != nil {
		return catalog.RefreshStats{}, fmt.Errorf("ingest: refresh %s: %w", loc.Key(), err)
	}
	stats, err := tx.Commit(ctx, b.errs, b.unreadableKeys)
	if err != nil {
		return stats, fmt.Errorf("ingest: commit refresh of %s: %w", loc.Key(), err)
	}
	return stats, nil
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

// batcher collects a run's output and hands entities to the store in
// batches, on a goroutine of its own, so that reading and parsing go on
// while the database writes.
type batcher struct {
	tx    catalog.Refresh
	batch []*catalog.Emitted
	errs  []catalog.ProcessingError
	// unreadableKeys lists files whose earlier entities must be kept.
	unreadableKeys []string

	queue   chan []*catalog.Emitted
	written chan error // the writer's result, once the queue is closed
}

func newBatcher(ctx context.Context, tx catalog.Refresh) *batcher {
	b := &batcher{tx: tx, queue: make(chan []*catalog.Emitted, 2), written: make(chan error, 1)}
	go func() {
		var err error
		for batch := range b.queue {
			if err == nil {
				err = tx.Put(ctx, batch)
			}
		}
		b.written <- err
	}()
	return b
}

func (b *batcher) put(ctx context.Context, em *catalog.Emitted) error {
	b.batch = append(b.batch, em)
	if len(b.batch) < batchSize {
		return nil
	}
	select {
	case b.queue <- b.batch:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.batch = nil
	return nil
}

func (b *batcher) fail(pe catalog.ProcessingError) { b.errs = append(b.errs, pe) }

func (b *batcher) unreadable(key string) { b.unreadableKeys = append(b.unreadableKeys, key) }

// close hands over the last batch and waits for the writer to finish.
func (b *batcher) close() error {
	if len(b.batch) > 0 {
		b.queue <- b.batch
		b.batch = nil
	}
	close(b.queue)
	return <-b.written
}
