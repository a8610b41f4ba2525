package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

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
	loc, now := row.toCatalog(), db.now()
	var ents []storedRow
	if err := tx.SelectContext(ctx, &ents, tx.Rebind(`
		SELECT `+storedColumns+` FROM entities WHERE location_id = ?`), id); err != nil {
		return stats, fmt.Errorf("store: remove location: %w", formatError(err))
	}
	var (
		gone    []string
		changes []catalog.Change
	)
	for _, e := range ents {
		switch {
		case opts.DeleteOrphans || e.Ref == loc.EntityRef():
			gone = append(gone, e.ID)
			changes = append(changes, catalog.EntityChange(catalog.ChangeDeleted, e.Ref, id, "", nil))
		case !e.Orphan:
			etag, err := setOrphan(ctx, tx, e.ID, now)
			if err != nil {
				return stats, err
			}
			changes = append(changes, catalog.EntityChange(catalog.ChangeOrphaned, e.Ref, id, etag, []string{catalog.FieldOrphan}))
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
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE locations SET removed_at = ?, errors_hash = '' WHERE id = ?`), now, id); err != nil {
		return stats, fmt.Errorf("store: remove location: %w", formatError(err))
	}
	// Removed locations whose orphans have all been deleted or taken by
	// other locations, this one included, are gone for good.
	if _, err := tx.ExecContext(ctx, `
		DELETE FROM locations WHERE removed_at IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM entities e WHERE e.location_id = locations.id)`); err != nil {
		return stats, fmt.Errorf("store: remove location: %w", formatError(err))
	}
	changes = append(changes, catalog.Change{Op: catalog.ChangeLocationDeleted, Ref: id, LocationID: id})
	if err := db.appendChanges(ctx, tx, actorOf(ctx), changes); err != nil {
		return stats, err
	}
	if err := tx.Commit(); err != nil {
		return stats, formatError(err)
	}
	db.committed(ctx, changes)
	return stats, nil
}

// setOrphan adds the backstage.io/orphan annotation to a stored entity,
// giving it a new etag, which it returns.
func setOrphan(ctx context.Context, tx *sqlx.Tx, id string, now time.Time) (string, error) {
	var data string
	if err := tx.GetContext(ctx, &data, tx.Rebind(`SELECT data FROM entities WHERE id = ?`), id); err != nil {
		return "", formatError(err)
	}
	var e catalog.Entity
	if err := json.Unmarshal([]byte(data), &e); err != nil {
		return "", fmt.Errorf("store: decode entity %s: %w", id, err)
	}
	e.SetAnnotation(catalog.AnnotationOrphan, "true")
	e.Metadata.Etag = ""
	e.Metadata.Etag = e.ContentHash()
	b, err := json.Marshal(&e)
	if err != nil {
		return "", err
	}
	// The annotations column is what annotation filters and facets read:
	// it must gain backstage.io/orphan with the data.
	annotations, _ := json.Marshal(e.Metadata.Annotations)
	_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE entities SET data = ?, annotations = ?, etag = ?, orphan = ?, updated_at = ? WHERE id = ?`),
		string(b), string(annotations), e.Metadata.Etag, true, now, id)
	return e.Metadata.Etag, formatError(err)
}
