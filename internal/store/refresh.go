package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Rows per multi-row INSERT, kept under both databases' parameter limits,
// and refs per lookup of stored entities.
const (
	entityChunk   = 400
	relationChunk = 2000
	refChunk      = 5000
)

// handOverChunk is how many entities a change set writes, where the
// writer has one connection (SQLite), before it looks whether another
// write waits for it: each entity is written twice (the row and its
// version in entity_history), and 400 held the writer long enough to
// take a waiting write's p99 past 50 ms. A registerLocation waits for the
// writer twice (the location, then its entities), so it waits for up to
// two chunks: with 200 its p99 beside refreshes was 53–58 ms. Smaller
// chunks cost only while a write waits, when the part commits early.
const handOverChunk = 100

// storedColumns are the columns a [catalog.StoredEntity] is read from.
const storedColumns = `id, ref, location_id, location_key, COALESCE(parent_ref, '') AS parent_ref, hash, etag, valid, orphan`

// storedRow is a [catalog.StoredEntity] as read.
type storedRow struct {
	ID          string `db:"id"`
	Ref         string `db:"ref"`
	LocationID  string `db:"location_id"`
	LocationKey string `db:"location_key"`
	ParentRef   string `db:"parent_ref"`
	Hash        string `db:"hash"`
	Etag        string `db:"etag"`
	Valid       bool   `db:"valid"`
	Orphan      bool   `db:"orphan"`
}

func (r storedRow) toCatalog() catalog.StoredEntity { return catalog.StoredEntity(r) }

// locationStamp is the expression a location's stamp is read with: when a
// refresh last changed what it emits.
const locationStamp = `COALESCE(CAST(changed_at AS TEXT), '')`

// StoredState returns what planning a refresh of a location reads, with
// plain reads and no transaction: the location's stamp and entities, and
// the entities of other locations among refs. locationID "" (a location
// not registered yet, in a dry run) has neither stamp nor entities.
// Returns ENOTFOUND if the location has been deleted.
func (db *DB) StoredState(ctx context.Context, locationID string, refs []string) (catalog.StoredState, error) {
	st := catalog.StoredState{Entities: map[string]catalog.StoredEntity{}}
	var rows []storedRow
	if locationID != "" {
		if err := db.r.GetContext(ctx, &st.LocationStamp, db.r.Rebind(`
			SELECT `+locationStamp+` FROM locations WHERE id = ? AND removed_at IS NULL`), locationID); err != nil {
			if portal.ErrorCode(formatError(err)) == portal.ENOTFOUND {
				return st, portal.Errorf(portal.ENOTFOUND, "no location with id %q", locationID)
			}
			return st, fmt.Errorf("store: stored state: %w", formatError(err))
		}
		if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`
			SELECT `+storedColumns+` FROM entities WHERE location_id = ?`), locationID); err != nil {
			return st, fmt.Errorf("store: stored state: %w", formatError(err))
		}
		for _, r := range rows {
			st.Entities[r.Ref] = r.toCatalog()
		}
	}
	var others []string
	for _, ref := range refs {
		if _, ok := st.Entities[ref]; !ok {
			others = append(others, ref)
		}
	}
	for start := 0; start < len(others); start += refChunk {
		rows = rows[:0]
		in, list := db.inList("ref", others[start:min(start+refChunk, len(others))])
		if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`SELECT `+storedColumns+` FROM entities WHERE `+in), list); err != nil {
			return st, fmt.Errorf("store: stored state: %w", formatError(err))
		}
		for _, r := range rows {
			st.Entities[r.Ref] = r.toCatalog()
		}
	}
	return st, nil
}

// EntityData returns the stored documents of the entities with these
// ids, by id.
func (db *DB) EntityData(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	for start := 0; start < len(ids); start += refChunk {
		var rows []struct {
			ID   string `db:"id"`
			Data string `db:"data"`
		}
		in, list := db.inList("id", ids[start:min(start+refChunk, len(ids))])
		if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`SELECT id, data FROM entities WHERE `+in), list); err != nil {
			return nil, fmt.Errorf("store: entity data: %w", formatError(err))
		}
		for _, r := range rows {
			out[r.ID] = r.Data
		}
	}
	return out, nil
}

// StoredErrors returns the processing errors stored on a location that
// name an entity, copies on kept entities included, by entity ref.
func (db *DB) StoredErrors(ctx context.Context, locationID string) (map[string][]catalog.ProcessingError, error) {
	out := map[string][]catalog.ProcessingError{}
	if locationID == "" {
		return out, nil
	}
	var rows []errorRow
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`
		SELECT perr.entity_ref, perr.location_key, perr.document, perr.line, perr.code, perr.message
		FROM processing_errors perr WHERE perr.location_id = ? AND perr.entity_ref IS NOT NULL`), locationID); err != nil {
		return nil, fmt.Errorf("store: stored errors: %w", formatError(err))
	}
	for _, r := range rows {
		out[*r.EntityRef] = append(out[*r.EntityRef], r.toCatalog())
	}
	return out, nil
}

var entityColumns = []string{"id", "ref", "kind", "namespace", "name", "title", "description", "spec_type", "lifecycle",
	"tags", "labels", "annotations", "search_text", "parent_ref",
	"location_id", "location_key", "data", "hash", "etag", "valid", "orphan", "created_at", "updated_at"}

// entityTable upserts entities stored before; entityInsertTable inserts
// new ones and fails on a ref that is taken, which a plan did not expect.
var (
	entityTable = newBulkTable("entities", entityChunk, ` ON CONFLICT (ref) DO UPDATE SET
			kind = excluded.kind, namespace = excluded.namespace, name = excluded.name,
			title = excluded.title, description = excluded.description,
			spec_type = excluded.spec_type, lifecycle = excluded.lifecycle,
			tags = excluded.tags, labels = excluded.labels, annotations = excluded.annotations,
			search_text = excluded.search_text, parent_ref = excluded.parent_ref,
			location_id = excluded.location_id, location_key = excluded.location_key,
			data = excluded.data, hash = excluded.hash, etag = excluded.etag, valid = excluded.valid,
			orphan = excluded.orphan, updated_at = excluded.updated_at`, entityColumns...)
	entityInsertTable = newBulkTable("entities", entityChunk, "", entityColumns...)
)

var relationTable = newBulkTable("relations", relationChunk, "", "originating_id", "source_ref", "type", "target_ref")

// ApplyChangeSet writes a change set planned by ingestion (see
// internal/ingest) in one transaction, and returns the change feed's events
// it appended. It decides nothing: it re-checks, first thing in the
// transaction, that what the plan was made against still holds (the
// location exists with the same stamp; each stored entity the plan changes
// or leaves to another location is as it was read; each entity it creates
// is still absent), and returns an error wrapping [catalog.ErrStale],
// having written nothing, when it does not. Returns ENOTFOUND if the
// location has been deleted. A change set with Remove removes the location
// too; a part (see [catalog.ChangeSet.Part]) writes its entities and their
// events only, and its location need only exist.
//
// A change set hands the writer over when another write waits for it
// (see [DB.writeWaiting]): it commits the entity writes done so far, with
// their events, as a part would, and applies the rest in the next
// transaction, checked again; the location's own changes go with the
// last. A refresh's writes each depend on their own entity alone, so
// any prefix of them is a part. On SQLite, whose one writer a change set
// of 1,000 entities held for tens of milliseconds, a registerLocation
// beside a refresh otherwise waited that long for each of its writes
// (p99 62.6 ms at 10,000 entities; 27 ms handing over). A removal does
// not hand over: it is the operator's one act.
func (db *DB) ApplyChangeSet(ctx context.Context, cs *catalog.ChangeSet) ([]catalog.Change, error) {
	var all []catalog.Change
	rest := *cs
	for {
		changes, n, err := db.applyChangeSet(ctx, &rest)
		if err != nil {
			return nil, err
		}
		all = append(all, changes...)
		if n == len(rest.Writes) {
			break
		}
		rest.Writes = rest.Writes[n:]
		rest.EarlierWrites += n
	}
	if s := cs.Stats; !cs.Part && s.Added+s.Deleted >= analyzeThreshold {
		// The planner needs statistics that match the tables: a first load
		// leaves PostgreSQL guessing a hundred rows where there are many
		// thousands. Updates leave the sizes as they were, and analyzing
		// holds SQLite's one write lock (a refresh updating 2,000 entities
		// in a loop made other writes wait up to 0.7 s), so they do not
		// count. Failing to gather them is not a failed refresh.
		for _, table := range []string{"entities", "relations", "search_docs"} {
			if _, err := db.execWrite(ctx, `ANALYZE `+table); err != nil {
				db.log.WarnContext(ctx, "analyze after refresh failed", "table", table, "err", err)
			}
		}
	}
	return all, nil
}

// applyChangeSet applies cs in one transaction, or, when it hands the
// writer over, its first n entity writes.
func (db *DB) applyChangeSet(ctx context.Context, cs *catalog.ChangeSet) (changes []catalog.Change, n int, err error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer tx.Rollback()
	if err := db.fitWriterCache(ctx, tx); err != nil {
		return nil, 0, err
	}
	a := &apply{db: db, tx: tx, cs: cs, now: db.now()}
	if err := a.check(ctx); err != nil {
		return nil, 0, err
	}
	if n, err = a.entities(ctx); err != nil {
		return nil, 0, err
	}
	terms, err := db.writeTerms(ctx, tx, entityTerms(cs.Writes[:n]))
	if err != nil {
		return nil, 0, err
	}
	handOver := n < len(cs.Writes)
	if handOver {
		done := *cs
		done.Writes, done.ErrorRefs = cs.Writes[:n], nil
		changes = done.Changes()
	} else {
		changes = cs.Changes()
	}
	actor := catalog.ActorOfLocation(cs.Location.ID)
	switch {
	case cs.Part, handOver:
	case cs.Remove:
		if err := a.remove(ctx); err != nil {
			return nil, 0, err
		}
		// A removal is the operator's doing (a configuration applied).
		actor = actorOf(ctx)
		changes = append(changes, catalog.Change{Op: catalog.ChangeLocationDeleted, Ref: cs.Location.ID, LocationID: cs.Location.ID})
	default:
		errsChanged, err := a.errors(ctx)
		if err != nil {
			return nil, 0, err
		}
		if errsChanged || len(changes) > 0 || cs.EarlierWrites > 0 {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE locations SET changed_at = ? WHERE id = ?`), a.now, cs.Location.ID); err != nil {
				return nil, 0, formatError(err)
			}
			changes = append(changes, catalog.Change{Op: catalog.ChangeLocationRefreshed, Ref: cs.Location.ID, LocationID: cs.Location.ID})
		}
	}
	if err := db.appendChanges(ctx, tx, actor, changes); err != nil {
		return nil, 0, err
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, formatError(err)
	}
	db.rememberTerms(terms)
	db.committed(ctx, changes)
	return changes, n, nil
}

// analyzeThreshold is how many entities a refresh must add or delete
// before the statistics of the catalog's tables are gathered again.
const analyzeThreshold = 1000

// apply is one change set being applied.
type apply struct {
	db  *DB
	tx  *sqlx.Tx
	cs  *catalog.ChangeSet
	now time.Time
}

// stale returns the error of a plan that no longer holds.
func stale(format string, args ...any) error {
	return fmt.Errorf("store: %w: "+format, append([]any{catalog.ErrStale}, args...)...)
}

// check re-reads, locked, what the plan depends on: the location, the
// entities it conflicts with, and the entities it writes. Where a change
// set hands the writer over (see [apply.lazyCheck]) the entities it writes
// are checked as it reaches them instead.
func (a *apply) check(ctx context.Context) error {
	cs := a.cs
	var stamp string
	if err := a.tx.GetContext(ctx, &stamp, a.tx.Rebind(`
		SELECT `+locationStamp+` FROM locations WHERE id = ? AND removed_at IS NULL`+a.db.d.lockRows()), cs.Location.ID); err != nil {
		if portal.ErrorCode(formatError(err)) == portal.ENOTFOUND {
			return portal.Errorf(portal.ENOTFOUND, "no location with id %q", cs.Location.ID)
		}
		return formatError(err)
	}
	if !cs.Part && stamp != cs.LocationStamp {
		return stale("location %s was changed by another refresh", cs.Location.Key())
	}
	want := make(map[string]catalog.StoredEntity, len(cs.Conflicts))
	conflict := make(map[string]bool, len(cs.Conflicts))
	for _, c := range cs.Conflicts {
		want[c.Ref], conflict[c.Ref] = c, true
	}
	if !a.lazyCheck() {
		addPrev(want, cs.Writes)
	}
	return a.checkStored(ctx, want, conflict)
}

// lazyCheck reports whether the entities a change set writes are checked
// a window at a time as it reaches them, rather than all at its start: on
// SQLite, where it hands the writer over, the next transaction would check
// again all that is left (2,000 entities of a refresh for every 100
// written), holding the writer a waiting write wants.
func (a *apply) lazyCheck() bool { return a.db.singleWriter() && !a.cs.Remove }

// checkWindow is how many of its writes a change set that checks lazily
// checks at once.
const checkWindow = 5 * handOverChunk

// addPrev adds to want the stored state the writes were planned from.
func addPrev(want map[string]catalog.StoredEntity, writes []catalog.EntityWrite) {
	for _, c := range writes {
		if c.Prev != nil {
			want[c.Ref] = *c.Prev
		}
	}
}

// checkStored re-reads, locked, the entities of want: each must be as
// stored when planned or, in conflict, still held by its location.
func (a *apply) checkStored(ctx context.Context, want map[string]catalog.StoredEntity, conflict map[string]bool) error {
	refs := make([]string, 0, len(want))
	for ref := range want {
		refs = append(refs, ref)
	}
	found := 0
	for start := 0; start < len(refs); start += refChunk {
		var rows []storedRow
		in, list := a.db.inList("ref", refs[start:min(start+refChunk, len(refs))])
		if err := a.tx.SelectContext(ctx, &rows, a.tx.Rebind(`SELECT `+storedColumns+` FROM entities WHERE `+in+a.db.d.lockRows()), list); err != nil {
			return fmt.Errorf("store: check change set: %w", formatError(err))
		}
		for _, r := range rows {
			w := want[r.Ref]
			switch {
			case conflict[r.Ref] && (r.LocationID != w.LocationID || r.Orphan):
				return stale("%s was given up by its location", r.Ref)
			case !conflict[r.Ref] && r.toCatalog() != w:
				return stale("%s changed", r.Ref)
			}
			found++
		}
	}
	if found != len(refs) {
		return stale("an entity was deleted")
	}
	return nil
}

// entities writes the entity changes, a statement's chunk at a time, and
// returns how many it wrote: all of them, or fewer when another write
// waits for the writer (see [DB.ApplyChangeSet]).
func (a *apply) entities(ctx context.Context) (int, error) {
	var (
		gone []string    // ids deleted
		rels [][4]string // relations not written yet
	)
	writeRels := func(n int) error {
		row := func(dst []any, i int) []any {
			rel := &rels[i]
			return append(dst, rel[0], rel[1], rel[2], rel[3])
		}
		if err := a.db.d.insertNew(ctx, a.tx, relationTable, n, row); err != nil {
			return fmt.Errorf("store: write relations: %w", err)
		}
		rels = append(rels[:0], rels[n:]...)
		return nil
	}
	step := entityChunk
	if a.db.singleWriter() {
		step = handOverChunk
	}
	n, checked := 0, 0
	for n < len(a.cs.Writes) && (n == 0 || a.cs.Remove || !a.db.writeWaiting()) {
		chunk := a.cs.Writes[n:min(n+step, len(a.cs.Writes))]
		if a.lazyCheck() && n+len(chunk) > checked {
			want := map[string]catalog.StoredEntity{}
			addPrev(want, a.cs.Writes[checked:min(checked+checkWindow, len(a.cs.Writes))])
			if err := a.checkStored(ctx, want, nil); err != nil {
				return 0, err
			}
			checked = min(checked+checkWindow, len(a.cs.Writes))
		}
		n += len(chunk)
		var (
			inserts, upserts []*catalog.EntityDoc
			searched         []*catalog.EntityDoc // whose search rows are written: an orphan's stay as they are
			replaced         []string             // ids whose relations are rewritten
		)
		for _, c := range chunk {
			switch c.Op {
			case catalog.OpCreated:
				inserts, searched = append(inserts, c.Doc), append(searched, c.Doc)
			case catalog.OpUpdated:
				upserts, searched = append(upserts, c.Doc), append(searched, c.Doc)
			case catalog.OpOrphaned, catalog.OpUnorphaned:
				upserts = append(upserts, c.Doc)
			case catalog.OpDeleted:
				gone = append(gone, c.ID)
			}
			// An update rewrites the relations only when they changed: most
			// edits do not touch them, and rewriting 500 entities' relations
			// held SQLite's write lock about twice as long.
			newRels := c.Op == catalog.OpCreated
			if c.Op == catalog.OpUpdated && slices.Contains(c.Fields, catalog.FieldRelations) {
				replaced, newRels = append(replaced, c.ID), true
			}
			if newRels {
				for _, r := range c.Doc.Relations {
					rels = append(rels, [4]string{c.ID, r[0], r[1], r[2]})
				}
			}
		}
		if err := a.db.d.insertNew(ctx, a.tx, entityInsertTable, len(inserts), a.entityValues(inserts)); err != nil {
			if portal.ErrorCode(err) == portal.ECONFLICT {
				return 0, stale("an entity it creates was stored meanwhile")
			}
			return 0, fmt.Errorf("store: write entities: %w", err)
		}
		if err := a.db.d.upsert(ctx, a.tx, entityTable, len(upserts), a.entityValues(upserts)); err != nil {
			return 0, fmt.Errorf("store: write entities: %w", err)
		}
		if err := writeEntitySearch(ctx, a.db.d, a.tx, searched); err != nil {
			return 0, fmt.Errorf("store: write search rows: %w", err)
		}
		if err := a.deleteIn(ctx, `DELETE FROM relations WHERE originating_id IN (?)`, replaced); err != nil {
			return 0, err
		}
		// Full statements of relations as they accumulate; the rest at the end.
		if full := len(rels) / relationChunk * relationChunk; full > 0 {
			if err := writeRels(full); err != nil {
				return 0, err
			}
		}
	}
	if err := writeRels(len(rels)); err != nil {
		return 0, err
	}
	if err := a.deleteIn(ctx, `DELETE FROM relations WHERE originating_id IN (?)`, gone); err != nil {
		return 0, err
	}
	return n, a.deleteIn(ctx, `DELETE FROM entities WHERE id IN (?)`, gone)
}

// deleteIn runs a DELETE whose one argument is the list ids, in chunks.
func (a *apply) deleteIn(ctx context.Context, query string, ids []string) error {
	for start := 0; start < len(ids); start += entityChunk {
		q, args, err := sqlx.In(query, ids[start:min(start+entityChunk, len(ids))])
		if err != nil {
			return err
		}
		if _, err := a.tx.ExecContext(ctx, a.tx.Rebind(q), args...); err != nil {
			return fmt.Errorf("store: apply change set: %w", formatError(err))
		}
	}
	return nil
}

// entityValues returns a function that appends the values of docs[i] in
// the order of entityColumns.
func (a *apply) entityValues(docs []*catalog.EntityDoc) rowFunc {
	return func(dst []any, i int) []any {
		d := docs[i]
		return append(dst, d.UID, d.Ref, d.Kind, d.Namespace, d.Name,
			nonEmpty(d.Title), nonEmpty(d.Description), nonEmpty(d.SpecType), nonEmpty(d.Lifecycle),
			d.Tags, d.Labels, d.Annotations, d.SearchText(), nonEmpty(d.ParentRef),
			a.cs.Location.ID, d.LocationKey, d.Data, d.Hash, d.Etag, d.Valid, d.Orphan, a.now, a.now)
	}
}

// remove removes the location (see [catalog.RefreshOptions.Remove]): it is
// no longer listed, read or refreshed and its processing errors go; its
// row is deleted once no entity names it (see migration 00005), and
// configuring it again brings it back with its orphans.
func (a *apply) remove(ctx context.Context) error {
	id := a.cs.Location.ID
	// The errors described what the location served; an empty digest makes
	// its next refresh, should it come back, write them again.
	if _, err := a.tx.ExecContext(ctx, a.tx.Rebind(`DELETE FROM processing_errors WHERE location_id = ?`), id); err != nil {
		return fmt.Errorf("store: remove location: %w", formatError(err))
	}
	if _, err := a.tx.ExecContext(ctx, a.tx.Rebind(`UPDATE locations SET removed_at = ?, errors_hash = '' WHERE id = ?`), a.now, id); err != nil {
		return fmt.Errorf("store: remove location: %w", formatError(err))
	}
	// Removed locations whose orphans have all been deleted or taken by
	// other locations, this one included, are gone for good.
	if _, err := a.tx.ExecContext(ctx, `
		DELETE FROM locations WHERE removed_at IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM entities e WHERE e.location_id = locations.id)`); err != nil {
		return fmt.Errorf("store: remove location: %w", formatError(err))
	}
	return nil
}

// errors replaces the location's processing errors, and the copies on
// kept entities, unless they are the same as last time.
func (a *apply) errors(ctx context.Context) (bool, error) {
	errs := append([]catalog.ProcessingError(nil), a.cs.Errors...)
	kept := append([]catalog.ProcessingError(nil), a.cs.KeptErrors...)
	return writeErrors(ctx, a.tx, a.cs.Location.ID, errs, kept, a.now)
}

// writeErrors replaces the location's processing errors, and the copies
// kept puts on entities kept from unreadable files, unless they are the
// same as last time.
func writeErrors(ctx context.Context, tx *sqlx.Tx, locationID string, errs, kept []catalog.ProcessingError, now time.Time) (bool, error) {
	h := sha256.New()
	for _, list := range [][]catalog.ProcessingError{errs, kept} {
		for i := range list {
			list[i] = storableError(list[i])
		}
		sort.SliceStable(list, func(i, j int) bool {
			a, b := list[i], list[j]
			if a.LocationKey != b.LocationKey {
				return a.LocationKey < b.LocationKey
			}
			if a.Document != b.Document {
				return a.Document < b.Document
			}
			return a.Line < b.Line
		})
		for _, e := range list {
			fmt.Fprintf(h, "%s\x00%d\x00%d\x00%s\x00%s\x00%s\n", e.LocationKey, e.Document, e.Line, e.EntityRef, e.Code, e.Message)
		}
		h.Write([]byte{0})
	}
	sum := hex.EncodeToString(h.Sum(nil))
	var old string
	if err := tx.GetContext(ctx, &old, tx.Rebind(`SELECT errors_hash FROM locations WHERE id = ?`), locationID); err != nil {
		return false, formatError(err)
	}
	if old == sum {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM processing_errors WHERE location_id = ?`), locationID); err != nil {
		return false, formatError(err)
	}
	if err := insertErrors(ctx, tx, locationID, errs, false, now); err != nil {
		return false, err
	}
	if err := insertErrors(ctx, tx, locationID, kept, true, now); err != nil {
		return false, err
	}
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE locations SET errors_hash = ? WHERE id = ?`), sum, locationID)
	return true, formatError(err)
}

// insertErrors writes errs as the errors of a location; kept marks them as
// copies on kept entities (see [catalog.ChangeSet.KeptErrors]).
func insertErrors(ctx context.Context, tx *sqlx.Tx, locationID string, errs []catalog.ProcessingError, kept bool, now time.Time) error {
	const cols = 10
	for start := 0; start < len(errs); start += relationChunk / 2 {
		chunk := errs[start:min(start+relationChunk/2, len(errs))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO processing_errors (id, location_id, entity_ref, location_key, document, line, code, message, kept, created_at) VALUES `)
		args := make([]any, 0, len(chunk)*cols)
		for i, e := range chunk {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString("(?,?,?,?,?,?,?,?,?,?)")
			args = append(args, uuid.NewString(), locationID, nonEmpty(e.EntityRef), e.LocationKey, e.Document, e.Line, e.Code, e.Message, kept, now)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(sb.String()), args...); err != nil {
			return fmt.Errorf("store: write errors: %w", formatError(err))
		}
	}
	return nil
}

// storableError replaces, in the text of a processing error, what
// PostgreSQL cannot store (a NUL, invalid UTF-8) with U+FFFD: a message may
// quote what a document holds, and must not make the refresh fail.
func storableError(pe catalog.ProcessingError) catalog.ProcessingError {
	for _, s := range []*string{&pe.Message, &pe.EntityRef, &pe.LocationKey} {
		if !catalog.IsStorableText(*s) {
			*s = strings.ToValidUTF8(strings.ReplaceAll(*s, "\x00", "\uFFFD"), "\uFFFD")
		}
	}
	return pe
}

// RecordRefreshFailure records on a location that a refresh of it failed,
// as a processing error with code REFRESH_FAILED and
// message, in a transaction of its own so that the failure cannot roll it
// back. It replaces the failure recorded before, if any, and keeps the
// location's other errors, which still describe what it serves; the next
// refresh that commits replaces them all.
func (db *DB) RecordRefreshFailure(ctx context.Context, loc catalog.Location, message string) error {
	pe := catalog.ProcessingError{Level: catalog.LevelError, LocationKey: loc.Key(), Document: -1,
		Code: catalog.ErrorCodeRefreshFailed, Message: message}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return formatError(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM processing_errors WHERE location_id = ? AND code = ?`), loc.ID, pe.Code); err != nil {
		return formatError(err)
	}
	if err := insertErrors(ctx, tx, loc.ID, []catalog.ProcessingError{storableError(pe)}, false, db.now()); err != nil {
		return err
	}
	// An empty digest matches no set of errors: the next refresh rewrites them.
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE locations SET errors_hash = '' WHERE id = ?`), loc.ID); err != nil {
		return formatError(err)
	}
	changes := []catalog.Change{{Op: catalog.ChangeLocationFailed, Ref: loc.ID, LocationID: loc.ID}}
	if err := db.appendChanges(ctx, tx, catalog.ActorOfLocation(loc.ID), changes); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return formatError(err)
	}
	db.committed(ctx, changes)
	return nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
