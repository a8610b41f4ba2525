package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

type relationRow struct {
	Source string `db:"source_ref"`
	Type   string `db:"type"`
	Target string `db:"target_ref"`
}

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
	return db.relationsBy(ctx, "source_ref", refs, types)
}

// RelationsByTargets is [DB.RelationsBySources] for relations whose target
// is one of refs, ordered by target, type and source.
func (db *DB) RelationsByTargets(ctx context.Context, refs, types []string) ([]catalog.RelationRow, error) {
	return db.relationsBy(ctx, "target_ref", refs, types)
}

func (db *DB) relationsBy(ctx context.Context, column string, refs, types []string) ([]catalog.RelationRow, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	other := "target_ref"
	if column == "target_ref" {
		other = "source_ref"
	}
	q := `SELECT DISTINCT source_ref, type, target_ref FROM relations WHERE ` + column + ` IN (?)`
	args := []any{lower(refs)}
	if len(types) > 0 {
		q += ` AND type IN (?)`
		args = append(args, types)
	}
	q += ` ORDER BY ` + column + `, type, ` + other
	q, args, err := sqlx.In(q, args...)
	if err != nil {
		return nil, err
	}
	var rows []relationRow
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: relations: %w", formatError(err))
	}
	out := make([]catalog.RelationRow, len(rows))
	for i, r := range rows {
		out[i] = catalog.RelationRow(r)
	}
	return out, nil
}

// OwnersOf returns, for each of refs that has an owner in the catalog, the
// owner's record (the target of its ownedBy relation), keyed by the lower-
// cased ref. One query, for the owner field of a list.
func (db *DB) OwnersOf(ctx context.Context, refs []string) (map[string]*catalog.Record, error) {
	out := make(map[string]*catalog.Record, len(refs))
	if len(refs) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In(`
		SELECT r.source_ref AS owned, `+recordColumns+`
		FROM relations r JOIN entities e ON e.ref = r.target_ref
		WHERE r.source_ref IN (?) AND r.type = ?
		ORDER BY r.source_ref, e.ref`, lower(refs), catalog.RelationOwnedBy)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Owned string `db:"owned"`
		recordRow
	}
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: owners: %w", formatError(err))
	}
	for i := range rows {
		if _, seen := out[rows[i].Owned]; !seen { // the first owner, should a spec name several
			out[rows[i].Owned] = rows[i].toCatalog()
		}
	}
	return out, nil
}
