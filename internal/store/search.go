package store

import (
	"context"
	"fmt"
	"html"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/search"
)

// The search index is the table search_docs (migration 00015): one row per
// entity, written with the entity in the transaction of its change set,
// and one per docs page and section, written with the build that made
// them; each goes with its entity. The dialect's searchMatch reads the
// index the migrations keep over it; everything else here is one SQL text
// for both databases. See internal/search for how a query is planned.

const searchColumns = "entity_ref, type, page, location, name, title, keywords, text"

// searchTable writes search rows, replacing the row of the same place.
var searchTable = newBulkTable("search_docs", 400, ` ON CONFLICT (entity_ref, type, location) DO UPDATE SET
	page = excluded.page, name = excluded.name, title = excluded.title, keywords = excluded.keywords, text = excluded.text`,
	strings.Split(searchColumns, ", ")...)

// searchTermCache is how many terms a process remembers having added to
// the vocabulary, and does not add again: a catalog's words are few and
// repeat (100,000 generated entities have a few thousand).
const searchTermCache = 100_000

var termTable = newBulkTable("search_terms", 1000, " ON CONFLICT (term) DO NOTHING", "term")

// hitKind is the expression of a search row's hit kind (search.HitKind),
// over search_docs s and its entity e.
const hitKind = `CASE WHEN s.type = 'docs' THEN 'docs' WHEN lower(e.kind) = 'template' THEN 'template' ELSE 'entity' END`

// writeEntitySearch writes the search rows of docs, entities written in tx.
func writeEntitySearch(ctx context.Context, d dialect, tx *sqlx.Tx, docs []*catalog.EntityDoc) error {
	return d.upsert(ctx, tx, searchTable, len(docs), func(dst []any, i int) []any {
		doc := docs[i]
		s := &doc.Search
		return append(dst, doc.Ref, "entity", "", "", s.Name, s.Title, s.Keywords, s.Text)
	})
}

// entityTerms returns the vocabulary of the entities a change set writes.
func entityTerms(writes []catalog.EntityWrite) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range writes {
		if w.Doc != nil && (w.Op == catalog.OpCreated || w.Op == catalog.OpUpdated) {
			s := &w.Doc.Search
			out = append(out, search.Terms(seen, s.Name, s.Title, s.Keywords)...)
		}
	}
	return out
}

// addTerms adds terms to the vocabulary, after the change that brought
// them committed and outside its transaction: the vocabulary is only a
// list of words to correct typos to, and two writers adding the same
// words in their own transactions, in different orders, could deadlock
// on PostgreSQL. Terms this process added before are skipped. A failure
// costs corrections only, and is logged.
func (db *DB) addTerms(ctx context.Context, terms []string) {
	var fresh []string
	for _, t := range terms {
		if !db.terms.Contains(t) {
			fresh = append(fresh, t)
		}
	}
	if len(fresh) == 0 {
		return
	}
	slices.Sort(fresh) // one order for every writer
	err := db.withWrite(ctx, func(tx *sqlx.Tx) error {
		return db.d.upsert(ctx, tx, termTable, len(fresh), func(dst []any, i int) []any { return append(dst, fresh[i]) })
	})
	if err != nil {
		db.log.WarnContext(ctx, "adding search terms failed", "err", err)
		return
	}
	for _, t := range fresh {
		db.terms.Add(t, struct{}{})
	}
}

// writeDocsSearch makes the search rows of a site's pages those of pages
// in tx: the rows of the pages in changed, and of pages that have none
// (built before search, or whose entity was away), are written again;
// those of pages the site no longer has are deleted.
func writeDocsSearch(ctx context.Context, d dialect, tx *sqlx.Tx, site portal.DocsSite, pages []portal.DocsPage, changed map[string]bool) error {
	var have []string
	if err := tx.SelectContext(ctx, &have, tx.Rebind(`SELECT DISTINCT page FROM search_docs WHERE entity_ref = ? AND type = 'docs'`), site.EntityRef); err != nil {
		return err
	}
	stale := map[string]bool{}
	for _, p := range have {
		stale[p] = true
	}
	var rows [][8]string
	for _, p := range pages {
		if !stale[p.Path] || changed[p.Path] {
			for _, s := range p.Sections {
				title := html.UnescapeString(s.Title)
				keywords := p.Title
				if s.Location == p.Path {
					keywords = site.Name
				}
				rows = append(rows, [8]string{site.EntityRef, "docs", p.Path, s.Location, "", title, keywords, s.Text})
			}
			continue
		}
		delete(stale, p.Path) // kept as it is
	}
	for p := range stale { // changed, or gone
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM search_docs WHERE entity_ref = ? AND type = 'docs' AND page = ?`), site.EntityRef, p); err != nil {
			return err
		}
	}
	return d.upsert(ctx, tx, searchTable, len(rows), func(dst []any, i int) []any {
		for _, v := range rows[i] {
			dst = append(dst, v)
		}
		return dst
	})
}

// docsTerms returns the vocabulary of a site's pages: their titles and
// their sections'.
func docsTerms(pages []portal.DocsPage) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range pages {
		for _, s := range p.Sections {
			out = append(out, search.Terms(seen, html.UnescapeString(s.Title))...)
		}
	}
	return out
}

// searchMigration is the migration that made the search index; entities
// stored before it are indexed when it is applied.
const searchMigration = 15

// indexEntities writes the search rows of the entities that have none:
// those stored before the index existed (migration 00015). It decodes
// them from their stored JSON, a chunk at a time.
func (db *DB) indexEntities(ctx context.Context) error {
	for {
		var rows []struct {
			Ref  string `db:"ref"`
			Data string `db:"data"`
		}
		if err := db.w.SelectContext(ctx, &rows, db.w.Rebind(`SELECT e.ref, e.data FROM entities e
			WHERE NOT EXISTS (SELECT 1 FROM search_docs s WHERE s.entity_ref = e.ref AND s.type = 'entity')
			ORDER BY e.ref LIMIT ?`), entityChunk); err != nil {
			return fmt.Errorf("store: index entities: %w", formatError(err))
		}
		if len(rows) == 0 {
			return nil
		}
		docs := make([]*catalog.EntityDoc, 0, len(rows))
		var writes []catalog.EntityWrite
		for _, r := range rows {
			var e catalog.Entity
			if err := e.UnmarshalJSON([]byte(r.Data)); err != nil {
				return fmt.Errorf("store: index entities: %s: %w", r.Ref, err)
			}
			doc := &catalog.EntityDoc{Ref: r.Ref, EntityBody: &catalog.EntityBody{Search: e.SearchDocument()}}
			docs = append(docs, doc)
			writes = append(writes, catalog.EntityWrite{Op: catalog.OpCreated, Doc: doc})
		}
		if err := db.withWrite(ctx, func(tx *sqlx.Tx) error { return writeEntitySearch(ctx, db.d, tx, docs) }); err != nil {
			return fmt.Errorf("store: index entities: %w", err)
		}
		db.addTerms(ctx, entityTerms(writes))
	}
}

// PlanSearch decides how a search for words matches rows (see package
// search): whole words, else parts of words, else words corrected for a
// typo, each tried over the whole index.
func (db *DB) PlanSearch(ctx context.Context, words []string) (search.Plan, error) {
	if len(words) == 0 {
		return search.Plan{Mode: search.ModeAll}, nil
	}
	one := func(w string) []string { return []string{w} }
	p := search.Plan{Mode: search.ModeWords}
	short := false
	for _, w := range words {
		p.Words = append(p.Words, one(w))
		short = short || len([]rune(w)) < 3
	}
	if ok, err := db.anyMatch(ctx, p); ok || err != nil {
		return p, err
	}
	if !short {
		parts := search.Plan{Mode: search.ModeParts, Words: p.Words}
		if ok, err := db.anyMatch(ctx, parts); ok || err != nil {
			return parts, err
		}
	}
	typos := search.Plan{Mode: search.ModeTypos}
	corrected := false
	for _, w := range words {
		alone := search.Plan{Mode: search.ModeWords, Words: [][]string{one(w)}}
		ok, err := db.anyMatch(ctx, alone)
		if err != nil {
			return p, err
		}
		if ok {
			typos.Words = append(typos.Words, one(w))
			continue
		}
		fixes, err := db.corrections(ctx, w)
		if err != nil {
			return p, err
		}
		if len(fixes) == 0 {
			return search.Plan{Mode: search.ModeNone}, nil
		}
		typos.Words, corrected = append(typos.Words, fixes), true
	}
	if !corrected {
		return search.Plan{Mode: search.ModeNone}, nil
	}
	if ok, err := db.anyMatch(ctx, typos); !ok || err != nil {
		return search.Plan{Mode: search.ModeNone}, err
	}
	return typos, nil
}

// anyMatch reports whether any row of the index matches p.
func (db *DB) anyMatch(ctx context.Context, p search.Plan) (bool, error) {
	match, args := db.d.searchMatch(p)
	var n int
	if err := db.r.GetContext(ctx, &n, db.r.Rebind(`SELECT COUNT(*) FROM (SELECT m.id FROM (`+match+`) m LIMIT 1) x`), args...); err != nil {
		return false, fmt.Errorf("store: search: %w", formatError(err))
	}
	return n > 0, nil
}

// corrections returns the vocabulary's terms one typo from w.
func (db *DB) corrections(ctx context.Context, w string) ([]string, error) {
	ranges, minLen, maxLen := search.CandidateRanges(w)
	var candidates []string
	for _, rg := range ranges {
		var terms []string
		if err := db.r.SelectContext(ctx, &terms, db.r.Rebind(`SELECT term FROM search_terms
			WHERE term >= ? AND term < ? AND length(term) BETWEEN ? AND ?`), rg[0], rg[1], minLen, maxLen); err != nil {
			return nil, fmt.Errorf("store: search: %w", formatError(err))
		}
		candidates = append(candidates, terms...)
	}
	return search.Corrections(w, candidates), nil
}

// searchFrom returns the FROM and WHERE of a search's hits (search_docs
// s, its entity e, and m, the match, with its score), and their
// arguments.
func (db *DB) searchFrom(r *search.Request) (string, []any) {
	var from string
	var args []any
	if r.Plan.Mode == search.ModeAll {
		from = `search_docs s JOIN entities e ON e.ref = s.entity_ref`
	} else {
		match, margs := db.d.searchMatch(r.Plan)
		from = `(` + match + `) m JOIN search_docs s ON s.id = m.id JOIN entities e ON e.ref = s.entity_ref`
		args = margs
	}
	cond, cargs := db.filterSQL(&r.Filter)
	args = append(args, cargs...)
	if len(r.Kinds) > 0 {
		cond += " AND " + hitKind + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(r.Kinds)), ", ") + ")"
		for _, k := range r.Kinds {
			args = append(args, string(k))
		}
	}
	return from + ` WHERE ` + cond, args
}

// Search returns a page of a search's hits, the best first, and whether
// more follow.
func (db *DB) Search(ctx context.Context, r search.Request) ([]search.Hit, bool, error) {
	if r.Plan.Mode == search.ModeNone {
		return nil, false, nil
	}
	from, fromArgs := db.searchFrom(&r)
	// A hit whose name or title is the query, word for word, counts
	// twice: whoever types a thing's name is looking for that thing.
	score, order := "m.score * CASE WHEN lower(s.name) = ? OR lower(s.title) = ? THEN 2 ELSE 1 END", "score DESC, s.id"
	var args []any
	if r.Plan.Mode == search.ModeAll {
		score, order = "0.0", "lower(s.title), s.id"
	} else {
		first := make([]string, len(r.Plan.Words))
		for i, alts := range r.Plan.Words {
			first[i] = alts[0]
		}
		args = append(args, strings.Join(first, "-"), strings.Join(first, " "))
	}
	query := `SELECT ` + hitKind + ` AS kind, s.entity_ref, s.location, s.title, s.text, ` + score + ` AS score
		FROM ` + from + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`
	args = append(append(args, fromArgs...), r.Limit+1, r.Offset)
	var rows []struct {
		Kind      string  `db:"kind"`
		EntityRef string  `db:"entity_ref"`
		Location  string  `db:"location"`
		Title     string  `db:"title"`
		Text      string  `db:"text"`
		Score     float64 `db:"score"`
	}
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(query), args...); err != nil {
		return nil, false, fmt.Errorf("store: search: %w", formatError(err))
	}
	more := len(rows) > r.Limit
	rows = rows[:min(len(rows), r.Limit)]
	hits := make([]search.Hit, len(rows))
	for i, row := range rows {
		hits[i] = search.Hit{Kind: search.HitKind(row.Kind), EntityRef: row.EntityRef, Location: row.Location,
			Title: row.Title, Text: row.Text, Score: row.Score}
	}
	return hits, more, nil
}

// CountSearch counts a search's hits.
func (db *DB) CountSearch(ctx context.Context, r search.Request) (int, error) {
	if r.Plan.Mode == search.ModeNone {
		return 0, nil
	}
	from, args := db.searchFrom(&r)
	var n int
	if err := db.r.GetContext(ctx, &n, db.r.Rebind(`SELECT COUNT(*) FROM `+from), args...); err != nil {
		return 0, fmt.Errorf("store: count search: %w", formatError(err))
	}
	return n, nil
}

// SearchFacets counts a search's hits by kind and by their entity's kind,
// type, lifecycle and owner, in one statement over the hits.
func (db *DB) SearchFacets(ctx context.Context, r search.Request) (search.Facets, error) {
	var out search.Facets
	if r.Plan.Mode == search.ModeNone {
		return out, nil
	}
	from, args := db.searchFrom(&r)
	query := `WITH h AS MATERIALIZED (SELECT ` + hitKind + ` AS hit, e.kind, e.spec_type, e.lifecycle, e.ref FROM ` + from + `)
		SELECT 'hit' AS facet, hit AS value, COUNT(*) AS count FROM h GROUP BY hit
		UNION ALL SELECT 'kind', kind, COUNT(*) FROM h GROUP BY kind
		UNION ALL SELECT 'type', spec_type, COUNT(*) FROM h WHERE spec_type IS NOT NULL GROUP BY spec_type
		UNION ALL SELECT 'lifecycle', lifecycle, COUNT(*) FROM h WHERE lifecycle IS NOT NULL GROUP BY lifecycle
		UNION ALL SELECT 'owner', r.target_ref, COUNT(*) FROM h JOIN relations r ON r.source_ref = h.ref AND r.type = 'ownedBy' GROUP BY r.target_ref
		ORDER BY 1, 2`
	var rows []struct {
		Facet string `db:"facet"`
		Value string `db:"value"`
		Count int    `db:"count"`
	}
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(query), args...); err != nil {
		return out, fmt.Errorf("store: search facets: %w", formatError(err))
	}
	for _, row := range rows {
		v := catalog.FacetValue{Value: row.Value, Count: row.Count}
		switch row.Facet {
		case "hit":
			out.Kinds = append(out.Kinds, v)
		case "kind":
			out.EntityKind = append(out.EntityKind, v)
		case "type":
			out.Types = append(out.Types, v)
		case "lifecycle":
			out.Lifecycles = append(out.Lifecycles, v)
		case "owner":
			out.Owners = append(out.Owners, v)
		}
	}
	return out, nil
}
