package changefeed

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

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

	// recent are the last events read, at most windowSize, contiguous and
	// in order; reads singles out concurrent reads of the same page.
	// Together they make the readers woken by one commit (a thousand
	// subscriptions) cost one statement, not one each.
	recentMu sync.Mutex
	recent   []catalog.Change
	reads    singleflight.Group
}

// windowSize is how many of the latest events a feed keeps in memory: a
// few refreshes' worth, a few megabytes at most.
const windowSize = 4096

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
	last, err := f.store.PruneChanges(ctx, time.Now().Add(-f.opts.Retention))
	if err == nil && last > 0 {
		f.forget(last)
	}
	return last, err
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
//
// The latest events are served from memory once read: positions have no
// gaps, so the window holds every event between its first and its last.
// Concurrent reads of the same page share one statement.
func (f *Feed) Read(ctx context.Context, after int64, limit int) ([]catalog.Change, error) {
	if out, ok := f.cached(after, cmp.Or(max(limit, 0), windowSize)); ok {
		return out, nil
	}
	key := strconv.FormatInt(after, 10) + "/" + strconv.Itoa(limit)
	ch := f.reads.DoChan(key, func() (any, error) {
		// Not cancelled with the first caller: the others share it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		changes, err := f.store.ReadChanges(ctx, after, limit)
		if err == nil {
			f.remember(after, changes)
		}
		return changes, err
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		// Shared with other callers: each gets its own slice.
		return slices.Clone(r.Val.([]catalog.Change)), nil
	}
}

// cached returns the events after position after from the window, when it
// holds them all up to the last one it has.
func (f *Feed) cached(after int64, limit int) ([]catalog.Change, bool) {
	f.recentMu.Lock()
	defer f.recentMu.Unlock()
	if len(f.recent) == 0 {
		return nil, false
	}
	first, last := f.recent[0].Position, f.recent[len(f.recent)-1].Position
	if after < first-1 || after >= last {
		return nil, false
	}
	i := int(after - first + 1)
	return slices.Clone(f.recent[i:min(len(f.recent), i+limit)]), true
}

// remember adds the events read after position after to the window: after
// its last when they follow it, in its place when they do not.
func (f *Feed) remember(after int64, changes []catalog.Change) {
	if len(changes) == 0 {
		return
	}
	f.recentMu.Lock()
	defer f.recentMu.Unlock()
	n := len(f.recent)
	switch {
	case n > 0 && f.recent[n-1].Position == after:
		f.recent = append(f.recent, changes...)
	case n > 0 && changes[len(changes)-1].Position <= f.recent[n-1].Position:
		return // older than the window: not kept
	default:
		f.recent = slices.Clone(changes)
	}
	if extra := len(f.recent) - windowSize; extra > 0 {
		f.recent = slices.Clone(f.recent[extra:])
	}
}

// forget drops the events up to position through from the window, once
// pruned: reading from there must fail with EEXPIRED.
func (f *Feed) forget(through int64) {
	f.recentMu.Lock()
	defer f.recentMu.Unlock()
	i := 0
	for i < len(f.recent) && f.recent[i].Position <= through {
		i++
	}
	f.recent = f.recent[i:]
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
//
// It reads only when the feed knows of events after the last it handed
// over: a follower that has caught up waits for the next commit instead of
// asking the database whether there is one, so that a thousand followers
// cost nothing between commits and a read or so at each.
func (f *Feed) Follow(ctx context.Context, after int64, fn func([]catalog.Change) error) error {
	// The first read is made whatever the head: it checks the position
	// (EEXPIRED), and the head is not known until Run's first wake.
	for first := true; ; first = false {
		if !first && f.Head() <= after {
			if err := f.Wait(ctx, after); err != nil {
				return nil
			}
		}
		changes, err := f.Read(ctx, after, DefaultPage)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(changes) == 0 {
			// The head moved past what is visible yet (another process's
			// commit seen by NOTIFY before this connection sees it): wait
			// for the next wake rather than spin.
			if err := f.waitNext(ctx); err != nil {
				return nil
			}
			continue
		}
		if err := fn(changes); err != nil {
			return err
		}
		after = changes[len(changes)-1].Position
	}
}

// waitNext returns at the next advance of the head, or after a poll
// period, whichever comes first.
func (f *Feed) waitNext(ctx context.Context) error {
	f.mu.Lock()
	advanced := f.advanced
	f.mu.Unlock()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-advanced:
	case <-time.After(100 * time.Millisecond):
	}
	return nil
}
