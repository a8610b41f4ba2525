package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Entity history is the table entity_history: a version per change of an
// entity's content, keyed by the position of the change feed event of the
// same change (see migrations/*/00009_entity_history.sql). appendChanges
// writes it, in the transaction of the change, with one INSERT … SELECT
// that copies each changed entity as the transaction leaves it: the bytes
// never travel to the process and back, and a version exists exactly when
// its change committed. A change of the relations the catalog derives
// alone (an UPDATED of "relations") is no version: the entity's content is
// the same.

// recordHistory copies the entities changed by the events at positions
// first to last into entity_history, as tx leaves them.
func recordHistory(ctx context.Context, tx *sqlx.Tx, first, last int64) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`
		INSERT INTO entity_history (position, ref, operation, location_id, etag, actor, at, data)
		SELECT f.position, f.ref, f.operation, f.location_id, f.etag, f.actor, f.at, e.data
		FROM change_feed f LEFT JOIN entities e ON e.ref = f.ref
		WHERE f.position BETWEEN ? AND ?
		  AND f.operation IN ('CREATED', 'UPDATED', 'ORPHANED', 'DELETED')
		  AND f.fields <> '["relations"]'`), first, last); err != nil {
		return fmt.Errorf("store: record history: %w", formatError(err))
	}
	return nil
}

const versionColumns = `position, ref, operation, location_id, etag, actor, at, data`

type versionRow struct {
	Position   int64          `db:"position"`
	Ref        string         `db:"ref"`
	Op         string         `db:"operation"`
	LocationID string         `db:"location_id"`
	Etag       string         `db:"etag"`
	Actor      string         `db:"actor"`
	At         time.Time      `db:"at"`
	Data       sql.NullString `db:"data"`
}

func (r versionRow) toCatalog() catalog.Version {
	v := catalog.Version{Position: r.Position, Ref: r.Ref, Op: catalog.ChangeOp(r.Op), LocationID: r.LocationID,
		Etag: r.Etag, Actor: r.Actor, At: r.At.UTC()}
	if r.Data.Valid {
		v.Data = []byte(r.Data.String)
	}
	return v
}

// EntityHistory returns the versions of the entity ref (canonical), newest
// first, before the position before (0: from the newest), at most limit of
// them.
func (db *DB) EntityHistory(ctx context.Context, ref string, before int64, limit int) ([]catalog.Version, error) {
	q := `SELECT ` + versionColumns + ` FROM entity_history WHERE ref = ?`
	args := []any{strings.ToLower(ref)}
	if before != 0 {
		q += ` AND position < ?`
		args = append(args, before)
	}
	q += ` ORDER BY position DESC LIMIT ?`
	var rows []versionRow
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(q), append(args, limit)...); err != nil {
		return nil, fmt.Errorf("store: history of %s: %w", ref, formatError(err))
	}
	out := make([]catalog.Version, len(rows))
	for i, r := range rows {
		out[i] = r.toCatalog()
	}
	return out, nil
}

// EntityAsOf returns the version of the entity ref (canonical) in force at
// t: the newest at or before it, a deletion included. Returns ENOTFOUND
// when the history holds none.
func (db *DB) EntityAsOf(ctx context.Context, ref string, t time.Time) (*catalog.Version, error) {
	var r versionRow
	err := db.r.GetContext(ctx, &r, db.r.Rebind(`SELECT `+versionColumns+` FROM entity_history
		WHERE ref = ? AND at <= ? ORDER BY position DESC LIMIT 1`), strings.ToLower(ref), t.UTC())
	if err == sql.ErrNoRows {
		return nil, portal.Errorf(portal.ENOTFOUND, "no version of %s at %s", ref, t.UTC().Format(time.RFC3339))
	}
	if err != nil {
		return nil, fmt.Errorf("store: %s as of %s: %w", ref, t, formatError(err))
	}
	v := r.toCatalog()
	return &v, nil
}

// LastContent returns the newest version of the entity ref (canonical)
// that has content: the entity as it last was, before a deletion. Returns
// ENOTFOUND when the history holds none.
func (db *DB) LastContent(ctx context.Context, ref string) (*catalog.Version, error) {
	var r versionRow
	err := db.r.GetContext(ctx, &r, db.r.Rebind(`SELECT `+versionColumns+` FROM entity_history
		WHERE ref = ? AND data IS NOT NULL ORDER BY position DESC LIMIT 1`), strings.ToLower(ref))
	if err == sql.ErrNoRows {
		return nil, portal.Errorf(portal.ENOTFOUND, "no entity %s", ref)
	}
	if err != nil {
		return nil, fmt.Errorf("store: history of %s: %w", ref, formatError(err))
	}
	v := r.toCatalog()
	return &v, nil
}

// PruneHistory deletes the versions no longer needed to answer for any
// time since before: each version older than it that a newer one also
// older than it replaces, and the deletions older than it with everything
// before them. An entity unchanged since keeps its one version older than
// before, so that what it was at any time since is still known. Returns
// how many versions went.
func (db *DB) PruneHistory(ctx context.Context, before time.Time) (int64, error) {
	cutoff := before.UTC()
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return 0, formatError(err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, tx.Rebind(`
		DELETE FROM entity_history
		WHERE at < ? AND (operation = 'DELETED' OR EXISTS (
			SELECT 1 FROM entity_history n
			WHERE n.ref = entity_history.ref AND n.position > entity_history.position AND n.at < ?))`), cutoff, cutoff)
	if err != nil {
		return 0, fmt.Errorf("store: prune history: %w", formatError(err))
	}
	n, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, formatError(err)
	}
	return n, nil
}
