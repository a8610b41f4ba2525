package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// MaxPageSize caps [catalog.EntityQuery.Limit].
const MaxPageSize = 1000

func decodeEntity(data []byte) (*catalog.Entity, error) {
	var e catalog.Entity
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("store: decode entity: %w", err)
	}
	return &e, nil
}

// EntityByRef returns the entity with a canonical ref. Returns ENOTFOUND if
// there is none.
func (db *DB) EntityByRef(ctx context.Context, ref string) (*catalog.Entity, error) {
	var data []byte
	err := db.r.GetContext(ctx, &data, db.r.Rebind(`SELECT data FROM entities WHERE ref = ?`), strings.ToLower(ref))
	if err != nil {
		if portal.ErrorCode(formatError(err)) == portal.ENOTFOUND {
			return nil, portal.Errorf(portal.ENOTFOUND, "no entity %s", ref)
		}
		return nil, formatError(err)
	}
	return decodeEntity(data)
}

// Entities returns a page of entities ordered by ref.
func (db *DB) Entities(ctx context.Context, q catalog.EntityQuery) (catalog.EntityPage, error) {
	limit := q.Limit
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	where, args := []string{"1 = 1"}, []any{}
	if len(q.Kinds) > 0 {
		kinds := make([]string, len(q.Kinds))
		for i, k := range q.Kinds {
			kinds[i] = strings.ToLower(k)
		}
		where = append(where, "kind IN (?)")
		args = append(args, kinds)
	}
	if q.After != "" {
		where = append(where, "ref > ?")
		args = append(args, strings.ToLower(q.After))
	}
	args = append(args, limit+1)
	query, args, err := sqlx.In(`SELECT data FROM entities WHERE `+strings.Join(where, " AND ")+` ORDER BY ref LIMIT ?`, args...)
	if err != nil {
		return catalog.EntityPage{}, err
	}
	var rows [][]byte
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(query), args...); err != nil {
		return catalog.EntityPage{}, fmt.Errorf("store: list entities: %w", formatError(err))
	}
	page := catalog.EntityPage{HasNext: len(rows) > limit}
	if page.HasNext {
		rows = rows[:limit]
	}
	for _, data := range rows {
		e, err := decodeEntity(data)
		if err != nil {
			return catalog.EntityPage{}, err
		}
		page.Entities = append(page.Entities, e)
	}
	return page, nil
}

// StoredLocations returns the valid Location entities that a location last
// stored from one file or URL (key "type:target"), orphans aside, ordered by
// ref. A refresh reads them when that file cannot be read, to follow them as
// before.
func (db *DB) StoredLocations(ctx context.Context, locationID, key string) ([]*catalog.Entity, error) {
	var rows [][]byte
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`
		SELECT data FROM entities
		WHERE location_id = ? AND location_key = ? AND kind = 'location' AND valid AND NOT orphan
		ORDER BY ref`), locationID, key); err != nil {
		return nil, fmt.Errorf("store: stored locations: %w", formatError(err))
	}
	out := make([]*catalog.Entity, 0, len(rows))
	for _, data := range rows {
		e, err := decodeEntity(data)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Counts reports how many entities and relation rows are stored.
func (db *DB) Counts(ctx context.Context) (entities, relations int, err error) {
	if err := db.r.GetContext(ctx, &entities, `SELECT COUNT(*) FROM entities`); err != nil {
		return 0, 0, formatError(err)
	}
	if err := db.r.GetContext(ctx, &relations, `SELECT COUNT(*) FROM relations`); err != nil {
		return 0, 0, formatError(err)
	}
	return entities, relations, nil
}

// Relations returns the distinct relations whose source is ref, ordered by
// type then target, as Backstage stitches them.
func (db *DB) Relations(ctx context.Context, ref string) ([]catalog.Relation, error) {
	var rows []struct {
		Type   string `db:"type"`
		Target string `db:"target_ref"`
	}
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`
		SELECT DISTINCT type, target_ref FROM relations WHERE source_ref = ?
		ORDER BY type, target_ref`), strings.ToLower(ref)); err != nil {
		return nil, fmt.Errorf("store: list relations: %w", formatError(err))
	}
	src := catalog.MustParseRef(strings.ToLower(ref))
	out := make([]catalog.Relation, 0, len(rows))
	for _, r := range rows {
		t, err := catalog.ParseRef(r.Target, catalog.RefDefaults{})
		if err != nil {
			return nil, fmt.Errorf("store: stored relation target %q: %w", r.Target, err)
		}
		out = append(out, catalog.Relation{Source: src, Type: r.Type, Target: t})
	}
	return out, nil
}
