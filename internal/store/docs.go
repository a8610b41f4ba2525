package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// TechDocs sites: a row per entity with docs, its pages and its assets.
// A build writes only what changed: the pages and assets whose hash
// differs from the stored one, and deletes those it no longer has.

type docsSiteRow struct {
	EntityRef   string       `db:"entity_ref"`
	Source      string       `db:"source"`
	Status      string       `db:"status"`
	Name        string       `db:"name"`
	Description string       `db:"description"`
	Nav         string       `db:"nav"`
	Report      string       `db:"report"`
	Error       string       `db:"error"`
	Etag        string       `db:"etag"`
	BuiltAt     sql.NullTime `db:"built_at"`
	CheckedAt   time.Time    `db:"checked_at"`
}

const docsSiteColumns = `entity_ref, source, status, name, description, nav, report, error, etag, built_at, checked_at`

func (r docsSiteRow) site() *portal.DocsSite {
	s := &portal.DocsSite{
		EntityRef: r.EntityRef, Source: r.Source, Status: portal.DocsStatus(r.Status), Name: r.Name, Description: r.Description,
		Nav: json.RawMessage(r.Nav), Report: json.RawMessage(r.Report), Error: r.Error, Etag: r.Etag, CheckedAt: r.CheckedAt.UTC(),
	}
	if r.BuiltAt.Valid {
		t := r.BuiltAt.Time.UTC()
		s.BuiltAt = &t
	}
	return s
}

// DocsSite returns an entity's docs site; ENOTFOUND when none was built
// or tried.
func (db *DB) DocsSite(ctx context.Context, ref string) (*portal.DocsSite, error) {
	var row docsSiteRow
	err := db.r.GetContext(ctx, &row, db.r.Rebind(`SELECT `+docsSiteColumns+` FROM docs_site WHERE entity_ref = ?`), ref)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, portal.Errorf(portal.ENOTFOUND, "no docs for %s", ref)
	}
	if err != nil {
		return nil, formatError(err)
	}
	return row.site(), nil
}

// DocsSites returns the docs sites of refs that have one, by ref.
func (db *DB) DocsSites(ctx context.Context, refs []string) (map[string]*portal.DocsSite, error) {
	out := map[string]*portal.DocsSite{}
	if len(refs) == 0 {
		return out, nil
	}
	in, arg := db.d.anyOf("entity_ref", refs)
	var rows []docsSiteRow
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`SELECT `+docsSiteColumns+` FROM docs_site WHERE `+in), arg); err != nil {
		return nil, formatError(err)
	}
	for _, r := range rows {
		out[r.EntityRef] = r.site()
	}
	return out, nil
}

type docsPageRow struct {
	Path     string `db:"path"`
	Position int    `db:"position"`
	Src      string `db:"src"`
	Title    string `db:"title"`
	HTML     string `db:"html"`
	TOC      string `db:"toc"`
	Links    string `db:"links"`
	Hash     string `db:"hash"`
}

func (r docsPageRow) page() portal.DocsPage {
	return portal.DocsPage{Path: r.Path, Position: r.Position, Src: r.Src, Title: r.Title, HTML: r.HTML,
		TOC: json.RawMessage(r.TOC), Links: json.RawMessage(r.Links), Hash: r.Hash}
}

// DocsPages returns a site's pages in file order.
func (db *DB) DocsPages(ctx context.Context, ref string) ([]portal.DocsPage, error) {
	var rows []docsPageRow
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`SELECT path, position, src, title, html, toc, links, hash
		FROM docs_page WHERE entity_ref = ? ORDER BY position`), ref); err != nil {
		return nil, formatError(err)
	}
	out := make([]portal.DocsPage, len(rows))
	for i, r := range rows {
		out[i] = r.page()
	}
	return out, nil
}

// DocsPage returns a page of a site; ENOTFOUND when it has none at path.
func (db *DB) DocsPage(ctx context.Context, ref, path string) (*portal.DocsPage, error) {
	var row docsPageRow
	err := db.r.GetContext(ctx, &row, db.r.Rebind(`SELECT path, position, src, title, html, toc, links, hash
		FROM docs_page WHERE entity_ref = ? AND path = ?`), ref, path)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, portal.Errorf(portal.ENOTFOUND, "%s has no docs page %q", ref, path)
	}
	if err != nil {
		return nil, formatError(err)
	}
	p := row.page()
	return &p, nil
}

// DocsAsset returns a file of a site; ENOTFOUND when it has none at path.
func (db *DB) DocsAsset(ctx context.Context, ref, path string) (*portal.DocsAsset, error) {
	var a portal.DocsAsset
	err := db.r.QueryRowxContext(ctx, db.r.Rebind(`SELECT path, data, hash FROM docs_asset WHERE entity_ref = ? AND path = ?`), ref, path).
		Scan(&a.Path, &a.Data, &a.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, portal.Errorf(portal.ENOTFOUND, "%s has no docs file %q", ref, path)
	}
	if err != nil {
		return nil, formatError(err)
	}
	return &a, nil
}

// DocsAssetPaths lists a site's assets, by path.
func (db *DB) DocsAssetPaths(ctx context.Context, ref string) ([]string, error) {
	var paths []string
	if err := db.r.SelectContext(ctx, &paths, db.r.Rebind(`SELECT path FROM docs_asset WHERE entity_ref = ? ORDER BY path`), ref); err != nil {
		return nil, formatError(err)
	}
	return paths, nil
}

// SaveDocs stores a good build of a site in one transaction: the site's
// row, the pages and assets whose hash changed, and the deletion of those
// it no longer has. It returns how many pages and assets it wrote.
func (db *DB) SaveDocs(ctx context.Context, site portal.DocsSite, pages []portal.DocsPage, assets []portal.DocsAsset) (int, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return 0, formatError(err)
	}
	defer tx.Rollback()
	built := site.CheckedAt.UTC()
	if site.BuiltAt != nil {
		built = site.BuiltAt.UTC()
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO docs_site (`+docsSiteColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?)
		ON CONFLICT (entity_ref) DO UPDATE SET source = excluded.source, status = excluded.status, name = excluded.name,
		description = excluded.description, nav = excluded.nav, report = excluded.report, error = '', etag = excluded.etag,
		built_at = excluded.built_at, checked_at = excluded.checked_at`),
		site.EntityRef, site.Source, string(portal.DocsBuilt), site.Name, site.Description, jsonOr(site.Nav, "[]"), jsonOr(site.Report, "[]"),
		site.Etag, built, site.CheckedAt.UTC()); err != nil {
		return 0, formatError(err)
	}
	// The entity is locked until the build is stored (a search row
	// needs its entity), or, gone, gets no search rows.
	var entity []int
	if err := tx.SelectContext(ctx, &entity, tx.Rebind(`SELECT 1 FROM entities WHERE ref = ?`+db.d.lockRows()), site.EntityRef); err != nil {
		return 0, formatError(err)
	}
	written := 0
	var changed map[string]bool
	for _, t := range []struct {
		table string
		paths []string
		hash  func(i int) string
		put   func(tx *sqlx.Tx, i int) error
	}{
		{"docs_page", pagePaths(pages), func(i int) string { return pages[i].Hash }, func(tx *sqlx.Tx, i int) error {
			p := pages[i]
			_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO docs_page (entity_ref, path, position, src, title, html, toc, links, hash)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (entity_ref, path) DO UPDATE SET position = excluded.position,
				src = excluded.src, title = excluded.title, html = excluded.html, toc = excluded.toc, links = excluded.links,
				hash = excluded.hash`),
				site.EntityRef, p.Path, p.Position, p.Src, p.Title, p.HTML, jsonOr(p.TOC, "[]"), jsonOr(p.Links, "{}"), p.Hash)
			return err
		}},
		{"docs_asset", assetPaths(assets), func(i int) string { return assets[i].Hash }, func(tx *sqlx.Tx, i int) error {
			a := assets[i]
			_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO docs_asset (entity_ref, path, data, hash) VALUES (?, ?, ?, ?)
				ON CONFLICT (entity_ref, path) DO UPDATE SET data = excluded.data, hash = excluded.hash`),
				site.EntityRef, a.Path, a.Data, a.Hash)
			return err
		}},
	} {
		put, err := db.syncRows(ctx, tx, t.table, site.EntityRef, t.paths, t.hash, t.put)
		if err != nil {
			return 0, formatError(err)
		}
		if t.table == "docs_page" {
			changed = put
		}
		written += len(put)
	}
	var terms []string
	if len(entity) > 0 {
		if err := writeDocsSearch(ctx, db.d, tx, site, pages, changed); err != nil {
			return 0, fmt.Errorf("store: write docs search rows: %w", formatError(err))
		}
		if terms, err = db.writeTerms(ctx, tx, docsTerms(site, pages)); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, formatError(err)
	}
	db.rememberTerms(terms)
	if sections(pages) >= analyzeThreshold {
		// A large site changes the index's statistics as a large refresh
		// changes the catalog's (see [DB.ApplyChangeSet]).
		if _, err := db.execWrite(ctx, `ANALYZE search_docs`); err != nil {
			db.log.WarnContext(ctx, "analyze after docs build failed", "err", err)
		}
	}
	return written, nil
}

// sections counts the search entries of pages.
func sections(pages []portal.DocsPage) int {
	n := 0
	for _, p := range pages {
		n += len(p.Sections)
	}
	return n
}

// syncRows makes a site's rows of table those of paths: the rows whose
// hash differs are put, the rows of other paths deleted. It returns the
// paths it put.
func (db *DB) syncRows(ctx context.Context, tx *sqlx.Tx, table, ref string, paths []string, hash func(int) string, put func(*sqlx.Tx, int) error) (map[string]bool, error) {
	var have []struct {
		Path string `db:"path"`
		Hash string `db:"hash"`
	}
	if err := tx.SelectContext(ctx, &have, tx.Rebind(`SELECT path, hash FROM `+table+` WHERE entity_ref = ?`), ref); err != nil {
		return nil, err
	}
	stored := make(map[string]string, len(have))
	for _, h := range have {
		stored[h.Path] = h.Hash
	}
	done := map[string]bool{}
	for i, p := range paths {
		if h, ok := stored[p]; ok && h == hash(i) {
			delete(stored, p)
			continue
		}
		delete(stored, p)
		if err := put(tx, i); err != nil {
			return nil, err
		}
		done[p] = true
	}
	for p := range stored {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM `+table+` WHERE entity_ref = ? AND path = ?`), ref, p); err != nil {
			return nil, err
		}
	}
	return done, nil
}

func pagePaths(pages []portal.DocsPage) []string {
	out := make([]string, len(pages))
	for i, p := range pages {
		out[i] = p.Path
	}
	return out
}

func assetPaths(assets []portal.DocsAsset) []string {
	out := make([]string, len(assets))
	for i, a := range assets {
		out[i] = a.Path
	}
	return out
}

// FailDocs records a build that failed: the site keeps its pages (the
// last good build serves on), with the reason.
func (db *DB) FailDocs(ctx context.Context, ref, source, reason string, at time.Time) error {
	_, err := db.w.ExecContext(ctx, db.w.Rebind(`INSERT INTO docs_site (`+docsSiteColumns+`)
		VALUES (?, ?, ?, '', '', '[]', '[]', ?, '', NULL, ?)
		ON CONFLICT (entity_ref) DO UPDATE SET source = excluded.source, status = excluded.status, error = excluded.error,
		checked_at = excluded.checked_at`), ref, source, string(portal.DocsFailed), reason, at.UTC())
	return formatError(err)
}

// CheckedDocs records a build that found the source as it was.
func (db *DB) CheckedDocs(ctx context.Context, ref string, at time.Time) error {
	_, err := db.w.ExecContext(ctx, db.w.Rebind(`UPDATE docs_site SET checked_at = ? WHERE entity_ref = ?`), at.UTC(), ref)
	return formatError(err)
}

// DeleteDocs removes an entity's docs site.
func (db *DB) DeleteDocs(ctx context.Context, ref string) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return formatError(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM search_docs WHERE entity_ref = ? AND type = 'docs'`), ref); err != nil {
		return formatError(err)
	}
	for _, table := range []string{"docs_page", "docs_asset", "docs_site"} {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM `+table+` WHERE entity_ref = ?`), ref); err != nil {
			return formatError(err)
		}
	}
	return formatError(tx.Commit())
}

// EntitiesWithAnnotation returns the refs of a location's entities that
// have an annotation (all locations' when locationID is ""): those whose
// docs a refresh may have changed.
func (db *DB) EntitiesWithAnnotation(ctx context.Context, locationID, key string) ([]string, error) {
	q := `SELECT e.ref FROM entities e WHERE EXISTS (SELECT 1 FROM ` + db.d.objectEntries("e.annotations") + ` WHERE j.key = ?)`
	args := []any{key}
	if locationID != "" {
		q += ` AND e.location_id = ?`
		args = append(args, locationID)
	}
	var refs []string
	if err := db.r.SelectContext(ctx, &refs, db.r.Rebind(q+` ORDER BY e.ref`), args...); err != nil {
		return nil, formatError(err)
	}
	return refs, nil
}

// DocsToCheck returns the refs of a location's entities that have docs
// (the techdocs-ref annotation) and were written since changed, or whose
// docs were not looked at since checked: those a refresh of the location
// asks builds of. A site looked at recently is left to the next check,
// or to a push or an explicit refresh: a catalog of 55,000 documented
// entities, refreshed every 3 minutes, otherwise asked for 55,000 builds
// each time, more than two workers got through.
func (db *DB) DocsToCheck(ctx context.Context, locationID string, changed, checked time.Time) ([]string, error) {
	q := `SELECT e.ref FROM entities e LEFT JOIN docs_site d ON d.entity_ref = e.ref
		WHERE e.location_id = ? AND EXISTS (SELECT 1 FROM ` + db.d.objectEntries("e.annotations") + ` WHERE j.key = ?)
		AND (e.updated_at >= ? OR d.checked_at IS NULL OR d.checked_at < ?) ORDER BY e.ref`
	var refs []string
	if err := db.r.SelectContext(ctx, &refs, db.r.Rebind(q), locationID, catalog.AnnotationTechDocsRef, changed.UTC(), checked.UTC()); err != nil {
		return nil, formatError(err)
	}
	return refs, nil
}

// DocsProblems returns the docs sites whose last build failed or
// reported warnings, of a location's entities (every entity's when
// locationID is ""), by entity ref.
func (db *DB) DocsProblems(ctx context.Context, locationID string) ([]*portal.DocsSite, error) {
	q := `SELECT ` + prefixed("d.", docsSiteColumns) + ` FROM docs_site d JOIN entities e ON e.ref = d.entity_ref
		WHERE (d.status = ? OR d.report <> '[]')`
	args := []any{string(portal.DocsFailed)}
	if locationID != "" {
		q += ` AND e.location_id = ?`
		args = append(args, locationID)
	}
	var rows []docsSiteRow
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(q+` ORDER BY d.entity_ref`), args...); err != nil {
		return nil, formatError(err)
	}
	out := make([]*portal.DocsSite, len(rows))
	for i, r := range rows {
		out[i] = r.site()
	}
	return out, nil
}

// prefixed qualifies each of a list of columns.
func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ", ")
	for i, c := range parts {
		parts[i] = prefix + c
	}
	return strings.Join(parts, ", ")
}

// PruneDocs removes the docs of entities that are gone (a deleted
// location takes its entities without a refresh that would tell the docs
// jobs), and returns the refs whose sites went.
func (db *DB) PruneDocs(ctx context.Context) ([]string, error) {
	var refs []string
	err := db.withWrite(ctx, func(tx *sqlx.Tx) error {
		for _, table := range []string{"docs_page", "docs_asset"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE NOT EXISTS (SELECT 1 FROM entities e WHERE e.ref = `+table+`.entity_ref)`); err != nil {
				return err
			}
		}
		return tx.SelectContext(ctx, &refs, `DELETE FROM docs_site WHERE NOT EXISTS (SELECT 1 FROM entities e WHERE e.ref = docs_site.entity_ref)
			RETURNING entity_ref`)
	})
	return refs, err
}
