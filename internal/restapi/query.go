package restapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// queryCursor is a position in GET /entities/by-query's results, carrying
// the query onward as Backstage's cursors do: a request with a cursor
// takes its filter, order and full-text filter from it, and only limit
// and fields from its parameters.
type queryCursor struct {
	OrderFields []orderField `json:"orderFields"`
	// OrderFieldValues are the sort key and the ref of the entity the
	// page starts after (before, when IsPrevious).
	OrderFieldValues []string `json:"orderFieldValues"`
	Filter           []string `json:"filter,omitempty"` // the filter parameters
	// Query is the predicate of a POST (see [parsePredicate]).
	Query          json.RawMessage `json:"query,omitempty"`
	FullTextFilter *fullText       `json:"fullTextFilter,omitempty"`
	IsPrevious     bool            `json:"isPrevious"`
	TotalItems     int             `json:"totalItems"`
}

type orderField struct {
	Field string `json:"field"`
	Order string `json:"order"`
}

type fullText struct {
	Term   string   `json:"term"`
	Fields []string `json:"fields,omitempty"`
}

// defaultQueryLimit is by-query's page size when none is asked for: 200,
// as in Backstage's code.
const defaultQueryLimit = 200

// queryRequest is a request for a page of /entities/by-query, from GET's
// parameters or POST's body.
type queryRequest struct {
	limit, offset int
	fields        []string
	cur           queryCursor
	first         bool // no cursor was given
	countTotal    bool // totalItems is not exclude
}

// byQuery serves GET /entities/by-query (backstage-spec.md §2.8): a page
// of entities in the order of one field (by metadata.uid without, as
// Backstage), those without
// the field left out, optionally narrowed to those whose full-text fields
// hold a term, with totalItems and the cursors of the next and previous
// pages.
func (h *handler) byQuery(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := queryRequest{first: q.Get("cursor") == "", countTotal: q.Get("totalItems") != "exclude"}
	var err error
	if req.limit, err = intParam(q, "limit", defaultQueryLimit, 0, maxInt); err == nil {
		req.offset, err = intParam(q, "offset", 0, 0, maxInt)
	}
	if err == nil {
		req.fields, err = parseFields(q["fields"])
	}
	if err == nil && req.first {
		req.cur, err = newQuery(q)
	} else if err == nil {
		req.cur, err = readCursor(q.Get("cursor"))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.query(w, r, req)
}

// queryBody is POST /entities/by-query's body.
type queryBody struct {
	Cursor         string          `json:"cursor"`
	Limit          *int            `json:"limit"`
	Offset         *int            `json:"offset"`
	OrderBy        []orderField    `json:"orderBy"`
	FullTextFilter *fullText       `json:"fullTextFilter"`
	Fields         []string        `json:"fields"`
	TotalItems     string          `json:"totalItems"`
	Query          json.RawMessage `json:"query"`
}

// byQueryPost serves POST /entities/by-query: GET's page, asked for with a
// JSON body whose query is a predicate (backstage-spec.md §2.9).
func (h *handler) byQueryPost(w http.ResponseWriter, r *http.Request) {
	var body queryBody
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		h.fail(w, r, invalid("Invalid request body: %s", bodyError(err)))
		return
	}
	req := queryRequest{first: body.Cursor == "", limit: defaultQueryLimit, countTotal: body.TotalItems != "exclude"}
	var err error
	switch {
	case body.Limit != nil && *body.Limit < 0, body.Offset != nil && *body.Offset < 0:
		err = invalid("Invalid request body: limit and offset must not be negative")
	case body.TotalItems != "" && body.TotalItems != "include" && body.TotalItems != "exclude":
		err = invalid("Invalid totalItems, %q is neither include nor exclude", body.TotalItems)
	}
	if body.Limit != nil {
		req.limit = *body.Limit
	}
	if body.Offset != nil {
		req.offset = *body.Offset
	}
	if err == nil {
		req.fields, err = parseFields(body.Fields)
	}
	if err == nil && req.first {
		req.cur, err = newPredicateQuery(body)
	} else if err == nil {
		req.cur, err = readCursor(body.Cursor)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.query(w, r, req)
}

// readCursor reads a cursor given back by a client.
func readCursor(s string) (queryCursor, error) {
	var cur queryCursor
	err := decodeCursor(s, &cur)
	if err == nil && (len(cur.OrderFieldValues) != 2 || len(cur.OrderFields) > 1 ||
		(len(cur.OrderFields) == 1 && cur.OrderFields[0].Order != "asc" && cur.OrderFields[0].Order != "desc")) {
		err = invalid("Malformed cursor: not a cursor of this server")
	}
	return cur, err
}

// query writes the page req asks for.
func (h *handler) query(w http.ResponseWriter, r *http.Request, req queryRequest) {
	cur := req.cur
	f, err := cur.filter()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	if req.first && req.countTotal {
		if cur.TotalItems, err = h.Catalog.CountEntities(ctx, f); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	query := catalog.EntityQuery{Filter: f, Order: catalog.OrderUID}
	if len(cur.OrderFields) == 1 {
		query.OrderPath, query.Desc = cur.OrderFields[0].Field, cur.OrderFields[0].Order == "desc"
	}
	if req.first {
		query.Offset = req.offset
	} else {
		pos := &catalog.Position{Key: cur.OrderFieldValues[0], Ref: cur.OrderFieldValues[1]}
		if cur.IsPrevious {
			query.Before, query.FromEnd = pos, true
		} else {
			query.After = pos
		}
	}
	recs, keys, more, err := readPages(ctx, h.Catalog, query, req.limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rels, err := relationsOf(ctx, h.Catalog, recs, req.fields)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := append(listBuffer(recs, rels, req.fields), `{"items":[`...)
	for i, rec := range recs {
		if i > 0 {
			out = append(out, ',')
		}
		if out, err = appendEntity(out, rec, rels[rec.Ref], req.fields); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	out = append(out, `],"totalItems":`...)
	out = strconv.AppendInt(out, int64(cur.TotalItems), 10)
	out = append(out, `,"pageInfo":{`...)
	hasNext, hasPrev := more, !req.first
	if cur.IsPrevious {
		hasNext, hasPrev = true, more
	}
	sep := ""
	if hasNext && len(recs) > 0 {
		next := cur
		next.IsPrevious, next.OrderFieldValues = false, []string{keys[len(keys)-1], recs[len(recs)-1].Ref}
		out = append(out, `"nextCursor":"`+encodeCursor(next)+`"`...)
		sep = ","
	}
	if hasPrev && len(recs) > 0 {
		prev := cur
		prev.IsPrevious, prev.OrderFieldValues = true, []string{keys[0], recs[0].Ref}
		out = append(out, sep+`"prevCursor":"`+encodeCursor(prev)+`"`...)
	}
	out = append(out, "}}"...)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(out)
}

// newPredicateQuery reads a first POST page's body into the cursor that
// carries it on.
func newPredicateQuery(body queryBody) (queryCursor, error) {
	cur := queryCursor{Query: body.Query, OrderFieldValues: []string{}, OrderFields: []orderField{}}
	if len(body.OrderBy) > 0 {
		o := body.OrderBy[0] // as in GET, only the first is used
		o.Field, o.Order = strings.TrimSpace(o.Field), strings.ToLower(strings.TrimSpace(o.Order))
		if o.Order == "" {
			o.Order = "asc"
		}
		if o.Field == "" || (o.Order != "asc" && o.Order != "desc") || strings.Contains(o.Field, "[") {
			return cur, invalid("Invalid orderBy, {field: %q, order: %q} needs a field and asc or desc", o.Field, o.Order)
		}
		cur.OrderFields = []orderField{o}
	}
	if t := body.FullTextFilter; t != nil {
		if term := strings.ToLower(strings.TrimSpace(t.Term)); term != "" {
			cur.FullTextFilter = &fullText{Term: term, Fields: t.Fields}
		}
	}
	if _, err := parsePredicate(cur.Query); err != nil {
		return cur, err
	}
	return cur, nil
}

// newQuery reads a first page's parameters into the cursor that carries
// them on.
func newQuery(q map[string][]string) (queryCursor, error) {
	cur := queryCursor{Filter: q["filter"], OrderFieldValues: []string{}, OrderFields: []orderField{}}
	if values := q["orderField"]; len(values) > 0 {
		field, dir, _ := strings.Cut(values[0], ",")
		field, dir = strings.TrimSpace(field), strings.TrimSpace(dir)
		if dir == "" {
			dir = "asc"
		}
		if field == "" || (dir != "asc" && dir != "desc") || strings.Contains(field, "[") {
			return cur, invalid("Invalid order field order, %q is not of the form <field>,asc or <field>,desc", values[0])
		}
		cur.OrderFields = []orderField{{Field: field, Order: dir}}
	}
	switch t := get(q, "totalItems"); t {
	case "", "include", "exclude":
	default:
		return cur, invalid("Invalid totalItems, %q is neither include nor exclude", t)
	}
	if term := strings.ToLower(strings.TrimSpace(get(q, "fullTextFilterTerm"))); term != "" {
		cur.FullTextFilter = &fullText{Term: term, Fields: commaList(q["fullTextFilterFields"])}
	}
	if _, err := parseFilter(cur.Filter); err != nil {
		return cur, err
	}
	return cur, nil
}

func get(q map[string][]string, name string) string {
	if v := q[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// filter returns what the cursor's query selects: its filter, the
// entities that have the order field, and the full-text filter, whose
// fields are by default the order field or else metadata.uid, as in
// Backstage.
func (c queryCursor) filter() (catalog.EntityFilter, error) {
	base, err := parseFilter(c.Filter)
	if err != nil {
		return catalog.EntityFilter{}, err
	}
	pred, err := parsePredicate(c.Query)
	if err != nil {
		return catalog.EntityFilter{}, err
	}
	f := catalog.EntityFilter{And: []catalog.EntityFilter{base, pred}}
	if len(c.OrderFields) == 1 {
		f.Fields = append(f.Fields, catalog.FieldFilter{Key: c.OrderFields[0].Field})
	}
	if t := c.FullTextFilter; t != nil && t.Term != "" {
		fields := lowerAll(t.Fields)
		if len(fields) == 0 && len(c.OrderFields) == 1 {
			fields = []string{c.OrderFields[0].Field}
		} else if len(fields) == 0 {
			fields = []string{"metadata.uid"}
		}
		var anyOf []catalog.EntityFilter
		for _, field := range fields {
			anyOf = append(anyOf, catalog.EntityFilter{Fields: []catalog.FieldFilter{{Key: field, Values: []string{t.Term}, Match: catalog.MatchContains}}})
		}
		f.And = append(f.And, catalog.EntityFilter{Or: anyOf})
	}
	return f, nil
}

func lowerAll(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strings.ToLower(v)
	}
	return out
}
