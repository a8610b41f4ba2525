package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// Relations returns the distinct relations whose source is ref, ordered by
// type then target, as Backstage stitches them.
func (db *DB) Relations(ctx context.Context, ref string) ([]catalog.Relation, error) {
	rows, err := db.RelationsBySources(ctx, []string{ref}, nil)
	if err != nil {
		return nil, err
	}
	out := make([]catalog.Relation, 0, len(rows))
	for _, r := range rows {
		src, err1 := catalog.ParseRef(r.Source, catalog.RefDefaults{})
		t, err2 := catalog.ParseRef(r.Target, catalog.RefDefaults{})
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("store: stored relation %s %s %s is malformed", r.Source, r.Type, r.Target)
		}
		out = append(out, catalog.Relation{Source: src, Type: r.Type, Target: t})
	}
	return out, nil
}

// RelationsBySources returns the distinct relations whose source is one of
// refs and whose type is one of types (any type when types is empty),
// ordered by source, type and target.
func (db *DB) RelationsBySources(ctx context.Context, refs, types []string) ([]catalog.RelationRow, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	return db.cachedRelations(ctx, "source_ref", lower(refs), types)
}

// RelationsByTargets is [DB.RelationsBySources] for relations whose target
// is one of refs, ordered by target, type and source.
func (db *DB) RelationsByTargets(ctx context.Context, refs, types []string) ([]catalog.RelationRow, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	return db.cachedRelations(ctx, "target_ref", lower(refs), types)
}

func (db *DB) relationsBy(ctx context.Context, column string, refs, types []string) ([]catalog.RelationRow, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	in, arg := db.inList(column, lower(refs))
	q := `SELECT source_ref, type, target_ref FROM relations WHERE ` + in
	args := []any{arg}
	if len(types) > 0 {
		in, arg := db.inList("type", types)
		q += ` AND ` + in
		args = append(args, arg)
	}
	out, err := func() ([]catalog.RelationRow, error) {
		rows, err := db.r.QueryContext(ctx, db.r.Rebind(q), args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []catalog.RelationRow
		for rows.Next() {
			var r catalog.RelationRow
			if err := rows.Scan(&r.Source, &r.Type, &r.Target); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, rows.Err()
	}()
	if err != nil {
		return nil, fmt.Errorf("store: relations: %w", formatError(err))
	}
	// Sorting and removing duplicates (a relation both ends declare) here
	// rather than with DISTINCT and ORDER BY makes the read of a page's
	// relations several times faster on SQLite, which otherwise sorts them
	// in a temporary tree. The order is byte-wise, the same on both
	// databases whatever their collation.
	key := func(r catalog.RelationRow) (string, string) { return r.Source, r.Target }
	if column == "target_ref" {
		key = func(r catalog.RelationRow) (string, string) { return r.Target, r.Source }
	}
	slices.SortFunc(out, func(a, b catalog.RelationRow) int {
		a1, a2 := key(a)
		b1, b2 := key(b)
		return cmp.Or(strings.Compare(a1, b1), strings.Compare(a.Type, b.Type), strings.Compare(a2, b2))
	})
	return slices.Compact(out), nil
}
