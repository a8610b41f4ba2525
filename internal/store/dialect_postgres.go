package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq" // the "postgres" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"

	"github.com/greenroomhq/greenroom/internal/search"
	"github.com/greenroomhq/greenroom/migrations"
)

// postgresDialect is PostgreSQL through lib/pq: a server that several
// replicas share.
type postgresDialect struct{}

func (postgresDialect) name() Dialect { return Postgres }

// connect opens one pool for reads and writes, sized by the URL's
// pool_max_conns parameter.
func (postgresDialect) connect(dsn string, open opener) (w, r *sqlx.DB, err error) {
	dsn, maxConns, err := poolSize(dsn)
	if err != nil {
		return nil, nil, err
	}
	pg, err := open("postgres", dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("store: open postgres: %w", err)
	}
	pg.SetMaxOpenConns(maxConns)
	pg.SetMaxIdleConns(max(1, maxConns/2))
	pg.SetConnMaxIdleTime(5 * time.Minute)
	return pg, pg, nil
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

// provider adds a session lock, which keeps two replicas from migrating at
// once.
func (postgresDialect) provider(db *sql.DB, opts ...goose.ProviderOption) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	opts = append(opts, goose.WithSessionLocker(locker))
	return goose.NewProvider(goose.DialectPostgres, db, migrations.Postgres(), opts...)
}

func (postgresDialect) violation(err error) violation {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code {
		case "23505": // unique_violation
			return uniqueViolation
		case "23503": // foreign_key_violation
			return foreignKeyViolation
		}
	}
	return noViolation
}

func (postgresDialect) anyOf(column string, values []string) (string, any) {
	return column + ` = ANY(?)`, pq.StringArray(values)
}

func (postgresDialect) objectEntries(column string) string {
	return "jsonb_each_text(" + column + ") j"
}

func (postgresDialect) jsonText(column string, path ...string) string {
	return column + " #>> '{" + strings.Join(path, ",") + "}'"
}

func (postgresDialect) lastText(column string) string {
	return column + "[array_length(" + column + ", 1)]"
}

func (postgresDialect) appendJSON(column string) string {
	return "array_append(" + column + ", CAST(? AS jsonb))"
}

func (postgresDialect) now() string { return "now()" }

// pathValues walks with jsonb_each and jsonb_array_elements, side by side
// in one LATERAL subquery, since a recursive query may name itself once.
func (postgresDialect) pathValues(id, doc, from string) string {
	return `WITH RECURSIVE w(id, rest, v) AS (
		SELECT ` + id + `, CAST(? AS TEXT), ` + doc + ` ` + from + `
		UNION ALL
		SELECT w.id, c.rest, c.v FROM w, LATERAL (
			SELECT substr(w.rest, length(j.key) + 2) AS rest, j.value AS v
			FROM jsonb_each(CASE WHEN jsonb_typeof(w.v) = 'object' THEN w.v ELSE '{}' END) j
			WHERE lower(j.key) = w.rest OR left(w.rest, length(j.key) + 1) = lower(j.key) || '.'
			UNION ALL
			SELECT CASE WHEN m.str THEN '' ELSE w.rest END, CASE WHEN m.str THEN 'true'::jsonb ELSE a.value END
			FROM jsonb_array_elements(CASE WHEN jsonb_typeof(w.v) = 'array' THEN w.v ELSE '[]' END) a,
				LATERAL (SELECT jsonb_typeof(a.value) = 'string' AND w.rest <> '' AND lower(a.value #>> '{}') = w.rest AS str) m
		) c
	)
	SELECT w.id AS id, w.v #>> '{}' AS v FROM w WHERE w.rest = '' AND jsonb_typeof(w.v) NOT IN ('object', 'array')`
}

// lockRows locks the rows for update: two replicas that write the same
// rows take turns.
func (postgresDialect) lockRows() string { return " FOR UPDATE" }

// insertNew copies the rows in with COPY FROM STDIN, several times faster
// than INSERT for many rows.
func (postgresDialect) insertNew(ctx context.Context, tx *sqlx.Tx, t *bulkTable, n int, row rowFunc) error {
	if n == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn(t.name, t.columns...))
	if err != nil {
		return formatError(err)
	}
	defer stmt.Close()
	var args []any // lib/pq encodes a row's values before Exec returns
	for i := range n {
		args = row(args[:0], i)
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return formatError(err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return formatError(err)
	}
	return nil
}

func (postgresDialect) upsert(ctx context.Context, tx *sqlx.Tx, t *bulkTable, n int, row rowFunc) error {
	return insertValues(ctx, tx, "INSERT", t, n, row)
}

// notify sends the position as a notification, which PostgreSQL delivers
// when tx commits, in commit order.
func (postgresDialect) notify(ctx context.Context, tx *sqlx.Tx, position int64) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_notify('`+notifyChannel+`', $1)`, strconv.FormatInt(position, 10))
	return formatError(err)
}

// watch listens to the feed's channel (see listen). Notifications sent
// while the listener was disconnected are lost, so on reconnecting it
// wakes with the head.
func (postgresDialect) watch(ctx context.Context, db *DB, wake func(int64)) error {
	head := func() {
		if h, err := db.feedHead(ctx); err == nil {
			wake(h.Position)
		}
	}
	return listen(ctx, db, notifyChannel, head, func(extra string) {
		p, err := parsePosition(extra)
		if err != nil {
			db.log.WarnContext(ctx, "change feed", "err", err)
			return
		}
		wake(p)
	})
}

// notifyTask sends a task's id when tx, which wrote its events, commits.
func (postgresDialect) notifyTask(ctx context.Context, tx *sqlx.Tx, taskID string) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_notify('`+taskChannel+`', $1)`, taskID)
	return formatError(err)
}

// watchTasks listens to the tasks' channel; after a reconnection it wakes
// every task ("": what was sent meanwhile is lost).
func (postgresDialect) watchTasks(ctx context.Context, db *DB, wake func(taskID string)) error {
	return listen(ctx, db, taskChannel, func() { wake("") }, wake)
}

// listen listens to a channel on a connection of its own, outside the
// pools (lib/pq's Listener, which reconnects by itself), calling
// reconnected once listening (for what was sent before) and after each
// reconnection, and notified with each notification's payload; a ping
// every minute finds a connection that died quietly.
func listen(ctx context.Context, db *DB, channel string, reconnected func(), notified func(string)) error {
	dsn, _, err := poolSize(db.dsn)
	if err != nil {
		return err
	}
	l := pq.NewListener(dsn, 50*time.Millisecond, 5*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil && ctx.Err() == nil {
			db.log.WarnContext(ctx, "listener connection", "channel", channel, "event", int(ev), "err", err)
		}
	})
	defer l.Close()
	if err := l.Listen(channel); err != nil {
		return fmt.Errorf("store: listen to %s: %w", channel, err)
	}
	reconnected()
	ping := time.NewTicker(time.Minute)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-l.Notify:
			if n == nil {
				reconnected()
				continue
			}
			notified(n.Extra)
		case <-ping.C:
			if err := l.Ping(); err != nil {
				db.log.WarnContext(ctx, "listener ping", "channel", channel, "err", err)
			}
		}
	}
}

// jobDriver is River's database/sql driver over the store's own pool: River
// takes a connection only for each statement, and its jobs claim with
// FOR UPDATE SKIP LOCKED, so replicas share the queue. lib/pq gives River
// no listener, so River polls (see internal/jobs).
func (postgresDialect) jobDriver(w *sqlx.DB, _ string, _ opener) (riverdriver.Driver[*sql.Tx], func() error, error) {
	return riverdatabasesql.New(w.DB), nil, nil
}

// migrationLockKey is the advisory lock River's migrations run under; any
// constant other than goose's own key would do.
const migrationLockKey = 0x67726e6a6f6273 // "grnjobs"

// migrationLock holds a session advisory lock on a connection of its own:
// River's migrator runs each migration in a transaction of its own (an enum
// value it adds cannot be used in the transaction that adds it), so the
// lock cannot live in one of them.
func (postgresDialect) migrationLock(ctx context.Context, db *sqlx.DB) (func(), error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		conn.Close()
		return nil, err
	}
	return func() {
		// The connection is dropped rather than kept idle in the pool,
		// which releases the lock too: many databases opened at once (as
		// tests do) would otherwise each keep one more connection.
		conn.Raw(func(any) error { return driver.ErrBadConn })
		conn.Close()
	}, nil
}

// searchMatch matches the tsvector of the tier's fields, head (name A,
// title B, keywords C) or words (and text D), with each word a prefix
// (`pay:*`), ranked by ts_rank with its default weights (1, 0.4, 0.2,
// 0.1); or, in ModeParts, the lower-cased short fields with each word
// anywhere (LIKE '%atewa%', which the pg_trgm index serves), those with
// them in their name first, then the shortest: word_similarity ranked
// better but cost 25 µs a row.
func (d postgresDialect) searchMatch(p search.Plan, t search.Tier, scored bool) (string, []any) {
	cond, args := d.searchCond(p, t)
	if !scored {
		return `SELECT s.id FROM search_docs s WHERE ` + cond, args
	}
	if p.Mode == search.ModeParts {
		// A hit with the parts in its name first, then the shortest.
		inName, nameArgs := hasParts(p, "lower(s.name)")
		return `SELECT s.id, CASE WHEN ` + inName + ` THEN 1 ELSE 0 END + 1.0 / (1 + length(s.parts)) AS score
			FROM search_docs s WHERE ` + cond, append(nameArgs, args...)
	}
	column := tsColumn(t.In)
	return `SELECT s.id, ts_rank(s.` + column + `, to_tsquery('simple', ?)) AS score FROM search_docs s WHERE ` + cond,
		append([]any{tsQuery(p)}, args...)
}

// searchTerms reads the vocabulary, search_terms, which holds every word
// of the index, written with the rows (see writeTerms); a word cut to
// search.MaxTermBytes is only matched as a prefix. GIN matches a prefix
// (`fancy:* & alert:* & …`) by merging the entries of each before
// intersecting them: 5.2 ms against 0.4 for the whole words of a
// generated component's name among 158,787 rows.
func (postgresDialect) searchTerms(ctx context.Context, db *DB, prefix string) ([]string, bool, error) {
	var terms []string
	if err := db.r.SelectContext(ctx, &terms, `SELECT term FROM search_terms WHERE term >= $1 AND term < $2 ORDER BY term LIMIT $3`,
		prefix, prefix+"\U0010FFFF", search.MaxTerms+1); err != nil {
		return nil, false, formatError(err)
	}
	for _, t := range terms {
		if len(t) >= search.MaxTermBytes {
			return terms, false, nil
		}
	}
	return terms, len(terms) > 0 && len(terms) <= search.MaxTerms, nil
}

// searchBySize puts the match in the condition: PostgreSQL then walks the
// size index and checks each row (10 ms for the 5,278 hits with "ledger"
// in their short fields, against 27 joining the match's ids).
func (d postgresDialect) searchBySize(p search.Plan, t search.Tier) (string, string, []any) {
	cond, args := d.searchCond(p, t)
	return "search_docs s", cond, args
}

// searchCond is the condition on search_docs s of the rows in tier t
// whose words match p.
func (postgresDialect) searchCond(p search.Plan, t search.Tier) (string, []any) {
	if p.Mode == search.ModeParts {
		return hasParts(p, "s.parts")
	}
	q := tsQuery(p)
	cond := "s." + tsColumn(t.In) + " @@ to_tsquery('simple', ?)"
	args := []any{q}
	if t.Not != 0 {
		cond += " AND NOT s." + tsColumn(t.Not) + " @@ to_tsquery('simple', ?)"
		args = append(args, q)
	}
	return cond, args
}

// hasParts is the condition that the text expr has every word of p (one
// of its alternatives) somewhere in it, and its arguments.
func hasParts(p search.Plan, expr string) (string, []any) {
	var conds []string
	var args []any
	for _, alts := range p.Words {
		var ors []string
		for _, w := range alts {
			ors = append(ors, expr+" LIKE ?")
			args = append(args, "%"+escapeLike(w)+"%")
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	return strings.Join(conds, " AND "), args
}

// tsColumn is the tsvector of the fields f: head or words.
func tsColumn(f search.Fields) string {
	if f == search.FieldsHead {
		return "head"
	}
	return "words"
}

// tsQuery writes p's words as a tsquery of prefixes, or of the words they
// begin (see searchTerms).
func tsQuery(p search.Plan) string {
	var b strings.Builder
	for i, alts := range p.Words {
		if i > 0 {
			b.WriteString(" & ")
		}
		words, suffix := alts, ":*"
		if i < len(p.Terms) && p.Terms[i] != nil {
			words, suffix = p.Terms[i], ""
		}
		b.WriteString("(")
		for j, w := range words {
			if j > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(w + suffix)
		}
		b.WriteString(")")
	}
	return b.String()
}
