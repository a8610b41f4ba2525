package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/XSAM/otelsql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// DB is an open catalog database: a pool for writes and one for reads,
// which its dialect may make one and the same (see each dialect's connect).
type DB struct {
	d        dialect
	w        *sqlx.DB  // writes
	r        *readPool // reads
	cache    *readCache
	log      *slog.Logger
	now      func() time.Time
	watchers watchers
	// terms are search terms this process added to the vocabulary.
	terms *lru.Cache[string, struct{}]
	// waiting counts the writes waiting for a connection of w (see
	// [DB.writeWaiting]).
	waiting atomic.Int32

	// file is the SQLite database's path, "" on PostgreSQL; writerCache
	// is the writer's page cache in KiB (see [DB.fitWriterCache]).
	file        string
	writerCache atomic.Int64

	// dsn and open reopen the database: PostgreSQL's change-feed listener
	// opens a connection of its own, and River may (see [DB.JobDriver]).
	dsn       string
	open      opener
	jobsOnce  sync.Once
	jobs      riverdriver.Driver[*sql.Tx]
	jobsClose func() error
	jobsErr   error
}

// beginWrite begins a write transaction, counted as waiting until it has
// its connection.
func (db *DB) beginWrite(ctx context.Context) (*sqlx.Tx, error) {
	db.waiting.Add(1)
	defer db.waiting.Add(-1)
	return db.w.BeginTxx(ctx, nil)
}

// The writer's page cache on SQLite, in KiB: a quarter of the database
// file, in steps of 4 MiB between these bounds. Index pages that a part of
// a refresh dirties and the cache cannot hold are written to the WAL
// before the commit and read back, so a cache small against the indexes
// multiplies a refresh's writes: 100,000 entities (a 680 MB file) took
// 67 s to ingest with 16 MiB and 56 s with 64 MiB, in parts of 1,000
// (128 MiB was no faster and took 420 MB of RSS). Sized to the file, a
// catalog of 10,000 entities (70 MB) keeps 16 MiB and its peak RSS; a
// fixed 64 MiB added 90 MB to it.
const (
	minWriterCache = 16 << 10
	maxWriterCache = 64 << 10
)

// fitWriterCache sizes SQLite's writer page cache to the database file,
// in tx, which holds the writer; it runs a statement only when the size
// changes, a dozen times as a catalog grows to its largest.
func (db *DB) fitWriterCache(ctx context.Context, tx *sqlx.Tx) error {
	if db.file == "" {
		return nil
	}
	fi, err := os.Stat(db.file)
	if err != nil {
		return nil // the cache keeps its size; the write itself will say what is wrong
	}
	kib := min(max(fi.Size()/4>>10, minWriterCache), maxWriterCache) &^ (4<<10 - 1)
	if kib == db.writerCache.Load() {
		return nil
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", kib)); err != nil {
		return formatError(err)
	}
	db.writerCache.Store(kib)
	return nil
}

// withWrite runs fn in a write transaction, committed when fn returns nil.
func (db *DB) withWrite(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return formatError(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return formatError(err)
	}
	return formatError(tx.Commit())
}

// execWrite runs one write statement, counted as waiting until it has its
// connection.
func (db *DB) execWrite(ctx context.Context, query string, args ...any) (sql.Result, error) {
	db.waiting.Add(1)
	defer db.waiting.Add(-1)
	return db.w.ExecContext(ctx, query, args...)
}

// writeWaiting reports whether a write waits for the one connection of a
// writer that has one (SQLite's): a refresh's part then hands it over
// (see [DB.ApplyChangeSet]). Where writers have a pool of connections a
// write waits for rows, not for a connection, and a count of those
// beginning would only cut parts short. The writes of River's client on
// SQLite use a connection of their own and are not counted.
func (db *DB) writeWaiting() bool {
	return db.singleWriter() && db.waiting.Load() > 0
}

// singleWriter reports whether the writer has one connection (SQLite's).
func (db *DB) singleWriter() bool { return db.w.Stats().MaxOpenConnections == 1 }

// Dialect returns the database's dialect.
func (db *DB) Dialect() Dialect { return db.d.name() }

// An Option changes how [Open] opens a database.
type Option func(*openOptions)

type openOptions struct {
	tracer trace.TracerProvider
}

// WithTracerProvider traces every SQL statement, transaction and
// connection as a span (github.com/XSAM/otelsql, which wraps the driver),
// when the context it runs in already carries a span: statements of a
// request or a refresh are traced, the clock-driven ones alone are not.
// The statement's text is recorded, never its arguments. Without it the
// driver is not wrapped at all, so that tracing turned off costs nothing.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *openOptions) { o.tracer = tp }
}

// Open opens the database a URL names: postgres:// or postgresql:// select
// PostgreSQL; a path, or a sqlite: or file: URL, selects SQLite. It does not
// migrate; call [DB.Migrate].
func Open(ctx context.Context, dsn string, log *slog.Logger, options ...Option) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var o openOptions
	for _, opt := range options {
		opt(&o)
	}
	db := &DB{log: log.With("component", "store"), now: func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) },
		cache: newReadCache(DefaultCacheSize), dsn: dsn, open: o.opener()}
	db.terms, _ = lru.New[string, struct{}](searchTermCache) // a positive size never fails
	db.d = dialectFor(dsn)
	w, r, err := db.d.connect(dsn, db.open)
	if err != nil {
		return nil, err
	}
	db.w, db.r = w, newReadPool(r)
	if db.d.name() == SQLite {
		db.file, _ = sqlitePath(dsn)
		db.writerCache.Store(minWriterCache)
	}
	if err := db.w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s database: %w", db.d.name(), err)
	}
	return db, nil
}

// opener opens a pool over a driver: sqlx's own, or one over the driver
// wrapped by otelsql.
type opener func(driverName, dsn string) (*sqlx.DB, error)

// opener returns the opener the options ask for.
func (o openOptions) opener() opener {
	if o.tracer == nil {
		return sqlx.Open
	}
	return func(driverName, dsn string) (*sqlx.DB, error) {
		system := semconv.DBSystemNameSQLite
		if driverName == "postgres" {
			system = semconv.DBSystemNamePostgreSQL
		}
		db, err := otelsql.Open(driverName, dsn,
			otelsql.WithTracerProvider(o.tracer),
			otelsql.WithAttributes(system),
			otelsql.WithSpanOptions(otelsql.SpanOptions{
				OmitConnResetSession: true,
				OmitRows:             true,
				SpanFilter: func(ctx context.Context, _ otelsql.Method, _ string, _ []driver.NamedValue) bool {
					return trace.SpanFromContext(ctx).SpanContext().IsValid()
				},
			}))
		if err != nil {
			return nil, err
		}
		return sqlx.NewDb(db, driverName), nil
	}
}

// PoolStats returns the statistics of the connection pools, by name:
// "writer", and "reader" when the dialect reads from a pool of its own.
func (db *DB) PoolStats() map[string]sql.DBStats {
	out := map[string]sql.DBStats{"writer": db.w.Stats()}
	if db.r.DB != db.w {
		out["reader"] = db.r.DB.Stats()
	}
	return out
}

// Close closes the database.
func (db *DB) Close() error {
	db.r.closeStatements()
	var err error
	if db.jobsClose != nil {
		err = db.jobsClose()
	}
	err = errors.Join(err, db.w.Close())
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

// Migrate applies every pending migration: Greenroom's own (goose), then
// River's, for the jobs (see [DB.JobDriver]).
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.provider()
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	applied, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate up: %w", err)
	}
	for _, m := range applied {
		if m.Source != nil && m.Source.Version == searchMigration {
			if err := db.indexEntities(ctx); err != nil {
				return err
			}
		}
	}
	return db.migrateJobs(ctx)
}

// MigrateDown rolls back the most recent of Greenroom's own migrations;
// River's tables stay.
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
	// River marks one of River's migrations, which MigrateDown leaves.
	River bool
}

// MigrationStatus lists every migration with its state, Greenroom's own
// then River's.
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
	river, err := db.jobMigrationStatus(ctx)
	if err != nil {
		return nil, err
	}
	return append(out, river...), nil
}
