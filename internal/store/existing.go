package store

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// OpenExisting is [Open] for commands that only look: a SQLite file that
// does not exist is ENOTFOUND, where Open would create an empty database
// and the command would report an empty catalog as all clear. A
// PostgreSQL database is opened as Open opens it.
func OpenExisting(ctx context.Context, dsn string, log *slog.Logger, options ...Option) (*DB, error) {
	if dialectFor(dsn).name() == SQLite {
		path, err := sqlitePath(dsn)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, portal.Errorf(portal.ENOTFOUND, "no database at %s: name one with --database or GREENROOM_DATABASE, or create it with greenroom ingest or serve", path)
		}
	}
	return Open(ctx, dsn, log, options...)
}
