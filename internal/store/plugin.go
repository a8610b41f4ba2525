package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/greenroomhq/greenroom/internal/portal"
)

type pluginRow struct {
	Name    string    `db:"name"`
	URL     string    `db:"url"`
	AddedBy string    `db:"added_by"`
	AddedAt time.Time `db:"added_at"`
}

// Plugins returns the plugin registry, by name.
func (db *DB) Plugins(ctx context.Context) ([]portal.Plugin, error) {
	var rows []pluginRow
	if err := db.r.SelectContext(ctx, &rows, `SELECT name, url, added_by, added_at FROM plugins ORDER BY name`); err != nil {
		return nil, formatError(err)
	}
	out := make([]portal.Plugin, len(rows))
	for i, r := range rows {
		out[i] = portal.Plugin{Name: r.Name, URL: r.URL, AddedBy: r.AddedBy, AddedAt: r.AddedAt.UTC()}
	}
	return out, nil
}

// AddPlugin adds p to the registry. Returns ECONFLICT when a plugin of
// that name is there already.
func (db *DB) AddPlugin(ctx context.Context, p portal.Plugin) error {
	_, err := db.execWrite(ctx, db.w.Rebind(`INSERT INTO plugins (name, url, added_by, added_at) VALUES (?, ?, ?, ?)`),
		p.Name, p.URL, p.AddedBy, p.AddedAt.UTC())
	if err = formatError(err); portal.ErrorCode(err) == portal.ECONFLICT {
		return portal.Errorf(portal.ECONFLICT, "a plugin named %q is registered already: remove it first", p.Name)
	}
	return err
}

// RemovePlugin removes the plugin called name and returns it. Returns
// ENOTFOUND when there is none.
func (db *DB) RemovePlugin(ctx context.Context, name string) (portal.Plugin, error) {
	var r pluginRow
	err := db.withWrite(ctx, func(tx *sqlx.Tx) error {
		return tx.GetContext(ctx, &r, tx.Rebind(`DELETE FROM plugins WHERE name = ? RETURNING name, url, added_by, added_at`), name)
	})
	if portal.ErrorCode(err) == portal.ENOTFOUND {
		return portal.Plugin{}, portal.Errorf(portal.ENOTFOUND, "no plugin named %q is registered", name)
	}
	return portal.Plugin{Name: r.Name, URL: r.URL, AddedBy: r.AddedBy, AddedAt: r.AddedAt.UTC()}, err
}
