package store

import (
	"context"
	"fmt"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

type errorRow struct {
	EntityRef   *string `db:"entity_ref"`
	LocationKey string  `db:"location_key"`
	Document    int     `db:"document"`
	Line        int     `db:"line"`
	Code        string  `db:"code"`
	Message     string  `db:"message"`
}

func (r errorRow) toCatalog() catalog.ProcessingError {
	pe := catalog.ProcessingError{Level: catalog.LevelError, LocationKey: r.LocationKey, Document: r.Document, Line: r.Line, Code: r.Code, Message: r.Message}
	if r.EntityRef != nil {
		pe.EntityRef = *r.EntityRef
	}
	return pe
}

// danglingRow is a relation, written by an entity's own spec, whose target
// is not in the catalog.
type danglingRow struct {
	Source      string `db:"source_ref"`
	Type        string `db:"type"`
	Target      string `db:"target_ref"`
	LocationKey string `db:"location_key"`
}

func (d danglingRow) toCatalog() catalog.ProcessingError {
	return catalog.DanglingReference(d.LocationKey, d.Source, d.Type, d.Target)
}

// Dangling references are computed when read, not stored, so that they
// disappear as soon as another location supplies the missing entity. The
// first %s selects the entities whose relations are checked, the second
// narrows them to those the reader may see.
const danglingQuery = `
	SELECT DISTINCT r.source_ref, r.type, r.target_ref, e.location_key
	FROM relations r JOIN entities e ON e.id = r.originating_id
	WHERE r.source_ref = e.ref AND %s AND %s
	  AND NOT EXISTS (SELECT 1 FROM entities t WHERE t.ref = r.target_ref)
	ORDER BY r.source_ref, r.type, r.target_ref`

// visibleError is the condition that a processing error, aliased perr, is
// one a reader limited to the entities cond selects may see: one that
// names no entity (it is about a file), or one whose entity is stored and
// selected. An error about an entity that is not stored, such as a
// document that was refused, cannot be tested against the reader's
// conditions, so it is left out.
const visibleError = `(perr.entity_ref IS NULL OR EXISTS (SELECT 1 FROM entities e WHERE e.ref = perr.entity_ref AND %s))`

// EntityErrors returns the processing errors of each entity, including
// references to entities that are not in the catalog, keyed by canonical ref.
func (db *DB) EntityErrors(ctx context.Context, refs []string) (map[string][]catalog.ProcessingError, error) {
	return db.entityErrors(ctx, refs, nil)
}

// EntityErrorsWhere is [DB.EntityErrors] for the entities f selects: the
// others get none.
func (db *DB) EntityErrorsWhere(ctx context.Context, refs []string, f catalog.EntityFilter) (map[string][]catalog.ProcessingError, error) {
	return db.entityErrors(ctx, refs, &f)
}

func (db *DB) entityErrors(ctx context.Context, refs []string, visible *catalog.EntityFilter) (map[string][]catalog.ProcessingError, error) {
	out := make(map[string][]catalog.ProcessingError, len(refs))
	if len(refs) == 0 {
		return out, nil
	}
	in, list := db.inList("perr.entity_ref", lower(refs))
	errCond, cond, args := db.visibleSQL(visible)
	var rows []errorRow
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`
		SELECT perr.entity_ref, perr.location_key, perr.document, perr.line, perr.code, perr.message
		FROM processing_errors perr WHERE `+in+` AND `+errCond+`
		ORDER BY perr.location_key, perr.document, perr.line`), append([]any{list}, args...)...); err != nil {
		return nil, fmt.Errorf("store: entity errors: %w", formatError(err))
	}
	for _, r := range rows {
		out[*r.EntityRef] = append(out[*r.EntityRef], r.toCatalog())
	}
	in, list = db.inList("e.ref", lower(refs))
	var dangling []danglingRow
	if err := db.r.SelectContext(ctx, &dangling, db.r.Rebind(fmt.Sprintf(danglingQuery, in, cond)), append([]any{list}, args...)...); err != nil {
		return nil, fmt.Errorf("store: dangling references: %w", formatError(err))
	}
	for _, d := range dangling {
		out[d.Source] = append(out[d.Source], d.toCatalog())
	}
	return out, nil
}

// LocationErrors returns every processing error of a location, or of all
// locations when id is "", with the dangling references of its entities.
func (db *DB) LocationErrors(ctx context.Context, id string) ([]catalog.ProcessingError, error) {
	return db.locationErrors(ctx, id, nil)
}

// LocationErrorsWhere is [DB.LocationErrors] for a reader limited to the
// entities f selects: the errors that name another entity, or one that is
// not stored, and the dangling references of the others, are left out.
// Errors that name no entity are about the location's files, and kept.
func (db *DB) LocationErrorsWhere(ctx context.Context, id string, f catalog.EntityFilter) ([]catalog.ProcessingError, error) {
	return db.locationErrors(ctx, id, &f)
}

func (db *DB) locationErrors(ctx context.Context, id string, visible *catalog.EntityFilter) ([]catalog.ProcessingError, error) {
	where, args := "1 = 1", []any{}
	if id != "" {
		where, args = "perr.location_id = ?", []any{id}
	}
	// The copies on kept entities repeat the file's own errors.
	where += " AND NOT perr.kept"
	errCond, cond, vargs := db.visibleSQL(visible)
	var rows []errorRow
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`
		SELECT perr.entity_ref, perr.location_key, perr.document, perr.line, perr.code, perr.message
		FROM processing_errors perr WHERE `+where+` AND `+errCond+`
		ORDER BY perr.location_key, perr.document, perr.line`), append(args, vargs...)...); err != nil {
		return nil, fmt.Errorf("store: location errors: %w", formatError(err))
	}
	out := make([]catalog.ProcessingError, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.toCatalog())
	}
	dwhere := "1 = 1"
	if id != "" {
		dwhere = "e.location_id = ?"
	}
	var dangling []danglingRow
	if err := db.r.SelectContext(ctx, &dangling, db.r.Rebind(fmt.Sprintf(danglingQuery, dwhere, cond)), append(args, vargs...)...); err != nil {
		return nil, fmt.Errorf("store: dangling references: %w", formatError(err))
	}
	for _, d := range dangling {
		out = append(out, d.toCatalog())
	}
	return out, nil
}

// visibleSQL returns the conditions for a reader limited to the entities
// visible selects (every entity when it is nil): errCond on processing
// errors, aliased perr (see visibleError), and cond on entities, aliased e.
// The arguments of either are args: only one of them is used per statement.
func (db *DB) visibleSQL(visible *catalog.EntityFilter) (errCond, cond string, args []any) {
	if visible == nil {
		return "1 = 1", "1 = 1", nil
	}
	cond, args = db.filterSQL(visible)
	return fmt.Sprintf(visibleError, cond), cond, args
}

// LocationErrorCount is a registered location and the number of
// processing errors stored on it.
type LocationErrorCount struct {
	Location catalog.Location
	Errors   int
}

// LocationErrorCounts returns every registered location with the number
// of processing errors stored on it, for metrics. Dangling references,
// computed when read, are not counted.
func (db *DB) LocationErrorCounts(ctx context.Context) ([]LocationErrorCount, error) {
	var rows []struct {
		ID     string `db:"id"`
		Type   string `db:"type"`
		Target string `db:"target"`
		Count  int    `db:"n"`
	}
	err := db.r.DB.SelectContext(ctx, &rows, `
		SELECT l.id, l.type, l.target, COUNT(perr.id) AS n
		FROM locations l LEFT JOIN processing_errors perr ON perr.location_id = l.id
		GROUP BY l.id, l.type, l.target
		ORDER BY l.id`)
	if err != nil {
		return nil, fmt.Errorf("store: count processing errors: %w", formatError(err))
	}
	out := make([]LocationErrorCount, len(rows))
	for i, r := range rows {
		out[i] = LocationErrorCount{Location: catalog.Location{ID: r.ID, Type: r.Type, Target: r.Target}, Errors: r.Count}
	}
	return out, nil
}
