// Package search holds the rules of Greenroom's text search that are not
// SQL: how a query and the indexed text are split into words, how a
// search decides between matching whole words, parts of words and words
// corrected for a typo, and how a hit's snippet is cut and highlighted.
// internal/store keeps the index and runs the queries (see
// internal/store/search.go); this package gives both databases the same
// words, so they find the same rows.
//
// A search is planned in up to three steps, each tried only when the one
// before finds nothing anywhere in the index (whatever the caller may
// read, so that the plan is the same for every caller and pages agree):
//
//  1. Words: every word of the query begins a word of the row (a prefix,
//     so "pay" finds payments).
//  2. Parts: every word of three letters or more is part of the row's
//     name, title or keywords ("atewa" finds payment-gateway), through a
//     trigram index.
//  3. Typos: each word that begins no word of the index is replaced by
//     the words of the vocabulary one edit away from it (two for words of
//     eight letters or more): insertions, deletions, substitutions and
//     swaps of two neighbours, as in Damerau-Levenshtein distance; then
//     step 1 again.
//
// Hits rank by tier, then within it (see [Tier]): first those with every
// word in their name, title or keywords, by bm25 on SQLite and ts_rank on
// PostgreSQL (a word in the name weighing most), then those with a word
// only in their text. A tier too large to rank is ordered by size.
//
// It imports internal/catalog only.
package search

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// Query limits. MaxQueryLength is Backstage's search.maxTermLength;
// more words than MaxWords make a query no better and its plan dearer.
const (
	MaxQueryLength = 100
	MaxWords       = 8
	// MaxPageSize is Backstage's search.maxPageLimit.
	MaxPageSize = 100
	// MaxOffset bounds how deep a search pages: ranked results are sorted
	// whole, so a page costs as much as all the pages before it.
	MaxOffset = 10_000
)

// HitKind is what a hit is.
type HitKind string

// The hit kinds.
const (
	HitEntity   HitKind = "entity"   // an entity other than a template
	HitTemplate HitKind = "template" // a Template entity
	HitDocs     HitKind = "docs"     // a page or a section of an entity's TechDocs
)

// Mode is how a plan matches its words.
type Mode string

// The modes, in the order a plan tries them.
const (
	ModeAll   Mode = "all"   // an empty query: every row, by title
	ModeWords Mode = "words" // every word begins a word of the row
	ModeParts Mode = "parts" // every word is part of the row's short fields
	ModeTypos Mode = "typos" // ModeWords, with words corrected for a typo
	ModeNone  Mode = "none"  // nothing can match
)

// Plan is how a search matches rows: each of Words is a list of
// alternatives, one of which the row must have. Terms, where the store
// could list them, are for each of Words the index's whole words that
// begin with one of its alternatives (nil for a group it could not list):
// matching those is matching the prefixes, and much faster. Counts are
// how many rows of the whole index each of its tiers holds (see
// [Plan.Tiers]).
type Plan struct {
	Mode   Mode
	Words  [][]string
	Terms  [][]string
	Counts []int
}

// MaxTerms is the most whole words a prefix is matched as: a shorter
// prefix stays a prefix.
const MaxTerms = 16

// Fields are fields of a search row, which a match is looked for in.
type Fields uint8

// The fields, in the order of their weight.
const (
	FieldName Fields = 1 << iota
	FieldTitle
	FieldKeywords
	FieldText
	FieldsHead = FieldName | FieldTitle | FieldKeywords
	FieldsAll  = FieldsHead | FieldText
)

// Tier is a rank of hits: those that have every word in its fields, and
// not in the fields of the tier before (Not). A tier of more than
// RankLimit hits is ordered by size, the shortest first, not by score
// (bm25 on SQLite, ts_rank on PostgreSQL): scoring costs each hit's word
// positions, and a tier that large answers a query too broad for the
// order of its hits to matter much; among them, the shortest are the
// likeliest to be about the words.
type Tier struct {
	In, Not   Fields
	RankLimit int
}

// wordTiers rank a hit by where its words are: all in its name, title or
// keywords, else (some) only in its text. A name is what a person types
// to find a thing; a word only in the text of a long docs section says
// less. Measured at 100,000 entities and 58,785 docs sections: ranking
// 5,278 hits with "ledger" in their short fields took 6 ms on SQLite and
// 10 ms on PostgreSQL (20 with the rest of the query), 31,000 with
// "service" 36 and 60 ms; ranking 19,740 sections with two common words
// in their text took 26 and 84 ms, where walking them by size took 11
// and 10 ms.
var wordTiers = []Tier{
	{In: FieldsHead, RankLimit: 4000},
	{In: FieldsAll, Not: FieldsHead, RankLimit: 2000},
}

// partTiers: parts of words are looked for in the short fields only.
var partTiers = wordTiers[:1]

// Tiers are the tiers of the plan's hits, best first: a hit ranks by its
// tier, then within it. Each tier's In holds the tier before's.
func (p Plan) Tiers() []Tier {
	switch p.Mode {
	case ModeWords, ModeTypos:
		return wordTiers
	case ModeParts:
		return partTiers
	}
	return nil
}

// Every is the tier of all the plan's hits.
func (p Plan) Every() Tier {
	tiers := p.Tiers()
	return Tier{In: tiers[len(tiers)-1].In}
}

// Total is how many rows of the whole index the plan matches.
func (p Plan) Total() int {
	n := 0
	for _, c := range p.Counts {
		n += c
	}
	return n
}

// Request is one search: its plan, what the caller's filter and read
// policy let through (a zero filter: everything), which kinds of hits,
// and the page.
type Request struct {
	Plan   Plan
	Filter catalog.EntityFilter // over the hit's entity: the caller's filter and read policy
	Kinds  []HitKind            // none: every kind
	Limit  int
	Offset int
}

// Hit is one thing a search found.
type Hit struct {
	Kind      HitKind
	EntityRef string
	// Location is a docs hit's page path and anchor, as MkDocs' search
	// index has it ("ops/#deploying"); "" for an entity.
	Location string
	Title    string
	Text     string
	Score    float64
}

// URL is where a portal shows the hit, as Backstage's collators write
// it: /catalog/{namespace}/{kind}/{name}, or /docs/{namespace}/{kind}/{name}/
// and the docs location.
func (h *Hit) URL() string {
	r, err := catalog.ParseRef(h.EntityRef, catalog.RefDefaults{})
	if err != nil {
		return ""
	}
	triplet := url.PathEscape(r.Namespace) + "/" + url.PathEscape(r.Kind) + "/" + url.PathEscape(r.Name)
	if h.Kind == HitDocs {
		return "/docs/" + triplet + "/" + h.Location
	}
	return "/catalog/" + triplet
}

// Facets count the hits of a search by their entity's fields, and by
// kind.
type Facets struct {
	Kinds      []catalog.FacetValue // hit kinds
	EntityKind []catalog.FacetValue
	Types      []catalog.FacetValue
	Lifecycles []catalog.FacetValue
	Owners     []catalog.FacetValue // relation targets (refs)
}

// Words splits text into lower-cased words as SQLite's unicode61
// tokenizer does: a word is a run of letters and digits.
func Words(text string) []string {
	var out []string
	for w := range strings.FieldsFuncSeq(text, notWordRune) {
		out = append(out, strings.ToLower(w))
	}
	return out
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }

// ParseQuery returns the words of a query, each once, in order, at most
// MaxWords. A query longer than MaxQueryLength characters is refused
// (false); one with no words has none.
func ParseQuery(q string) ([]string, bool) {
	if utf8.RuneCountInString(q) > MaxQueryLength {
		return nil, false
	}
	var out []string
	for _, w := range Words(q) {
		if len(out) == MaxWords {
			break
		}
		if !contains(out, w) {
			out = append(out, w)
		}
	}
	return out, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// MaxTermBytes is the longest word the vocabulary keeps whole: a longer
// one is kept as its first MaxTermBytes bytes (cut between runes), which
// a prefix is then not matched as (see the store's searchTerms).
const MaxTermBytes = 64

// Terms returns the words of fields that seen does not hold, each once,
// and adds them to seen: the vocabulary of the index, which prefixes are
// matched as (see [Plan.Terms]) and typos corrected to. A word longer
// than MaxTermBytes is cut to its first bytes.
func Terms(seen map[string]bool, fields ...string) []string {
	var out []string
	for _, f := range fields {
		for _, w := range Words(f) {
			if len(w) > MaxTermBytes {
				cut := MaxTermBytes
				for !utf8.RuneStart(w[cut]) {
					cut--
				}
				w = w[:cut]
			}
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}

// MaxEdits is how many edits a word's corrections may be away from it:
// none for a word too short to correct.
func MaxEdits(word string) int {
	switch n := utf8.RuneCountInString(word); {
	case n < 4:
		return 0
	case n < 8:
		return 1
	default:
		return 2
	}
}

// CandidateRanges are the ranges of terms [from, to) that may hold a
// word's corrections, and the lengths they may have: the terms that begin
// with its first letter, or with its second (which a typo in the first
// letter, or a swap of the first two, leaves first).
func CandidateRanges(word string) (ranges [][2]string, minLen, maxLen int) {
	edits := MaxEdits(word)
	if edits == 0 {
		return nil, 0, 0
	}
	rs := []rune(word)
	for _, r := range rs[:2] {
		rg := [2]string{string(r), string(r + 1)}
		if len(ranges) == 0 || ranges[0] != rg {
			ranges = append(ranges, rg)
		}
	}
	return ranges, len(rs) - edits, len(rs) + edits
}

// Corrections returns the candidates within MaxEdits of word, the
// nearest first, at most three.
func Corrections(word string, candidates []string) []string {
	edits := MaxEdits(word)
	var byDist [3][]string
	for _, c := range candidates {
		if c == word {
			continue
		}
		if d := distance(word, c, edits); d <= edits {
			byDist[d] = append(byDist[d], c)
		}
	}
	var out []string
	for _, cs := range byDist {
		for _, c := range cs {
			if len(out) < 3 {
				out = append(out, c)
			}
		}
	}
	return out
}

// distance is the optimal string alignment distance between a and b
// (Damerau-Levenshtein without edits of a swapped pair), or max+1 once it
// is known to exceed max.
func distance(a, b string, max int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > max || -d > max {
		return max + 1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			best = min(best, cur[j])
		}
		if best > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
