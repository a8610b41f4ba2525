package catalog

// EntityQuery selects a page of entities, ordered by ref.
type EntityQuery struct {
	Kinds []string // any of these kinds, compared case-insensitively; empty means every kind
	After string   // only refs after this one (a canonical ref); "" starts at the beginning
	Limit int      // at most this many; the store caps it
}

// EntityPage is one page of entities.
type EntityPage struct {
	Entities []*Entity
	HasNext  bool
}
