package resolvers

import (
	"context"
	"strings"

	"github.com/greenroomhq/greenroom/graph/model"
	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/search"
)

// Searcher searches entities, templates and docs for the caller (see
// internal/app): the read policy is applied by the service.
type Searcher interface {
	Prepare(ctx context.Context, q app.SearchQuery) (*app.PreparedSearch, error)
	Hits(ctx context.Context, p *app.PreparedSearch) ([]search.Hit, int, error)
	Facets(ctx context.Context, p *app.PreparedSearch) (search.Facets, error)
}

var errNoSearch = portal.Errorf(portal.EUNAVAILABLE, "this server has no search")

const defaultSearchPage = 20

// searchFilter converts a search filter into a filter of the hits'
// entities and the kinds of hit.
func searchFilter(f *model.SearchFilter) (catalog.EntityFilter, []search.HitKind, error) {
	if f == nil {
		return catalog.EntityFilter{}, nil, nil
	}
	var tags *model.TagFilter
	if len(f.Tags) > 0 {
		tags = &model.TagFilter{Any: f.Tags}
	}
	ef, err := toFilter(&model.EntityFilter{Kind: f.Kinds, Type: f.Types, Owner: f.Owners, Lifecycle: f.Lifecycles, Tags: tags})
	if err != nil {
		return ef, nil, err
	}
	kinds := make([]search.HitKind, len(f.Hits))
	for i, k := range f.Hits {
		kinds[i] = search.HitKind(strings.ToLower(string(k)))
	}
	return ef, kinds, nil
}

func searchHitKind(k search.HitKind) model.SearchHitKind {
	return model.SearchHitKind(strings.ToUpper(string(k)))
}

func searchMatch(m search.Mode) model.SearchMatch {
	return model.SearchMatch(strings.ToUpper(string(m)))
}
