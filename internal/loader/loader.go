// Package loader batches the reads of one GraphQL operation: the fields of
// a list's items that need the same kind of data are answered by one query,
// so a request costs a handful of statements whatever the size of its
// result. The batch functions follow graph-gophers/dataloader; the loader
// is its own, which keeps a batch open while keys keep coming (see
// batchLoader).
//
// Loaders are made fresh for each operation (see internal/server): their
// caches must not outlive it. A batch runs with the context of the first
// load in its window, so it may only read request-scoped values from it.
//
// It imports internal/catalog and dataloader.
package loader

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// Source is the store's batch reads that loaders call.
type Source interface {
	// EntitiesByRefs returns the entities that exist among refs, in any order.
	EntitiesByRefs(ctx context.Context, refs []string) ([]*catalog.Record, error)
	// RelationsBySources returns the relations from refs, of types (all when empty).
	RelationsBySources(ctx context.Context, refs, types []string) ([]catalog.RelationRow, error)
	// RelationsByTargets returns the relations to refs, of types (all when empty).
	RelationsByTargets(ctx context.Context, refs, types []string) ([]catalog.RelationRow, error)
	// OwnersOf returns the owner of each of refs that has one in the catalog.
	OwnersOf(ctx context.Context, refs []string) (map[string]*catalog.Record, error)
	// LocationsByIDs returns the registered locations among ids, in any order.
	LocationsByIDs(ctx context.Context, ids []string) ([]catalog.Location, error)
	// EntityErrors returns the processing errors of each of refs.
	EntityErrors(ctx context.Context, refs []string) (map[string][]catalog.ProcessingError, error)
}

// RelationKey names the relations of one entity (by canonical ref) of one
// type, or of every type when Type is "".
type RelationKey struct {
	Ref  string
	Type string
}

// Loaders are one operation's loaders.
type Loaders struct {
	entity   *batchLoader[string, *catalog.Record]
	outgoing *batchLoader[RelationKey, []catalog.RelationRow]
	incoming *batchLoader[RelationKey, []catalog.RelationRow]
	owner    *batchLoader[string, *catalog.Record]
	location *batchLoader[string, *catalog.Location]
	errors   *batchLoader[string, []catalog.ProcessingError]

	// The batch functions, also called directly for reads without siblings.
	entityBatch   dataloader.BatchFunc[string, *catalog.Record]
	outgoingBatch dataloader.BatchFunc[RelationKey, []catalog.RelationRow]
	incomingBatch dataloader.BatchFunc[RelationKey, []catalog.RelationRow]
	ownerBatch    dataloader.BatchFunc[string, *catalog.Record]
	locationBatch dataloader.BatchFunc[string, *catalog.Location]
	errorsBatch   dataloader.BatchFunc[string, []catalog.ProcessingError]
}

// Batching parameters: a batch is sent once no loader of the operation has
// taken a key for idle, or maxWait after its first key; batches are large
// enough for a page of 1000. The items of a list ask within microseconds of
// each other, but starting the items of a long list can take longer than
// any fixed wait; waiting for the whole operation to be quiet, after letting
// the other goroutines run (see batchLoader.wait), keeps a page of 200 items
// to the same six statements as a page of 20, even under go test -race on
// two CPUs. Each level of a query waits idle once: 500 µs rather than 2 ms
// took a quarter off a page of 100 components with their owners' members.
const (
	idle     = 500 * time.Microsecond
	maxWait  = 50 * time.Millisecond
	capacity = 5000
)

func newLoader[K comparable, V any](fn dataloader.BatchFunc[K, V], activity *atomic.Int64) *batchLoader[K, V] {
	return newBatchLoader(fn, activity, idle, maxWait, capacity)
}

// New returns fresh loaders over src.
func New(src Source) *Loaders {
	l := &Loaders{
		entityBatch: func(ctx context.Context, refs []string) []*dataloader.Result[*catalog.Record] {
			recs, err := src.EntitiesByRefs(ctx, refs)
			byRef := make(map[string]*catalog.Record, len(recs))
			for _, r := range recs {
				byRef[r.Ref] = r
			}
			return results(refs, func(ref string) *catalog.Record { return byRef[ref] }, err)
		},
		outgoingBatch: relationBatch(src.RelationsBySources, func(r catalog.RelationRow) string { return r.Source }),
		incomingBatch: relationBatch(src.RelationsByTargets, func(r catalog.RelationRow) string { return r.Target }),
		ownerBatch: func(ctx context.Context, refs []string) []*dataloader.Result[*catalog.Record] {
			owners, err := src.OwnersOf(ctx, refs)
			return results(refs, func(ref string) *catalog.Record { return owners[ref] }, err)
		},
		locationBatch: func(ctx context.Context, ids []string) []*dataloader.Result[*catalog.Location] {
			locs, err := src.LocationsByIDs(ctx, ids)
			byID := make(map[string]*catalog.Location, len(locs))
			for i := range locs {
				byID[locs[i].ID] = &locs[i]
			}
			return results(ids, func(id string) *catalog.Location { return byID[id] }, err)
		},
		errorsBatch: func(ctx context.Context, refs []string) []*dataloader.Result[[]catalog.ProcessingError] {
			byRef, err := src.EntityErrors(ctx, refs)
			return results(refs, func(ref string) []catalog.ProcessingError { return byRef[ref] }, err)
		},
	}
	activity := new(atomic.Int64)
	l.entity = newLoader(l.entityBatch, activity)
	l.outgoing = newLoader(l.outgoingBatch, activity)
	l.incoming = newLoader(l.incomingBatch, activity)
	l.owner = newLoader(l.ownerBatch, activity)
	l.location = newLoader(l.locationBatch, activity)
	l.errors = newLoader(l.errorsBatch, activity)
	return l
}

// results answers keys in their order; a missing key gets the zero value.
func results[K comparable, V any](keys []K, get func(K) V, err error) []*dataloader.Result[V] {
	out := make([]*dataloader.Result[V], len(keys))
	for i, k := range keys {
		if err != nil {
			out[i] = &dataloader.Result[V]{Error: err}
			continue
		}
		out[i] = &dataloader.Result[V]{Data: get(k)}
	}
	return out
}

// relationBatch answers relation keys with one query for all their refs
// and types, then hands each key its rows.
func relationBatch(
	fetch func(ctx context.Context, refs, types []string) ([]catalog.RelationRow, error),
	end func(catalog.RelationRow) string,
) dataloader.BatchFunc[RelationKey, []catalog.RelationRow] {
	return func(ctx context.Context, keys []RelationKey) []*dataloader.Result[[]catalog.RelationRow] {
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
		grouped := map[RelationKey][]catalog.RelationRow{}
		for _, r := range rows {
			ref := end(r)
			grouped[RelationKey{ref, ""}] = append(grouped[RelationKey{ref, ""}], r)
			grouped[RelationKey{ref, r.Type}] = append(grouped[RelationKey{ref, r.Type}], r)
		}
		return results(keys, func(k RelationKey) []catalog.RelationRow { return grouped[k] }, err)
	}
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
func WithDirect(ctx context.Context, direct bool) context.Context {
	return context.WithValue(ctx, directKey{}, direct)
}

func direct(ctx context.Context) bool {
	d, _ := ctx.Value(directKey{}).(bool)
	return d
}

// For returns the loaders of ctx's operation. It panics when there are
// none: the server installs them for every operation.
func For(ctx context.Context) *Loaders {
	return ctx.Value(contextKey{}).(*Loaders)
}

// load reads one key through a loader, or straight from the source when
// ctx says the read has no siblings.
func load[K comparable, V any](ctx context.Context, l *batchLoader[K, V], key K, batch dataloader.BatchFunc[K, V]) (V, error) {
	if direct(ctx) {
		r := batch(ctx, []K{key})[0]
		return r.Data, r.Error
	}
	return l.Load(ctx, key)()
}

// Entity returns the entity with a canonical ref, or nil.
func Entity(ctx context.Context, ref string) (*catalog.Record, error) {
	l := For(ctx)
	return load(ctx, l.entity, ref, l.entityBatch)
}

// Entities returns the entities with these refs, in their order, with nil
// where an entity does not exist.
func Entities(ctx context.Context, refs []string) ([]*catalog.Record, error) {
	l := For(ctx)
	if direct(ctx) {
		res := l.entityBatch(ctx, refs)
		out := make([]*catalog.Record, len(res))
		for i, r := range res {
			if r.Error != nil {
				return nil, r.Error
			}
			out[i] = r.Data
		}
		return out, nil
	}
	recs, errs := l.entity.LoadMany(ctx, refs)()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// Outgoing returns the relations from ref of one type ("" for all), ordered
// by type and target.
func Outgoing(ctx context.Context, ref, typ string) ([]catalog.RelationRow, error) {
	l := For(ctx)
	return load(ctx, l.outgoing, RelationKey{ref, typ}, l.outgoingBatch)
}

// Incoming returns the relations to ref of one type ("" for all), ordered
// by type and source.
func Incoming(ctx context.Context, ref, typ string) ([]catalog.RelationRow, error) {
	l := For(ctx)
	return load(ctx, l.incoming, RelationKey{ref, typ}, l.incomingBatch)
}

// Owner returns the owner of the entity with ref, or nil when it has none
// in the catalog.
func Owner(ctx context.Context, ref string) (*catalog.Record, error) {
	l := For(ctx)
	return load(ctx, l.owner, ref, l.ownerBatch)
}

// Location returns the registered location with id, or nil.
func Location(ctx context.Context, id string) (*catalog.Location, error) {
	l := For(ctx)
	return load(ctx, l.location, id, l.locationBatch)
}

// Errors returns the processing errors of the entity with ref.
func Errors(ctx context.Context, ref string) ([]catalog.ProcessingError, error) {
	l := For(ctx)
	return load(ctx, l.errors, ref, l.errorsBatch)
}
