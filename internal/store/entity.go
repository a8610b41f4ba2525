package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// MaxPageSize caps [catalog.EntityQuery.Limit].
const MaxPageSize = 1000

// recordColumns are the columns a [catalog.Record] is read from, in the
// order scanRecord takes them.
const recordColumns = `e.id, e.ref, e.kind, e.namespace, e.name, e.title, e.description, e.spec_type,
	e.lifecycle, e.etag, e.orphan, e.location_id, e.parent_ref, e.data`

// scanRecord reads a row that starts with recordColumns, and then extra.
// Scanning by hand rather than through sqlx's reflection halves the cost
// of a page of a thousand entities.
func scanRecord(rows *sql.Rows, extra ...any) (*catalog.Record, error) {
	var r catalog.Record
	var title, description, specType, lifecycle, parentRef sql.NullString
	dest := append([]any{&r.UID, &r.Ref, &r.Kind, &r.Namespace, &r.Name, &title, &description, &specType,
		&lifecycle, &r.Etag, &r.Orphan, &r.LocationID, &parentRef, &r.Data}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	r.Title, r.Description, r.SpecType = title.String, description.String, specType.String
	r.Lifecycle, r.ParentRef = lifecycle.String, parentRef.String
	return &r, nil
}

// scanRecords reads every row of rows with [scanRecord].
func scanRecords(rows *sql.Rows, err error) ([]*catalog.Record, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*catalog.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// EntityByRef returns the entity with a canonical ref. Returns ENOTFOUND if
// there is none.
func (db *DB) EntityByRef(ctx context.Context, ref string) (*catalog.Record, error) {
	recs, err := scanRecords(db.r.QueryContext(ctx, db.r.Rebind(`SELECT `+recordColumns+` FROM entities e WHERE e.ref = ?`), strings.ToLower(ref)))
	if err != nil {
		return nil, fmt.Errorf("store: entity %s: %w", ref, formatError(err))
	}
	if len(recs) == 0 {
		return nil, portal.Errorf(portal.ENOTFOUND, "no entity %s", ref)
	}
	return recs[0], nil
}

// EntitiesByRefs returns the entities with these canonical refs that exist,
// in any order, from the read cache when it holds them.
func (db *DB) EntitiesByRefs(ctx context.Context, refs []string) ([]*catalog.Record, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	return db.cachedRecords(ctx, lower(refs))
}

// EntitiesByRefsWhere is [DB.EntitiesByRefs] for the entities f selects.
func (db *DB) EntitiesByRefsWhere(ctx context.Context, refs []string, f catalog.EntityFilter) ([]*catalog.Record, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	f = catalog.EntityFilter{Refs: refs, And: []catalog.EntityFilter{f}}
	cond, args := db.filterSQL(&f)
	recs, err := scanRecords(db.r.QueryContext(ctx, db.r.Rebind(`SELECT `+recordColumns+` FROM entities e WHERE `+cond), args...))
	if err != nil {
		return nil, fmt.Errorf("store: entities by refs: %w", formatError(err))
	}
	return recs, nil
}

// orderExprs are the SQL expressions entities are sorted by.
var orderExprs = map[catalog.OrderField]string{
	catalog.OrderRef:       "e.ref",
	catalog.OrderName:      "lower(e.name)",
	catalog.OrderKind:      "lower(e.kind)",
	catalog.OrderNamespace: "e.namespace",
	catalog.OrderTitle:     "lower(COALESCE(e.title, ''))",
	catalog.OrderType:      "lower(COALESCE(e.spec_type, ''))",
	catalog.OrderLifecycle: "lower(COALESCE(e.lifecycle, ''))",
	catalog.OrderUID:       "e.id",
}

// FindEntities returns a page of the entities q selects, in q's order, with
// keyset pagination: a position is a sort key and a ref, so a page stays
// right when entities are added before it.
func (db *DB) FindEntities(ctx context.Context, q catalog.EntityQuery) (catalog.EntityPage, error) {
	order := q.Order
	if order == "" {
		order = catalog.OrderRef
	}
	key, ok := orderExprs[order]
	if !ok && q.OrderPath == "" {
		return catalog.EntityPage{}, portal.Errorf(portal.EINVALID, "cannot order by %q", order)
	}
	limit := q.Limit
	if limit < 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	cond, args := db.filterSQL(&q.Filter)
	// A Backstage path is sorted by in a subquery, s, that names its key
	// once: the key may be a query of its own, with an argument.
	var keyArgs []any
	from := "entities e"
	ref := "e.ref"
	if q.OrderPath != "" {
		var pathKey string
		pathKey, keyArgs = db.pathOrder(q.OrderPath)
		from = fmt.Sprintf("(SELECT e.ref, %s AS sort_key FROM entities e WHERE %s) s", pathKey, cond)
		key, ref, cond = "s.sort_key", "s.ref", "s.sort_key IS NOT NULL"
		args = append(keyArgs, args...)
	}
	desc := q.Desc
	after, before := ">", "<"
	if desc {
		after, before = "<", ">"
	}
	if q.After != nil {
		cond += fmt.Sprintf(" AND (%[1]s %[2]s ? OR (%[1]s = ? AND %[3]s %[2]s ?))", key, after, ref)
		args = append(args, q.After.Key, q.After.Key, q.After.Ref)
	}
	if q.Before != nil {
		cond += fmt.Sprintf(" AND (%[1]s %[2]s ? OR (%[1]s = ? AND %[3]s %[2]s ?))", key, before, ref)
		args = append(args, q.Before.Key, q.Before.Key, q.Before.Ref)
	}
	// Reading from the end runs the query in the opposite order.
	dir := "ASC"
	if desc != q.FromEnd {
		dir = "DESC"
	}
	orderBy := fmt.Sprintf("%s %s, %s %s", key, dir, ref, dir)
	if key == "e.ref" || key == "e.id" {
		orderBy = key + " " + dir // unique: a second key would make SQLite sort what the index already orders
	}
	// The page's refs and sort keys come from the index that orders them,
	// and its records from the read cache, which reads the ones it does not
	// hold with one more statement.
	query := fmt.Sprintf(`SELECT %s, %s AS sort_key FROM %s WHERE %s ORDER BY %s LIMIT ?`, ref, key, from, cond, orderBy)
	args = append(args, limit+1)
	if q.Offset > 0 {
		query += " OFFSET ?"
		args = append(args, q.Offset)
	}
	refs, keys, err := db.cachedPageRefs(ctx, db.r.Rebind(query), args)
	if err != nil {
		return catalog.EntityPage{}, fmt.Errorf("store: find entities: %w", formatError(err))
	}
	recs, err := db.cachedRecords(ctx, refs)
	if err != nil {
		return catalog.EntityPage{}, fmt.Errorf("store: find entities: %w", err)
	}
	byRef := make(map[string]*catalog.Record, len(recs))
	for _, r := range recs {
		byRef[r.Ref] = r
	}
	var page catalog.EntityPage
	for i, ref := range refs {
		if r := byRef[ref]; r != nil { // nil: deleted between the two reads
			page.Records, page.Keys = append(page.Records, r), append(page.Keys, keys[i])
		}
	}
	if page.HasMore = len(page.Records) > limit; page.HasMore {
		page.Records, page.Keys = page.Records[:limit], page.Keys[:limit]
	}
	if q.FromEnd {
		slices.Reverse(page.Records)
		slices.Reverse(page.Keys)
	}
	return page, nil
}

// pathOrder returns the sort key of a Backstage path, and its arguments:
// the column of the fields every entity has, else the least of the path's
// values in the entity's JSON, lower-cased, NULL when it has none.
func (db *DB) pathOrder(path string) (string, []any) {
	path = strings.ToLower(path)
	switch path {
	case "kind":
		return "lower(e.kind)", nil
	case "metadata.name":
		return "lower(e.name)", nil
	case "metadata.namespace":
		return "lower(e.namespace)", nil
	case "metadata.uid":
		return "lower(e.id)", nil
	}
	return "(SELECT min(lower(p.v)) FROM (" + db.d.pathValues("e.id", "e.data", "") + ") p)", []any{path}
}

// CountEntities returns how many entities f selects.
func (db *DB) CountEntities(ctx context.Context, f catalog.EntityFilter) (int, error) {
	cond, args := db.filterSQL(&f)
	n, err := db.cachedCount(ctx, db.r.Rebind(`SELECT COUNT(*) FROM entities e WHERE `+cond), args)
	if err != nil {
		return 0, fmt.Errorf("store: count entities: %w", formatError(err))
	}
	return n, nil
}

// StoredLocations returns the valid Location entities that a location last
// stored from one file or URL (key "type:target"), orphans aside, ordered by
// ref. A refresh reads them when that file cannot be read, to follow them as
// before.
func (db *DB) StoredLocations(ctx context.Context, locationID, key string) ([]*catalog.Entity, error) {
	var rows [][]byte
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`
		SELECT data FROM entities
		WHERE location_id = ? AND location_key = ? AND lower(kind) = 'location' AND valid AND NOT orphan
		ORDER BY ref`), locationID, key); err != nil {
		return nil, fmt.Errorf("store: stored locations: %w", formatError(err))
	}
	out := make([]*catalog.Entity, 0, len(rows))
	for _, data := range rows {
		rec := catalog.Record{Data: data}
		e, err := rec.Entity()
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
