package store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// MaxTraversalDepth caps [catalog.TraversalQuery.MaxDepth].
const MaxTraversalDepth = 10

// Traverse walks relations of the given types from q.Start with one
// recursive query, and returns the entities reached, each once at its
// shortest depth with one shortest path, ordered by depth then ref.
//
// The recursion keeps (entity, depth, parent) rows: a cycle adds at most
// one row per depth, so it ends at MaxDepth, and the rows never outnumber
// the relations walked times the depth.
func (db *DB) Traverse(ctx context.Context, q catalog.TraversalQuery) (catalog.TraversalPage, error) {
	from, next := "source_ref", "target_ref"
	if q.Direction == catalog.Incoming {
		from, next = "target_ref", "source_ref"
	}
	depth := min(max(q.MaxDepth, 1), MaxTraversalDepth)
	types, typesArg := db.inList("r.type", q.Types)
	visible, visibleArgs := "", []any(nil)
	if q.Visible != nil {
		cond, args := db.filterSQL(q.Visible)
		visible = fmt.Sprintf(" AND EXISTS (SELECT 1 FROM entities e WHERE e.ref = r.%s AND %s)", next, cond)
		visibleArgs = args
	}
	query := fmt.Sprintf(`
		WITH RECURSIVE walk (ref, depth, parent) AS (
			SELECT CAST(? AS TEXT), 0, CAST(NULL AS TEXT)
			UNION
			SELECT r.%[2]s, w.depth + 1, w.ref
			FROM walk w JOIN relations r ON r.%[1]s = w.ref
			WHERE w.depth < ? AND %[3]s AND r.%[2]s <> ?%[4]s
		)
		SELECT w.ref, w.depth, w.parent FROM walk w
		WHERE w.depth > 0 AND EXISTS (SELECT 1 FROM entities e WHERE e.ref = w.ref)`, from, next, types, visible)
	args := append([]any{strings.ToLower(q.Start), depth, typesArg, strings.ToLower(q.Start)}, visibleArgs...)
	var rows []struct {
		Ref    string `db:"ref"`
		Depth  int    `db:"depth"`
		Parent string `db:"parent"`
	}
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(query), args...); err != nil {
		return catalog.TraversalPage{}, fmt.Errorf("store: traverse: %w", formatError(err))
	}

	// Keep each entity at its shortest depth, with the smallest parent ref
	// among those at the depth before, so that paths are deterministic.
	type reach struct {
		depth  int
		parent string
	}
	best := map[string]reach{}
	for _, r := range rows {
		b, seen := best[r.Ref]
		if !seen || r.Depth < b.depth || (r.Depth == b.depth && r.Parent < b.parent) {
			best[r.Ref] = reach{r.Depth, r.Parent}
		}
	}
	start := strings.ToLower(q.Start)
	var path func(ref string) []string
	path = func(ref string) []string {
		b := best[ref]
		if b.parent == start || b.depth <= 1 {
			return []string{ref}
		}
		return append(path(b.parent), ref)
	}
	kinds := map[string]bool{}
	for _, k := range q.Kinds {
		kinds[strings.ToLower(k)] = true
	}
	var hits []catalog.TraversalHit
	for ref, b := range best {
		kind, _, _ := strings.Cut(ref, ":")
		if len(kinds) > 0 && !kinds[kind] {
			continue
		}
		hits = append(hits, catalog.TraversalHit{Ref: ref, Depth: b.depth})
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Depth != hits[j].Depth {
			return hits[i].Depth < hits[j].Depth
		}
		return hits[i].Ref < hits[j].Ref
	})
	page := catalog.TraversalPage{Total: len(hits)}
	if q.After != nil {
		i := sort.Search(len(hits), func(i int) bool {
			h := hits[i]
			return h.Depth > q.After.Depth || (h.Depth == q.After.Depth && h.Ref > q.After.Ref)
		})
		hits = hits[i:]
	}
	if q.Limit >= 0 && len(hits) > q.Limit {
		hits, page.HasMore = hits[:q.Limit], true
	}
	for i := range hits {
		hits[i].Path = path(hits[i].Ref)
	}
	page.Hits = hits
	return page, nil
}
