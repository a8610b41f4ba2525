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
// and relations read recently, by ref, and serves them until the catalog
// changes.
//
// Every write that changes entities or relations increments the catalog's
// version (table catalog_version) in its transaction. The cache drops
// everything when this process writes, at once, and when it finds the
// version changed, which it checks at most every versionCheck: a write by
// another process (greenroom ingest, another replica) is seen that much
// later at most.
//
// A read that misses fills the cache only if no write happened while it
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

	mu      sync.Mutex
	epoch   uint64 // incremented by every drop
	version int64  // the catalog version the cache holds, -1 unknown
	checked time.Time
}

// versionCheck is how long the cache trusts the catalog version it read.
const versionCheck = 100 * time.Millisecond

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
	return &readCache{records: records, outgoing: outgoing, incoming: incoming, pages: pages, counts: counts, version: -1}
}

// purge empties every part of the cache; c.mu must be held.
func (c *readCache) purge() {
	c.records.Purge()
	c.outgoing.Purge()
	c.incoming.Purge()
	c.pages.Purge()
	c.counts.Purge()
}

// drop empties the cache; version is the catalog version it holds now, or
// -1 when unknown.
func (c *readCache) drop(version int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.version = version
	c.purge()
}

// fresh makes sure the cache holds the catalog's current version, checking
// it when the last check is older than versionCheck, and returns the epoch
// reads that miss must fill under.
func (db *DB) fresh(ctx context.Context) (uint64, error) {
	c := db.cache
	c.mu.Lock()
	if time.Since(c.checked) < versionCheck && c.version >= 0 {
		epoch := c.epoch
		c.mu.Unlock()
		return epoch, nil
	}
	c.mu.Unlock()
	// Not counted in ReadStatements: it is the cache's bookkeeping, and
	// happens on the clock, not per request.
	var v int64
	if err := db.r.DB.QueryRowContext(ctx, `SELECT version FROM catalog_version WHERE id = 1`).Scan(&v); err != nil {
		return 0, formatError(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v != c.version {
		c.epoch++
		c.version = v
		c.purge()
	}
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

// InvalidateCache drops every cached read, as a write does. Tests use it to
// measure reads from the database itself.
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
	var out []catalog.RelationRow
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
// changed: at once after a write by this process, and within versionCheck
// after a write by another. Caches of what the catalog implies, such as
// identity's principals, keep it with each entry and do not serve an entry
// from another generation. Reading it costs no statement most of the time.
func (db *DB) Generation(ctx context.Context) (uint64, error) {
	epoch, err := db.fresh(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: catalog version: %w", err)
	}
	return epoch, nil
}
