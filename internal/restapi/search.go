package restapi

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/search"
)

// Searcher searches for the caller in the context (see internal/app).
type Searcher interface {
	Prepare(ctx context.Context, q app.SearchQuery) (*app.PreparedSearch, error)
	Hits(ctx context.Context, p *app.PreparedSearch) ([]search.Hit, int, error)
}

// SearchOptions configures the search handler.
type SearchOptions struct {
	Search  Searcher
	Logger  *slog.Logger // nil logs nothing
	Timeout time.Duration
}

// SearchPrefix is where the search handler is mounted.
const SearchPrefix = "/api/search"

// Backstage's search types: the catalog collator's and TechDocs'.
const (
	typeCatalog  = "software-catalog"
	typeTechDocs = "techdocs"
)

// defaultSearchPage is Backstage's page size.
const defaultSearchPage = 25

// NewSearch returns the handler of Backstage's search query endpoint,
// GET /api/search/query, over Greenroom's search: the same request
// (term, types, filters, pageLimit, pageCursor as qs writes them) and
// result shape, so that Backstage's search client works unchanged.
// Entities and templates are of type software-catalog, docs of techdocs;
// the read policy is applied in the query, not to the page afterwards.
func NewSearch(opts SearchOptions) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{Options: Options{Logger: opts.Logger, Timeout: opts.Timeout}}
	s := &searchHandler{handler: h, search: opts.Search}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /query", h.timed(s.query))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, portal.Errorf(portal.ENOTFOUND, "No route for %s %s", r.Method, r.URL.Path))
	})
	return http.StripPrefix(SearchPrefix, mux)
}

type searchHandler struct {
	*handler
	search Searcher
}

// searchResult is a result of Backstage's search API.
type searchResult struct {
	Type      string          `json:"type"`
	Document  searchDocument  `json:"document"`
	Highlight searchHighlight `json:"highlight"`
	Rank      int             `json:"rank"`
}

// searchDocument has the fields Backstage's collators give every
// document, and those of their entity.
type searchDocument struct {
	Title     string `json:"title"`
	Text      string `json:"text"`
	Location  string `json:"location"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Path      string `json:"path,omitempty"` // a docs hit's page and anchor
}

type searchHighlight struct {
	PreTag  string            `json:"preTag"`
	PostTag string            `json:"postTag"`
	Fields  map[string]string `json:"fields"`
}

type searchResultSet struct {
	Results            []searchResult `json:"results"`
	NextPageCursor     string         `json:"nextPageCursor,omitempty"`
	PreviousPageCursor string         `json:"previousPageCursor,omitempty"`
	NumberOfResults    int            `json:"numberOfResults"`
}

// Highlights are marked with tags no text has, as Backstage's engines
// mark them, and the client replaces them.
const (
	preTag  = "<greenroom-highlight>"
	postTag = "</greenroom-highlight>"
)

func (s *searchHandler) query(w http.ResponseWriter, r *http.Request) {
	q, page, err := searchRequest(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.search.Prepare(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	hits, total, err := s.search.Hits(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	set := searchResultSet{Results: make([]searchResult, len(hits)), NumberOfResults: total}
	plan := p.Plan()
	same := func(s string) string { return s }
	for i, h := range hits {
		ref, _ := catalog.ParseRef(h.EntityRef, catalog.RefDefaults{})
		typ := typeCatalog
		if h.Kind == search.HitDocs {
			typ = typeTechDocs
		}
		doc := searchDocument{Title: h.Title, Text: h.Text, Location: h.URL(), Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name}
		if h.Kind == search.HitDocs {
			doc.Path = h.Location
		}
		set.Results[i] = searchResult{Type: typ, Document: doc, Rank: q.Offset + i + 1, Highlight: searchHighlight{
			PreTag: preTag, PostTag: postTag,
			Fields: map[string]string{"text": plan.Snippet(h.Text).Tagged(preTag, postTag, same)},
		}}
	}
	if q.Offset+len(hits) < total {
		set.NextPageCursor = pageCursor(page + 1)
	}
	if page > 0 {
		set.PreviousPageCursor = pageCursor(page - 1)
	}
	writeJSON(w, http.StatusOK, set)
}

// pageCursor is Backstage's cursor: a page number, base64-encoded.
func pageCursor(page int) string {
	return base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(page)))
}

// searchRequest reads Backstage's search query: term, types[…],
// filters[field] (a value, or values as filters[field][…]), pageLimit and
// pageCursor. It returns the search and the page number. Returns EINVALID
// for a type or filter field it does not know and for a malformed page.
func searchRequest(r *http.Request) (app.SearchQuery, int, error) {
	q := app.SearchQuery{Limit: defaultSearchPage}
	values := r.URL.Query()
	q.Text = values.Get("term")
	if v := values.Get("pageLimit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > search.MaxPageSize {
			return q, 0, invalid("pageLimit must be a number from 1 to %d", search.MaxPageSize)
		}
		q.Limit = n
	}
	page := 0
	if v := values.Get("pageCursor"); v != "" {
		b, err := base64.StdEncoding.DecodeString(v)
		n, aerr := strconv.Atoi(string(b))
		if err != nil || aerr != nil || n < 0 {
			return q, 0, invalid("invalid pageCursor %q: pass the cursor of a previous page", v)
		}
		page = n
	}
	q.Offset = page * q.Limit
	for key, vals := range values {
		switch field, ok := bracketed(key, "filters"); {
		case key == "types" || strings.HasPrefix(key, "types["):
			for _, v := range vals {
				switch v {
				case typeCatalog:
					q.Kinds = append(q.Kinds, search.HitEntity, search.HitTemplate)
				case typeTechDocs:
					q.Kinds = append(q.Kinds, search.HitDocs)
				default:
					return q, 0, invalid("unknown search type %q; the types are %s and %s", v, typeCatalog, typeTechDocs)
				}
			}
		case ok:
			if err := addSearchFilter(&q.Filter, field, vals); err != nil {
				return q, 0, err
			}
		}
	}
	return q, page, nil
}

// bracketed reads key as name[field] or name[field][…].
func bracketed(key, name string) (string, bool) {
	rest, ok := strings.CutPrefix(key, name+"[")
	if !ok {
		return "", false
	}
	field, _, ok := strings.Cut(rest, "]")
	return field, ok && field != ""
}

// addSearchFilter narrows f by a filter of Backstage's search documents:
// a hit's entity's kind, type, lifecycle, owner or namespace.
func addSearchFilter(f *catalog.EntityFilter, field string, vals []string) error {
	switch field {
	case "kind":
		f.Kinds = append(f.Kinds, vals...)
	case "type", "componentType":
		f.Types = append(f.Types, vals...)
	case "lifecycle":
		f.Lifecycles = append(f.Lifecycles, vals...)
	case "namespace":
		f.Namespaces = append(f.Namespaces, vals...)
	case "owner":
		for _, v := range vals {
			ref, err := catalog.ParseRef(v, catalog.RefDefaults{Kind: catalog.KindGroup})
			if err != nil {
				return invalid("filters[owner]: %v", err)
			}
			f.Owners = append(f.Owners, ref.String())
		}
	default:
		return invalid("cannot filter search results by %q; the fields are kind, type, lifecycle, owner and namespace", field)
	}
	return nil
}
