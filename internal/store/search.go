package store

import (
	"context"
	"fmt"
	"html"
	"reflect"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"golang.org/x/sync/errgroup"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/search"
)

// The search index is the table search_docs (migration 00015): one row per
// entity, written with the entity in the transaction of its change set,
// and one per docs page and section, written with the build that made
// them; each goes with its entity. search_terms, the vocabulary, is
// written in the same transactions. The dialect reads the indexes the
// migrations keep over them (searchMatch, searchBySize, searchTerms);
// everything else here is one SQL text for both databases. See
// internal/search for how a query is planned and ranked.

const searchColumns = "entity_ref, type, kind, page, location, name, title, keywords, text, size"

// searchTable writes search rows, replacing the row of the same place.
var searchTable = newBulkTable("search_docs", 400, ` ON CONFLICT (entity_ref, type, location) DO UPDATE SET
	kind = excluded.kind, page = excluded.page, name = excluded.name, title = excluded.title, keywords = excluded.keywords,
	text = excluded.text, size = excluded.size`,
	strings.Split(searchColumns, ", ")...)

// searchTermCache is how many terms a process remembers having added to
// the vocabulary, and does not add again: a catalog's words are few and
// repeat (100,000 generated entities have a few thousand).
const searchTermCache = 100_000

var termTable = newBulkTable("search_terms", 1000, " ON CONFLICT (term) DO NOTHING", "term")

// hitKind is the expression of a search row's hit kind (search.HitKind),
// over search_docs s.
const hitKind = `CASE WHEN s.type = 'docs' THEN 'docs' WHEN s.kind = 'template' THEN 'template' ELSE 'entity' END`

// writeEntitySearch writes the search rows of docs, entities written in tx.
func writeEntitySearch(ctx context.Context, d dialect, tx *sqlx.Tx, docs []*catalog.EntityDoc) error {
	return d.upsert(ctx, tx, searchTable, len(docs), func(dst []any, i int) []any {
		doc := docs[i]
		s := &doc.Search
		return append(dst, doc.Ref, "entity", strings.ToLower(doc.Kind), "", "", s.Name, s.Title, s.Keywords, s.Text,
			len(s.Name)+len(s.Title)+len(s.Keywords)+len(s.Text))
	})
}

// entityTerms returns the vocabulary of the entities a change set writes.
func entityTerms(writes []catalog.EntityWrite) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range writes {
		if w.Doc != nil && (w.Op == catalog.OpCreated || w.Op == catalog.OpUpdated) {
			s := &w.Doc.Search
			out = append(out, search.Terms(seen, s.Name, s.Title, s.Keywords, s.Text)...)
		}
	}
	return out
}

// writeTerms adds terms to the vocabulary in tx, the transaction that
// writes the rows they are words of: a word is listed as soon as a row
// has it, which PostgreSQL's matching of a prefix as the words it begins
// relies on (see search.Plan.Terms). They are written in one order,
// sorted, so that two writers lock the words they share in that order
// and neither waits for the other holding what the other waits for.
// Terms this process knows are stored are skipped; it returns those it
// wrote, for rememberTerms once tx commits.
func (db *DB) writeTerms(ctx context.Context, tx *sqlx.Tx, terms []string) ([]string, error) {
	var fresh []string
	for _, t := range terms {
		if !db.terms.Contains(t) {
			fresh = append(fresh, t)
		}
	}
	slices.Sort(fresh)
	fresh = slices.Compact(fresh)
	if err := db.d.upsert(ctx, tx, termTable, len(fresh), func(dst []any, i int) []any { return append(dst, fresh[i]) }); err != nil {
		return nil, fmt.Errorf("store: write search terms: %w", formatError(err))
	}
	return fresh, nil
}

// rememberTerms notes terms as stored, their transaction committed.
func (db *DB) rememberTerms(terms []string) {
	for _, t := range terms {
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
	kind, _, _ := strings.Cut(site.EntityRef, ":")
	var rows [][10]any
	for _, p := range pages {
		if !stale[p.Path] || changed[p.Path] {
			for _, s := range p.Sections {
				title := html.UnescapeString(s.Title)
				keywords := p.Title
				if s.Location == p.Path {
					keywords = site.Name
				}
				rows = append(rows, [10]any{site.EntityRef, "docs", kind, p.Path, s.Location, "", title, keywords, s.Text,
					len(title) + len(keywords) + len(s.Text)})
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

// docsTerms returns the vocabulary of a site's pages: the words of their
// titles, sections and keywords (the site's name and the page titles).
func docsTerms(site portal.DocsSite, pages []portal.DocsPage) []string {
	seen := map[string]bool{}
	out := search.Terms(seen, site.Name)
	for _, p := range pages {
		out = append(out, search.Terms(seen, p.Title)...)
		for _, s := range p.Sections {
			out = append(out, search.Terms(seen, html.UnescapeString(s.Title), s.Text)...)
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
			doc := &catalog.EntityDoc{Ref: r.Ref, EntityBody: &catalog.EntityBody{Kind: e.Kind, Search: e.SearchDocument()}}
			docs = append(docs, doc)
			writes = append(writes, catalog.EntityWrite{Op: catalog.OpCreated, Doc: doc})
		}
		var terms []string
		if err := db.withWrite(ctx, func(tx *sqlx.Tx) error {
			if err := writeEntitySearch(ctx, db.d, tx, docs); err != nil {
				return err
			}
			var err error
			terms, err = db.writeTerms(ctx, tx, entityTerms(writes))
			return err
		}); err != nil {
			return fmt.Errorf("store: index entities: %w", err)
		}
		db.rememberTerms(terms)
	}
}

// PlanSearch decides how a search for words matches rows (see package
// search): whole words, else parts of words, else words corrected for a
// typo, each tried over the whole index, and counts the plan's tiers.
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
	if err := db.listTerms(ctx, &p); err != nil {
		return p, err
	}
	if err := db.countTiers(ctx, &p); err != nil || p.Total() > 0 {
		return p, err
	}
	if !short {
		parts := search.Plan{Mode: search.ModeParts, Words: p.Words}
		if err := db.countTiers(ctx, &parts); err != nil || parts.Total() > 0 {
			return parts, err
		}
	}
	none := search.Plan{Mode: search.ModeNone}
	typos := search.Plan{Mode: search.ModeTypos}
	corrected := false
	for i, w := range words {
		// Whether a word begins any word of the index is asked of the
		// vocabulary, which listed it already when it begins few: a query
		// of rows that matched none was a scan of every row on
		// PostgreSQL (147 ms), planned for a LIMIT 1.
		found := p.Terms[i]
		if found == nil {
			var err error
			if found, _, err = db.d.searchTerms(ctx, db, w); err != nil {
				return none, err
			}
		}
		if len(found) > 0 {
			typos.Words, typos.Terms = append(typos.Words, one(w)), append(typos.Terms, p.Terms[i])
			continue
		}
		fixes, err := db.corrections(ctx, w)
		if err != nil || len(fixes) == 0 {
			return none, err
		}
		terms, err := db.termsOf(ctx, fixes)
		if err != nil {
			return none, err
		}
		typos.Words, typos.Terms, corrected = append(typos.Words, fixes), append(typos.Terms, terms), true
	}
	if !corrected {
		return none, nil
	}
	if err := db.countTiers(ctx, &typos); err != nil || typos.Total() == 0 {
		return none, err
	}
	return typos, nil
}

// listTerms sets p.Terms: each group of words as the index's words that
// begin with them, where the dialect can list few enough.
func (db *DB) listTerms(ctx context.Context, p *search.Plan) error {
	p.Terms = make([][]string, len(p.Words))
	for i, alts := range p.Words {
		terms, err := db.termsOf(ctx, alts)
		if err != nil {
			return err
		}
		p.Terms[i] = terms
	}
	return nil
}

// termsOf returns the index's words that begin with one of alts, or nil
// when the dialect cannot list them all, or they are too many.
func (db *DB) termsOf(ctx context.Context, alts []string) ([]string, error) {
	var terms []string
	for _, w := range alts {
		ts, ok, err := db.d.searchTerms(ctx, db, w)
		if err != nil || !ok {
			return nil, err
		}
		terms = append(terms, ts...)
	}
	return terms, nil
}

// countTiers counts the rows of the whole index in each of p's tiers.
func (db *DB) countTiers(ctx context.Context, p *search.Plan) error {
	counts, err := db.tierCounts(ctx, &search.Request{Plan: *p})
	p.Counts = counts
	return err
}

// tierCounts counts the hits of r in each tier of its plan. Each tier's
// fields hold the tier before's, so a tier's hits are those in its
// fields less those in the tier before's: counting them so costs no NOT.
//
// The tiers are counted at once, each on a connection of its own: a
// broad query's counts are most of its cost (two counts of 5,278 and
// 19,740 rows took 3.6 and 9.9 ms on PostgreSQL).
func (db *DB) tierCounts(ctx context.Context, r *search.Request) ([]int, error) {
	tiers := r.Plan.Tiers()
	counts := make([]int, len(tiers))
	g, gctx := errgroup.WithContext(ctx)
	for i, t := range tiers {
		match, args := db.d.searchMatch(r.Plan, search.Tier{In: t.In}, false)
		query := `SELECT COUNT(*) FROM (` + match + `) m`
		if filtered(r) {
			var from string
			from, args = db.hitsFrom(r, matched(match), "", args, false)
			query = `SELECT COUNT(*) FROM ` + from
		}
		g.Go(func() error {
			if err := db.r.GetContext(gctx, &counts[i], db.r.Rebind(query), args...); err != nil {
				return fmt.Errorf("store: search: %w", formatError(err))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i := len(counts) - 1; i > 0; i-- {
		counts[i] -= counts[i-1]
	}
	return counts, nil
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

// filtered reports whether a search is narrowed beyond its words: by
// the caller's filter or read policy, which need each hit's entity, or by
// kinds of hit.
func filtered(r *search.Request) bool {
	return !reflect.ValueOf(r.Filter).IsZero() || len(r.Kinds) > 0
}

// matched is the table expression of the rows of a match query: search_docs
// s joined to m, which has the match's score.
func matched(match string) string {
	return `(` + match + `) m JOIN search_docs s ON s.id = m.id`
}

// hitsFrom returns the FROM and WHERE of the hits of r among the rows of
// from (a table expression with search_docs s) that pass cond ("": all),
// and their arguments, which follow args, from's and cond's. Their
// entity, e, is joined when the filter or withEntity needs it.
func (db *DB) hitsFrom(r *search.Request, from, cond string, args []any, withEntity bool) (string, []any) {
	if cond == "" {
		cond = "1 = 1"
	}
	if withEntity || !reflect.ValueOf(r.Filter).IsZero() {
		from += ` JOIN entities e ON e.ref = s.entity_ref`
		fcond, fargs := db.filterSQL(&r.Filter)
		cond += " AND " + fcond
		args = append(args, fargs...)
	}
	if len(r.Kinds) > 0 {
		cond += " AND " + hitKind + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(r.Kinds)), ", ") + ")"
		for _, k := range r.Kinds {
			args = append(args, string(k))
		}
	}
	return from + ` WHERE ` + cond, args
}

// Search returns a page of a search's hits, the best first, and how many
// there are in all. Hits rank by tier (see search.Plan.Tiers), then by
// score, a hit whose name or title is the query counting twice; or, in a
// tier of more than its RankLimit hits, by size.
func (db *DB) Search(ctx context.Context, r search.Request) ([]search.Hit, int, error) {
	switch r.Plan.Mode {
	case search.ModeNone:
		return nil, 0, nil
	case search.ModeAll:
		return db.browse(ctx, &r)
	}
	counts := r.Plan.Counts
	if filtered(&r) {
		var err error
		if counts, err = db.tierCounts(ctx, &r); err != nil {
			return nil, 0, err
		}
	}
	first := make([]string, len(r.Plan.Words))
	for i, alts := range r.Plan.Words {
		first[i] = alts[0]
	}
	exact := []any{strings.Join(first, "-"), strings.Join(first, " ")}
	var hits []search.Hit
	total, offset := 0, r.Offset
	for i, t := range r.Plan.Tiers() {
		total += counts[i]
		if offset >= counts[i] || len(hits) == r.Limit {
			offset = max(0, offset-counts[i])
			continue
		}
		var page []search.Hit
		var err error
		if counts[i] <= t.RankLimit {
			match, args := db.d.searchMatch(r.Plan, t, true)
			from, args := db.hitsFrom(&r, matched(match), "", args, false)
			page, err = db.searchRows(ctx, "m.score * CASE WHEN lower(s.name) = ? OR lower(s.title) = ? THEN 2 ELSE 1 END",
				from, "score DESC, s.id", append(append(slices.Clone(exact), args...), r.Limit-len(hits), offset))
		} else {
			table, cond, args := db.d.searchBySize(r.Plan, t)
			from, args := db.hitsFrom(&r, table, cond, args, false)
			page, err = db.searchRows(ctx, "0.0", from, "s.size, s.id", append(args, r.Limit-len(hits), offset))
		}
		if err != nil {
			return nil, 0, err
		}
		hits, offset = append(hits, page...), 0
	}
	return hits, total, nil
}

// browse lists every hit of an empty query, by title.
func (db *DB) browse(ctx context.Context, r *search.Request) ([]search.Hit, int, error) {
	from, args := db.hitsFrom(r, "search_docs s", "", nil, false)
	var n int
	if err := db.r.GetContext(ctx, &n, db.r.Rebind(`SELECT COUNT(*) FROM `+from), args...); err != nil {
		return nil, 0, fmt.Errorf("store: search: %w", formatError(err))
	}
	hits, err := db.searchRows(ctx, "0.0", from, "lower(s.title), s.id", append(args, r.Limit, r.Offset))
	return hits, n, err
}

// searchRows reads hits: SELECT … score FROM from ORDER BY order LIMIT ?
// OFFSET ?, the arguments in that order.
func (db *DB) searchRows(ctx context.Context, score, from, order string, args []any) ([]search.Hit, error) {
	query := `SELECT ` + hitKind + ` AS kind, s.entity_ref, s.location, s.title, s.text, ` + score + ` AS score
		FROM ` + from + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`
	var rows []struct {
		Kind      string  `db:"kind"`
		EntityRef string  `db:"entity_ref"`
		Location  string  `db:"location"`
		Title     string  `db:"title"`
		Text      string  `db:"text"`
		Score     float64 `db:"score"`
	}
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("store: search: %w", formatError(err))
	}
	hits := make([]search.Hit, len(rows))
	for i, row := range rows {
		hits[i] = search.Hit{Kind: search.HitKind(row.Kind), EntityRef: row.EntityRef, Location: row.Location,
			Title: row.Title, Text: row.Text, Score: row.Score}
	}
	return hits, nil
}

// SearchFacets counts a search's hits by kind and by their entity's kind,
// type, lifecycle and owner, in one statement over the hits.
func (db *DB) SearchFacets(ctx context.Context, r search.Request) (search.Facets, error) {
	var out search.Facets
	if r.Plan.Mode == search.ModeNone {
		return out, nil
	}
	var match string
	var args []any
	if r.Plan.Mode != search.ModeAll {
		match, args = db.d.searchMatch(r.Plan, r.Plan.Every(), false)
	}
	from := "search_docs s"
	if match != "" {
		from = matched(match)
	}
	from, args = db.hitsFrom(&r, from, "", args, true)
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
