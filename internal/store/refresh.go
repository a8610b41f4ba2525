package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// Rows per multi-row INSERT, kept under both databases' parameter limits.
const (
	entityChunk   = 400
	relationChunk = 2000
)

// refresh writes one location's refresh in one transaction.
type refresh struct {
	db   *DB
	tx   *sqlx.Tx
	loc  catalog.Location
	opts catalog.RefreshOptions
	now  time.Time

	seen       map[string]bool // refs this location emitted in this refresh
	entityErrs []catalog.ProcessingError
	stats      catalog.RefreshStats
	done       bool
	// changes are the change feed's events of what the refresh wrote,
	// appended to the feed at commit.
	changes []catalog.Change
	// kept are the refs last read from each unreadable file or URL, kept
	// as they were, by key.
	kept map[string][]string
}

// BeginRefresh starts a refresh of loc. Returns ENOTFOUND if the location
// has been deleted.
func (db *DB) BeginRefresh(ctx context.Context, loc catalog.Location, opts catalog.RefreshOptions) (catalog.Refresh, error) {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return nil, formatError(err)
	}
	// Lock the location, so that two replicas refreshing it take turns.
	q := `SELECT id FROM locations WHERE id = ? AND removed_at IS NULL` + db.d.lockRows()
	var id string
	if err := tx.GetContext(ctx, &id, tx.Rebind(q), loc.ID); err != nil {
		tx.Rollback()
		if portal.ErrorCode(formatError(err)) == portal.ENOTFOUND {
			return nil, portal.Errorf(portal.ENOTFOUND, "no location with id %q", loc.ID)
		}
		return nil, formatError(err)
	}
	return &refresh{db: db, tx: tx, loc: loc, opts: opts, now: db.now(), seen: map[string]bool{}}, nil
}

// existingRow is what a refresh needs to know of a stored entity.
type existingRow struct {
	ID          string  `db:"id"`
	Ref         string  `db:"ref"`
	LocationID  string  `db:"location_id"`
	LocationKey string  `db:"location_key"`
	Hash        string  `db:"hash"`
	ParentRef   *string `db:"parent_ref"`
	Valid       bool    `db:"valid"`
	Orphan      bool    `db:"orphan"`
}

// entityRow is one row to upsert.
type entityRow struct {
	id, ref, kind, namespace, name          string
	title, description, specType, lifecycle *string
	tags, labels, annotations, searchText   string
	parentRef                               *string
	locationKey, data, hash, etag           string
	valid                                   bool
}

// newEntityRow copies the indexed fields out of an entity.
func newEntityRow(id, ref string, em *catalog.Emitted, data, hash string, valid bool) entityRow {
	e := em.Entity
	md := &e.Metadata
	tags := make([]string, len(md.Tags))
	for i, t := range md.Tags {
		tags[i] = strings.ToLower(t)
	}
	joined := ""
	if len(tags) > 0 {
		joined = "|" + strings.Join(tags, "|") + "|"
	}
	search := strings.ToLower(strings.Join([]string{md.Name, md.Title, md.Description, strings.Join(tags, " ")}, " "))
	return entityRow{
		id: id, ref: ref, kind: e.Kind, namespace: md.Namespace, name: md.Name,
		title: nonEmpty(md.Title), description: nonEmpty(md.Description),
		specType: nonEmpty(e.SpecString("type")), lifecycle: nonEmpty(e.SpecString("lifecycle")),
		tags: joined, labels: jsonObject(md.Labels), annotations: jsonObject(md.Annotations), searchText: search,
		parentRef: nonEmpty(strings.ToLower(em.ParentRef)), locationKey: em.LocationKey,
		data: data, hash: hash, etag: e.Metadata.Etag, valid: valid,
	}
}

func jsonObject(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m) // strings only
	return string(b)
}

// Put implements [catalog.Refresh].
func (r *refresh) Put(ctx context.Context, batch []*catalog.Emitted) error {
	refs := make([]string, 0, len(batch))
	for _, em := range batch {
		refs = append(refs, em.Entity.Ref().String())
	}
	existing, err := r.existing(ctx, refs)
	if err != nil {
		return err
	}
	var (
		inserts  []entityRow // entities new to the catalog
		upserts  []entityRow // entities stored before
		replaced []string    // ids whose relations are rewritten
		rels     [][4]string
	)
	for i, em := range batch {
		ref := refs[i]
		r.stats.Emitted++
		ex, found := existing[ref]
		if r.seen[ref] || (found && ex.LocationID != r.loc.ID && !ex.Orphan) {
			owner := ex.LocationKey
			if r.seen[ref] {
				owner = "an earlier document of this location"
			}
			r.stats.Conflicts++
			r.entityErrs = append(r.entityErrs, catalog.ProcessingError{
				Level: catalog.LevelError, LocationKey: em.LocationKey, Document: docOf(em), Line: lineOf(em), EntityRef: ref,
				Code: catalog.ErrorCodeConflict,
				Message: fmt.Sprintf("Detected conflicting entityRef %s already referenced by %s and now also %s",
					ref, owner, em.LocationKey),
			})
			continue
		}
		r.seen[ref] = true
		r.entityErrs = append(r.entityErrs, em.Errors...)
		valid := len(em.Errors) == 0
		if found && !valid && ex.Valid && ex.LocationID == r.loc.ID {
			// The entity stopped validating: keep serving its last good version.
			r.stats.Kept++
			if ex.Orphan {
				if err := r.setOrphan(ctx, ex.ID, false); err != nil {
					return err
				}
			}
			continue
		}
		e := em.Entity
		hash := e.ContentHash()
		if found && ex.Hash == hash && ex.Valid == valid && !ex.Orphan && ex.LocationID == r.loc.ID &&
			ex.LocationKey == em.LocationKey && deref(ex.ParentRef) == strings.ToLower(em.ParentRef) {
			r.stats.Unchanged++
			continue
		}
		id := uuid.NewString()
		if found {
			id = ex.ID
			replaced = append(replaced, id)
			r.stats.Updated++
		} else {
			r.stats.Added++
		}
		e.Metadata.UID = id
		if e.Metadata.Etag == "" {
			e.Metadata.Etag = hash
		}
		data, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("store: encode %s: %w", ref, err)
		}
		row := newEntityRow(id, ref, em, string(data), hash, valid)
		if found {
			upserts = append(upserts, row)
		} else {
			inserts = append(inserts, row)
		}
		for _, rel := range dedupe(em.Relations) {
			rels = append(rels, [4]string{id, rel[0], rel[1], rel[2]})
		}
	}
	if err := r.insertEntities(ctx, inserts); err != nil {
		return err
	}
	if err := r.recordChanges(ctx, inserts, upserts); err != nil {
		return err
	}
	if err := r.upsertEntities(ctx, upserts); err != nil {
		return err
	}
	if len(replaced) > 0 {
		q, args, err := sqlx.In(`DELETE FROM relations WHERE originating_id IN (?)`, replaced)
		if err != nil {
			return err
		}
		if _, err := r.tx.ExecContext(ctx, r.tx.Rebind(q), args...); err != nil {
			return fmt.Errorf("store: replace relations: %w", formatError(err))
		}
	}
	return r.insertRelations(ctx, rels)
}

// recordChanges records the feed's events of entities about to be
// written: CREATED for inserts, UPDATED for upserts with the fields that
// differ from the stored version, read here.
func (r *refresh) recordChanges(ctx context.Context, inserts, upserts []entityRow) error {
	for _, e := range inserts {
		r.changes = append(r.changes, catalog.EntityChange(catalog.ChangeCreated, e.ref, r.loc.ID, e.etag, nil))
	}
	if len(upserts) == 0 {
		return nil
	}
	ids := make([]string, len(upserts))
	for i, e := range upserts {
		ids[i] = e.id
	}
	q, args, err := sqlx.In(`SELECT id, data FROM entities WHERE id IN (?)`, ids)
	if err != nil {
		return err
	}
	var rows []struct {
		ID   string `db:"id"`
		Data string `db:"data"`
	}
	if err := r.tx.SelectContext(ctx, &rows, r.tx.Rebind(q), args...); err != nil {
		return fmt.Errorf("store: read entities before update: %w", formatError(err))
	}
	before := make(map[string]string, len(rows))
	for _, row := range rows {
		before[row.ID] = row.Data
	}
	for _, e := range upserts {
		r.changes = append(r.changes, catalog.EntityChange(catalog.ChangeUpdated, e.ref, r.loc.ID, e.etag,
			catalog.ChangedFields([]byte(before[e.id]), []byte(e.data))))
	}
	return nil
}

func docOf(em *catalog.Emitted) int {
	if len(em.Errors) > 0 {
		return em.Errors[0].Document
	}
	return -1
}

func lineOf(em *catalog.Emitted) int {
	if len(em.Errors) > 0 {
		return em.Errors[0].Line
	}
	return 0
}

func (r *refresh) existing(ctx context.Context, refs []string) (map[string]existingRow, error) {
	out := make(map[string]existingRow, len(refs))
	if len(refs) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In(`
		SELECT id, ref, location_id, location_key, parent_ref, hash, valid, orphan
		FROM entities WHERE ref IN (?)`, refs)
	if err != nil {
		return nil, err
	}
	var rows []existingRow
	if err := r.tx.SelectContext(ctx, &rows, r.tx.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: find entities: %w", formatError(err))
	}
	for _, row := range rows {
		out[row.Ref] = row
	}
	return out, nil
}

var entityTable = newBulkTable("entities", entityChunk, ` ON CONFLICT (ref) DO UPDATE SET
			kind = excluded.kind, namespace = excluded.namespace, name = excluded.name,
			title = excluded.title, description = excluded.description,
			spec_type = excluded.spec_type, lifecycle = excluded.lifecycle,
			tags = excluded.tags, labels = excluded.labels, annotations = excluded.annotations,
			search_text = excluded.search_text, parent_ref = excluded.parent_ref,
			location_id = excluded.location_id, location_key = excluded.location_key,
			data = excluded.data, hash = excluded.hash, etag = excluded.etag, valid = excluded.valid,
			orphan = excluded.orphan, updated_at = excluded.updated_at`,
	"id", "ref", "kind", "namespace", "name", "title", "description", "spec_type", "lifecycle",
	"tags", "labels", "annotations", "search_text", "parent_ref",
	"location_id", "location_key", "data", "hash", "etag", "valid", "orphan", "created_at", "updated_at")

// entityValues returns a function that appends the values of rows[i] in
// the order of entityTable's columns.
func (r *refresh) entityValues(rows []entityRow) rowFunc {
	return func(dst []any, i int) []any {
		e := &rows[i]
		return append(dst, e.id, e.ref, e.kind, e.namespace, e.name, e.title, e.description, e.specType, e.lifecycle,
			e.tags, e.labels, e.annotations, e.searchText, e.parentRef,
			r.loc.ID, e.locationKey, e.data, e.hash, e.etag, e.valid, false, r.now, r.now)
	}
}

// insertEntities writes entities that are not stored yet.
func (r *refresh) insertEntities(ctx context.Context, rows []entityRow) error {
	if err := r.db.d.insertNew(ctx, r.tx, entityTable, len(rows), r.entityValues(rows)); err != nil {
		return fmt.Errorf("store: write entities: %w", err)
	}
	return nil
}

func (r *refresh) upsertEntities(ctx context.Context, rows []entityRow) error {
	if err := r.db.d.upsert(ctx, r.tx, entityTable, len(rows), r.entityValues(rows)); err != nil {
		return fmt.Errorf("store: write entities: %w", err)
	}
	return nil
}

var relationTable = newBulkTable("relations", relationChunk, "", "originating_id", "source_ref", "type", "target_ref")

func (r *refresh) insertRelations(ctx context.Context, rels [][4]string) error {
	row := func(dst []any, i int) []any {
		rel := &rels[i]
		return append(dst, rel[0], rel[1], rel[2], rel[3])
	}
	if err := r.db.d.insertNew(ctx, r.tx, relationTable, len(rels), row); err != nil {
		return fmt.Errorf("store: write relations: %w", err)
	}
	return nil
}

// Commit implements [catalog.Refresh].
func (r *refresh) Commit(ctx context.Context, errs []catalog.ProcessingError, unreadable []string) (catalog.RefreshStats, error) {
	if err := r.orphans(ctx, unreadable); err != nil {
		return r.stats, err
	}
	all := append(append([]catalog.ProcessingError(nil), errs...), r.entityErrs...)
	r.stats.Errors = len(all)
	errsChanged, err := r.writeErrors(ctx, all, r.keptErrors(errs))
	if err != nil {
		return r.stats, err
	}
	s := r.stats
	if errsChanged || s.Added+s.Updated+s.Orphaned+s.Deleted > 0 {
		if _, err := r.tx.ExecContext(ctx, r.tx.Rebind(`UPDATE locations SET changed_at = ? WHERE id = ?`), r.now, r.loc.ID); err != nil {
			return r.stats, formatError(err)
		}
	}
	if errsChanged || len(r.changes) > 0 {
		r.changes = append(r.changes, catalog.Change{Op: catalog.ChangeLocationRefreshed, Ref: r.loc.ID, LocationID: r.loc.ID})
	}
	if err := r.db.appendChanges(ctx, r.tx, catalog.ActorOfLocation(r.loc.ID), r.changes); err != nil {
		return r.stats, err
	}
	if err := r.tx.Commit(); err != nil {
		return r.stats, formatError(err)
	}
	r.done = true
	r.db.committed(ctx, r.changes)
	if s.Added+s.Updated+s.Deleted >= analyzeThreshold {
		// The planner needs statistics that match the tables: a first load
		// leaves PostgreSQL guessing a hundred rows where there are many
		// thousands. Failing to gather them is not a failed refresh.
		if _, err := r.db.w.ExecContext(ctx, `ANALYZE`); err != nil {
			r.db.log.WarnContext(ctx, "analyze after refresh failed", "err", err)
		}
	}
	return r.stats, nil
}

// analyzeThreshold is how many entities a refresh must change before the
// database's statistics are gathered again.
const analyzeThreshold = 1000

// Rollback implements [catalog.Refresh].
func (r *refresh) Rollback() error {
	if r.done {
		return nil
	}
	r.done = true
	return r.tx.Rollback()
}

// orphans marks, or deletes, the entities this location stored before and
// did not emit now, except those last read from an unreadable file.
func (r *refresh) orphans(ctx context.Context, unreadable []string) error {
	keep := make(map[string]bool, len(unreadable))
	for _, k := range unreadable {
		keep[k] = true
	}
	var rows []existingRow
	if err := r.tx.SelectContext(ctx, &rows, r.tx.Rebind(`
		SELECT id, ref, location_id, location_key, parent_ref, hash, valid, orphan
		FROM entities WHERE location_id = ?`), r.loc.ID); err != nil {
		return fmt.Errorf("store: find orphans: %w", formatError(err))
	}
	var gone []string
	for _, row := range rows {
		switch {
		case r.seen[row.Ref]:
		case keep[row.LocationKey]:
			r.stats.Kept++
			if r.kept == nil {
				r.kept = map[string][]string{}
			}
			r.kept[row.LocationKey] = append(r.kept[row.LocationKey], row.Ref)
		case r.opts.DeleteOrphans:
			gone = append(gone, row.ID)
			r.changes = append(r.changes, catalog.EntityChange(catalog.ChangeDeleted, row.Ref, r.loc.ID, "", nil))
		case !row.Orphan:
			if err := r.setOrphan(ctx, row.ID, true); err != nil {
				return err
			}
			r.stats.Orphaned++
		}
	}
	for start := 0; start < len(gone); start += entityChunk {
		ids := gone[start:min(start+entityChunk, len(gone))]
		for _, q := range []string{
			`DELETE FROM relations WHERE originating_id IN (?)`,
			`DELETE FROM entities WHERE id IN (?)`,
		} {
			q, args, err := sqlx.In(q, ids)
			if err != nil {
				return err
			}
			if _, err := r.tx.ExecContext(ctx, r.tx.Rebind(q), args...); err != nil {
				return fmt.Errorf("store: delete orphans: %w", formatError(err))
			}
		}
	}
	r.stats.Deleted += len(gone)
	return nil
}

// keptErrors puts the errors of each unreadable file or URL on every
// entity kept from it, so that an entity served as it was last read says
// why it is not read now: a copy of each error, naming the entity, stored
// marked kept so that the location's own list shows the error once.
func (r *refresh) keptErrors(errs []catalog.ProcessingError) []catalog.ProcessingError {
	var out []catalog.ProcessingError
	for _, pe := range errs {
		if pe.Level == catalog.LevelWarning {
			continue
		}
		for _, ref := range r.kept[pe.LocationKey] {
			if ref != pe.EntityRef {
				c := pe
				c.EntityRef = ref
				out = append(out, c)
			}
		}
	}
	return out
}

// setOrphan adds or removes the backstage.io/orphan annotation of a stored
// entity, giving it a new etag, and records it: ORPHANED, or UPDATED when
// the entity is taken back.
func (r *refresh) setOrphan(ctx context.Context, id string, orphan bool) error {
	var data string
	if err := r.tx.GetContext(ctx, &data, r.tx.Rebind(`SELECT data FROM entities WHERE id = ?`), id); err != nil {
		return formatError(err)
	}
	var e catalog.Entity
	if err := json.Unmarshal([]byte(data), &e); err != nil {
		return fmt.Errorf("store: decode entity %s: %w", id, err)
	}
	if orphan {
		e.SetAnnotation(catalog.AnnotationOrphan, "true")
	} else {
		delete(e.Metadata.Annotations, catalog.AnnotationOrphan)
	}
	e.Metadata.Etag = ""
	e.Metadata.Etag = e.ContentHash()
	b, err := json.Marshal(&e)
	if err != nil {
		return err
	}
	op := catalog.ChangeUpdated
	if orphan {
		op = catalog.ChangeOrphaned
	}
	r.changes = append(r.changes, catalog.EntityChange(op, e.Ref().String(), r.loc.ID, e.Metadata.Etag,
		[]string{"metadata.annotations." + catalog.AnnotationOrphan}))
	// The annotations column is what annotation filters and facets read:
	// it must gain or lose backstage.io/orphan with the data.
	_, err = r.tx.ExecContext(ctx, r.tx.Rebind(`UPDATE entities SET data = ?, annotations = ?, etag = ?, orphan = ?, updated_at = ? WHERE id = ?`),
		string(b), jsonObject(e.Metadata.Annotations), e.Metadata.Etag, orphan, r.now, id)
	return formatError(err)
}

// writeErrors replaces the location's processing errors, and the copies
// kept puts on entities kept from unreadable files, unless they are the
// same as last time.
func (r *refresh) writeErrors(ctx context.Context, errs, kept []catalog.ProcessingError) (bool, error) {
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
	if err := r.tx.GetContext(ctx, &old, r.tx.Rebind(`SELECT errors_hash FROM locations WHERE id = ?`), r.loc.ID); err != nil {
		return false, formatError(err)
	}
	if old == sum {
		return false, nil
	}
	if err := r.errorChanges(ctx, errs, kept); err != nil {
		return false, err
	}
	if _, err := r.tx.ExecContext(ctx, r.tx.Rebind(`DELETE FROM processing_errors WHERE location_id = ?`), r.loc.ID); err != nil {
		return false, formatError(err)
	}
	if err := insertErrors(ctx, r.tx, r.loc.ID, errs, false, r.now); err != nil {
		return false, err
	}
	if err := insertErrors(ctx, r.tx, r.loc.ID, kept, true, r.now); err != nil {
		return false, err
	}
	_, err := r.tx.ExecContext(ctx, r.tx.Rebind(`UPDATE locations SET errors_hash = ? WHERE id = ?`), sum, r.loc.ID)
	return true, formatError(err)
}

// errorChanges records ERROR for every entity whose stored processing
// errors differ from those in lists, about to replace them.
func (r *refresh) errorChanges(ctx context.Context, lists ...[]catalog.ProcessingError) error {
	var rows []errorRow
	if err := r.tx.SelectContext(ctx, &rows, r.tx.Rebind(`
		SELECT entity_ref, location_key, document, line, code, message
		FROM processing_errors WHERE location_id = ? AND entity_ref IS NOT NULL`), r.loc.ID); err != nil {
		return fmt.Errorf("store: read errors: %w", formatError(err))
	}
	digest := func(e catalog.ProcessingError) string {
		return fmt.Sprintf("%s\x00%d\x00%d\x00%s\x00%s", e.LocationKey, e.Document, e.Line, e.Code, e.Message)
	}
	before, after := map[string][]string{}, map[string][]string{}
	for _, row := range rows {
		pe := row.toCatalog()
		before[pe.EntityRef] = append(before[pe.EntityRef], digest(pe))
	}
	for _, list := range lists {
		for _, pe := range list {
			if pe.EntityRef != "" {
				after[pe.EntityRef] = append(after[pe.EntityRef], digest(pe))
			}
		}
	}
	var refs []string
	for ref, b := range before {
		a := after[ref]
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			refs = append(refs, ref)
		}
	}
	for ref := range after {
		if _, ok := before[ref]; !ok {
			refs = append(refs, ref)
		}
	}
	slices.Sort(refs)
	for _, ref := range refs {
		r.changes = append(r.changes, catalog.EntityChange(catalog.ChangeError, ref, r.loc.ID, "", nil))
	}
	return nil
}

// insertErrors writes errs as the errors of a location; kept marks them as
// copies on kept entities (see [refresh.keptErrors]).
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

// RecordRefreshFailure records on a location that a refresh of it failed
// and stored nothing, as a processing error with code REFRESH_FAILED and
// message, in a transaction of its own so that the failure cannot roll it
// back. It replaces the failure recorded before, if any, and keeps the
// location's other errors, which still describe what it serves; the next
// refresh that commits replaces them all.
func (db *DB) RecordRefreshFailure(ctx context.Context, loc catalog.Location, message string) error {
	pe := catalog.ProcessingError{Level: catalog.LevelError, LocationKey: loc.Key(), Document: -1,
		Code: catalog.ErrorCodeRefreshFailed, Message: message}
	tx, err := db.w.BeginTxx(ctx, nil)
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

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// dedupe returns an entity's relations as (source, type, target) strings,
// each once: a spec may name the same target twice.
func dedupe(rels []catalog.Relation) [][3]string {
	out := make([][3]string, 0, len(rels))
	seen := make(map[[3]string]bool, len(rels))
	for _, rel := range rels {
		k := [3]string{rel.Source.String(), rel.Type, rel.Target.String()}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}
