package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/greenroomhq/greenroom/graph"
	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/gqltype"
	"github.com/greenroomhq/greenroom/internal/loader"
)

// A page of entities is answered level by level. The resolver that reads
// the page (entities, entity, traverse, …) looks ahead at what the query
// selects below it, and reads what every item of the page needs with one
// statement per kind of data and level: the relations of all the items,
// then the entities those relations name, then the next level. It primes
// the loaders with the results, so that the per-item field resolvers that
// gqlgen runs next find their values in the cache, without waiting for a
// batch to fill.
//
// What a relation field reads is declared once, by its @relation in the
// schema; greenroom-gqlgen writes its description (relations_gen.go), which
// the field's resolver and the prefetch share, and its resolver. Other
// fields that read (errors, sourceLocation, relations) are planned here by
// name.

// relatedField is a field of an entity type that lists the entities its
// relations of one type point at (or, when incoming, come from), or names
// the first of them.
type relatedField struct {
	relation string
	incoming bool
	types    []string // GraphQL types the field keeps; any when empty
	list     bool     // a list, which takes first and after; else one entity
}

// satisfies lists, for each object type of the schema, the type itself and
// the interfaces and unions it belongs to: what fragments' type conditions
// are matched against.
var satisfies = func() map[string][]string {
	s := graph.NewExecutableSchema(graph.Config{}).Schema()
	out := map[string][]string{}
	for name, def := range s.Types {
		if def.Kind != ast.Object {
			continue
		}
		names := []string{name}
		for _, d := range s.GetImplements(def) {
			names = append(names, d.Name)
		}
		out[name] = names
	}
	return out
}()

// prefetch primes the loaders for everything sel selects on recs, and below,
// level by level. It is called by the resolvers that read entities from the
// store themselves: the root fields and the connections; the related fields
// of the entities they return are then read by it.
func prefetch(ctx context.Context, recs []*catalog.Record, sel ast.SelectionSet) error {
	if len(recs) == 0 || len(sel) == 0 {
		return nil
	}
	op := graphql.GetOperationContext(ctx)
	level := []pageSelection{{recs, sel}}
	for len(level) > 0 {
		var p plan
		for _, ps := range level {
			p.add(op, ps)
		}
		next, err := p.run(ctx)
		if err != nil {
			return err
		}
		level = next
	}
	return nil
}

// prefetchPage is [prefetch] for a connection of entities: path names the
// fields from the connection down to its entity, such as edges, node.
func prefetchPage(ctx context.Context, recs []*catalog.Record, path ...string) error {
	fc := graphql.GetFieldContext(ctx)
	if len(recs) == 0 || fc == nil {
		return nil
	}
	return prefetch(ctx, recs, below(graphql.GetOperationContext(ctx), fc.Field.Selections, path))
}

// below returns the selections of the fields at path under sel, merged.
func below(op *graphql.OperationContext, sel ast.SelectionSet, path []string) ast.SelectionSet {
	for _, name := range path {
		var next ast.SelectionSet
		for _, f := range graphql.CollectFields(op, sel, nil) {
			if f.Name == name {
				next = append(next, f.Selections...)
			}
		}
		sel = next
	}
	return sel
}

// pageSelection is entities and what the query selects on them.
type pageSelection struct {
	recs []*catalog.Record
	sel  ast.SelectionSet
}

// plan gathers what one level needs, to read it with one statement per
// loader.
type plan struct {
	outgoing, incoming []loader.RelationKey
	errors             []string
	locations          []string
	docs               []string          // refs of entities with docs
	documents          []*catalog.Record // entities whose document is selected
	follow             []follow
}

// follow is a field whose entities the next level reads: parents' related
// entities of one field, and what the query selects on them.
type follow struct {
	parents []*catalog.Record
	field   relatedField
	window  window
	sel     ast.SelectionSet
}

func (p *plan) add(op *graphql.OperationContext, ps pageSelection) {
	byType := map[string][]*catalog.Record{}
	for _, r := range ps.recs {
		t := gqltype.TypeName(r)
		byType[t] = append(byType[t], r)
	}
	for typ, recs := range byType {
		for _, f := range graphql.CollectFields(op, ps.sel, satisfies[typ]) {
			switch f.Name {
			case "errors":
				for _, r := range recs {
					p.errors = append(p.errors, r.Ref)
				}
			case "document":
				for _, r := range recs {
					p.outgoing = append(p.outgoing, loader.RelationKey{Ref: r.Ref})
					p.documents = append(p.documents, r)
				}
			case "sourceLocation":
				for _, r := range recs {
					p.locations = append(p.locations, r.LocationID)
				}
			case "docs":
				for _, r := range recs {
					if app.HasDocs(r) {
						p.docs = append(p.docs, r.Ref)
					}
				}
			case "relations":
				args := f.ArgumentMap(op.Variables)
				typ := ""
				if arg, ok := args["type"].(string); ok {
					var err error
					if typ, err = relationType(arg); err != nil {
						continue // the resolver reports it
					}
				}
				// The targets of the page, which follows the loader's
				// order; a page after a cursor reads up to the largest.
				w := window{limit: maxPageSize}
				if args["after"] == nil {
					w.limit = min(max(intArg(args["first"], defaultPageSize), 0), maxPageSize)
				}
				p.relate(recs, relatedField{relation: typ}, w, below(op, f.Selections, []string{"edges", "node", "target"}))
			default:
				rf, ok := relatedByType[typ][f.Name]
				if !ok {
					continue
				}
				w := one
				if rf.list {
					args := f.ArgumentMap(op.Variables)
					after, _ := args["after"].(string)
					var err error
					if w, err = listWindow(ptr(intArg(args["first"], defaultListSize)), optional(after)); err != nil {
						continue // the resolver reports it
					}
				}
				p.relate(recs, rf, w, f.Selections)
			}
		}
	}
}

// relate plans reading the relations of f of recs, and the entities in
// the window w of each that they name when the query selects anything on
// them.
func (p *plan) relate(recs []*catalog.Record, f relatedField, w window, sel ast.SelectionSet) {
	for _, r := range recs {
		k := loader.RelationKey{Ref: r.Ref, Type: f.relation}
		if f.incoming {
			p.incoming = append(p.incoming, k)
		} else {
			p.outgoing = append(p.outgoing, k)
		}
	}
	p.follow = append(p.follow, follow{parents: recs, field: f, window: w, sel: sel})
}

// reachedRefs are the refs a followed field reaches: all, each parent's
// span of them, and where the windows of all the parents are in the
// level's refs.
type reachedRefs struct {
	all      []string
	spans    []span
	from, to int
}

// span is where one parent's refs are in reachedRefs.all.
type span struct{ lo, hi int }

// intArg returns the value of an Int argument, or def when it is null or
// not an Int.
func intArg(v any, def int) int {
	if v == nil {
		return def
	}
	n, err := graphql.UnmarshalInt(v)
	if err != nil {
		return def
	}
	return n
}

func ptr[T any](v T) *T { return &v }

// run reads the level and returns the next one.
func (p *plan) run(ctx context.Context) ([]pageSelection, error) {
	if err := loader.PrimeErrors(ctx, p.errors); err != nil {
		return nil, err
	}
	if err := loader.PrimeLocations(ctx, p.locations); err != nil {
		return nil, err
	}
	if err := loader.PrimeDocs(ctx, p.docs); err != nil {
		return nil, err
	}
	if err := loader.PrimeOutgoing(ctx, p.outgoing); err != nil {
		return nil, err
	}
	if err := p.reserveDocuments(ctx); err != nil {
		return nil, err
	}
	if err := loader.PrimeIncoming(ctx, p.incoming); err != nil {
		return nil, err
	}
	// The refs of each followed field: all its parents' in one slice,
	// and the window of each primed with everyone else's in one
	// statement. A field whose entities the query selects nothing of
	// (relations without target) needs only its relations.
	reached := make([]reachedRefs, len(p.follow))
	var refs []string
	for i, f := range p.follow {
		if len(f.sel) == 0 {
			continue
		}
		rr := &reached[i]
		rr.spans = make([]span, len(f.parents))
		rr.from = len(refs)
		for j, parent := range f.parents {
			// A level may hold many entities: stop at the deadline.
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			lo := len(rr.all)
			var err error
			if rr.all, err = appendRelatedRefs(ctx, rr.all, parent.Ref, f.field, f.window.after); err != nil {
				return nil, err
			}
			rr.spans[j] = span{lo, len(rr.all)}
			refs = append(refs, rr.all[lo:min(lo+f.window.limit, len(rr.all))]...)
		}
		rr.to = len(refs)
	}
	if err := loader.PrimeEntities(ctx, refs); err != nil {
		return nil, err
	}
	var next []pageSelection
	for i, f := range p.follow {
		if len(f.sel) == 0 {
			continue
		}
		rr := reached[i]
		recs, err := loader.Entities(ctx, refs[rr.from:rr.to])
		if err != nil {
			return nil, err
		}
		var kept []*catalog.Record
		for _, s := range rr.spans {
			n := min(f.window.limit, s.hi-s.lo)
			got := 0
			for _, r := range recs[:n] {
				if f.field.keeps(r) {
					kept = append(kept, r)
					got++
				}
			}
			recs = recs[n:]
			// Entities missing from the window, or of other types: the
			// window reaches further.
			if got < f.window.limit && s.lo+n < s.hi {
				more, err := windowOf(ctx, rr.all[s.lo+n:s.hi], f.field, window{limit: f.window.limit - got})
				if err != nil {
					return nil, err
				}
				kept = append(kept, more...)
			}
		}
		if len(kept) > 0 {
			next = append(next, pageSelection{kept, f.sel})
		}
	}
	return next, nil
}

// selects says whether the query selects the field name on the value of
// the field being resolved.
func selects(ctx context.Context, name string) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == name {
			return true
		}
	}
	return false
}

// reserveDocuments reserves the bytes the documents of the level will take
// in the response (see gqltype.ReserveOutput): their stored data, and
// their relations, read by now.
func (p *plan) reserveDocuments(ctx context.Context) error {
	n := 0
	for _, r := range p.documents {
		rels, err := loader.Outgoing(ctx, r.Ref, "")
		if err != nil {
			return err
		}
		n += len(r.Data) + 64 // and the edge and field around it
		for _, rel := range rels {
			n += len(rel.Type) + len(rel.Target) + len(`{"type":"","targetRef":""},`)
		}
	}
	gqltype.ReserveOutput(ctx, n)
	return nil
}
