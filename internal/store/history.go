package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Entity history is the table entity_history: a version per change of an
// entity's content, numbered by seq in the order the versions were written
// (see migrations/*/00010_history_seq.sql). appendChanges writes them, in
// the transaction of the change and before it takes its turn for feed
// positions (see changefeed.go), with one INSERT … SELECT per kind of
// change that copies each changed entity as the transaction leaves it:
// the bytes never travel to the process and back, and a version exists
// exactly when its change committed. A change of the relations the
// catalog derives alone (an UPDATED of "relations") is no version: the
// entity's content is the same.

// historyTable is entity_history's columns that a deletion's version
// fills; its data stays NULL and seq is numbered by the database.
var historyTable = newBulkTable("entity_history", 1000, "", "ref", "operation", "location_id", "etag", "actor", "at")

// recordHistory writes a version of each entity whose content changes,
// with actor and at, as tx leaves it: one statement per kind of change
// present, a deletion's version from the change alone.
func (db *DB) recordHistory(ctx context.Context, tx *sqlx.Tx, actor string, at time.Time, changes []catalog.Change) error {
	var (
		refs    = map[catalog.ChangeOp][]string{}
		deleted []*catalog.Change
	)
	for i := range changes {
		c := &changes[i]
		switch {
		case !c.Op.IsVersion() || (c.Op == catalog.ChangeUpdated && slices.Equal(c.Fields, relationsOnly)):
		case c.Op == catalog.ChangeDeleted:
			deleted = append(deleted, c)
		default:
			refs[c.Op] = append(refs[c.Op], c.Ref)
		}
	}
	for _, op := range []catalog.ChangeOp{catalog.ChangeCreated, catalog.ChangeUpdated, catalog.ChangeOrphaned} {
		if len(refs[op]) == 0 {
			continue
		}
		in, arg := db.d.anyOf("ref", refs[op])
		if _, err := tx.ExecContext(ctx, tx.Rebind(`
			INSERT INTO entity_history (ref, operation, location_id, etag, actor, at, data)
			SELECT ref, ?, location_id, etag, ?, ?, data FROM entities WHERE `+in), string(op), actor, at, arg); err != nil {
			return fmt.Errorf("store: record history: %w", formatError(err))
		}
	}
	if len(deleted) == 0 {
		return nil
	}
	row := func(dst []any, i int) []any {
		c := deleted[i]
		return append(dst, c.Ref, string(c.Op), c.LocationID, "", actor, at)
	}
	if err := db.d.insertNew(ctx, tx, historyTable, len(deleted), row); err != nil {
		return fmt.Errorf("store: record history: %w", err)
	}
	return nil
}

// relationsOnly is the changed fields of an update of the relations alone.
var relationsOnly = []string{"relations"}

const versionColumns = `seq, ref, operation, location_id, etag, actor, at, data`

type versionRow struct {
	Seq        int64          `db:"seq"`
	Ref        string         `db:"ref"`
	Op         string         `db:"operation"`
	LocationID string         `db:"location_id"`
	Etag       string         `db:"etag"`
	Actor      string         `db:"actor"`
	At         time.Time      `db:"at"`
	Data       sql.NullString `db:"data"`
}

func (r versionRow) toCatalog() catalog.Version {
	v := catalog.Version{Seq: r.Seq, Ref: r.Ref, Op: catalog.ChangeOp(r.Op), LocationID: r.LocationID,
		Etag: r.Etag, Actor: r.Actor, At: r.At.UTC()}
	if r.Data.Valid {
		v.Data = []byte(r.Data.String)
	}
	return v
}

// EntityHistory returns the versions of the entity ref (canonical), newest
// first, numbered below before (0: from the newest), at most limit of
// them.
func (db *DB) EntityHistory(ctx context.Context, ref string, before int64, limit int) ([]catalog.Version, error) {
	q := `SELECT ` + versionColumns + ` FROM entity_history WHERE ref = ?`
	args := []any{strings.ToLower(ref)}
	if before != 0 {
		q += ` AND seq < ?`
		args = append(args, before)
	}
	q += ` ORDER BY seq DESC LIMIT ?`
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
		WHERE ref = ? AND at <= ? ORDER BY seq DESC LIMIT 1`), strings.ToLower(ref), t.UTC())
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
		WHERE ref = ? AND data IS NOT NULL ORDER BY seq DESC LIMIT 1`), strings.ToLower(ref))
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
			WHERE n.ref = entity_history.ref AND n.seq > entity_history.seq AND n.at < ?))`), cutoff, cutoff)
	if err != nil {
		return 0, fmt.Errorf("store: prune history: %w", formatError(err))
	}
	n, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, formatError(err)
	}
	return n, nil
}
