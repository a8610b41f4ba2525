package store

import (
	"database/sql"
	"errors"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// formatError maps database errors onto portal codes in one place; each
// dialect reads which constraint its driver's error names. Errors it does
// not know pass through and become EINTERNAL at the edge, where they
// are logged and never shown.
func formatError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return portal.Errorf(portal.ENOTFOUND, "not found")
	}
	for _, d := range dialects {
		switch d.violation(err) {
		case uniqueViolation:
			return portal.Errorf(portal.ECONFLICT, "already exists")
		case foreignKeyViolation:
			return portal.Errorf(portal.EINVALID, "refers to something that does not exist")
		}
	}
	return err
}
