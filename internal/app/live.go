package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Feed is the change feed as the live service follows it
// (*changefeed.Feed).
type Feed interface {
	// Follow calls fn with every event after position after, in order,
	// then with each new page as it commits, until ctx ends or fn fails.
	Follow(ctx context.Context, after int64, fn func([]catalog.Change) error) error
	// Read returns at most limit events after position after; EEXPIRED
	// when after is older than the feed's retention.
	Read(ctx context.Context, after int64, limit int) ([]catalog.Change, error)
	// Latest returns the position of the last event committed.
	Latest(ctx context.Context) (int64, error)
}

// Live follows the catalog as it changes, for each caller as the read
// policy lets it see the catalog.
type Live struct {
	catalog *Catalog
	feed    Feed
	opts    LiveOptions
	// pages are the entities of recent pages of the feed as subscriptions
	// with the same view read them, by page and view (see matching):
	// subscribers who see the catalog alike share one statement per page.
	pages *lru.Cache[string, map[string]*catalog.Record]
	reads singleflight.Group
}

// LiveOptions bound what one subscription may hold.
type LiveOptions struct {
	// Buffer is how many events wait for a subscriber at most;
	// DefaultLiveBuffer when zero.
	Buffer int
	// SlowAfter is how long a subscriber may leave a full buffer unread
	// before it is cut off; DefaultSlowAfter when zero.
	SlowAfter time.Duration
	// Remembered is how many entities a subscription remembers having
	// sent, to tell its subscriber when one leaves its view;
	// DefaultRemembered when zero.
	Remembered int
}

// The defaults of [LiveOptions]. A buffer of 256 events is a few hundred
// kilobytes at most; a refresh that changes thousands of entities fills
// it, and a subscriber that reads on keeps up within SlowAfter.
const (
	// livePages is how many pages of the feed, by view, subscriptions
	// share after their read: those woken together share the read itself,
	// and these catch the stragglers of the last commits. A page holds at
	// most a thousand entities, so they are bounded to a few tens of
	// megabytes.
	livePages = 16

	DefaultLiveBuffer = 256
	DefaultSlowAfter  = 10 * time.Second
	DefaultRemembered = 10_000
)

// A LiveChange is one event of a subscription: a change to an entity the
// subscriber may see, with the entity as it is now (nil when deleted, or
// when it left the subscriber's view and Op says DELETED), or the reason
// the subscription ended (Err, in its last event).
type LiveChange struct {
	catalog.Change
	Entity *catalog.Record
	Err    error
}

// Cursor returns the cursor a subscriber gives back to resume after the
// event.
func (c LiveChange) Cursor() string { return strconv.FormatInt(c.Position, 10) }

// errSlow ends a subscription whose subscriber leaves its buffer full.
var errSlow = portal.Errorf(portal.EUNAVAILABLE, "the subscriber read too slowly and was cut off; resume from the cursor of the last event it received")

// CatalogChanges returns the changes of the entities f selects that the
// caller may read, from the one after the cursor after ("" for the next
// change to commit) on, until ctx ends, or the subscription fails or is
// cut off: its last event then carries the reason. Every event after the
// cursor is sent once, in commit order. An entity that leaves the
// caller's view (by the policy or by f) while the subscription has it in
// view arrives as DELETED. The caller's credentials are checked when it
// subscribes; the subscription ends when they expire.
//
// Returns EINVALID for a malformed cursor and EEXPIRED for one older than
// the feed's retention.
func (l *Live) CatalogChanges(ctx context.Context, after string, f catalog.EntityFilter) (<-chan *LiveChange, error) {
	seen, err := lru.New[string, struct{}](l.opts.Remembered)
	if err != nil {
		return nil, err
	}
	return l.follow(ctx, after, func(s *subscription, changes []catalog.Change) error {
		return s.deliverEntities(ctx, changes, f, seen)
	})
}

// LocationChanges returns the changes of registered locations (created,
// named in the configuration, refreshed with changes, failed, deleted)
// from the one after the cursor after on, as [Live.CatalogChanges] does
// for entities, for an admin screen. Their Ref is the location's id.
// Returns EFORBIDDEN unless the caller may read locations, and the errors
// of CatalogChanges for a cursor.
func (l *Live) LocationChanges(ctx context.Context, after string) (<-chan *LiveChange, error) {
	if err := l.catalog.Require(ctx, policy.LocationRead, nil); err != nil {
		return nil, err
	}
	return l.follow(ctx, after, func(s *subscription, changes []catalog.Change) error {
		for _, c := range changes {
			if !c.Op.IsLocation() {
				continue
			}
			if err := s.send(ctx, LiveChange{Change: c}); err != nil {
				return err
			}
		}
		return nil
	})
}

// follow starts a subscription to the feed after the cursor after, whose
// pages deliver turns into events.
func (l *Live) follow(ctx context.Context, after string, deliver func(*subscription, []catalog.Change) error) (<-chan *LiveChange, error) {
	var pos int64
	var err error
	if after == "" {
		pos, err = l.feed.Latest(ctx)
	} else if pos, err = strconv.ParseInt(after, 10, 64); err != nil || pos < 0 {
		return nil, portal.Errorf(portal.EINVALID, "malformed cursor %q: give the cursor of an event, or none", after)
	} else {
		_, err = l.feed.Read(ctx, pos, 1) // EEXPIRED now, not after the subscription began
	}
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	if exp, ok := portal.ExpiryFromContext(ctx); ok {
		t := time.AfterFunc(time.Until(exp), func() {
			cancel(portal.Errorf(portal.EUNAUTHENTICATED, "the token expired at %s; subscribe again with a fresh one", exp.UTC().Format(time.RFC3339)))
		})
		context.AfterFunc(ctx, func() { t.Stop() })
	}
	out := make(chan *LiveChange, l.opts.Buffer) // pointers: 2 KB per subscription, not 50
	s := &subscription{live: l, out: out}
	go func() {
		defer close(out)
		defer cancel(nil)
		err := l.feed.Follow(ctx, pos, func(changes []catalog.Change) error { return deliver(s, changes) })
		if cause := context.Cause(ctx); err == nil && cause != nil && !errors.Is(cause, context.Canceled) {
			err = cause
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			s.end(err)
		}
	}()
	return out, nil
}

// subscription is one subscriber's follower of the feed.
type subscription struct {
	live *Live
	out  chan<- *LiveChange
	// viewKey is the subscriber's view (its filter narrowed by the read
	// policy) as JSON, "" for none, as decided by pol.
	pol     *policy.Policy
	viewKey string
}

// view returns the subscriber's view as JSON, or "" when it may read
// nothing: encoded again only when the policy changes.
func (s *subscription) view(ctx context.Context, f catalog.EntityFilter) (string, error) {
	if s.pol != nil && s.live.catalog.Policy() == s.pol {
		return s.viewKey, nil
	}
	view, ok, pol := s.live.catalog.ReadFilter(ctx, f)
	s.pol, s.viewKey = pol, ""
	if !ok {
		return "", nil
	}
	b, err := json.Marshal(view)
	if err != nil {
		return "", err
	}
	s.viewKey = string(b)
	return s.viewKey, nil
}

// deliverEntities sends the events of changes about entities that f
// selects and the subscriber may see, the entities they name read in one
// statement. seen are the entities last sent as in view, most recent
// first: when one leaves the view, the subscriber is told it is DELETED.
func (s *subscription) deliverEntities(ctx context.Context, changes []catalog.Change, f catalog.EntityFilter, seen *lru.Cache[string, struct{}]) error {
	var refs []string
	for _, c := range changes {
		if !c.Op.IsLocation() && c.Op != catalog.ChangeDeleted {
			refs = append(refs, c.Ref)
		}
	}
	inView, err := s.live.matching(ctx, s, changes, refs, f)
	if err != nil {
		return err
	}
	for _, c := range changes {
		if c.Op.IsLocation() {
			continue
		}
		ev := LiveChange{Change: c}
		rec := inView[c.Ref]
		switch {
		case c.Op != catalog.ChangeDeleted && rec != nil:
			ev.Entity = rec
			seen.Add(c.Ref, struct{}{})
		case seen.Contains(c.Ref):
			// Deleted, or out of view now: either way gone for this
			// subscriber.
			ev.Op, ev.Etag, ev.Fields = catalog.ChangeDeleted, "", nil
			seen.Remove(c.Ref)
		default:
			continue
		}
		if err := s.send(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// send waits for room in the buffer, at most SlowAfter.
func (s *subscription) send(ctx context.Context, ev LiveChange) error {
	select {
	case s.out <- &ev:
		return nil
	default:
	}
	t := time.NewTimer(s.live.opts.SlowAfter)
	defer t.Stop()
	select {
	case s.out <- &ev:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return errSlow
	}
}

// end sends the reason the subscription ends, as its last event, after
// what the buffer holds; a subscriber that does not read it within
// SlowAfter does not get it.
func (s *subscription) end(err error) {
	t := time.NewTimer(s.live.opts.SlowAfter)
	defer t.Stop()
	select {
	case s.out <- &LiveChange{Err: err}:
	case <-t.C:
	}
}

// matching returns the entities among refs, named by the page changes,
// that f selects and the caller may read, by ref. Subscriptions woken by
// one commit read the same page; those whose view (f narrowed by the read
// policy) is the same get the same entities, read once: a thousand
// subscriptions of a UI cost a statement per commit rather than a
// thousand. The records are shared and never changed.
func (l *Live) matching(ctx context.Context, s *subscription, changes []catalog.Change, refs []string, f catalog.EntityFilter) (map[string]*catalog.Record, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	view, err := s.view(ctx, f)
	if err != nil || view == "" {
		return nil, err
	}
	key := fmt.Sprintf("%d-%d/%s", changes[0].Position, changes[len(changes)-1].Position, view)
	if m, ok := l.pages.Get(key); ok {
		return m, nil
	}
	ch := l.reads.DoChan(key, func() (any, error) {
		// Not cancelled with the first subscriber: the others share it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		recs, err := l.catalog.EntitiesMatching(ctx, refs, f)
		if err != nil {
			return nil, err
		}
		m := make(map[string]*catalog.Record, len(recs))
		for _, r := range recs {
			m[r.Ref] = r
		}
		l.pages.Add(key, m)
		return m, nil
	})
	select {
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(map[string]*catalog.Record), nil
	}
}
