package gqltype

import "github.com/greenroomhq/greenroom/internal/catalog"

// PageInfo is a Relay page info.
type PageInfo struct {
	HasNextPage     bool    `json:"hasNextPage"`
	HasPreviousPage bool    `json:"hasPreviousPage"`
	StartCursor     *string `json:"startCursor"`
	EndCursor       *string `json:"endCursor"`
}

// NewPageInfo returns the page info of a page whose edges have these
// cursors; only the first and the last matter.
func NewPageInfo(cursors []string, hasNext, hasPrevious bool) *PageInfo {
	p := &PageInfo{HasNextPage: hasNext, HasPreviousPage: hasPrevious}
	if n := len(cursors); n > 0 {
		p.StartCursor, p.EndCursor = &cursors[0], &cursors[n-1]
	}
	return p
}

// EntityConnection is a page of entities. It keeps the filter, so that
// totalCount is counted only when asked for.
type EntityConnection struct {
	Edges    []*EntityEdge
	PageInfo *PageInfo
	Filter   catalog.EntityFilter
}

// EntityEdge is an entity with its place in the list. The cursor is
// encoded only when a query asks for it: most pages are read without.
type EntityEdge struct {
	Node   Node
	pos    catalog.Position
	digest string
}

// NewEntityEdge returns the edge of node at pos in the list made by the
// query with this digest.
func NewEntityEdge(node Node, pos catalog.Position, digest string) *EntityEdge {
	return &EntityEdge{Node: node, pos: pos, digest: digest}
}

// Cursor returns the edge's opaque cursor.
func (e *EntityEdge) Cursor() string { return EncodeCursor(e.pos, e.digest) }

// Relation is one relation of an entity; its target is resolved on demand.
type Relation struct {
	Type      string
	TargetRef string
}

// RelationPosition is where a relation stands in an entity's relations,
// which are ordered by type then target.
type RelationPosition struct {
	Type   string `json:"t"`
	Target string `json:"r"`
}

// RelationEdge is a relation with its place in the list; the cursor is
// encoded only when asked for.
type RelationEdge struct {
	Node   *Relation
	digest string
}

// NewRelationEdge returns the edge of rel in the relations listed by the
// query with this digest.
func NewRelationEdge(rel *Relation, digest string) *RelationEdge {
	return &RelationEdge{Node: rel, digest: digest}
}

// Cursor returns the edge's opaque cursor.
func (e *RelationEdge) Cursor() string {
	return EncodeCursor(RelationPosition{e.Node.Type, e.Node.TargetRef}, e.digest)
}
