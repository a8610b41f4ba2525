// Package loader batches the reads of one GraphQL operation with
// graph-gophers/dataloader: the fields of a list's items that need the same
// kind of data are answered by one query, so a request costs a handful of
// statements whatever the size of its result.
//
// Two paths fill a loader's cache. A resolver that knows what the rest of
// the query will ask for (see resolvers' prefetch) primes the loaders for a
// whole page at once with the Prime functions: one statement per level of
// the query, and the fields that follow find their values without waiting.
// Reads that were not primed go through dataloader's batching window, or,
// for a field outside any list or of a type resolved in sequence
// (gqltype.Sequential), straight to the store (see WithDirect).
//
// Loaders are made fresh for each operation (see internal/server): their
// caches must not outlive it. A batch runs with the context of the first
// load in its window, so it may only read request-scoped values from it.
//
// It imports internal/catalog, internal/portal and dataloader.
package loader

import (
	"context"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Source is the store's batch reads that loaders call.
type Source interface {
	// EntitiesByRefs returns the entities that exist among refs, in any order.
	EntitiesByRefs(ctx context.Context, refs []string) ([]*catalog.Record, error)
	// RelationsBySources returns the relations from refs, of types (all when empty).
	RelationsBySources(ctx context.Context, refs, types []string) ([]catalog.RelationRow, error)
	// RelationsByTargets returns the relations to refs, of types (all when empty).
	RelationsByTargets(ctx context.Context, refs, types []string) ([]catalog.RelationRow, error)
	// LocationsByIDs returns the registered locations among ids, in any order.
	LocationsByIDs(ctx context.Context, ids []string) ([]catalog.Location, error)
	// EntityErrors returns the processing errors of each of refs.
	EntityErrors(ctx context.Context, refs []string) (map[string][]catalog.ProcessingError, error)
	// DocsSites returns the built docs sites of refs, of entities the
	// caller has read, by ref.
	DocsSites(ctx context.Context, refs []string) (map[string]*portal.DocsSite, error)
}

// RelationKey names the relations of one entity (by canonical ref) of one
// type, or of every type when Type is "".
type RelationKey struct {
	Ref  string
	Type string
}

// Batching window of reads that were not primed: a batch is sent wait after
// its first key, or at once when it holds capacity keys (a page of 1000
// with room to spare).
const (
	wait     = 2 * time.Millisecond
	capacity = 5000
)

// loader is a dataloader with its cache at hand, so that priming can skip
// the keys already read, and the read behind its batch function, which
// priming and direct reads call themselves. Primed and direct reads are kept in a plain map
// beside dataloader's cache, which would wrap each value in a closure of
// its own: a page primes thousands of keys.
type loader[K comparable, V any] struct {
	*dataloader.Loader[K, V]
	cache dataloader.Cache[K, V]
	fetch fetchFunc[K, V]

	mu     sync.RWMutex
	primed map[K]V
}

// get returns the value of key from the primed values or dataloader's
// cache.
func (l *loader[K, V]) get(ctx context.Context, key K) (V, bool, error) {
	l.mu.RLock()
	v, ok := l.primed[key]
	l.mu.RUnlock()
	if ok {
		return v, true, nil
	}
	if th, ok := l.cache.Get(ctx, key); ok {
		v, err := th()
		return v, true, err
	}
	return v, false, nil
}

// put keeps values read outside dataloader.
func (l *loader[K, V]) put(keys []K, values []V) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, k := range keys {
		l.primed[k] = values[i]
	}
}

// fetchFunc reads the values of keys, in their order; a key without a
// value gets the zero value. It is a dataloader batch function without the
// result for each key, which priming a page of thousands of keys would
// allocate for nothing.
type fetchFunc[K comparable, V any] func(ctx context.Context, keys []K) ([]V, error)

func newLoader[K comparable, V any](fetch fetchFunc[K, V]) *loader[K, V] {
	batch := func(ctx context.Context, keys []K) []*dataloader.Result[V] {
		values, err := fetch(ctx, keys)
		out := make([]*dataloader.Result[V], len(keys))
		for i := range keys {
			if err != nil {
				out[i] = &dataloader.Result[V]{Error: err}
			} else {
				out[i] = &dataloader.Result[V]{Data: values[i]}
			}
		}
		return out
	}
	cache := dataloader.NewCache[K, V]()
	return &loader[K, V]{
		Loader: dataloader.NewBatchedLoader(batch,
			dataloader.WithCache[K, V](cache), dataloader.WithWait[K, V](wait), dataloader.WithBatchCapacity[K, V](capacity)),
		cache:  cache,
		fetch:  fetch,
		primed: map[K]V{},
	}
}

// Loaders are one operation's loaders, made at their first use: many
// operations read through none of them, and a subscription, which gets
// fresh ones for each event (see [Reset]), mostly reads none per event.
type Loaders struct {
	src  Source
	once *sync.Once
	set  *loaderSet
}

// loaderSet are the loaders themselves.
type loaderSet struct {
	entity   *loader[string, *catalog.Record]
	outgoing *loader[RelationKey, []catalog.RelationRow]
	incoming *loader[RelationKey, []catalog.RelationRow]
	location *loader[string, *catalog.Location]
	errors   *loader[string, []catalog.ProcessingError]
	docs     *loader[string, *portal.DocsSite]
}

// New returns fresh loaders over src.
func New(src Source) *Loaders {
	return &Loaders{src: src, once: new(sync.Once)}
}

// loaders returns the loaders, making them at the first call.
func (l *Loaders) loaders() *loaderSet {
	l.once.Do(func() { l.set = newLoaderSet(l.src) })
	return l.set
}

func newLoaderSet(src Source) *loaderSet {
	return &loaderSet{
		entity: newLoader(func(ctx context.Context, refs []string) ([]*catalog.Record, error) {
			recs, err := src.EntitiesByRefs(ctx, refs)
			byRef := make(map[string]*catalog.Record, len(recs))
			for _, r := range recs {
				byRef[r.Ref] = r
			}
			return inOrder(refs, byRef), err
		}),
		outgoing: newLoader(relationFetch(src.RelationsBySources, func(r catalog.RelationRow) string { return r.Source })),
		incoming: newLoader(relationFetch(src.RelationsByTargets, func(r catalog.RelationRow) string { return r.Target })),
		location: newLoader(func(ctx context.Context, ids []string) ([]*catalog.Location, error) {
			locs, err := src.LocationsByIDs(ctx, ids)
			byID := make(map[string]*catalog.Location, len(locs))
			for i := range locs {
				byID[locs[i].ID] = &locs[i]
			}
			return inOrder(ids, byID), err
		}),
		errors: newLoader(func(ctx context.Context, refs []string) ([][]catalog.ProcessingError, error) {
			byRef, err := src.EntityErrors(ctx, refs)
			return inOrder(refs, byRef), err
		}),
		docs: newLoader(func(ctx context.Context, refs []string) ([]*portal.DocsSite, error) {
			byRef, err := src.DocsSites(ctx, refs)
			return inOrder(refs, byRef), err
		}),
	}
}

// Reset forgets everything the loaders of ctx's operation read, if it
// has any, so that what they read next is current: a subscription's
// operation lives on, and each of its events must see the catalog as it
// is then, not as the first saw it. It must not run while the operation
// resolves fields.
func Reset(ctx context.Context) {
	if l, ok := ctx.Value(contextKey{}).(*Loaders); ok {
		*l = *New(l.src)
	}
}

// inOrder returns the values of keys in byKey, in the order of keys.
func inOrder[K comparable, V any](keys []K, byKey map[K]V) []V {
	out := make([]V, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out
}

// relationFetch answers relation keys with one query for all their refs
// and types, then hands each key its rows.
func relationFetch(
	fetch func(ctx context.Context, refs, types []string) ([]catalog.RelationRow, error),
	end func(catalog.RelationRow) string,
) fetchFunc[RelationKey, []catalog.RelationRow] {
	return func(ctx context.Context, keys []RelationKey) ([][]catalog.RelationRow, error) {
		refs := make([]string, 0, len(keys))
		seenRef := map[string]bool{}
		var types []string
		seenType := map[string]bool{}
		allTypes := false
		for _, k := range keys {
			if !seenRef[k.Ref] {
				seenRef[k.Ref] = true
				refs = append(refs, k.Ref)
			}
			if k.Type == "" {
				allTypes = true
			} else if !seenType[k.Type] {
				seenType[k.Type] = true
				types = append(types, k.Type)
			}
		}
		if allTypes {
			types = nil
		}
		rows, err := fetch(ctx, refs, types)
		// The rows come ordered by ref then type: each key's rows are one
		// run of them, handed out as a slice of rows without copying (and
		// capped, so that appending to one copies).
		grouped := make(map[RelationKey][]catalog.RelationRow, len(keys))
		for i := 0; i < len(rows); {
			ref := end(rows[i])
			j := i
			for j < len(rows) && end(rows[j]) == ref {
				j++
			}
			if allTypes {
				grouped[RelationKey{ref, ""}] = rows[i:j:j]
			}
			for k := i; k < j; {
				typ := rows[k].Type
				l := k
				for l < j && rows[l].Type == typ {
					l++
				}
				if seenType[typ] {
					grouped[RelationKey{ref, typ}] = rows[k:l:l]
				}
				k = l
			}
			i = j
		}
		return inOrder(keys, grouped), err
	}
}

// load reads one key: from the cache when it was read or primed before,
// straight from the source when ctx says the read has no siblings, and
// through the batching window otherwise.
func load[K comparable, V any](ctx context.Context, l *loader[K, V], key K) (V, error) {
	if v, ok, err := l.get(ctx, key); ok {
		return v, err
	}
	if direct(ctx) {
		values, err := l.fetch(ctx, []K{key})
		if err != nil {
			var zero V
			return zero, err
		}
		l.put([]K{key}, values)
		return values[0], nil
	}
	return l.Load(ctx, key)()
}

// prime reads the keys that are not cached yet with one call of the batch
// function and caches their values.
func prime[K comparable, V any](ctx context.Context, l *loader[K, V], keys []K) error {
	missing := make([]K, 0, len(keys))
	seen := make(map[K]bool, len(keys))
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		if _, ok, _ := l.get(ctx, k); !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	values, err := l.fetch(ctx, missing)
	if err != nil {
		return err
	}
	l.put(missing, values)
	return nil
}

type contextKey struct{}

type directKey struct{}

// NewContext returns ctx carrying l.
func NewContext(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, contextKey{}, l)
}

// WithDirect returns ctx for reads that have no siblings to batch with
// (direct true), such as the fields of the one entity a query asked for:
// the loaders then read at once instead of waiting for a batch to fill.
// ctx is returned as it is when it says so already: every layer of context
// makes each later lookup in it longer.
func WithDirect(ctx context.Context, d bool) context.Context {
	if v, ok := ctx.Value(directKey{}).(bool); ok && v == d {
		return ctx
	}
	return context.WithValue(ctx, directKey{}, d)
}

func direct(ctx context.Context) bool {
	d, _ := ctx.Value(directKey{}).(bool)
	return d
}

// forOp returns the loaders of ctx's operation. It panics when there are
// none: the server installs them for every operation.
func forOp(ctx context.Context) *loaderSet {
	return ctx.Value(contextKey{}).(*Loaders).loaders()
}

// Entity returns the entity with a canonical ref, or nil.
func Entity(ctx context.Context, ref string) (*catalog.Record, error) {
	return load(ctx, forOp(ctx).entity, ref)
}

// Entities returns the entities with these refs, in their order, with nil
// where an entity does not exist.
func Entities(ctx context.Context, refs []string) ([]*catalog.Record, error) {
	l := forOp(ctx).entity
	if recs, ok := cachedAll(ctx, l, refs); ok {
		return recs, nil
	}
	if direct(ctx) {
		if err := prime(ctx, l, refs); err != nil {
			return nil, err
		}
		if recs, ok := cachedAll(ctx, l, refs); ok {
			return recs, nil
		}
	}
	recs, errs := l.LoadMany(ctx, refs)()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// cachedAll returns the values of keys when the cache holds all of them
// without error: the usual case once a page is prefetched, answered
// without dataloader's per-call machinery.
func cachedAll[K comparable, V any](ctx context.Context, l *loader[K, V], keys []K) ([]V, bool) {
	out := make([]V, len(keys))
	for i, k := range keys {
		v, ok, err := l.get(ctx, k)
		if !ok || err != nil {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// Outgoing returns the relations from ref of one type ("" for all), ordered
// by type and target.
func Outgoing(ctx context.Context, ref, typ string) ([]catalog.RelationRow, error) {
	return load(ctx, forOp(ctx).outgoing, RelationKey{ref, typ})
}

// Incoming returns the relations to ref of one type ("" for all), ordered
// by type and source.
func Incoming(ctx context.Context, ref, typ string) ([]catalog.RelationRow, error) {
	return load(ctx, forOp(ctx).incoming, RelationKey{ref, typ})
}

// Location returns the registered location with id, or nil.
func Location(ctx context.Context, id string) (*catalog.Location, error) {
	return load(ctx, forOp(ctx).location, id)
}

// Errors returns the processing errors of the entity with ref.
func Errors(ctx context.Context, ref string) ([]catalog.ProcessingError, error) {
	return load(ctx, forOp(ctx).errors, ref)
}

// DocsSite returns the built docs site of an entity the caller has read,
// or nil: the docs of a list's entities are read in one statement.
func DocsSite(ctx context.Context, ref string) (*portal.DocsSite, error) {
	return load(ctx, forOp(ctx).docs, ref)
}

// PrimeEntities reads the entities with these refs that are not cached yet,
// in one statement.
func PrimeEntities(ctx context.Context, refs []string) error {
	return prime(ctx, forOp(ctx).entity, refs)
}

// PrimeOutgoing reads the relations of these keys that are not cached yet,
// in one statement.
func PrimeOutgoing(ctx context.Context, keys []RelationKey) error {
	return prime(ctx, forOp(ctx).outgoing, keys)
}

// PrimeIncoming is [PrimeOutgoing] for relations to the keys' entities.
func PrimeIncoming(ctx context.Context, keys []RelationKey) error {
	return prime(ctx, forOp(ctx).incoming, keys)
}

// PrimeLocations reads the registered locations with these ids that are not
// cached yet, in one statement.
func PrimeLocations(ctx context.Context, ids []string) error {
	return prime(ctx, forOp(ctx).location, ids)
}

// PrimeErrors reads the processing errors of these entities that are not
// cached yet, in one statement.
func PrimeErrors(ctx context.Context, refs []string) error {
	return prime(ctx, forOp(ctx).errors, refs)
}

// PrimeDocs reads the docs sites of these refs that are not cached yet,
// in one statement.
func PrimeDocs(ctx context.Context, refs []string) error {
	return prime(ctx, forOp(ctx).docs, refs)
}
