package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

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
	return catalog.ProcessingError{
		Level: catalog.LevelWarning, LocationKey: d.LocationKey, Document: -1, EntityRef: d.Source, Code: catalog.ErrorCodeReference,
		Message: fmt.Sprintf("%s has relation %s to %s, which is not in the catalog", d.Source, d.Type, d.Target),
	}
}

// Dangling references are computed when read, not stored, so that they
// disappear as soon as another location supplies the missing entity.
const danglingQuery = `
	SELECT DISTINCT r.source_ref, r.type, r.target_ref, e.location_key
	FROM relations r JOIN entities e ON e.id = r.originating_id
	WHERE r.source_ref = e.ref AND %s
	  AND NOT EXISTS (SELECT 1 FROM entities t WHERE t.ref = r.target_ref)
	ORDER BY r.source_ref, r.type, r.target_ref`

// EntityErrors returns the processing errors of each entity, including
// references to entities that are not in the catalog, keyed by canonical ref.
func (db *DB) EntityErrors(ctx context.Context, refs []string) (map[string][]catalog.ProcessingError, error) {
	out := make(map[string][]catalog.ProcessingError, len(refs))
	if len(refs) == 0 {
		return out, nil
	}
	lower := make([]string, len(refs))
	for i, r := range refs {
		lower[i] = strings.ToLower(r)
	}
	q, args, err := sqlx.In(`
		SELECT entity_ref, location_key, document, line, code, message
		FROM processing_errors WHERE entity_ref IN (?)
		ORDER BY location_key, document, line`, lower)
	if err != nil {
		return nil, err
	}
	var rows []errorRow
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: entity errors: %w", formatError(err))
	}
	for _, r := range rows {
		out[*r.EntityRef] = append(out[*r.EntityRef], r.toCatalog())
	}
	q, args, err = sqlx.In(fmt.Sprintf(danglingQuery, "e.ref IN (?)"), lower)
	if err != nil {
		return nil, err
	}
	var dangling []danglingRow
	if err := db.r.SelectContext(ctx, &dangling, db.r.Rebind(q), args...); err != nil {
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
	where, args := "1 = 1", []any{}
	if id != "" {
		where, args = "location_id = ?", []any{id}
	}
	var rows []errorRow
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`
		SELECT entity_ref, location_key, document, line, code, message
		FROM processing_errors WHERE `+where+`
		ORDER BY location_key, document, line`), args...); err != nil {
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
	if err := db.r.SelectContext(ctx, &dangling, db.r.Rebind(fmt.Sprintf(danglingQuery, dwhere)), args...); err != nil {
		return nil, fmt.Errorf("store: dangling references: %w", formatError(err))
	}
	for _, d := range dangling {
		out = append(out, d.toCatalog())
	}
	return out, nil
}
