package catalog

// EntityFilter selects entities. Within one field, any listed value matches
// (OR); the fields that are set must all match (AND). Or matches when any of
// its filters matches, Not when its filter does not. Values compare
// case-insensitively, as Backstage compares them.
type EntityFilter struct {
	Kinds      []string
	Namespaces []string
	Names      []string
	Types      []string // spec.type
	Lifecycles []string // spec.lifecycle
	Owners     []string // canonical refs of owners (ownedBy targets)
	Systems    []string // canonical refs of systems (partOf targets)
	TagsAll    []string // every one of these tags
	TagsAny    []string // at least one of these tags
	Labels     []KeyFilter
	// Annotations match like Labels.
	Annotations []KeyFilter
	Relations   []RelationFilter
	// Fields match any field of the entity by its path, as Backstage's
	// filter parameter does; each of them must match.
	Fields    []FieldFilter
	Orphan    *bool
	HasErrors *bool
	Text      string // a term in the name, title, description or tags
	// Docs matches entities whose TechDocs are in any of these states.
	Docs []DocsState

	// Set by the API itself, never by clients.
	LocationIDs []string // emitted by these registered locations
	ParentRefs  []string // read from files these Location entities lead to
	Refs        []string // canonical refs
	// And matches when all its filters match: what the caller asked for,
	// and what the caller may see.
	And []EntityFilter

	Or  []EntityFilter
	Not *EntityFilter
}

// DocsState is where an entity's TechDocs stand, for docs coverage.
type DocsState string

// The states of an entity's docs.
const (
	DocsMissing DocsState = "missing" // no backstage.io/techdocs-ref annotation
	DocsPending DocsState = "pending" // annotated, no build ended yet
	DocsBuilt   DocsState = "built"   // the last build succeeded
	DocsFailed  DocsState = "failed"  // the last build failed
)

// KeyFilter matches a label or annotation: present, or equal to Value.
type KeyFilter struct {
	Key   string
	Value *string
}

// FieldFilter matches entities by a field at a dotted path, as Backstage's
// search rows flatten an entity (backstage-spec.md §2.5, §2.8): keys and
// values compare case-insensitively, a key may hold dots
// (metadata.annotations.backstage.io/orphan), arrays are crossed, a string
// x in the array at a.b also reads as a.b.x = true, and relations read as
// relations.<type> = <target ref>.
type FieldFilter struct {
	Key string
	// Values are alternatives; none means that the field exists.
	Values []string
	// Match is how Values compare with the field's values.
	Match Match
}

// Match is how a [FieldFilter]'s values compare with a field's, always
// case-insensitively.
type Match int

// The ways of matching.
const (
	MatchEqual    Match = iota // equal to a value (filter, predicate field expressions)
	MatchContains              // holding a value (Backstage's full-text filter)
	MatchPrefix                // starting with a value (the predicate's $hasPrefix)
)

// RelationFilter matches entities with a relation of Type to Target (a
// canonical ref).
type RelationFilter struct {
	Type   string
	Target string
}

// OrderField is what a list of entities is sorted by; the ref breaks ties.
type OrderField string

// The order fields.
const (
	OrderRef       OrderField = "REF"
	OrderName      OrderField = "NAME"
	OrderKind      OrderField = "KIND"
	OrderNamespace OrderField = "NAMESPACE"
	OrderTitle     OrderField = "TITLE"
	OrderType      OrderField = "TYPE"
	OrderLifecycle OrderField = "LIFECYCLE"
	// OrderUID sorts by metadata.uid, as Backstage's by-query does without
	// an order field.
	OrderUID OrderField = "UID"
)

// Position is a place in an ordered list: the sort key of an entity and its
// ref.
type Position struct {
	Key string `json:"k"`
	Ref string `json:"r"`
}

// EntityQuery selects a page of entities.
type EntityQuery struct {
	Filter EntityFilter
	Order  OrderField // "" means OrderRef
	Desc   bool
	After  *Position // only entities after this position
	Before *Position // only entities before this position
	Limit  int
	// OrderPath, when set, sorts by the lower-cased value of the field at
	// a Backstage path (see [FieldFilter]) instead of by Order, and leaves
	// out the entities without it, as Backstage does.
	OrderPath string
	// Offset skips that many entities first; only without After and
	// Before.
	Offset int
	// FromEnd takes the last Limit entities of the range instead of the
	// first, for backward pagination; they are still returned in order.
	FromEnd bool
}

// EntityPage is one page of entities with the sort key of each.
type EntityPage struct {
	Records []*Record
	Keys    []string
	HasMore bool // more entities lie beyond the page, in the direction read
}

// RelationRow is one stored relation, by canonical refs.
type RelationRow struct {
	Source string
	Type   string
	Target string
}

// Direction is the way a traversal follows relations.
type Direction string

// Traversal directions.
const (
	Outgoing Direction = "OUTGOING" // from source to target
	Incoming Direction = "INCOMING" // from target back to source
)

// TraversalQuery walks relations from one entity.
type TraversalQuery struct {
	Start     string   // canonical ref
	Types     []string // relation types to follow
	Direction Direction
	MaxDepth  int
	Kinds     []string // return only entities of these kinds; all when empty
	// Visible, when set, is what the caller may see: the walk goes only
	// through entities it selects.
	Visible *EntityFilter
	After   *TraversalPosition
	Limit   int
}

// TraversalPosition is a place in a traversal's result, which is ordered by
// depth then ref.
type TraversalPosition struct {
	Depth int    `json:"d"`
	Ref   string `json:"r"`
}

// TraversalHit is an entity reached by a traversal, at its shortest depth,
// with one shortest path of refs from the start (excluded) to it (included).
type TraversalHit struct {
	Ref   string
	Depth int
	Path  []string
}

// TraversalPage is one page of a traversal.
type TraversalPage struct {
	Hits    []TraversalHit
	Total   int
	HasMore bool
}

// FacetValue is one value of a facet and how many entities have it.
type FacetValue struct {
	Value string
	Count int
}
