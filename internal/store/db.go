package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
)

// DB is an open catalog database: a pool for writes and one for reads,
// which its dialect may make one and the same (see each dialect's connect).
type DB struct {
	d     dialect
	w     *sqlx.DB  // writes
	r     *readPool // reads
	cache *readCache
	log   *slog.Logger
	now   func() time.Time
}

// Dialect returns the database's dialect.
func (db *DB) Dialect() Dialect { return db.d.name() }

// Open opens the database a URL names: postgres:// or postgresql:// select
// PostgreSQL; a path, or a sqlite: or file: URL, selects SQLite. It does not
// migrate; call [DB.Migrate].
func Open(ctx context.Context, dsn string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db := &DB{log: log.With("component", "store"), now: func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) },
		cache: newReadCache(DefaultCacheSize)}
	db.d = dialectFor(dsn)
	w, r, err := db.d.connect(dsn)
	if err != nil {
		return nil, err
	}
	db.w, db.r = w, newReadPool(r)
	if err := db.w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s database: %w", db.d.name(), err)
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	db.r.closeStatements()
	err := db.w.Close()
	if db.r.DB != db.w {
		err = errors.Join(err, db.r.DB.Close())
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.r.PingContext(ctx) }

// provider returns a goose provider over the dialect's embedded migrations.
func (db *DB) provider() (*goose.Provider, error) {
	return db.d.provider(db.w.DB, goose.WithSlog(db.log.With("component", "migrate")))
}

// Migrate applies every pending migration.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.provider()
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate up: %w", err)
	}
	return nil
}

// MigrateDown rolls back the most recent migration.
func (db *DB) MigrateDown(ctx context.Context) error {
	p, err := db.provider()
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if _, err := p.Down(ctx); err != nil {
		return fmt.Errorf("store: migrate down: %w", err)
	}
	return nil
}

// MigrationStatus describes one migration and whether it is applied.
type MigrationStatus struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

// MigrationStatus lists every migration with its state.
func (db *DB) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	p, err := db.provider()
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migration status: %w", err)
	}
	out := make([]MigrationStatus, len(st))
	for i, s := range st {
		out[i] = MigrationStatus{
			Version: s.Source.Version, Name: filepath.Base(s.Source.Path),
			Applied: s.State == goose.StateApplied, AppliedAt: s.AppliedAt,
		}
	}
	return out, nil
}
