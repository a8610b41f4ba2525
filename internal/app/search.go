package app

import (
	"context"

	"github.com/greenroomhq/greenroom/internal/access"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/search"
)

// SearchStore runs searches: internal/store.
type SearchStore interface {
	PlanSearch(ctx context.Context, words []string) (search.Plan, error)
	Search(ctx context.Context, r search.Request) ([]search.Hit, int, error)
	SearchFacets(ctx context.Context, r search.Request) (search.Facets, error)
}

// Search searches entities, templates and docs for the caller: the read
// policy narrows the search in SQL, so pages, counts and facets hold
// exactly what the caller may read (a docs hit is read as its entity).
type Search struct {
	guard *access.Guard
	store SearchStore
}

// SearchQuery is a search as a caller asks for it.
type SearchQuery struct {
	Text   string
	Kinds  []search.HitKind
	Filter catalog.EntityFilter // over the hit's entity
	Limit  int
	Offset int
}

// PreparedSearch is a search planned and narrowed for its caller, whose
// hits, count and facets are read on demand.
type PreparedSearch struct {
	req  search.Request
	none bool // the caller may read nothing
}

// Plan is how the search matches (see package search).
func (p *PreparedSearch) Plan() search.Plan { return p.req.Plan }

// Offset is where the page begins.
func (p *PreparedSearch) Offset() int { return p.req.Offset }

// Prepare checks and plans a search. Returns EINVALID for a query longer
// than search.MaxQueryLength characters, a page larger than
// search.MaxPageSize or an offset past search.MaxOffset.
func (s *Search) Prepare(ctx context.Context, q SearchQuery) (*PreparedSearch, error) {
	words, ok := search.ParseQuery(q.Text)
	switch {
	case !ok:
		return nil, portal.Errorf(portal.EINVALID, "the search query is longer than %d characters", search.MaxQueryLength)
	case q.Limit < 0 || q.Limit > search.MaxPageSize:
		return nil, portal.Errorf(portal.EINVALID, "a page of search results has 0 to %d hits", search.MaxPageSize)
	case q.Offset < 0 || q.Offset > search.MaxOffset:
		return nil, portal.Errorf(portal.EINVALID, "search results can be paged through to the %dth hit, not further", search.MaxOffset)
	}
	f, any, _ := s.guard.ReadFilter(ctx, q.Filter)
	if !any {
		return &PreparedSearch{none: true}, nil
	}
	plan, err := s.store.PlanSearch(ctx, words)
	if err != nil {
		return nil, err
	}
	return &PreparedSearch{req: search.Request{Plan: plan, Filter: f, Kinds: q.Kinds, Limit: q.Limit, Offset: q.Offset}}, nil
}

// Hits returns the page of hits, and how many there are in all.
func (s *Search) Hits(ctx context.Context, p *PreparedSearch) ([]search.Hit, int, error) {
	if p.none {
		return nil, 0, nil
	}
	return s.store.Search(ctx, p.req)
}

// Facets counts all the hits by kind and by their entities' fields.
func (s *Search) Facets(ctx context.Context, p *PreparedSearch) (search.Facets, error) {
	if p.none {
		return search.Facets{}, nil
	}
	return s.store.SearchFacets(ctx, p.req)
}
