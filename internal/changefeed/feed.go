package changefeed

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// Store is the feed as the database keeps it; *store.DB implements it.
type Store interface {
	// ReadChanges returns the events after position after, in order, at
	// most limit. Returns EEXPIRED when events after after were pruned.
	ReadChanges(ctx context.Context, after int64, limit int) ([]catalog.Change, error)
	// ChangeHead returns the last position, 0 when the feed is empty.
	ChangeHead(ctx context.Context) (int64, error)
	// WatchChanges calls wake with positions that commits reached, this
	// process's and others', until ctx ends.
	WatchChanges(ctx context.Context, wake func(position int64)) error
	// PruneChanges deletes the events appended before before.
	PruneChanges(ctx context.Context, before time.Time) (int64, error)
	// PruneHistory deletes the versions of entities that no time since
	// before needs (see internal/store).
	PruneHistory(ctx context.Context, before time.Time) (int64, error)
}

// DefaultRetention is how long the feed keeps its events, unless told
// otherwise: a consumer that stops over a long weekend or a week's holiday
// (a search indexer, a script, a UI left open) resumes where it was, while
// the table holds a week of changes, a few rows per change of an entity.
// Entity history, kept longer, is another table.
const DefaultRetention = 7 * 24 * time.Hour

// DefaultHistoryRetention is how long entities' versions are kept, unless
// told otherwise: a quarter, enough to answer what an entity looked like
// last Tuesday, or before the last reorganisation.
const DefaultHistoryRetention = 90 * 24 * time.Hour

// DefaultPruneEvery is how often [Feed.Run] prunes.
const DefaultPruneEvery = time.Hour

// DefaultPage is how many events [Feed.Follow] reads at once.
const DefaultPage = 1000

// Options configures a [Feed].
type Options struct {
	// Retention is how long events are kept; DefaultRetention when zero.
	Retention time.Duration
	// HistoryRetention is how long entities' versions are kept, written
	// with the events; DefaultHistoryRetention when zero.
	HistoryRetention time.Duration
	// PruneEvery is how often Run prunes; DefaultPruneEvery when zero.
	PruneEvery time.Duration
	Log        *slog.Logger
}

// Feed reads the change feed and wakes the readers that wait on it.
type Feed struct {
	store Store
	opts  Options

	mu       sync.Mutex
	head     int64         // the highest position known committed
	advanced chan struct{} // closed, and replaced, when head moves
}

// New returns a feed over s. Nothing wakes its readers until [Feed.Run]
// runs.
func New(s Store, opts Options) *Feed {
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.HistoryRetention <= 0 {
		opts.HistoryRetention = DefaultHistoryRetention
	}
	if opts.PruneEvery <= 0 {
		opts.PruneEvery = DefaultPruneEvery
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Feed{store: s, opts: opts, advanced: make(chan struct{})}
}

// Run watches the database for commits, waking the readers waiting in
// [Feed.Wait] and [Feed.Follow], and prunes the events older than the
// retention now and every PruneEvery, until ctx ends. One Run per process
// serves every reader: on PostgreSQL it holds the one LISTEN connection.
func (f *Feed) Run(ctx context.Context) error {
	go f.pruneLoop(ctx)
	for {
		err := f.store.WatchChanges(ctx, f.advance)
		if ctx.Err() != nil {
			return nil
		}
		f.opts.Log.WarnContext(ctx, "change feed: watching failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func (f *Feed) pruneLoop(ctx context.Context) {
	t := time.NewTicker(f.opts.PruneEvery)
	defer t.Stop()
	for {
		if _, err := f.Prune(ctx); err != nil && ctx.Err() == nil {
			f.opts.Log.WarnContext(ctx, "change feed: pruning failed", "err", err)
		}
		if _, err := f.store.PruneHistory(ctx, time.Now().Add(-f.opts.HistoryRetention)); err != nil && ctx.Err() == nil {
			f.opts.Log.WarnContext(ctx, "entity history: pruning failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Prune deletes the events older than the retention and returns the last
// position it deleted, 0 when none. Readers asking for positions below it
// get EEXPIRED from then on.
func (f *Feed) Prune(ctx context.Context) (int64, error) {
	return f.store.PruneChanges(ctx, time.Now().Add(-f.opts.Retention))
}

// advance records that position has been committed and wakes the waiters.
func (f *Feed) advance(position int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if position <= f.head {
		return
	}
	f.head = position
	close(f.advanced)
	f.advanced = make(chan struct{})
}

// Latest returns the position of the last event committed, read from the
// database: where a reader that wants only what comes next starts.
func (f *Feed) Latest(ctx context.Context) (int64, error) {
	return f.store.ChangeHead(ctx)
}

// Head returns the highest position the feed knows to be committed.
func (f *Feed) Head() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.head
}

// Read returns the events after position after, in order, at most limit
// (see the store's ReadChanges for the bounds). Reading again after the
// last position it returned misses nothing: events are numbered in commit
// order. Returns EEXPIRED when after is older than the retention.
func (f *Feed) Read(ctx context.Context, after int64, limit int) ([]catalog.Change, error) {
	return f.store.ReadChanges(ctx, after, limit)
}

// Wait returns once an event after position after has been committed, or
// with ctx's error when ctx ends first. It needs [Feed.Run] running.
func (f *Feed) Wait(ctx context.Context, after int64) error {
	for {
		f.mu.Lock()
		head, advanced := f.head, f.advanced
		f.mu.Unlock()
		if head > after {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-advanced:
		}
	}
}

// Follow calls fn with every event after position after, in order, in
// pages of at most DefaultPage, then with each new page as it commits,
// until ctx ends (it returns nil then) or fn or a read fails (it returns
// that error: EEXPIRED when after is older than the retention). It needs
// [Feed.Run] running.
func (f *Feed) Follow(ctx context.Context, after int64, fn func([]catalog.Change) error) error {
	for {
		changes, err := f.Read(ctx, after, DefaultPage)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(changes) > 0 {
			if err := fn(changes); err != nil {
				return err
			}
			after = changes[len(changes)-1].Position
			continue
		}
		if err := f.Wait(ctx, after); err != nil {
			return nil
		}
	}
}
