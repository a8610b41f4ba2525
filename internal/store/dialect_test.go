package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"

	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/search"
)

// TestDialect runs every method of each dialect directly against its
// database. The store's tests reach them through the store; this one says
// which method broke, and fails when a method is added without a case.
func TestDialect(t *testing.T) {
	t.Parallel()
	cases := map[string]func(t *testing.T, db *DB){
		"name":          testDialectName,
		"connect":       testDialectConnect,
		"provider":      testDialectProvider,
		"violation":     testDialectViolation,
		"anyOf":         testDialectAnyOf,
		"objectEntries": testDialectObjectEntries,
		"jsonText":      testDialectJSONText,
		"pathValues":    testDialectPathValues,
		"searchMatch":   testDialectSearchMatch,
		"searchBySize":  testDialectSearchBySize,
		"searchTerms":   testDialectSearchTerms,
		"lockRows":      testDialectLockRows,
		"insertNew":     testDialectInsertNew,
		"upsert":        testDialectUpsert,
		"notify":        testDialectNotify,
		"watch":         testDialectWatch,
		"notifyTask":    testDialectNotifyTask,
		"watchTasks":    testDialectWatchTasks,
		"jobDriver":     testDialectJobDriver,
		"migrationLock": testDialectMigrationLock,
		"lastText":      testDialectLastText,
		"appendJSON":    testDialectAppendJSON,
		"now":           testDialectNow,
	}
	it := reflect.TypeFor[dialect]()
	for i := range it.NumMethod() {
		if name := it.Method(i).Name; cases[name] == nil {
			t.Errorf("dialect method %s has no case in TestDialect", name)
		}
	}
	for _, d := range dialects {
		t.Run(string(d.name()), func(t *testing.T) {
			t.Parallel()
			db := mustOpenDialect(t, d.name())
			for name, c := range cases {
				t.Run(name, func(t *testing.T) { c(t, db) })
			}
		})
	}
}

// mustOpenDialect opens a migrated, throw-away database of dialect name
// (storetest cannot be imported here: it imports the store). PostgreSQL
// needs GREENROOM_TEST_POSTGRES_URL, storetest.EnvPostgres.
func mustOpenDialect(t *testing.T, name Dialect) *DB {
	t.Helper()
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "greenroom.db")
	if name == Postgres {
		server := os.Getenv("GREENROOM_TEST_POSTGRES_URL")
		if server == "" {
			t.Skip("GREENROOM_TEST_POSTGRES_URL not set")
		}
		var drop func() error
		var err error
		if dsn, drop, err = CreatePostgresDatabase(ctx, server, "greenroom_test_"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := drop(); err != nil {
				t.Error(err)
			}
		})
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + "pool_max_conns=3"
	}
	db, err := Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func testDialectName(t *testing.T, db *DB) {
	want := SQLite
	if db.r.DriverName() == "postgres" {
		want = Postgres
	}
	if got := db.Dialect(); got != want {
		t.Errorf("Dialect() = %s over driver %s; want %s", got, db.r.DriverName(), want)
	}
}

func testDialectConnect(t *testing.T, db *DB) {
	ctx := context.Background()
	if _, err := db.w.ExecContext(ctx, db.w.Rebind(`UPDATE change_feed_head SET position = position WHERE id = ?`), 1); err != nil {
		t.Errorf("writing through the writer: %v", err)
	}
	var n int
	if err := db.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM change_feed_head`); err != nil || n != 1 {
		t.Errorf("reading through the reader: %d rows, %v; want 1", n, err)
	}
}

func testDialectProvider(t *testing.T, db *DB) {
	st, err := db.MigrationStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) == 0 {
		t.Fatal("no migrations")
	}
	for _, s := range st {
		if !s.Applied {
			t.Errorf("migration %s not applied", s.Name)
		}
	}
}

func testDialectViolation(t *testing.T, db *DB) {
	ctx := context.Background()
	insert := db.w.Rebind(`INSERT INTO locations (id, type, target, created_at) VALUES (?, 'file', ?, ?)`)
	if _, err := db.w.ExecContext(ctx, insert, "violation-1", "/violation.yaml", db.now()); err != nil {
		t.Fatal(err)
	}
	_, unique := db.w.ExecContext(ctx, insert, "violation-2", "/violation.yaml", db.now())
	_, foreign := db.w.ExecContext(ctx, db.w.Rebind(`
		INSERT INTO processing_errors (id, location_id, location_key, document, line, code, message, created_at)
		VALUES ('violation-3', 'no-such-location', 'file:/x', 0, 0, 'X', 'x', ?)`), db.now())
	for _, c := range []struct {
		err  error
		want violation
		code string
	}{
		{unique, uniqueViolation, portal.ECONFLICT},
		{foreign, foreignKeyViolation, portal.EINVALID},
		{errors.New("not the driver's"), noViolation, ""},
	} {
		if got := db.d.violation(c.err); got != c.want {
			t.Errorf("violation(%v) = %d; want %d", c.err, got, c.want)
		}
		for _, other := range dialects {
			if other != db.d && other.violation(c.err) != noViolation {
				t.Errorf("%s reads a violation in the error of %s: %v", other.name(), db.d.name(), c.err)
			}
		}
		if got := portal.ErrorCode(formatError(c.err)); c.code != "" && got != c.code {
			t.Errorf("formatError(%v) has code %s; want %s", c.err, got, c.code)
		}
	}
}

// dialectTable writes relations two rows per statement, so that three rows
// take two statements.
var dialectTable = newBulkTable("relations", 2, "", "originating_id", "source_ref", "type", "target_ref")

// mustWriteRelations writes relations from source to each target through
// write, one of the dialect's bulk writes.
func mustWriteRelations(t *testing.T, db *DB, write func(context.Context, *sqlx.Tx, *bulkTable, int, rowFunc) error, source string, targets ...string) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	row := func(dst []any, i int) []any { return append(dst, "o-"+source, source, "dependsOn", targets[i]) }
	if err := write(ctx, tx, dialectTable, len(targets), row); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// targetsOf returns the targets of the relations from source, sorted.
func targetsOf(t *testing.T, db *DB, source string) []string {
	t.Helper()
	var got []string
	if err := db.r.SelectContext(context.Background(), &got, db.r.Rebind(
		`SELECT target_ref FROM relations WHERE source_ref = ? ORDER BY target_ref`), source); err != nil {
		t.Fatal(err)
	}
	return got
}

func testDialectInsertNew(t *testing.T, db *DB) {
	mustWriteRelations(t, db, db.d.insertNew, "component:insert", "component:a", "component:b", "component:c")
	mustWriteRelations(t, db, db.d.insertNew, "component:insert-none")
	if diff := cmp.Diff([]string{"component:a", "component:b", "component:c"}, targetsOf(t, db, "component:insert")); diff != "" {
		t.Errorf("rows mismatch (-want +got):\n%s", diff)
	}
}

func testDialectUpsert(t *testing.T, db *DB) {
	ctx := context.Background()
	mustExecDialect(t, db, `INSERT INTO locations (id, type, target, created_at) VALUES ('upsert', 'file', '/upsert.yaml', ?)`, db.now())
	table := newBulkTable("locations", 2, ` ON CONFLICT (id) DO UPDATE SET target = excluded.target`, "id", "type", "target", "created_at")
	ids := []string{"upsert", "upsert-2", "upsert-3"}
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	now := db.now()
	row := func(dst []any, i int) []any { return append(dst, ids[i], "url", "https://example.com/"+ids[i], now) }
	if err := db.d.upsert(ctx, tx, table, len(ids), row); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := db.r.SelectContext(ctx, &got, `SELECT target FROM locations WHERE id LIKE 'upsert%' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	want := []string{"https://example.com/upsert", "https://example.com/upsert-2", "https://example.com/upsert-3"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("targets mismatch (-want +got):\n%s", diff)
	}
}

func testDialectAnyOf(t *testing.T, db *DB) {
	mustWriteRelations(t, db, db.d.upsert, "component:any", "component:x", "component:y", "component:z")
	cond, arg := db.d.anyOf("target_ref", []string{"component:z", "component:x", "component:none"})
	var got []string
	if err := db.r.SelectContext(context.Background(), &got, db.r.Rebind(
		`SELECT target_ref FROM relations WHERE source_ref = ? AND `+cond+` ORDER BY target_ref`), "component:any", arg); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"component:x", "component:z"}, got); diff != "" {
		t.Errorf("rows mismatch (-want +got):\n%s", diff)
	}
}

// mustEntity stores an entity with labels and data, as JSON, and nothing
// else a query here reads.
func mustEntity(t *testing.T, db *DB, ref, labels, data string) {
	t.Helper()
	mustExecDialect(t, db, `INSERT INTO locations (id, type, target, created_at) VALUES (?, 'file', ?, ?)`, "loc-"+ref, "/"+ref, db.now())
	mustExecDialect(t, db, `
		INSERT INTO entities (id, ref, kind, namespace, name, tags, labels, annotations, search_text,
			location_id, location_key, data, hash, etag, valid, created_at, updated_at)
		VALUES (?, ?, 'Component', 'default', ?, '', ?, '{}', '', ?, 'file:/x', ?, 'h', 'e', TRUE, ?, ?)`,
		"id-"+ref, ref, ref, labels, "loc-"+ref, data, db.now(), db.now())
}

func mustExecDialect(t *testing.T, db *DB, q string, args ...any) {
	t.Helper()
	if _, err := db.w.ExecContext(context.Background(), db.w.Rebind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func testDialectObjectEntries(t *testing.T, db *DB) {
	mustEntity(t, db, "component:default/entries", `{"Team":"Blue","tier":"1"}`, `{}`)
	var got []struct {
		Key   string `db:"key"`
		Value string `db:"value"`
	}
	if err := db.r.SelectContext(context.Background(), &got, db.r.Rebind(
		`SELECT j.key, j.value FROM entities e, `+db.d.objectEntries("e.labels")+` WHERE e.ref = ? ORDER BY j.key`),
		"component:default/entries"); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		Key   string `db:"key"`
		Value string `db:"value"`
	}{{"Team", "Blue"}, {"tier", "1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries mismatch (-want +got):\n%s", diff)
	}
}

func testDialectJSONText(t *testing.T, db *DB) {
	mustEntity(t, db, "user:default/json", `{}`, `{"spec":{"profile":{"email":"Jo@Example.com"}}}`)
	var got string
	if err := db.r.GetContext(context.Background(), &got, db.r.Rebind(
		`SELECT `+db.d.jsonText("data", "spec", "profile", "email")+` FROM entities WHERE ref = ?`), "user:default/json"); err != nil {
		t.Fatal(err)
	}
	if got != "Jo@Example.com" {
		t.Errorf("jsonText read %q; want Jo@Example.com", got)
	}
}

func testDialectPathValues(t *testing.T, db *DB) {
	mustEntity(t, db, "component:default/paths", `{}`, `{"metadata":{"annotations":{"Backstage.io/Orphan":"true"},"tags":["java","Go"]},
		"spec":{"Type":"service","n":1.5,"none":null,"links":[{"url":"u1"},{"url":"u2","ok":true}],"deep":{"a":{"b":"c"}}}}`)
	cases := map[string][]string{
		"spec.type": {"service"},
		"metadata.annotations.backstage.io/orphan": {"true"},
		"metadata.tags":      {"Go", "java"},
		"metadata.tags.go":   {"true"},
		"spec.n":             {"1.5"},
		"spec.none":          {"(null)"},
		"spec.links.url":     {"u1", "u2"},
		"spec.links.ok":      {"true"},
		"spec.deep.a.b":      {"c"},
		"spec.deep":          nil, // objects are no values
		"spec.deep.a.b.c":    nil,
		"metadata.tags.rust": nil,
	}
	for path, want := range cases {
		var got []string
		var vals []sql.NullString
		if err := db.r.SelectContext(context.Background(), &vals, db.r.Rebind(
			`SELECT p.v FROM (`+db.d.pathValues("e.id", "e.data", "FROM entities e WHERE e.ref = ?")+`) p ORDER BY p.v`),
			path, "component:default/paths"); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, v := range vals {
			if !v.Valid {
				v.String = "(null)"
			}
			got = append(got, v.String)
		}
		slices.Sort(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: values mismatch (-want +got):\n%s", path, diff)
		}
	}
}

// testDialectSearchMatch matches words by prefix, in a tier's fields and
// not the tier before's, and parts of words; and ranks a word in the name
// above the same word in the text.
func testDialectSearchMatch(t *testing.T, db *DB) {
	ctx := context.Background()
	mustEntity(t, db, "component:default/payment-gateway", `{}`, `{}`)
	mustEntity(t, db, "component:default/ledger", `{}`, `{}`)
	if _, err := db.w.ExecContext(ctx, db.w.Rebind(`INSERT INTO search_docs (`+searchColumns+`) VALUES
		(?, 'entity', 'component', '', '', 'payment-gateway', 'Payment gateway', 'component service', 'Takes card payments.', 60),
		(?, 'entity', 'component', '', '', 'ledger', 'Ledger', 'component', 'Records every payment of the gateway.', 60)`),
		"component:default/payment-gateway", "component:default/ledger"); err != nil {
		t.Fatal(err)
	}
	names := func(p search.Plan, tier search.Tier) []string {
		t.Helper()
		match, args := db.d.searchMatch(p, tier, true)
		var got []string
		if err := db.r.SelectContext(ctx, &got, db.r.Rebind(`SELECT s.name FROM (`+match+`) m JOIN search_docs s ON s.id = m.id
			ORDER BY m.score DESC`), args...); err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		return got
	}
	words := func(w ...[]string) search.Plan { return search.Plan{Mode: search.ModeWords, Words: w} }
	all, head := search.Tier{In: search.FieldsAll}, search.Tier{In: search.FieldsHead}
	for _, c := range []struct {
		plan search.Plan
		tier search.Tier
		want []string
	}{
		{words([]string{"gateway"}), all, []string{"payment-gateway", "ledger"}},
		{words([]string{"gateway"}), head, []string{"payment-gateway"}},
		{words([]string{"gateway"}), search.Tier{In: search.FieldsAll, Not: search.FieldsHead}, []string{"ledger"}},
		{words([]string{"pay"}, []string{"card"}), all, []string{"payment-gateway"}},
		{words([]string{"pay"}, []string{"card"}), head, nil},
		{words([]string{"service"}), head, []string{"payment-gateway"}},
		{search.Plan{Mode: search.ModeTypos, Words: [][]string{{"ledger", "lodger"}}}, all, []string{"ledger"}},
		{words([]string{"atewa"}), all, nil},
		{search.Plan{Mode: search.ModeParts, Words: [][]string{{"atewa"}}}, head, []string{"payment-gateway"}},
		{search.Plan{Mode: search.ModeParts, Words: [][]string{{"edge"}, {"omp"}}}, head, []string{"ledger"}},
	} {
		if diff := cmp.Diff(c.want, names(c.plan, c.tier)); diff != "" {
			t.Errorf("%+v in %+v: rows mismatch (-want +got):\n%s", c.plan, c.tier, diff)
		}
	}
}

// testDialectSearchBySize selects a tier's rows as searchMatch does, in
// the order of size.
func testDialectSearchBySize(t *testing.T, db *DB) {
	ctx := context.Background()
	mustEntity(t, db, "component:default/sized", `{}`, `{}`)
	if _, err := db.w.ExecContext(ctx, db.w.Rebind(`INSERT INTO search_docs (`+searchColumns+`) VALUES
		(?, 'docs', 'component', 'a/', 'a/', '', 'Rollout', 'sized', 'Canary rollout of the long kind, with more words.', 70),
		(?, 'docs', 'component', 'b/', 'b/', '', 'Notes', 'sized', 'A canary rollout.', 30),
		(?, 'docs', 'component', 'c/', 'c/', '', 'Other', 'sized', 'Nothing here.', 20)`),
		"component:default/sized", "component:default/sized", "component:default/sized"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		plan search.Plan
		tier search.Tier
		want []string
	}{
		{search.Plan{Mode: search.ModeWords, Words: [][]string{{"canary"}, {"roll"}}}, search.Tier{In: search.FieldsAll}, []string{"b/", "a/"}},
		{search.Plan{Mode: search.ModeWords, Words: [][]string{{"rollout"}}}, search.Tier{In: search.FieldsAll, Not: search.FieldsHead}, []string{"b/"}},
		{search.Plan{Mode: search.ModeParts, Words: [][]string{{"ize"}}}, search.Tier{In: search.FieldsHead}, []string{"c/", "b/", "a/"}},
	} {
		table, cond, args := db.d.searchBySize(c.plan, c.tier)
		var got []string
		if err := db.r.SelectContext(ctx, &got, db.r.Rebind(`SELECT s.location FROM `+table+` WHERE `+cond+` ORDER BY s.size, s.id`), args...); err != nil {
			t.Fatalf("%+v: %v", c.plan, err)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%+v in %+v: rows mismatch (-want +got):\n%s", c.plan, c.tier, diff)
		}
	}
}

// testDialectSearchTerms lists the index's words that begin with a
// prefix, and what it lists matches as the prefix does.
func testDialectSearchTerms(t *testing.T, db *DB) {
	ctx := context.Background()
	mustEntity(t, db, "component:default/terms", `{}`, `{}`)
	if _, err := db.w.ExecContext(ctx, db.w.Rebind(`INSERT INTO search_docs (`+searchColumns+`) VALUES
		(?, 'entity', 'component', '', '', 'terms', 'Zorbments', 'component', 'Zorbs, zorbable and zorbout.', 30)`),
		"component:default/terms"); err != nil {
		t.Fatal(err)
	}
	// The vocabulary is written with the rows (see writeTerms).
	tx := db.w.MustBegin()
	if _, err := db.writeTerms(ctx, tx, search.Terms(map[string]bool{}, "terms Zorbments component Zorbs, zorbable and zorbout.")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	terms, ok, err := db.d.searchTerms(ctx, db, "zorb")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"zorbable", "zorbments", "zorbout", "zorbs"}; !ok || !slices.Equal(terms, want) {
		t.Errorf("terms of zorb: %v, %v; want %v", terms, ok, want)
	}
	if terms, ok, _ := db.d.searchTerms(ctx, db, "zz"); ok || len(terms) != 0 {
		t.Errorf("terms of zz: %v, %v", terms, ok)
	}
	p := search.Plan{Mode: search.ModeWords, Words: [][]string{{"zorb"}}, Terms: [][]string{terms}}
	match, args := db.d.searchMatch(p, search.Tier{In: search.FieldsAll}, false)
	var n int
	if err := db.r.GetContext(ctx, &n, db.r.Rebind(`SELECT COUNT(*) FROM (`+match+`) m`), args...); err != nil || n != 1 {
		t.Errorf("matching the terms: %d rows, %v", n, err)
	}
}

// testDialectLockRows holds a location locked and checks that a second
// writer cannot read it for update meanwhile.
func testDialectLockRows(t *testing.T, db *DB) {
	ctx := context.Background()
	mustExecDialect(t, db, `INSERT INTO locations (id, type, target, created_at) VALUES ('locked', 'file', '/locked.yaml', ?)`, db.now())
	q := db.w.Rebind(`SELECT id FROM locations WHERE id = ?` + db.d.lockRows())
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var id string
	if err := tx.GetContext(ctx, &id, q, "locked"); err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	err = func() error {
		tx2, err := db.w.BeginTxx(wait, nil)
		if err != nil {
			return err
		}
		defer tx2.Rollback()
		return tx2.GetContext(wait, &id, q, "locked")
	}()
	if err == nil {
		t.Error("a second writer read the locked row for update")
	}
}

// watchDialect runs the dialect's watch until the test ends and returns
// the positions it wakes with.
func watchDialect(t *testing.T, db *DB) <-chan int64 {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	woken := make(chan int64, 100)
	done := make(chan error, 1)
	go func() { done <- db.d.watch(ctx, db, func(p int64) { woken <- p }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch: %v", err)
		}
	})
	// Both dialects wake once with the head when they start watching
	// (PostgreSQL after LISTEN, SQLite at its first poll).
	select {
	case <-woken:
	case <-time.After(5 * time.Second):
		t.Fatal("watch did not start within 5 s")
	}
	return woken
}

// awaitPosition waits for want among the positions woken gives, and fails
// after 5 s.
func awaitPosition(t *testing.T, woken <-chan int64, want int64) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case p := <-woken:
			if p == want {
				return
			}
		case <-timeout:
			t.Fatalf("not woken with position %d within 5 s", want)
		}
	}
}

func testDialectNotify(t *testing.T, db *DB) {
	ctx := context.Background()
	woken := watchDialect(t, db)
	send := func(p int64, commit bool) {
		t.Helper()
		tx, err := db.w.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.d.notify(ctx, tx, p); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	send(1_000_001, false)
	send(1_000_002, true)
	if db.Dialect() != Postgres {
		return // nothing to deliver: SQLite's watchers poll
	}
	timeout := time.After(5 * time.Second)
	for {
		select {
		case p := <-woken:
			switch p {
			case 1_000_001:
				t.Fatal("woken by a notification whose transaction rolled back")
			case 1_000_002:
				return
			}
		case <-timeout:
			t.Fatal("the committed notification did not arrive within 5 s")
		}
	}
}

// testDialectWatch commits a move of the feed's head as a writer does,
// from another connection than the watch's: it must wake.
func testDialectWatch(t *testing.T, db *DB) {
	ctx := context.Background()
	woken := watchDialect(t, db)
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var p int64
	if err := tx.GetContext(ctx, &p, `UPDATE change_feed_head SET position = position + 1 WHERE id = 1 RETURNING position`); err != nil {
		t.Fatal(err)
	}
	if err := db.d.notify(ctx, tx, p); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	awaitPosition(t, woken, p)
}

// testDialectJobDriver checks that River's driver reaches the tables River's
// migrations made, through the handle the dialect gives it.
func testDialectJobDriver(t *testing.T, db *DB) {
	drv, err := db.JobDriver()
	if err != nil {
		t.Fatal(err)
	}
	want := map[Dialect]string{SQLite: "sqlite", Postgres: "postgres"}[db.Dialect()]
	if got := drv.DatabaseName(); got != want {
		t.Errorf("driver's database = %q, want %q", got, want)
	}
	exists, err := drv.GetExecutor().TableExists(context.Background(), &riverdriver.TableExistsParams{Table: "river_job"})
	if err != nil || !exists {
		t.Fatalf("river_job exists = %v, %v; want true", exists, err)
	}
	if counts, err := db.JobCounts(context.Background()); err != nil || len(counts) != 0 {
		t.Errorf("JobCounts = %v, %v; want none", counts, err)
	}
}

// testDialectMigrationLock checks that the lock keeps a second taker out
// until it is released (PostgreSQL), and that releasing works (both).
func testDialectMigrationLock(t *testing.T, db *DB) {
	ctx := context.Background()
	release, err := db.d.migrationLock(ctx, db.w)
	if err != nil {
		t.Fatal(err)
	}
	if db.Dialect() == Postgres {
		var got bool
		if err := db.w.GetContext(ctx, &got, `SELECT pg_try_advisory_lock($1)`, migrationLockKey); err != nil || got {
			t.Errorf("a second session took the lock held: %v, %v", got, err)
		}
	}
	release()
	again, err := db.d.migrationLock(ctx, db.w)
	if err != nil {
		t.Fatal(err)
	}
	again()
}

// dialectJob is a job the River cases insert, each deleted at its end (a
// case reads that there are none).
type dialectJob struct{}

func (dialectJob) Kind() string { return "dialect_test" }

func mustInsertDialectJob(t *testing.T, db *DB) (*river.Client[*sql.Tx], int64) {
	t.Helper()
	drv, err := db.JobDriver()
	if err != nil {
		t.Fatal(err)
	}
	c, err := river.NewClient(drv, &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Insert(context.Background(), dialectJob{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mustExecDialect(t, db, `DELETE FROM river_job WHERE id = ?`, res.Job.ID) })
	return c, res.Job.ID
}

// testDialectLastText reads the last process River recorded as taking a
// job, taken by two in turn.
func testDialectLastText(t *testing.T, db *DB) {
	ctx := context.Background()
	_, id := mustInsertDialectJob(t, db)
	drv, _ := db.JobDriver()
	for _, client := range []string{"first", "second"} {
		res, err := drv.GetExecutor().JobGetAvailable(ctx, &riverdriver.JobGetAvailableParams{
			ClientID: client, Kind: []string{dialectJob{}.Kind()}, MaxAttemptedBy: 100, MaxToLock: 1, Queue: river.QueueDefault})
		if err != nil || len(res.Jobs) != 1 {
			t.Fatalf("%s took %v, %v; want the job", client, res, err)
		}
		mustExecDialect(t, db, `UPDATE river_job SET state = 'available' WHERE id = ?`, id)
	}
	var got string
	if err := db.r.GetContext(ctx, &got, db.r.Rebind(`SELECT `+db.d.lastText("attempted_by")+` FROM river_job WHERE id = ?`), id); err != nil {
		t.Fatal(err)
	}
	if got != "second" {
		t.Errorf("lastText read %q; want second", got)
	}
}

// testDialectAppendJSON appends two errors to a job, as River reads them.
func testDialectAppendJSON(t *testing.T, db *DB) {
	c, id := mustInsertDialectJob(t, db)
	for _, msg := range []string{"one", "two"} {
		mustExecDialect(t, db, `UPDATE river_job SET errors = `+db.d.appendJSON("errors")+` WHERE id = ?`,
			`{"at":"2026-01-02T03:04:05Z","attempt":1,"error":"`+msg+`"}`, id)
	}
	row, err := c.JobGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(row.Errors) != 2 || row.Errors[0].Error != "one" || row.Errors[1].Error != "two" {
		t.Errorf("River read the errors %+v; want one, then two", row.Errors)
	}
}

// testDialectNow makes a job due now, as River reads it.
func testDialectNow(t *testing.T, db *DB) {
	c, id := mustInsertDialectJob(t, db)
	mustExecDialect(t, db, `UPDATE river_job SET scheduled_at = `+db.d.now()+` WHERE id = ?`, id)
	row, err := c.JobGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(row.ScheduledAt); d < -time.Second || d > 5*time.Second {
		t.Errorf("River read the job due %s ago; want now", d)
	}
}
