package store

import (
	"context"
	"time"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// WriteTestChanges appends changes in a transaction of their own, through
// the same path every writer takes (appendChanges, commit, committed), and
// keeps the transaction open for hold after appending them: tests make
// writers overlap where a sequence would let them commit out of order.
func (db *DB) WriteTestChanges(ctx context.Context, actor string, changes []catalog.Change, hold time.Duration) error {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := db.appendChanges(ctx, tx, actor, changes); err != nil {
		return err
	}
	time.Sleep(hold)
	if err := tx.Commit(); err != nil {
		return err
	}
	db.committed(ctx, changes)
	return nil
}
