package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// RemoveLocation removes a location that left the configuration, as a
// refresh treats the entities a location stopped emitting: with
// opts.DeleteOrphans they are deleted, otherwise they are kept, marked with
// backstage.io/orphan, until another location emits them or they are
// deleted (deleteEntity). The location's own generated Location entity,
// which stands for the registration, is deleted either way, as Backstage
// deletes it. The location is no longer listed, read or refreshed and its
// processing errors go; its row is deleted once no entity names it (see
// migration 00005). Configuring or registering it again brings it back
// with its orphans. Returns ENOTFOUND if there is no such location.
func (db *DB) RemoveLocation(ctx context.Context, id string, opts catalog.RefreshOptions) (catalog.RefreshStats, error) {
	var stats catalog.RefreshStats
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return stats, formatError(err)
	}
	defer tx.Rollback()
	var row locationRow
	if err := tx.GetContext(ctx, &row, tx.Rebind(`
		SELECT id, type, target, configured FROM locations WHERE id = ? AND removed_at IS NULL`), id); err != nil {
		if portal.ErrorCode(formatError(err)) == portal.ENOTFOUND {
			return stats, portal.Errorf(portal.ENOTFOUND, "no location with id %q", id)
		}
		return stats, formatError(err)
	}
	r := &refresh{db: db, tx: tx, loc: row.toCatalog(), now: db.now()}
	var ents []existingRow
	if err := tx.SelectContext(ctx, &ents, tx.Rebind(`
		SELECT id, ref, location_id, location_key, parent_ref, hash, valid, orphan
		FROM entities WHERE location_id = ?`), id); err != nil {
		return stats, fmt.Errorf("store: remove location: %w", formatError(err))
	}
	var gone []string
	for _, e := range ents {
		switch {
		case opts.DeleteOrphans || e.Ref == r.loc.EntityRef():
			gone = append(gone, e.ID)
			r.changes = append(r.changes, catalog.EntityChange(catalog.ChangeDeleted, e.Ref, id, "", nil))
		case !e.Orphan:
			if err := r.setOrphan(ctx, e.ID, true); err != nil {
				return stats, err
			}
			stats.Orphaned++
		}
	}
	for start := 0; start < len(gone); start += entityChunk {
		ids := gone[start:min(start+entityChunk, len(gone))]
		for _, q := range []string{`DELETE FROM relations WHERE originating_id IN (?)`, `DELETE FROM entities WHERE id IN (?)`} {
			q, args, err := sqlx.In(q, ids)
			if err != nil {
				return stats, err
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
				return stats, fmt.Errorf("store: remove location: %w", formatError(err))
			}
		}
	}
	stats.Deleted = len(gone)
	// The errors described what the location served; an empty digest makes
	// its next refresh, should it come back, write them again.
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM processing_errors WHERE location_id = ?`), id); err != nil {
		return stats, fmt.Errorf("store: remove location: %w", formatError(err))
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE locations SET removed_at = ?, errors_hash = '' WHERE id = ?`), r.now, id); err != nil {
		return stats, fmt.Errorf("store: remove location: %w", formatError(err))
	}
	// Removed locations whose orphans have all been deleted or taken by
	// other locations, this one included, are gone for good.
	if _, err := tx.ExecContext(ctx, `
		DELETE FROM locations WHERE removed_at IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM entities e WHERE e.location_id = locations.id)`); err != nil {
		return stats, fmt.Errorf("store: remove location: %w", formatError(err))
	}
	r.changes = append(r.changes, catalog.Change{Op: catalog.ChangeLocationDeleted, Ref: id, LocationID: id})
	if err := db.appendChanges(ctx, tx, actorOf(ctx), r.changes); err != nil {
		return stats, err
	}
	if err := tx.Commit(); err != nil {
		return stats, formatError(err)
	}
	db.committed(ctx, r.changes)
	return stats, nil
}
