package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver"

	"github.com/greenroomhq/greenroom/internal/search"
)

// Dialect names a supported database.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// dialect is everything the store does differently on SQLite and on
// PostgreSQL. The rest of the store writes one SQL text for both and never
// asks which database it is on. [Open] picks the dialect once, from the
// URL; the two implementations sit side by side in dialect_sqlite.go and
// dialect_postgres.go, so that each difference is read and changed in both
// forms at once.
//
// Fragments are constants, or a constant around a column or JSON path the
// caller names: no method formats a value into SQL. The reads a request
// makes (filters, lists, relations) cost no more than the branches they
// replaced: a filter with a label is built with 21 allocations rather than
// 25 on PostgreSQL, 24 rather than 26 on SQLite.
//
// Full-text search is one method, the match (searchMatch): the index is
// kept by the migrations, FTS5 tables on SQLite, a tsvector and a pg_trgm
// index on PostgreSQL, over one table both write the same way. A job claim is a
// sibling of lockRows (FOR UPDATE SKIP LOCKED on PostgreSQL, where replicas
// claim side by side; nothing on SQLite, whose one writer claims alone).
// The change feed wakes other processes with NOTIFY and LISTEN on
// PostgreSQL, by polling on SQLite (notify and watch).
type dialect interface {
	// name is the dialect's public name.
	name() Dialect

	// connect opens, with open, the writer and reader pools over the
	// database dsn names. They are the same pool when the database needs
	// no split.
	connect(dsn string, open opener) (w, r *sqlx.DB, err error)

	// provider returns a goose provider over the dialect's embedded
	// migrations, with opts and whatever the dialect adds to them.
	provider(db *sql.DB, opts ...goose.ProviderOption) (*goose.Provider, error)

	// violation reads which constraint err broke, if err is the driver's.
	violation(err error) violation

	// anyOf returns a condition that column is one of values, and its one
	// argument: one argument rather than one per value keeps one prepared
	// statement for every length of list. See [inList].
	anyOf(column string, values []string) (cond string, arg any)

	// objectEntries returns a table expression, aliased j, whose rows are
	// the keys and values (as text, columns key and value) of the JSON
	// object in column.
	objectEntries(column string) string

	// jsonText returns an expression for the text at path in the JSON of
	// column. The path is the store's own names, never input.
	jsonText(column string, path ...string) string

	// pathValues returns a query of the values at a dotted path in JSON
	// documents, as Backstage's search rows hold them (see
	// [catalog.FieldFilter]): object keys compared lower-cased, a key may
	// hold dots, arrays crossed, and a string x in an array at the path's
	// parent read as the value true of path ….x. Its columns are id and v,
	// the value as text (true, false, numbers as written; NULL for a JSON
	// null); objects and arrays are no values. The documents are doc, of
	// the rows id names, from the tables of from ("" when the query is
	// correlated with one row). Its first argument is the lower-cased
	// path, then those of from. The path is walked, not the whole
	// document, so a document costs about as many rows as the path has
	// keys.
	pathValues(id, doc, from string) string

	// searchMatch returns a query of the search rows whose words match p
	// in tier t's fields and not in those of the tier before, with column
	// id, and score when scored (the higher the better), and its
	// arguments. A tier's fields are search.FieldsHead or FieldsAll, and
	// the tier before's none or FieldsHead. The words are the query's, of letters and digits only
	// (search.Words), passed as arguments like any value.
	searchMatch(p search.Plan, t search.Tier, scored bool) (string, []any)

	// searchTerms returns the words of the search index that begin with
	// prefix, at most search.MaxTerms+1, and whether they are all of them
	// and whole, which a match of the prefix can then be written as.
	searchTerms(ctx context.Context, db *DB, prefix string) ([]string, bool, error)

	// searchBySize returns a table expression with search_docs s, read in
	// the order of an index on size, and a condition on s that selects
	// the rows searchMatch would, and its arguments: a large tier's first
	// hits by size are found by walking that index, without reading every
	// hit.
	searchBySize(p search.Plan, t search.Tier) (table, cond string, args []any)

	// lockRows ends a SELECT in a write transaction so that the rows it
	// reads stay locked until the transaction ends.
	lockRows() string

	// insertNew writes n rows, produced by row, that are new to table t, by
	// the fastest means the database has.
	insertNew(ctx context.Context, tx *sqlx.Tx, t *bulkTable, n int, row rowFunc) error

	// upsert writes n rows, produced by row, with multi-row INSERTs that end
	// with t.onConflict.
	upsert(ctx context.Context, tx *sqlx.Tx, t *bulkTable, n int, row rowFunc) error

	// notify tells other processes, once tx commits, that the change feed
	// reached position; a no-op where they poll instead.
	notify(ctx context.Context, tx *sqlx.Tx, position int64) error

	// watch calls wake with positions other processes' commits reached,
	// until ctx ends (see [DB.WatchChanges]).
	watch(ctx context.Context, db *DB, wake func(position int64)) error

	// notifyTask tells other processes, once tx commits, that a task has
	// new events; watchTasks calls wake with the tasks other processes'
	// commits gave events ("" for any task: look at all).
	notifyTask(ctx context.Context, tx *sqlx.Tx, taskID string) error
	watchTasks(ctx context.Context, db *DB, wake func(taskID string)) error

	// jobDriver returns River's driver over the database, given the
	// writer pool and the URL, and what closes whatever it opened.
	jobDriver(w *sqlx.DB, dsn string, open opener) (riverdriver.Driver[*sql.Tx], func() error, error)

	// lastText returns an expression for the last element, as text, of an
	// array column of River's: text[] on PostgreSQL, JSON on SQLite.
	lastText(column string) string

	// appendJSON returns an expression for an array column of River's with
	// the JSON value of one argument appended: jsonb[] on PostgreSQL, JSON
	// on SQLite.
	appendJSON(column string) string

	// now returns an expression for the database's time now, as River
	// stores its times.
	now() string

	// migrationLock takes the lock that keeps two processes from running
	// River's migrations at once, and returns what releases it.
	migrationLock(ctx context.Context, db *sqlx.DB) (release func(), err error)
}

// dialectFor returns the dialect of a database URL: postgres:// or
// postgresql:// name PostgreSQL, anything else a SQLite file.
func dialectFor(dsn string) dialect {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return postgresDialect{}
	}
	return sqliteDialect{}
}

// dialects are both dialects, for [formatError], which has no database at
// hand: an error itself tells which driver made it.
var dialects = [...]dialect{sqliteDialect{}, postgresDialect{}}

// violation is a kind of constraint a write broke.
type violation int

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
)

// bulkTable is a table the store writes many rows of at a time, with the
// text of its INSERT statements built once.
type bulkTable struct {
	name    string
	columns []string
	// chunk is the most rows one INSERT carries, kept under both
	// databases' limits on parameters.
	chunk int
	// onConflict ends an upsert: ON CONFLICT (...) DO UPDATE SET ...
	onConflict string

	into string // "INTO name (columns) VALUES "
	row  string // "(?,?,...)"
}

func newBulkTable(name string, chunk int, onConflict string, columns ...string) *bulkTable {
	return &bulkTable{
		name: name, columns: columns, chunk: chunk, onConflict: onConflict,
		into: " INTO " + name + " (" + strings.Join(columns, ", ") + ") VALUES ",
		row:  "(" + strings.TrimSuffix(strings.Repeat("?,", len(columns)), ",") + ")",
	}
}

// rowFunc appends the values of row i, in the table's column order, to dst
// and returns it: the rows are read straight from the caller's slice,
// without a slice of values per row.
type rowFunc func(dst []any, i int) []any

// insertValues writes n rows to t with multi-row INSERT statements that
// begin with verb and end with t.onConflict.
func insertValues(ctx context.Context, tx *sqlx.Tx, verb string, t *bulkTable, n int, row rowFunc) error {
	var (
		sb   strings.Builder
		args []any
	)
	for start := 0; start < n; start += t.chunk {
		end := min(start+t.chunk, n)
		sb.Reset()
		sb.WriteString(verb)
		sb.WriteString(t.into)
		args = args[:0]
		for i := start; i < end; i++ {
			if i > start {
				sb.WriteByte(',')
			}
			sb.WriteString(t.row)
			args = row(args, i)
		}
		sb.WriteString(t.onConflict)
		if _, err := tx.ExecContext(ctx, tx.Rebind(sb.String()), args...); err != nil {
			return formatError(err)
		}
	}
	return nil
}
