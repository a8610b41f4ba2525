package gqltype

import (
	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/search"
)

// SearchConnection is a page of search hits, and how many there are. It
// keeps the search, so that facets are read only when asked for.
type SearchConnection struct {
	Search *app.PreparedSearch
	Hits   []*SearchHit
	Total  int
	// Digest names the search, for its cursors (see [QueryDigest]).
	Digest string
}

// SearchHit is a hit of a search: its snippet is cut for the search's
// words.
type SearchHit struct {
	search.Hit
	Plan *search.Plan
}
