package gqltype

import "github.com/greenroomhq/greenroom/internal/catalog"

// PageInfo is a Relay page info.
type PageInfo struct {
	HasNextPage     bool    `json:"hasNextPage"`
	HasPreviousPage bool    `json:"hasPreviousPage"`
	StartCursor     *string `json:"startCursor"`
	EndCursor       *string `json:"endCursor"`
}

// NewPageInfo returns the page info of a page whose edges have these cursors.
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

// EntityEdge is an entity with its cursor.
type EntityEdge struct {
	Cursor string
	Node   Node
}

// Relation is one relation of an entity; its target is resolved on demand.
type Relation struct {
	Type      string
	TargetRef string
}
