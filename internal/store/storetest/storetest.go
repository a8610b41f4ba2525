// Package storetest opens real, migrated, throw-away databases for tests:
// a SQLite file in the test's temporary directory, and a fresh PostgreSQL
// database on the server named by GREENROOM_TEST_POSTGRES_URL, dropped when
// the test ends.
package storetest

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/greenroomhq/greenroom/internal/store"
)

// EnvPostgres names the environment variable holding the PostgreSQL server
// URL tests use.
const EnvPostgres = "GREENROOM_TEST_POSTGRES_URL"

// Each runs fn as a subtest against SQLite, and against PostgreSQL when
// [EnvPostgres] is set.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, MustOpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, MustOpenPostgres(t)) })
}

// EachParallel is [Each] with both subtests parallel. Each subtest pauses
// before it opens its database: a subtest that opened its database and then
// called t.Parallel held the connections while it waited for every other
// test of its package, and 46 such idle databases (96 connections) hit
// PostgreSQL's default max_connections of 100 in CI.
func EachParallel(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); fn(t, MustOpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); fn(t, MustOpenPostgres(t)) })
}

// MustOpenSQLite opens a migrated SQLite database in a temporary directory.
func MustOpenSQLite(tb testing.TB) *store.DB {
	tb.Helper()
	return mustOpen(tb, filepath.Join(tb.TempDir(), "greenroom.db"))
}

// MustOpenPostgres creates a fresh PostgreSQL database, migrates it and
// drops it when the test ends. It skips the test when [EnvPostgres] is unset.
func MustOpenPostgres(tb testing.TB) *store.DB {
	tb.Helper()
	dsn := PostgresURL(tb)
	return mustOpen(tb, dsn)
}

// PostgresURL creates a fresh, empty PostgreSQL database, dropped when the
// test ends, and returns its URL. It skips the test when [EnvPostgres] is
// unset.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	server := os.Getenv(EnvPostgres)
	if server == "" {
		tb.Skip(EnvPostgres + " not set")
	}
	dsn, drop, err := store.CreatePostgresDatabase(context.Background(), server, "greenroom_test_")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Error(err)
		}
	})
	return withPoolSize(dsn, testPoolSize)
}

// testPoolSize bounds each test database's pool: parallel tests of two
// packages at a time, each with the production pool of 20, passed the
// server's default max_connections of 100 ("too many clients").
const testPoolSize = 5

// withoutPoolSize takes back what withPoolSize added, for connections
// opened without the store, which would send it to the server.
func withoutPoolSize(dsn string) string {
	if i := strings.Index(dsn, "pool_max_conns="); i > 0 {
		return dsn[:i-1]
	}
	return dsn
}

func withPoolSize(dsn string, n int) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "pool_max_conns=" + strconv.Itoa(n)
}

func mustOpen(tb testing.TB, dsn string) *store.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	dsns.Store(db, dsn)
	return db
}

// dsns remembers the database each opened DB is on, for Reopen.
var dsns sync.Map

// Reopen opens a second, independent DB on the database db is on: another
// process, as far as db can tell.
func Reopen(tb testing.TB, db *store.DB) *store.DB {
	tb.Helper()
	dsn, ok := dsns.Load(db)
	if !ok {
		tb.Fatal("storetest: Reopen of a DB storetest did not open")
	}
	return mustOpen(tb, dsn.(string))
}

// MustExec runs statements on the database db is on, over a connection of
// its own: for tests that change the schema or the data behind the store's
// back, as an operator or a broken migration might.
func MustExec(tb testing.TB, db *store.DB, stmts ...string) {
	tb.Helper()
	dsn, ok := dsns.Load(db)
	if !ok {
		tb.Fatal("storetest: MustExec on a DB storetest did not open")
	}
	driver, source := "postgres", withoutPoolSize(dsn.(string))
	if db.Dialect() == store.SQLite {
		driver, source = "sqlite", "file:"+source+"?_pragma=busy_timeout(10000)"
	}
	conn, err := sql.Open(driver, source)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	for _, s := range stmts {
		if _, err := conn.Exec(s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
}
