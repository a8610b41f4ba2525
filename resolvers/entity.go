package resolvers

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/greenroomhq/greenroom/graph/model"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/gqltype"
	"github.com/greenroomhq/greenroom/internal/loader"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Page sizes of connections.
const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

func pageSize(first *int) (int, error) {
	if first == nil {
		return defaultPageSize, nil
	}
	if *first < 0 || *first > maxPageSize {
		return 0, portal.Errorf(portal.EINVALID, "first must be between 0 and %d, got %d", maxPageSize, *first)
	}
	return *first, nil
}

// parseRef parses a reference given as an argument: the kind is required
// unless defaultKind is set, and the namespace defaults to "default".
// Returns EINVALID when it is malformed.
func parseRef(s, defaultKind string) (string, error) {
	r, err := catalog.ParseRef(strings.TrimSpace(s), catalog.RefDefaults{Kind: defaultKind})
	if err != nil {
		return "", portal.Errorf(portal.EINVALID, "%v", err)
	}
	return r.String(), nil
}

// relationType returns the spelling of a relation type given in any case.
// Returns EINVALID for a type Backstage does not define.
func relationType(t string) (string, error) {
	c, ok := catalog.CanonicalRelationType(t)
	if !ok {
		return "", portal.Errorf(portal.EINVALID, "unknown relation type %q", t)
	}
	return c, nil
}

// wrapAll wraps records, keeping nil for a missing one.
func wrapAll(recs []*catalog.Record) []gqltype.Node {
	out := make([]gqltype.Node, len(recs))
	for i, r := range recs {
		if r != nil {
			out[i] = gqltype.Wrap(r)
		}
	}
	return out
}

// ofType keeps the entities of one GraphQL type, dropping the missing ones.
func ofType[T gqltype.Node](recs []*catalog.Record) []T {
	out := make([]T, 0, len(recs))
	for _, r := range recs {
		if r == nil {
			continue
		}
		if t, ok := gqltype.Wrap(r).(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// defaultListSize is how many entities a list of related entities
// (dependsOn, members, …) returns when the query does not say: the
// schema's default of its first argument.
const defaultListSize = 100

// window is the part of a list of related entities a query asks for: at
// most limit entities whose refs sort after after. Related lists are
// ordered by ref, byte by byte, as the loader hands out relations.
type window struct {
	after string
	limit int
}

// one is the window of a field that names one entity, such as system.
var one = window{limit: 1}

// listWindow returns the window of a list's first and after arguments.
// Returns EINVALID when first is out of range or after is no ref.
func listWindow(first *int, after *string) (window, error) {
	w := window{limit: defaultListSize}
	if first != nil {
		if *first < 0 || *first > maxPageSize {
			return window{}, portal.Errorf(portal.EINVALID, "first must be between 0 and %d, got %d", maxPageSize, *first)
		}
		w.limit = *first
	}
	if after != nil {
		ref, err := parseRef(*after, "")
		if err != nil {
			return window{}, err
		}
		w.after = ref
	}
	return w, nil
}

// related returns the entities of GraphQL type T that the relation field f
// of obj lists, within the window of first and after. greenroom-gqlgen
// writes the resolvers that call it, from the field's @relation.
func related[T gqltype.Node](ctx context.Context, obj gqltype.Node, f relatedField, first *int, after *string) ([]T, error) {
	w, err := listWindow(first, after)
	if err != nil {
		return nil, err
	}
	recs, err := relatedRecords(ctx, obj.Record().Ref, f, w)
	if err != nil {
		return nil, err
	}
	return ofType[T](recs), nil
}

// relatedOne returns the first entity the relation field f of obj names,
// or nil: the entity a spec field such as system names, or the owner.
func relatedOne[T gqltype.Node](ctx context.Context, obj gqltype.Node, f relatedField) (T, error) {
	return first[T](relatedRecords(ctx, obj.Record().Ref, f, one))
}

// first returns the first of recs as a T, or nil.
func first[T gqltype.Node](recs []*catalog.Record, err error) (T, error) {
	var zero T
	if err != nil || len(recs) == 0 {
		return zero, err
	}
	t, _ := gqltype.Wrap(recs[0]).(T)
	return t, nil
}

// relatedRecords returns the entities the relations of f from (or, when
// incoming, to) ref lead to, of f's types, within w. Relations to entities
// that do not exist are skipped; entities are read a window at a time, so
// that an entity with thousands of relations costs no more than the
// window it is asked for.
func relatedRecords(ctx context.Context, ref string, f relatedField, w window) ([]*catalog.Record, error) {
	refs, err := relatedRefs(ctx, ref, f, w.after)
	if err != nil {
		return nil, err
	}
	return windowOf(ctx, refs, f, w)
}

// windowOf reads the entities of refs that exist, of f's types, up to
// w.limit of them.
func windowOf(ctx context.Context, refs []string, f relatedField, w window) ([]*catalog.Record, error) {
	var out []*catalog.Record
	for len(refs) > 0 && len(out) < w.limit {
		n := min(w.limit-len(out), len(refs))
		recs, err := loader.Entities(ctx, refs[:n])
		if err != nil {
			return nil, err
		}
		refs = refs[n:]
		kept := recs[:0] // loader.Entities hands out a slice of its own
		for _, r := range recs {
			if f.keeps(r) {
				kept = append(kept, r)
			}
		}
		if out == nil {
			out = kept
		} else {
			out = append(out, kept...)
		}
	}
	return out, nil
}

// keeps reports whether the field lists r: an entity that exists, of one
// of its types.
func (f relatedField) keeps(r *catalog.Record) bool {
	return r != nil && (len(f.types) == 0 || slices.Contains(f.types, gqltype.TypeName(r)))
}

// relatedRefs returns the refs at the other end of ref's relations of f,
// in order, from the first that sorts after after.
func relatedRefs(ctx context.Context, ref string, f relatedField, after string) ([]string, error) {
	return appendRelatedRefs(ctx, nil, ref, f, after)
}

// appendRelatedRefs is [relatedRefs] appending to dst.
func appendRelatedRefs(ctx context.Context, dst []string, ref string, f relatedField, after string) ([]string, error) {
	var rows []catalog.RelationRow
	var err error
	if f.incoming {
		rows, err = loader.Incoming(ctx, ref, f.relation)
	} else {
		rows, err = loader.Outgoing(ctx, ref, f.relation)
	}
	if err != nil {
		return nil, err
	}
	if dst == nil {
		dst = make([]string, 0, len(rows))
	}
	for _, r := range rows {
		other := r.Target
		if f.incoming {
			other = r.Source
		}
		if other > after {
			dst = append(dst, other)
		}
	}
	return dst, nil
}

// The fields every entity type has from the CatalogEntity interface, relation
// fields aside: greenroom-gqlgen writes each type's resolver of the field
// as a call to the function named entity<Field>.

// entityErrors answers CatalogEntity.errors.
func entityErrors(ctx context.Context, _ *Resolver, obj gqltype.Node) ([]*catalog.ProcessingError, error) {
	errs, err := loader.Errors(ctx, obj.Record().Ref)
	if err != nil {
		return nil, err
	}
	return pointers(errs), nil
}

// entityDocument answers CatalogEntity.document: the stored bytes with the
// entity's outgoing relations appended, which a page reads in one
// statement (see prefetch).
func entityDocument(ctx context.Context, _ *Resolver, obj gqltype.Node) (any, error) {
	rec := obj.Record()
	rows, err := loader.Outgoing(ctx, rec.Ref, "")
	if err != nil {
		return nil, err
	}
	head, tail, err := catalog.DocumentParts(rec.Ref, rec.Data, rows)
	if err != nil {
		return nil, err
	}
	return gqltype.NewDocument(ctx, head, tail), nil
}

// pageDocuments answers EntityConnection.documents: the document of each
// entity of the page, their relations read in one statement, and the
// response's buffer reserved for all of them at once.
func pageDocuments(ctx context.Context, conn *gqltype.EntityConnection) ([]any, error) {
	keys := make([]loader.RelationKey, len(conn.Edges))
	for i, e := range conn.Edges {
		keys[i] = loader.RelationKey{Ref: e.Node.Record().Ref}
	}
	if err := loader.PrimeOutgoing(ctx, keys); err != nil {
		return nil, err
	}
	out := make([]any, len(conn.Edges))
	size := 0
	for i, e := range conn.Edges {
		rec := e.Node.Record()
		rows, err := loader.Outgoing(ctx, rec.Ref, "")
		if err != nil {
			return nil, err
		}
		head, tail, err := catalog.DocumentParts(rec.Ref, rec.Data, rows)
		if err != nil {
			return nil, err
		}
		doc := gqltype.NewDocument(ctx, head, tail)
		out[i], size = doc, size+doc.Size()+1
	}
	gqltype.ReserveOutput(ctx, size)
	return out, nil
}

// entitySourceLocation answers CatalogEntity.sourceLocation.
func entitySourceLocation(ctx context.Context, _ *Resolver, obj gqltype.Node) (*catalog.Location, error) {
	return loader.Location(ctx, obj.Record().LocationID)
}

// entityRelations answers CatalogEntity.relations.
func entityRelations(ctx context.Context, _ *Resolver, obj gqltype.Node, typeArg *string, first *int, after *string) (*model.RelationConnection, error) {
	limit, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	typ := ""
	if typeArg != nil {
		if typ, err = relationType(*typeArg); err != nil {
			return nil, err
		}
	}
	digest := gqltype.QueryDigest("relations", obj.Record().Ref, typ)
	rows, err := loader.Outgoing(ctx, obj.Record().Ref, typ)
	if err != nil {
		return nil, err
	}
	// The cursor compares as Go compares strings, byte by byte; the
	// database orders by its collation, which is not bytewise under most
	// locales (en-US puts "x_1" before "x1"), so relations would be skipped
	// or listed twice. Sort a copy: the loader shares the rows.
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b catalog.RelationRow) int {
		return cmp.Or(strings.Compare(a.Type, b.Type), strings.Compare(a.Target, b.Target))
	})
	start := 0
	if after != nil {
		pos, err := gqltype.DecodeCursor[gqltype.RelationPosition](*after, digest)
		if err != nil {
			return nil, err
		}
		for start < len(rows) && (rows[start].Type < pos.Type || (rows[start].Type == pos.Type && rows[start].Target <= pos.Target)) {
			start++
		}
	}
	end := min(start+limit, len(rows))
	conn := &model.RelationConnection{TotalCount: len(rows), Edges: make([]*gqltype.RelationEdge, 0, end-start)}
	for _, r := range rows[start:end] {
		conn.Edges = append(conn.Edges, gqltype.NewRelationEdge(&gqltype.Relation{Type: r.Type, TargetRef: r.Target}, digest))
	}
	var cursors []string
	if n := len(conn.Edges); n > 0 {
		cursors = []string{conn.Edges[0].Cursor(), conn.Edges[n-1].Cursor()}
	}
	conn.PageInfo = gqltype.NewPageInfo(cursors, end < len(rows), start > 0)
	return conn, nil
}

// entityTraverse answers CatalogEntity.traverse.
func entityTraverse(ctx context.Context, r *Resolver, obj gqltype.Node, relationTypes []string, direction *model.Direction,
	maxDepth *int, kinds []string, first *int, after *string,
) (*model.TraversalConnection, error) {
	limit, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	if len(relationTypes) == 0 {
		return nil, portal.Errorf(portal.EINVALID, "relations must name at least one relation type")
	}
	q := catalog.TraversalQuery{Start: obj.Record().Ref, Direction: catalog.Outgoing, MaxDepth: 5, Kinds: kinds, Limit: limit}
	for _, t := range relationTypes {
		c, err := relationType(t)
		if err != nil {
			return nil, err
		}
		q.Types = append(q.Types, c)
	}
	if direction != nil && *direction == model.DirectionIncoming {
		q.Direction = catalog.Incoming
	}
	if maxDepth != nil {
		if *maxDepth < 1 || *maxDepth > maxTraversalDepth {
			return nil, portal.Errorf(portal.EINVALID, "maxDepth must be between 1 and %d, got %d", maxTraversalDepth, *maxDepth)
		}
		q.MaxDepth = *maxDepth
	}
	digest := gqltype.QueryDigest("traverse", q.Start, q.Types, q.Direction, q.MaxDepth, lowerAll(q.Kinds))
	if after != nil {
		pos, err := gqltype.DecodeCursor[catalog.TraversalPosition](*after, digest)
		if err != nil {
			return nil, err
		}
		q.After = &pos
	}
	page, err := r.Catalog.Traverse(ctx, q)
	if err != nil {
		return nil, err
	}
	refs := make([]string, len(page.Hits))
	for i, h := range page.Hits {
		refs[i] = h.Ref
	}
	recs, err := loader.Entities(ctx, refs)
	if err != nil {
		return nil, err
	}
	if err := prefetchPage(ctx, existing(recs), "edges", "node"); err != nil {
		return nil, err
	}
	conn := &model.TraversalConnection{TotalCount: page.Total, Edges: make([]*model.TraversalEdge, 0, len(recs))}
	cursors := make([]string, 0, len(recs))
	for i, rec := range recs {
		if rec == nil {
			continue // removed since the walk
		}
		h := page.Hits[i]
		c := gqltype.EncodeCursor(catalog.TraversalPosition{Depth: h.Depth, Ref: h.Ref}, digest)
		cursors = append(cursors, c)
		conn.Edges = append(conn.Edges, &model.TraversalEdge{Cursor: c, Node: gqltype.Wrap(rec), Depth: h.Depth, Path: h.Path})
	}
	conn.PageInfo = gqltype.NewPageInfo(cursors, page.HasMore, after != nil)
	return conn, nil
}

// maxTraversalDepth caps traverse's maxDepth.
const maxTraversalDepth = 10

func lowerAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.ToLower(v)
	}
	return out
}

// entityConnection runs an entity query and builds its page; digest names
// the query for cursors.
func entityConnection(ctx context.Context, cat Catalog, q catalog.EntityQuery, digest string, forward bool, cursorGiven bool) (*gqltype.EntityConnection, error) {
	page, err := cat.FindEntities(ctx, q)
	if err != nil {
		return nil, err
	}
	if err := prefetchPage(ctx, page.Records, "edges", "node"); err != nil {
		return nil, err
	}
	conn := &gqltype.EntityConnection{Filter: q.Filter, Edges: make([]*gqltype.EntityEdge, len(page.Records))}
	for i, rec := range page.Records {
		conn.Edges[i] = gqltype.NewEntityEdge(gqltype.Wrap(rec), catalog.Position{Key: page.Keys[i], Ref: rec.Ref}, digest)
	}
	var cursors []string
	if n := len(conn.Edges); n > 0 {
		cursors = []string{conn.Edges[0].Cursor(), conn.Edges[n-1].Cursor()}
	}
	if forward {
		conn.PageInfo = gqltype.NewPageInfo(cursors, page.HasMore, cursorGiven)
	} else {
		conn.PageInfo = gqltype.NewPageInfo(cursors, cursorGiven, page.HasMore)
	}
	return conn, nil
}

// simpleEntities lists the entities of a fixed filter (a location's, for
// instance), forward only, ordered by ref.
func simpleEntities(ctx context.Context, cat Catalog, name string, f catalog.EntityFilter, first *int, after *string) (*gqltype.EntityConnection, error) {
	limit, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	digest := gqltype.QueryDigest(name, f)
	q := catalog.EntityQuery{Filter: f, Limit: limit}
	if after != nil {
		pos, err := gqltype.DecodeCursor[catalog.Position](*after, digest)
		if err != nil {
			return nil, err
		}
		q.After = &pos
	}
	return entityConnection(ctx, cat, q, digest, true, after != nil)
}

// ingested converts what ingestion read into the API's shape; stored
// entities are looked up when withEntities is set.
func ingested(ctx context.Context, res catalog.ReadResult, withEntities bool) ([]*model.IngestedEntity, []*catalog.ProcessingError, error) {
	out := make([]*model.IngestedEntity, len(res.Emitted))
	refs := make([]string, len(res.Emitted))
	for i, em := range res.Emitted {
		e := em.Entity
		ie := &model.IngestedEntity{
			Ref: e.Ref().String(), Kind: e.Kind, Namespace: e.Metadata.Namespace, Name: e.Metadata.Name,
			Raw: e.Doc(), Relations: make([]*gqltype.Relation, len(em.Relations)),
			Errors: make([]*catalog.ProcessingError, len(em.Errors)),
		}
		for j, rel := range em.Relations {
			ie.Relations[j] = &gqltype.Relation{Type: rel.Type, TargetRef: rel.Target.String()}
		}
		for j := range em.Errors {
			ie.Errors[j] = &em.Errors[j]
		}
		out[i], refs[i] = ie, ie.Ref
	}
	if withEntities {
		recs, err := loader.Entities(ctx, refs)
		if err != nil {
			return nil, nil, err
		}
		for i, rec := range recs {
			if rec != nil && !rec.Orphan {
				out[i].Entity = gqltype.Wrap(rec)
			}
		}
	}
	return out, pointers(res.Errors), nil
}

// federatedEntities resolves federation representations {__typename, ref}
// in one batch, keeping their order; an unknown ref, or one of another
// kind than its __typename names, resolves to null. The __typename
// CatalogEntity (an entity interface: a plugin's @interfaceObject) takes
// any kind.
// entityInterface is the interface every kind implements, keyed by ref.
const entityInterface = "CatalogEntity"

func federatedEntities(ctx context.Context, reps []map[string]any) ([]gqltype.FederatedEntity, error) {
	refs := make([]string, len(reps))
	for i, rep := range reps {
		ref, _ := rep["ref"].(string)
		parsed, err := parseRef(ref, "")
		if err != nil {
			return nil, fmt.Errorf("representation %d: %w", i, err)
		}
		refs[i] = parsed
	}
	recs, err := loader.Entities(ctx, refs)
	if err != nil {
		return nil, err
	}
	out := make([]gqltype.FederatedEntity, len(reps))
	for i, rec := range recs {
		typename, _ := reps[i]["__typename"].(string)
		if rec != nil && (typename == entityInterface || gqltype.TypeName(rec) == typename) {
			out[i] = gqltype.Wrap(rec)
		}
	}
	if err := prefetchPage(ctx, existing(recs)); err != nil {
		return nil, err
	}
	return out, nil
}

// existing drops the nil records of entities that do not exist.
func existing(recs []*catalog.Record) []*catalog.Record {
	out := make([]*catalog.Record, 0, len(recs))
	for _, r := range recs {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

// storedRelations returns the stored relations of an entity.
func storedRelations(ctx context.Context, ref string) ([]*gqltype.Relation, error) {
	rows, err := loader.Outgoing(ctx, ref, "")
	if err != nil {
		return nil, err
	}
	out := make([]*gqltype.Relation, len(rows))
	for i, r := range rows {
		out[i] = &gqltype.Relation{Type: r.Type, TargetRef: r.Target}
	}
	return out, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// pointers returns pointers to the elements of s, as gqlgen's list fields want.
func pointers[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}
