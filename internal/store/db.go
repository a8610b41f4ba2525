package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/XSAM/otelsql"
	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the "postgres" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	_ "modernc.org/sqlite" // the "sqlite" driver

	"github.com/greenroomhq/greenroom/migrations"
)

func init() {
	// sqlx knows modernc's driver name only as "sqlite3".
	sqlx.BindDriver("sqlite", sqlx.QUESTION)
}

// Dialect names a supported database.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open catalog database. SQLite gets one writer connection and a
// pool of readers, since it allows one writer at a time; on PostgreSQL both
// are the same pool.
type DB struct {
	dialect Dialect
	w       *sqlx.DB  // writes
	r       *readPool // reads
	cache   *readCache
	log     *slog.Logger
	now     func() time.Time
}

// Dialect returns the database's dialect.
func (db *DB) Dialect() Dialect { return db.dialect }

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
	open := o.opener()
	db := &DB{log: log.With("component", "store"), now: func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) },
		cache: newReadCache(DefaultCacheSize)}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		dsn, maxConns, err := poolSize(dsn)
		if err != nil {
			return nil, err
		}
		pg, err := open("postgres", dsn)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		pg.SetMaxOpenConns(maxConns)
		pg.SetMaxIdleConns(max(1, maxConns/2))
		pg.SetConnMaxIdleTime(5 * time.Minute)
		db.dialect, db.w, db.r = Postgres, pg, newReadPool(pg)
	} else {
		path, err := sqlitePath(dsn)
		if err != nil {
			return nil, err
		}
		// WAL lets readers run beside the writer; immediate transactions take
		// the write lock at BEGIN, so two writers wait instead of deadlocking.
		params := "_time_format=sqlite&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
		// The writer gets a 16 MiB page cache: a refresh writes a location in
		// one transaction, and a small cache spills it to disk page by page.
		w, err := open("sqlite", "file:"+path+"?"+params+"&_pragma=cache_size(-16384)&_txlock=immediate")
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		w.SetMaxOpenConns(1)
		r, err := open("sqlite", "file:"+path+"?"+params+"&_pragma=query_only(1)")
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		r.SetMaxOpenConns(8)
		db.dialect, db.w, db.r = SQLite, w, newReadPool(r)
	}
	if err := db.w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s database: %w", db.dialect, err)
	}
	return db, nil
}

// opener returns the function that opens a driver's pool: sqlx's, or one
// over the driver wrapped by otelsql.
func (o openOptions) opener() func(driverName, dsn string) (*sqlx.DB, error) {
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

// PoolStats returns the statistics of the connection pools: on SQLite the
// writer's (one connection) and the readers'; on PostgreSQL the one pool,
// as "writer".
func (db *DB) PoolStats() map[string]sql.DBStats {
	out := map[string]sql.DBStats{"writer": db.w.Stats()}
	if db.r.DB != db.w {
		out["reader"] = db.r.DB.Stats()
	}
	return out
}

// DefaultPoolSize is the most connections one process opens to PostgreSQL,
// unless the URL's pool_max_conns parameter (pgx's name for it) says
// otherwise: replicas × pool size must stay under the server's
// max_connections.
const DefaultPoolSize = 20

// poolSize takes the pool_max_conns parameter out of a PostgreSQL URL,
// since lib/pq would send it to the server as a setting.
func poolSize(dsn string) (string, int, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", 0, errors.New("store: the PostgreSQL URL is malformed")
	}
	q := u.Query()
	v := q.Get("pool_max_conns")
	if v == "" {
		return dsn, DefaultPoolSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return "", 0, fmt.Errorf("store: pool_max_conns=%q is not a positive number", v)
	}
	q.Del("pool_max_conns")
	u.RawQuery = q.Encode()
	return u.String(), n, nil
}

// sqlitePath returns the file a SQLite DSN names.
func sqlitePath(dsn string) (string, error) {
	p := dsn
	for _, prefix := range []string{"sqlite://", "sqlite:", "file://", "file:"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			p = rest
			break
		}
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if p == "" {
		return "", errors.New("store: empty SQLite database path")
	}
	if unescaped, err := url.PathUnescape(p); err == nil {
		p = unescaped
	}
	return filepath.Abs(p)
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
// On PostgreSQL a session lock keeps two replicas from migrating at once.
func (db *DB) provider() (*goose.Provider, error) {
	var (
		dialect goose.Dialect
		fsys    fs.FS
		opts    = []goose.ProviderOption{goose.WithSlog(db.log.With("component", "migrate"))}
	)
	switch db.dialect {
	case Postgres:
		dialect, fsys = goose.DialectPostgres, migrations.Postgres()
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	default:
		dialect, fsys = goose.DialectSQLite3, migrations.SQLite()
	}
	return goose.NewProvider(dialect, db.w.DB, fsys, opts...)
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
