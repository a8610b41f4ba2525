package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite" // the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/greenroomhq/greenroom/internal/search"
	"github.com/greenroomhq/greenroom/migrations"
)

func init() {
	// sqlx knows modernc's driver name only as "sqlite3": without this,
	// Rebind would not know that SQLite takes ? placeholders as written.
	sqlx.BindDriver("sqlite", sqlx.QUESTION)
}

// sqliteDialect is SQLite through the pure-Go modernc.org/sqlite: one file,
// one writer at a time.
type sqliteDialect struct{}

func (sqliteDialect) name() Dialect { return SQLite }

// connect opens one writer connection, since SQLite allows one writer at a
// time, and a pool of read-only readers beside it.
func (sqliteDialect) connect(dsn string, open opener) (w, r *sqlx.DB, err error) {
	path, err := sqlitePath(dsn)
	if err != nil {
		return nil, nil, err
	}
	// WAL lets readers run beside the writer; immediate transactions take
	// the write lock at BEGIN, so two writers wait instead of deadlocking.
	params := "_time_format=sqlite&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	// The writer starts with a 16 MiB page cache, which keeps the pages a
	// refresh writes part after part; [DB.fitWriterCache] grows it with the
	// database. It checkpoints the WAL into the database every 8,192 pages
	// (32 MiB) instead of SQLite's 1,000: a refresh commits a part at a
	// time, and checkpointing at 1,000 pages made every other part (of
	// 1,000 entities then) copy and sync the database (10,000 entities:
	// 3.9 s against 3.4 s).
	w, err = open("sqlite", "file:"+path+"?"+params+"&_pragma=cache_size(-16384)&_pragma=wal_autocheckpoint(8192)&_txlock=immediate")
	if err != nil {
		return nil, nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	r, err = open("sqlite", "file:"+path+"?"+params+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	r.SetMaxOpenConns(8)
	return w, r, nil
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

func (sqliteDialect) provider(db *sql.DB, opts ...goose.ProviderOption) (*goose.Provider, error) {
	return goose.NewProvider(goose.DialectSQLite3, db, migrations.SQLite(), opts...)
}

func (sqliteDialect) violation(err error) violation {
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return uniqueViolation
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return foreignKeyViolation
		}
	}
	return noViolation
}

// anyOf passes the list as a JSON array, read back by json_each: SQLite
// has no array parameters.
func (sqliteDialect) anyOf(column string, values []string) (string, any) {
	data, _ := json.Marshal(values) // strings always marshal
	return column + ` IN (SELECT value FROM json_each(?))`, string(data)
}

func (sqliteDialect) objectEntries(column string) string {
	return "json_each(" + column + ") j"
}

func (sqliteDialect) jsonText(column string, path ...string) string {
	return "json_extract(" + column + ", '$." + strings.Join(path, ".") + "')"
}

func (sqliteDialect) lastText(column string) string {
	return "json_extract(" + column + ", '$[#-1]')"
}

// appendJSON writes JSONB, as River does since its migration 7.
func (sqliteDialect) appendJSON(column string) string {
	return "jsonb_insert(coalesce(" + column + ", jsonb('[]')), '$[#]', json(?))"
}

// now is in River's format for times on SQLite, which it compares as text.
func (sqliteDialect) now() string { return "strftime('%Y-%m-%d %H:%M:%f', 'now')" }

// pathValues walks with json_each. A row's type is kept beside its value
// (t), since json_each gives true as 1; a row that holds no object or
// array is walked as an empty array, as json_each would refuse a bare
// string.
func (sqliteDialect) pathValues(id, doc, from string) string {
	const inArray = `w.t = 'array' AND j.type = 'text' AND w.rest <> '' AND lower(j.value) = w.rest`
	return `WITH RECURSIVE w(id, rest, v, t) AS (
		SELECT ` + id + `, ?, ` + doc + `, 'object' ` + from + `
		UNION ALL
		SELECT w.id,
			CASE WHEN ` + inArray + ` THEN '' WHEN w.t = 'array' THEN w.rest ELSE substr(w.rest, length(j.key) + 2) END,
			CASE WHEN ` + inArray + ` THEN 'true' ELSE j.value END,
			CASE WHEN ` + inArray + ` THEN 'true' ELSE j.type END
		FROM w, json_each(CASE WHEN w.t IN ('object', 'array') THEN w.v ELSE '[]' END) j
		WHERE w.t = 'array' OR lower(j.key) = w.rest OR substr(w.rest, 1, length(j.key) + 1) = lower(j.key) || '.'
	)
	SELECT w.id AS id, CASE w.t WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(w.v AS TEXT) END AS v
	FROM w WHERE w.rest = '' AND w.t NOT IN ('object', 'array')`
}

// lockRows is empty: an immediate transaction holds the database's write
// lock from BEGIN, so no other writer reads the rows meanwhile.
func (sqliteDialect) lockRows() string { return "" }

// insertNew is upsert: SQLite has nothing faster than INSERT.
func (d sqliteDialect) insertNew(ctx context.Context, tx *sqlx.Tx, t *bulkTable, n int, row rowFunc) error {
	return d.upsert(ctx, tx, t, n, row)
}

// upsert writes INSERT OR FAIL: a statement that cannot abort half-way
// needs no statement journal, which makes large inserts several times
// slower. A failure still rolls back the whole transaction.
func (sqliteDialect) upsert(ctx context.Context, tx *sqlx.Tx, t *bulkTable, n int, row rowFunc) error {
	return insertValues(ctx, tx, "INSERT OR FAIL", t, n, row)
}

// notify does nothing: other processes poll the head (see watch).
func (sqliteDialect) notify(context.Context, *sqlx.Tx, int64) error { return nil }

// watch polls the feed's head: SQLite has no way to wake another process.
func (sqliteDialect) watch(ctx context.Context, db *DB, wake func(int64)) error {
	return db.pollHead(ctx, wake)
}

// notifyTask does nothing: other processes poll (see watchTasks).
func (sqliteDialect) notifyTask(context.Context, *sqlx.Tx, string) error { return nil }

// watchTasks polls the newest task events every taskPoll.
func (sqliteDialect) watchTasks(ctx context.Context, db *DB, wake func(string)) error {
	return db.pollTaskEvents(ctx, wake)
}

// jobDriver opens a write connection of River's own on the file, beside the
// store's writer rather than sharing it: River's producers, elector and
// completer would otherwise queue in Go behind a refresh holding the one
// writer, and a River call made while that writer is held (an insert
// outside the caller's transaction) would wait for it forever. Two
// connections wait for each other in SQLite instead, up to busy_timeout
// (10 s), and immediate transactions take the lock at BEGIN, so neither
// fails half-way. One connection is what riversqlite advises.
func (sqliteDialect) jobDriver(_ *sqlx.DB, dsn string, open opener) (riverdriver.Driver[*sql.Tx], func() error, error) {
	path, err := sqlitePath(dsn)
	if err != nil {
		return nil, nil, err
	}
	db, err := open("sqlite", "file:"+path+"?_time_format=sqlite&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, nil, fmt.Errorf("store: open sqlite for jobs: %w", err)
	}
	db.SetMaxOpenConns(1)
	return riversqlite.New(db.DB), db.Close, nil
}

// migrationLock is nothing: River's migrator runs each migration in an
// immediate transaction, so two processes take turns on each; the second
// to start one finds it applied only if the first committed before it
// read the versions, which two processes starting on one file at the same
// instant could miss (the loser fails and a restart succeeds).
func (sqliteDialect) migrationLock(context.Context, *sqlx.DB) (func(), error) { return func() {}, nil }

// searchMatch queries search_words, whose bm25 weighs a word in the name
// 10, in the title 5, in the keywords 2 and in the text 1, with each word
// a prefix (`"pay"*`), or the whole words it begins (see searchTerms); or, in ModeParts, search_parts with each word a
// trigram phrase, which FTS5 matches anywhere in a word. Either has a
// column filter for the tier's fields (`{name title}: (…) NOT {name}:
// (…)`). bm25 is lower for better rows, so the score is its negation.
func (sqliteDialect) searchMatch(p search.Plan, t search.Tier, scored bool) (string, []any) {
	var b strings.Builder
	for i, alts := range p.Words {
		if i > 0 {
			b.WriteString(" AND ")
		}
		words, suffix := alts, "*"
		switch {
		case p.Mode == search.ModeParts:
			suffix = ""
		case i < len(p.Terms) && p.Terms[i] != nil:
			words, suffix = p.Terms[i], ""
		}
		b.WriteString("(")
		for j, w := range words {
			if j > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString(`"` + strings.ReplaceAll(w, `"`, `""`) + `"` + suffix)
		}
		b.WriteString(")")
	}
	table, weights := "search_words", "10.0, 5.0, 2.0, 1.0"
	expr := b.String()
	if p.Mode == search.ModeParts {
		table, weights = "search_parts", "10.0, 5.0, 2.0"
	}
	expr = ftsColumns(t.In, expr)
	if t.Not != 0 {
		expr += " NOT " + ftsColumns(t.Not, b.String())
	}
	score := ""
	if scored {
		score = ", -bm25(" + table + ", " + weights + ") AS score"
	}
	return `SELECT rowid AS id` + score + ` FROM ` + table + ` WHERE ` + table + ` MATCH ?`, []any{expr}
}

// ftsColumns restricts an FTS5 expression to the columns of fields.
func ftsColumns(f search.Fields, expr string) string {
	if f == search.FieldsAll {
		return "(" + expr + ")"
	}
	var cols []string
	for _, c := range []struct {
		f    search.Fields
		name string
	}{{search.FieldName, "name"}, {search.FieldTitle, "title"}, {search.FieldKeywords, "keywords"}, {search.FieldText, "text"}} {
		if f&c.f != 0 {
			cols = append(cols, c.name)
		}
	}
	return "{" + strings.Join(cols, " ") + "}: (" + expr + ")"
}

// searchBySize names the size index: SQLite's planner would read every
// row the match holds, by rowid, and sort them (36 ms for 19,740 docs
// sections, against 11 walking the index).
func (d sqliteDialect) searchBySize(p search.Plan, t search.Tier) (string, string, []any) {
	match, args := d.searchMatch(p, t, false)
	return "search_docs s INDEXED BY search_docs_size_idx", "s.id IN (" + match + ")", args
}

// searchTerms reads search_vocab, FTS5's list of search_words' terms. A
// prefix query (`"fancy"* AND "alert"* AND …`) merges every doclist of
// each prefix whole before intersecting them; whole words are
// intersected by skipping through the rarest: 6.3 ms against 0.3 for
// the four words of a generated component's name among 158,787 rows.
func (sqliteDialect) searchTerms(ctx context.Context, db *DB, prefix string) ([]string, bool, error) {
	var terms []string
	if err := db.r.SelectContext(ctx, &terms, `SELECT term FROM search_vocab WHERE term >= ? AND term < ? ORDER BY term LIMIT ?`,
		prefix, prefix+"\U0010FFFF", search.MaxTerms+1); err != nil {
		return nil, false, formatError(err)
	}
	return terms, len(terms) > 0 && len(terms) <= search.MaxTerms, nil
}
