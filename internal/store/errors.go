package store

import (
	"database/sql"
	"errors"

	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// formatError maps driver errors onto portal codes in one place. Errors it
// does not know pass through and become EINTERNAL at the edge, where they
// are logged and never shown.
func formatError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return portal.Errorf(portal.ENOTFOUND, "not found")
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code {
		case "23505":
			return portal.Errorf(portal.ECONFLICT, "already exists")
		case "23503":
			return portal.Errorf(portal.EINVALID, "refers to something that does not exist")
		}
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return portal.Errorf(portal.ECONFLICT, "already exists")
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return portal.Errorf(portal.EINVALID, "refers to something that does not exist")
		}
	}
	return err
}
