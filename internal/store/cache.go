package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// The catalog changes at most once per refresh of a location, while it is
// read many times a second: a page of 500 components with their owners,
// systems and APIs reads some 2,000 rows. The read cache keeps the entities
// and relations read recently, by ref, and serves them until they change.
//
// What changed is what the change feed says (changefeed.go). After a
// commit, this process drops at once what its own events name
// (DB.invalidate); the writes of other processes (greenroom ingest, other
// replicas) are found by reading the feed after the position the cache has
// taken in, at most every feedPoll (100 ms), so they are seen that much
// later at most. For each entity an event names, the cache drops its
// record, its relations both ways, and the relations of every entity
// related to it before (the cached lists that name it) or now (read from
// the relations table after the commit), since both directions of a
// relation are rows. Pages and counts are dropped whole when any entity
// changes: which pages an entity enters or leaves depends on the filter,
// and they are few and cheap to read again. Events about locations alone
// drop nothing. Over invalidateLimit entities at once (a first load), the
// relations are dropped whole too, rather than searched.
//
// A read that misses fills the cache only if nothing was dropped while it
// ran (the epoch did not move), so that a slow read cannot bring back what
// a write replaced.
type readCache struct {
	records  *lru.Cache[string, *catalog.Record] // nil: known not to exist
	outgoing *lru.Cache[string, []catalog.RelationRow]
	incoming *lru.Cache[string, []catalog.RelationRow]
	pages    *lru.Cache[string, cachedPage] // by statement and arguments
	counts   *lru.Cache[string, int]

	// hits and misses count lookups of one key (a ref, a page, a count),
	// for metrics.
	hits, misses atomic.Int64

	mu       sync.Mutex
	epoch    uint64 // incremented by every drop
	position int64  // the feed position the cache has taken in, -1 unknown
	checked  time.Time
}

// invalidateLimit is the most entities one drop searches the cached
// relations for; beyond it they are dropped whole.
const invalidateLimit = 1000

// DefaultCacheSize is how many entities, and lists of relations each way,
// the read cache keeps: the whole of a catalog of that size.
const DefaultCacheSize = 50_000

// pageCacheSize is how many pages of refs, and counts, the cache keeps.
const pageCacheSize = 256

// cachedPage is the refs of a page of entities and their sort keys.
type cachedPage struct {
	refs, keys []string
}

func newReadCache(size int) *readCache {
	records, _ := lru.New[string, *catalog.Record](size)
	outgoing, _ := lru.New[string, []catalog.RelationRow](size)
	incoming, _ := lru.New[string, []catalog.RelationRow](size)
	pages, _ := lru.New[string, cachedPage](pageCacheSize)
	counts, _ := lru.New[string, int](pageCacheSize)
	return &readCache{records: records, outgoing: outgoing, incoming: incoming, pages: pages, counts: counts, position: -1}
}

// purge empties every part of the cache; c.mu must be held.
func (c *readCache) purge() {
	c.records.Purge()
	c.outgoing.Purge()
	c.incoming.Purge()
	c.pages.Purge()
	c.counts.Purge()
}

// drop empties the cache; position is the feed position it has taken in
// now, or -1 when unknown.
func (c *readCache) drop(position int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.position = position
	c.purge()
}

// forget drops the records and relations of refs, the relations that name
// them, and every page and count; with whole, every relation.
func (c *readCache) forget(refs map[string]bool, whole bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.pages.Purge()
	c.counts.Purge()
	for ref := range refs {
		c.records.Remove(ref)
	}
	if whole {
		c.outgoing.Purge()
		c.incoming.Purge()
		return
	}
	for _, lists := range []*lru.Cache[string, []catalog.RelationRow]{c.outgoing, c.incoming} {
		for _, key := range lists.Keys() {
			if refs[key] {
				lists.Remove(key)
				continue
			}
			rows, _ := lists.Peek(key)
			for _, r := range rows {
				if refs[r.Source] || refs[r.Target] {
					lists.Remove(key)
					break
				}
			}
		}
	}
}

// invalidate drops from the cache what changes (committed) changed: see
// readCache.
func (db *DB) invalidate(ctx context.Context, changes []catalog.Change) {
	refs := map[string]bool{}
	for _, c := range changes {
		if !c.Op.IsLocation() {
			refs[c.Ref] = true
		}
	}
	if len(refs) == 0 {
		return
	}
	whole := len(refs) > invalidateLimit
	db.cache.forget(refs, whole)
	if whole {
		return
	}
	// The entities they relate to now: their lists gained rows that do not
	// name the changed refs yet. Dropped after the first drop, so that a
	// read filling in between is dropped too.
	list := make([]string, 0, len(refs))
	for ref := range refs {
		list = append(list, ref)
	}
	in, arg := db.d.anyOf("source_ref", list)
	var related []string
	if err := db.r.DB.SelectContext(ctx, &related, db.r.Rebind(`SELECT DISTINCT target_ref FROM relations WHERE `+in), arg); err != nil {
		db.log.WarnContext(ctx, "read cache: reading related entities failed; dropping every relation", "err", err)
		db.cache.forget(refs, true)
		return
	}
	if len(related) > 0 {
		db.cache.forgetRelations(related)
	}
}

// forgetRelations drops the relations of refs, both ways.
func (c *readCache) forgetRelations(refs []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for _, ref := range refs {
		c.outgoing.Remove(ref)
		c.incoming.Remove(ref)
	}
}

// fresh makes sure the cache has taken in the change feed, reading it
// when the last look is older than feedPoll, and returns the epoch reads
// that miss must fill under.
func (db *DB) fresh(ctx context.Context) (uint64, error) {
	c := db.cache
	c.mu.Lock()
	if time.Since(c.checked) < feedPoll && c.position >= 0 {
		epoch := c.epoch
		c.mu.Unlock()
		return epoch, nil
	}
	from := c.position
	c.mu.Unlock()
	// Not counted in ReadStatements: it is the cache's bookkeeping, and
	// happens on the clock, not per request.
	h, err := db.feedHead(ctx)
	if err != nil {
		return 0, err
	}
	switch {
	case h.Position == from:
	case from < 0 || from < h.Pruned || h.Position-from > invalidateLimit:
		// Unknown, pruned, or too much to search: start over.
		db.cache.drop(h.Position)
	default:
		var rows []changeRow
		if err := db.r.DB.SelectContext(ctx, &rows, db.r.Rebind(`
			SELECT position, operation, ref FROM change_feed WHERE position > ? AND position <= ? ORDER BY position`),
			from, h.Position); err != nil {
			return 0, formatError(err)
		}
		changes := make([]catalog.Change, len(rows))
		for i, r := range rows {
			changes[i] = catalog.Change{Position: r.Position, Op: catalog.ChangeOp(r.Op), Ref: r.Ref}
		}
		db.invalidate(ctx, changes)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Two reads may have looked at once: the later position stands.
	c.position = max(c.position, h.Position)
	c.checked = time.Now()
	return c.epoch, nil
}

// fill runs put if the cache is still at epoch.
func (c *readCache) fill(epoch uint64, put func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch == epoch {
		put()
	}
}

// count adds to the cache's hits and misses.
func (c *readCache) count(hits, misses int) {
	if hits > 0 {
		c.hits.Add(int64(hits))
	}
	if misses > 0 {
		c.misses.Add(int64(misses))
	}
}

// CacheStats returns how many lookups of the read cache (an entity, a
// ref's relations one way, a page, a count) it has served and missed
// since the database was opened.
func (db *DB) CacheStats() (hits, misses int64) {
	return db.cache.hits.Load(), db.cache.misses.Load()
}

// InvalidateCache drops every cached read. Tests use it to measure reads
// from the database itself.
func (db *DB) InvalidateCache() {
	if db.cache != nil {
		db.cache.drop(-1)
	}
}

// cachedRecords returns the records of refs (canonical) that exist, reading
// the ones not cached with one statement.
func (db *DB) cachedRecords(ctx context.Context, refs []string) ([]*catalog.Record, error) {
	epoch, err := db.fresh(ctx)
	if err != nil {
		return nil, err
	}
	c := db.cache
	out := make([]*catalog.Record, 0, len(refs))
	var missing []string
	for _, ref := range refs {
		if rec, ok := c.records.Get(ref); ok {
			if rec != nil {
				out = append(out, rec)
			}
			continue
		}
		missing = append(missing, ref)
	}
	c.count(len(refs)-len(missing), len(missing))
	if len(missing) == 0 {
		return out, nil
	}
	slices.Sort(missing)
	missing = slices.Compact(missing)
	recs, err := db.EntitiesByRefsWhere(ctx, missing, catalog.EntityFilter{})
	if err != nil {
		return nil, err
	}
	c.fill(epoch, func() {
		found := make(map[string]bool, len(recs))
		for _, r := range recs {
			c.records.Add(r.Ref, r)
			found[r.Ref] = true
		}
		for _, ref := range missing {
			if !found[ref] {
				c.records.Add(ref, nil)
			}
		}
	})
	return append(out, recs...), nil
}

// cachedRelations returns the relations of refs (canonical) in one
// direction, of types (all when empty), ordered as relationsBy orders them.
// It caches every type of each ref, so that other fields find them too.
func (db *DB) cachedRelations(ctx context.Context, column string, refs, types []string) ([]catalog.RelationRow, error) {
	epoch, err := db.fresh(ctx)
	if err != nil {
		return nil, err
	}
	c := db.cache.outgoing
	if column == "target_ref" {
		c = db.cache.incoming
	}
	byRef := make(map[string][]catalog.RelationRow, len(refs))
	var missing []string
	for _, ref := range refs {
		if _, seen := byRef[ref]; seen {
			continue
		}
		if rows, ok := c.Get(ref); ok {
			byRef[ref] = rows
			continue
		}
		byRef[ref] = nil
		missing = append(missing, ref)
	}
	db.cache.count(len(byRef)-len(missing), len(missing))
	if len(missing) > 0 {
		rows, err := db.relationsBy(ctx, column, missing, nil)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			ref := r.Source
			if column == "target_ref" {
				ref = r.Target
			}
			byRef[ref] = append(byRef[ref], r)
		}
		db.cache.fill(epoch, func() {
			for _, ref := range missing {
				c.Add(ref, byRef[ref])
			}
		})
	}
	keys := make([]string, 0, len(byRef))
	for ref := range byRef {
		keys = append(keys, ref)
	}
	slices.Sort(keys)
	n := 0
	for _, rows := range byRef {
		n += len(rows)
	}
	out := make([]catalog.RelationRow, 0, n) // at most n: types may leave some out
	for _, ref := range keys {
		for _, r := range byRef[ref] {
			if len(types) == 0 || slices.Contains(types, r.Type) {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// statementKey names a read by its statement and arguments.
func statementKey(query string, args []any) string {
	return query + "\x00" + fmt.Sprintf("%#v", args)
}

// cachedPageRefs returns the refs and sort keys a page query selects,
// running it only when the cache does not hold its result.
func (db *DB) cachedPageRefs(ctx context.Context, query string, args []any) (refs, keys []string, err error) {
	epoch, err := db.fresh(ctx)
	if err != nil {
		return nil, nil, err
	}
	key := statementKey(query, args)
	if p, ok := db.cache.pages.Get(key); ok {
		db.cache.count(1, 0)
		return p.refs, p.keys, nil
	}
	db.cache.count(0, 1)
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var ref, sortKey string
		if err := rows.Scan(&ref, &sortKey); err != nil {
			return nil, nil, err
		}
		refs, keys = append(refs, ref), append(keys, sortKey)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	db.cache.fill(epoch, func() { db.cache.pages.Add(key, cachedPage{refs, keys}) })
	return refs, keys, nil
}

// cachedCount returns the count a COUNT query gives, running it only when
// the cache does not hold it.
func (db *DB) cachedCount(ctx context.Context, query string, args []any) (int, error) {
	epoch, err := db.fresh(ctx)
	if err != nil {
		return 0, err
	}
	key := statementKey(query, args)
	if n, ok := db.cache.counts.Get(key); ok {
		db.cache.count(1, 0)
		return n, nil
	}
	db.cache.count(0, 1)
	var n int
	if err := db.r.GetContext(ctx, &n, query, args...); err != nil {
		return 0, err
	}
	db.cache.fill(epoch, func() { db.cache.counts.Add(key, n) })
	return n, nil
}

// Generation returns a number that moves whenever the catalog may have
// changed: at once after a write by this process, and within 100 ms
// (feedPoll) after a write by another. Caches of what the catalog implies, such as
// identity's principals, keep it with each entry and do not serve an entry
// from another generation. Reading it costs no statement most of the time.
func (db *DB) Generation(ctx context.Context) (uint64, error) {
	epoch, err := db.fresh(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: catalog generation: %w", err)
	}
	return epoch, nil
}
