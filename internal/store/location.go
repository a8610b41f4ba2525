package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

type locationRow struct {
	ID          string `db:"id"`
	Type        string `db:"type"`
	Target      string `db:"target"`
	Configured  bool   `db:"configured"`
	Annotations string `db:"annotations"`
}

// locationColumns are what locationRow reads.
const locationColumns = `id, type, target, configured, annotations`

func (r locationRow) toCatalog() catalog.Location {
	loc := catalog.Location{ID: r.ID, Type: r.Type, Target: r.Target, Configured: r.Configured}
	if r.Annotations != "" && r.Annotations != "{}" {
		json.Unmarshal([]byte(r.Annotations), &loc.Annotations) // written by createLocation from a map
	}
	return loc
}

// CreateLocation records a location the operator configured, or returns
// the one already stored with the same type and target, marked configured
// from now on (a location registered through the API and later named in
// the configuration gains the configuration's trust); created says whether
// it is new. Locations registered through the API go through
// [DB.RegisterLocation].
func (db *DB) CreateLocation(ctx context.Context, typ, target string) (loc catalog.Location, created bool, err error) {
	return db.createLocation(ctx, typ, target, true, nil, nil)
}

// RegisterLocation records a location registered through the API, or
// returns the one already stored with the same type and target, as it is;
// created says which. When the location is created and with is not nil,
// with runs in the same transaction, before it commits: the location's
// refresh job is inserted there (see ingest.Scheduler), so a location is
// never stored without it, and registering commits once, not twice.
func (db *DB) RegisterLocation(ctx context.Context, typ, target string, with func(*sql.Tx, catalog.Location) error) (loc catalog.Location, created bool, err error) {
	return db.createLocation(ctx, typ, target, false, nil, with)
}

// RegisterAnnotatedLocation is RegisterLocation for a location that
// stamps annotations on every entity it emits; a location found stored
// keeps its own.
func (db *DB) RegisterAnnotatedLocation(ctx context.Context, typ, target string, annotations map[string]string, with func(*sql.Tx, catalog.Location) error) (loc catalog.Location, created bool, err error) {
	return db.createLocation(ctx, typ, target, false, annotations, with)
}

func (db *DB) createLocation(ctx context.Context, typ, target string, configured bool, annotations map[string]string, with func(*sql.Tx, catalog.Location) error) (loc catalog.Location, created bool, err error) {
	ann := []byte("{}")
	if len(annotations) > 0 {
		if ann, err = json.Marshal(annotations); err != nil {
			return loc, false, err
		}
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return loc, false, formatError(err)
	}
	defer tx.Rollback()
	var row struct {
		locationRow
		Removed bool `db:"removed"`
	}
	err = tx.GetContext(ctx, &row, tx.Rebind(`
		SELECT `+locationColumns+`, removed_at IS NOT NULL AS removed FROM locations WHERE type = ? AND target = ?`), typ, target)
	if err == nil && row.Removed {
		// Removed from the configuration before: it comes back as new, and
		// its next refresh takes back the orphans it left.
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE locations SET removed_at = NULL, configured = ?, annotations = ? WHERE id = ?`), configured, string(ann), row.ID); err != nil {
			return loc, false, formatError(err)
		}
		row.Configured, row.Annotations = configured, string(ann)
		return db.commitCreated(ctx, tx, row.toCatalog(), with)
	}
	if err == nil {
		if configured && !row.Configured {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE locations SET configured = ? WHERE id = ?`), true, row.ID); err != nil {
				return loc, false, formatError(err)
			}
			if err := db.commitLocationChange(ctx, tx, catalog.ChangeLocationUpdated, row.ID); err != nil {
				return loc, false, err
			}
			row.Configured = true
		}
		return row.toCatalog(), false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return loc, false, formatError(err)
	}
	// Version 7 UUIDs sort by creation time, so locations registered within
	// one millisecond still list, and refresh, in the order they came.
	id, err := uuid.NewV7()
	if err != nil {
		return loc, false, err
	}
	nrow := locationRow{ID: id.String(), Type: typ, Target: target, Configured: configured, Annotations: string(ann)}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`
		INSERT INTO locations (id, type, target, configured, annotations, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
		nrow.ID, nrow.Type, nrow.Target, nrow.Configured, nrow.Annotations, db.now()); err != nil {
		return loc, false, formatError(err)
	}
	return db.commitCreated(ctx, tx, nrow.toCatalog(), with)
}

// commitCreated runs with (when not nil) in tx and commits tx with the
// event of loc's creation.
func (db *DB) commitCreated(ctx context.Context, tx *sqlx.Tx, loc catalog.Location, with func(*sql.Tx, catalog.Location) error) (catalog.Location, bool, error) {
	if with != nil {
		if err := with(tx.Tx, loc); err != nil {
			return catalog.Location{}, false, err
		}
	}
	if err := db.commitLocationChange(ctx, tx, catalog.ChangeLocationCreated, loc.ID); err != nil {
		return catalog.Location{}, false, err
	}
	return loc, true, nil
}

// commitLocationChange appends an event of op about the location id, for
// the principal in ctx, and commits tx.
func (db *DB) commitLocationChange(ctx context.Context, tx *sqlx.Tx, op catalog.ChangeOp, id string) error {
	changes := []catalog.Change{{Op: op, Ref: id, LocationID: id}}
	if err := db.appendChanges(ctx, tx, actorOf(ctx), changes); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return formatError(err)
	}
	db.committed(ctx, changes)
	return nil
}

// Locations returns every registered location, oldest first.
func (db *DB) Locations(ctx context.Context) ([]catalog.Location, error) {
	var rows []locationRow
	if err := db.r.SelectContext(ctx, &rows, `SELECT `+locationColumns+` FROM locations WHERE removed_at IS NULL ORDER BY created_at, id`); err != nil {
		return nil, fmt.Errorf("store: list locations: %w", formatError(err))
	}
	out := make([]catalog.Location, len(rows))
	for i, r := range rows {
		out[i] = r.toCatalog()
	}
	return out, nil
}

// Location returns one registered location. Returns ENOTFOUND if there is none with that id.
func (db *DB) Location(ctx context.Context, id string) (catalog.Location, error) {
	var row locationRow
	err := db.r.GetContext(ctx, &row, db.r.Rebind(`SELECT `+locationColumns+` FROM locations WHERE id = ? AND removed_at IS NULL`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return catalog.Location{}, portal.Errorf(portal.ENOTFOUND, "no location with id %q", id)
	}
	if err != nil {
		return catalog.Location{}, formatError(err)
	}
	return row.toCatalog(), nil
}

// DeleteLocation removes a location with every entity it emitted and its
// errors, and returns how many entities went. Returns ENOTFOUND if there is
// no location with that id.
func (db *DB) DeleteLocation(ctx context.Context, id string) (int, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return 0, formatError(err)
	}
	defer tx.Rollback()
	// Relations have no foreign key (see the migration); entities and errors
	// go with the location by ON DELETE CASCADE.
	if _, err := tx.ExecContext(ctx, tx.Rebind(`
		DELETE FROM relations WHERE originating_id IN (SELECT id FROM entities WHERE location_id = ?)`), id); err != nil {
		return 0, formatError(err)
	}
	var refs []string
	if err := tx.SelectContext(ctx, &refs, tx.Rebind(`SELECT ref FROM entities WHERE location_id = ? ORDER BY ref`), id); err != nil {
		return 0, formatError(err)
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM locations WHERE id = ? AND removed_at IS NULL`), id)
	if err != nil {
		return 0, formatError(err)
	}
	if rows, _ := res.RowsAffected(); rows == 0 {
		return 0, portal.Errorf(portal.ENOTFOUND, "no location with id %q", id)
	}
	changes := make([]catalog.Change, 0, len(refs)+1)
	for _, ref := range refs {
		changes = append(changes, catalog.EntityChange(catalog.ChangeDeleted, ref, id, "", nil))
	}
	changes = append(changes, catalog.Change{Op: catalog.ChangeLocationDeleted, Ref: id, LocationID: id})
	if err := db.appendChanges(ctx, tx, actorOf(ctx), changes); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, formatError(err)
	}
	db.committed(ctx, changes)
	return len(refs), nil
}

// DeleteOrphan removes an orphaned entity and the relations it originated.
// Returns ENOTFOUND if there is no such entity and ECONFLICT if it is not an
// orphan: its location would bring it back.
func (db *DB) DeleteOrphan(ctx context.Context, ref string) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return formatError(err)
	}
	defer tx.Rollback()
	var row struct {
		ID         string `db:"id"`
		Ref        string `db:"ref"`
		LocationID string `db:"location_id"`
		Orphan     bool   `db:"orphan"`
	}
	if err := tx.GetContext(ctx, &row, tx.Rebind(`SELECT id, ref, location_id, orphan FROM entities WHERE ref = ?`), strings.ToLower(ref)); err != nil {
		if portal.ErrorCode(formatError(err)) == portal.ENOTFOUND {
			return portal.Errorf(portal.ENOTFOUND, "no entity %s", ref)
		}
		return formatError(err)
	}
	if !row.Orphan {
		return portal.Errorf(portal.ECONFLICT, "%s is not an orphan: its location still emits it", ref)
	}
	for _, q := range []string{`DELETE FROM relations WHERE originating_id = ?`, `DELETE FROM entities WHERE id = ?`} {
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), row.ID); err != nil {
			return formatError(err)
		}
	}
	changes := []catalog.Change{catalog.EntityChange(catalog.ChangeDeleted, row.Ref, row.LocationID, "", nil)}
	if err := db.appendChanges(ctx, tx, actorOf(ctx), changes); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return formatError(err)
	}
	db.committed(ctx, changes)
	return nil
}

// LocationsByIDs returns the registered locations among ids, in any order.
func (db *DB) LocationsByIDs(ctx context.Context, ids []string) ([]catalog.Location, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := sqlx.In(`SELECT `+locationColumns+` FROM locations WHERE id IN (?) AND removed_at IS NULL`, ids)
	if err != nil {
		return nil, err
	}
	var rows []locationRow
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: locations by ids: %w", formatError(err))
	}
	out := make([]catalog.Location, len(rows))
	for i, r := range rows {
		out[i] = r.toCatalog()
	}
	return out, nil
}
