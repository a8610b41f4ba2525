package store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Facet names, as Backstage's search rows spell them; the short forms in
// facetAliases are accepted too.
var facetColumns = map[string]string{
	"kind":               "e.kind",
	"metadata.namespace": "e.namespace",
	"spec.type":          "e.spec_type",
	"spec.lifecycle":     "e.lifecycle",
}

var facetAliases = map[string]string{
	"namespace": "metadata.namespace",
	"type":      "spec.type",
	"lifecycle": "spec.lifecycle",
	"owner":     "relations.ownedBy",
	"tags":      "metadata.tags",
}

// FacetNames lists the facets [DB.Facet] counts, for error messages.
const FacetNames = "kind, namespace, spec.type, spec.lifecycle, owner, metadata.tags, metadata.labels.<key>, metadata.annotations.<key>"

// Facet counts the entities f selects by the values of one facet, ordered
// by value. Values keep the case they were written in, as in Backstage.
// Returns EINVALID for a facet it does not know.
func (db *DB) Facet(ctx context.Context, facet string, f catalog.EntityFilter) ([]catalog.FacetValue, error) {
	name := facet
	if a, ok := facetAliases[strings.ToLower(name)]; ok {
		name = a
	}
	cond, args := db.filterSQL(&f)
	var query string
	switch {
	case facetColumns[strings.ToLower(name)] != "":
		col := facetColumns[strings.ToLower(name)]
		query = fmt.Sprintf(`SELECT %[1]s AS value, COUNT(*) AS count FROM entities e
			WHERE %[2]s AND %[1]s IS NOT NULL GROUP BY %[1]s`, col, cond)
	case strings.EqualFold(name, "relations.ownedBy"):
		query = `SELECT r.target_ref AS value, COUNT(DISTINCT e.id) AS count
			FROM entities e JOIN relations r ON r.source_ref = e.ref AND r.type = 'ownedBy'
			WHERE ` + cond + ` GROUP BY r.target_ref`
	case strings.EqualFold(name, "metadata.tags"):
		return db.tagFacet(ctx, cond, args)
	case keyFacet(name) != nil:
		kf := keyFacet(name)
		query = `SELECT j.value AS value, COUNT(*) AS count FROM entities e, ` + db.d.objectEntries(kf.column) + `
			WHERE ` + cond + ` AND lower(j.key) = ? GROUP BY j.value`
		args = append(args, strings.ToLower(kf.key))
	default:
		return nil, portal.Errorf(portal.EINVALID, "unknown facet %q; facets are %s", facet, FacetNames)
	}
	var rows []struct {
		Value string `db:"value"`
		Count int    `db:"count"`
	}
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(query+` ORDER BY value`), args...); err != nil {
		return nil, fmt.Errorf("store: facet %s: %w", facet, formatError(err))
	}
	out := make([]catalog.FacetValue, len(rows))
	for i, r := range rows {
		out[i] = catalog.FacetValue(r)
	}
	return out, nil
}

// PathFacet counts the entities f selects by the values of the field at a
// Backstage path, as Backstage's entity-facets does: each value an entity
// has counts once (the elements of an array, each), values keep their
// case, and they are ordered by value. relations.<type> counts the targets
// of relations of that type.
func (db *DB) PathFacet(ctx context.Context, path string, f catalog.EntityFilter) ([]catalog.FacetValue, error) {
	key := strings.ToLower(path)
	cond, args := db.filterSQL(&f)
	var query string
	switch {
	case key == "kind", key == "metadata.name", key == "metadata.namespace", key == "metadata.uid":
		col := map[string]string{"kind": "e.kind", "metadata.name": "e.name", "metadata.namespace": "e.namespace", "metadata.uid": "e.id"}[key]
		query = fmt.Sprintf(`SELECT %[1]s AS value, COUNT(*) AS count FROM entities e WHERE %[2]s GROUP BY %[1]s`, col, cond)
	case strings.HasPrefix(key, "relations."):
		query = `SELECT r.target_ref AS value, COUNT(*) AS count
			FROM entities e JOIN relations r ON r.source_ref = e.ref AND lower(r.type) = ?
			WHERE ` + cond + ` GROUP BY r.target_ref`
		args = append([]any{strings.TrimPrefix(key, "relations.")}, args...)
	default:
		query = `SELECT p.v AS value, COUNT(*) AS count FROM (` + db.d.pathValues("e.id", "e.data", "FROM entities e WHERE "+cond) + `) p
			WHERE p.v IS NOT NULL GROUP BY p.v`
		args = append([]any{key}, args...)
	}
	var rows []struct {
		Value string `db:"value"`
		Count int    `db:"count"`
	}
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(query+` ORDER BY value`), args...); err != nil {
		return nil, fmt.Errorf("store: facet %s: %w", path, formatError(err))
	}
	out := make([]catalog.FacetValue, len(rows))
	for i, r := range rows {
		out[i] = catalog.FacetValue(r)
	}
	return out, nil
}

// tagFacet counts tags in Go: they are stored as one bar-separated column.
func (db *DB) tagFacet(ctx context.Context, cond string, args []any) ([]catalog.FacetValue, error) {
	var rows []string
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`SELECT e.tags FROM entities e WHERE `+cond+` AND e.tags <> ''`), args...); err != nil {
		return nil, fmt.Errorf("store: tag facet: %w", formatError(err))
	}
	counts := map[string]int{}
	for _, tags := range rows {
		for _, t := range strings.Split(strings.Trim(tags, "|"), "|") {
			counts[t]++
		}
	}
	out := make([]catalog.FacetValue, 0, len(counts))
	for v, n := range counts {
		out = append(out, catalog.FacetValue{Value: v, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out, nil
}

type keyFacetName struct{ column, key string }

// keyFacet reads "metadata.labels.<key>" or "metadata.annotations.<key>"
// (or without "metadata."), and returns nil for any other facet.
func keyFacet(name string) *keyFacetName {
	for _, p := range []keyFacetName{
		{"e.labels", "metadata.labels."}, {"e.labels", "labels."},
		{"e.annotations", "metadata.annotations."}, {"e.annotations", "annotations."},
	} {
		if len(name) > len(p.key) && strings.EqualFold(name[:len(p.key)], p.key) {
			return &keyFacetName{column: p.column, key: name[len(p.key):]}
		}
	}
	return nil
}
