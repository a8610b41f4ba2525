package gqltype

import (
	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/search"
)

// SearchConnection is a page of search hits. It keeps the search, so that
// totalCount and facets are read only when asked for.
type SearchConnection struct {
	Search *app.PreparedSearch
	Hits   []*SearchHit
	More   bool
	// Digest names the search, for its cursors (see [QueryDigest]).
	Digest string
}

// SearchHit is a hit of a search: its snippet is cut for the search's
// words.
type SearchHit struct {
	search.Hit
	Plan *search.Plan
}
