// Package loader batches the reads of one GraphQL operation with
// graph-gophers/dataloader: the fields of a list's items that need the same
// kind of data are answered by one query, so a request costs a handful of
// statements whatever the size of its result.
//
// Loaders are made fresh for each operation (see internal/server): their
// caches must not outlive it. A batch runs with the context of the first
// load in its window, so it may only read request-scoped values from it.
//
// It imports internal/catalog and dataloader.
package loader

import (
	"context"
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
	entity   *dataloader.Loader[string, *catalog.Record]
	outgoing *dataloader.Loader[RelationKey, []catalog.RelationRow]
	incoming *dataloader.Loader[RelationKey, []catalog.RelationRow]
	owner    *dataloader.Loader[string, *catalog.Record]
	location *dataloader.Loader[string, *catalog.Location]
	errors   *dataloader.Loader[string, []catalog.ProcessingError]
}

// Batching parameters: a short wait, since the items of a list ask within
// microseconds of each other, and batches large enough for a page of 1000.
const (
	wait     = time.Millisecond
	capacity = 5000
)

func newLoader[K comparable, V any](fn dataloader.BatchFunc[K, V]) *dataloader.Loader[K, V] {
	return dataloader.NewBatchedLoader(fn,
		dataloader.WithWait[K, V](wait), dataloader.WithBatchCapacity[K, V](capacity))
}

// New returns fresh loaders over src.
func New(src Source) *Loaders {
	return &Loaders{
		entity: newLoader(func(ctx context.Context, refs []string) []*dataloader.Result[*catalog.Record] {
			recs, err := src.EntitiesByRefs(ctx, refs)
			byRef := make(map[string]*catalog.Record, len(recs))
			for _, r := range recs {
				byRef[r.Ref] = r
			}
			return results(refs, func(ref string) *catalog.Record { return byRef[ref] }, err)
		}),
		outgoing: newLoader(relationBatch(src.RelationsBySources, func(r catalog.RelationRow) string { return r.Source })),
		incoming: newLoader(relationBatch(src.RelationsByTargets, func(r catalog.RelationRow) string { return r.Target })),
		owner: newLoader(func(ctx context.Context, refs []string) []*dataloader.Result[*catalog.Record] {
			owners, err := src.OwnersOf(ctx, refs)
			return results(refs, func(ref string) *catalog.Record { return owners[ref] }, err)
		}),
		location: newLoader(func(ctx context.Context, ids []string) []*dataloader.Result[*catalog.Location] {
			locs, err := src.LocationsByIDs(ctx, ids)
			byID := make(map[string]*catalog.Location, len(locs))
			for i := range locs {
				byID[locs[i].ID] = &locs[i]
			}
			return results(ids, func(id string) *catalog.Location { return byID[id] }, err)
		}),
		errors: newLoader(func(ctx context.Context, refs []string) []*dataloader.Result[[]catalog.ProcessingError] {
			byRef, err := src.EntityErrors(ctx, refs)
			return results(refs, func(ref string) []catalog.ProcessingError { return byRef[ref] }, err)
		}),
	}
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

// NewContext returns ctx carrying l.
func NewContext(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, contextKey{}, l)
}

// For returns the loaders of ctx's operation. It panics when there are
// none: the server installs them for every operation.
func For(ctx context.Context) *Loaders {
	return ctx.Value(contextKey{}).(*Loaders)
}

// Entity returns the entity with a canonical ref, or nil.
func Entity(ctx context.Context, ref string) (*catalog.Record, error) {
	return For(ctx).entity.Load(ctx, ref)()
}

// Entities returns the entities with these refs, in their order, with nil
// where an entity does not exist.
func Entities(ctx context.Context, refs []string) ([]*catalog.Record, error) {
	recs, errs := For(ctx).entity.LoadMany(ctx, refs)()
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
	return For(ctx).outgoing.Load(ctx, RelationKey{ref, typ})()
}

// Incoming returns the relations to ref of one type ("" for all), ordered
// by type and source.
func Incoming(ctx context.Context, ref, typ string) ([]catalog.RelationRow, error) {
	return For(ctx).incoming.Load(ctx, RelationKey{ref, typ})()
}

// Owner returns the owner of the entity with ref, or nil when it has none
// in the catalog.
func Owner(ctx context.Context, ref string) (*catalog.Record, error) {
	return For(ctx).owner.Load(ctx, ref)()
}

// Location returns the registered location with id, or nil.
func Location(ctx context.Context, id string) (*catalog.Location, error) {
	return For(ctx).location.Load(ctx, id)()
}

// Errors returns the processing errors of the entity with ref.
func Errors(ctx context.Context, ref string) ([]catalog.ProcessingError, error) {
	return For(ctx).errors.Load(ctx, ref)()
}
