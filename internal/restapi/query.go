package restapi

import (
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
	OrderFieldValues []string  `json:"orderFieldValues"`
	Filter           []string  `json:"filter,omitempty"` // the filter parameters
	FullTextFilter   *fullText `json:"fullTextFilter,omitempty"`
	IsPrevious       bool      `json:"isPrevious"`
	TotalItems       int       `json:"totalItems"`
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

// byQuery serves GET /entities/by-query (backstage-spec.md §2.8): a page
// of entities in the order of one field (by ref without), those without
// the field left out, optionally narrowed to those whose full-text fields
// hold a term, with totalItems and the cursors of the next and previous
// pages.
func (h *handler) byQuery(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := intParam(q, "limit", defaultQueryLimit, 0, maxInt)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fields, err := parseFields(q["fields"])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var cur queryCursor
	first := q.Get("cursor") == ""
	if first {
		cur, err = newQuery(q)
	} else {
		err = decodeCursor(q.Get("cursor"), &cur)
		if err == nil && (len(cur.OrderFieldValues) != 2 || len(cur.OrderFields) > 1 ||
			(len(cur.OrderFields) == 1 && cur.OrderFields[0].Order != "asc" && cur.OrderFields[0].Order != "desc")) {
			err = invalid("Malformed cursor: not a cursor of this server")
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, err := cur.filter()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	if first && q.Get("totalItems") != "exclude" {
		if cur.TotalItems, err = h.Catalog.CountEntities(ctx, f); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	query := catalog.EntityQuery{Filter: f}
	if len(cur.OrderFields) == 1 {
		query.OrderPath, query.Desc = cur.OrderFields[0].Field, cur.OrderFields[0].Order == "desc"
	}
	if !first {
		pos := &catalog.Position{Key: cur.OrderFieldValues[0], Ref: cur.OrderFieldValues[1]}
		if cur.IsPrevious {
			query.Before, query.FromEnd = pos, true
		} else {
			query.After = pos
		}
	}
	recs, keys, more, err := readPages(ctx, h.Catalog, query, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rels, err := relationsOf(ctx, h.Catalog, recs)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := []byte(`{"items":[`)
	for i, rec := range recs {
		if i > 0 {
			out = append(out, ',')
		}
		if out, err = appendEntity(out, rec, rels[rec.Ref], fields); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	out = append(out, `],"totalItems":`...)
	out = strconv.AppendInt(out, int64(cur.TotalItems), 10)
	out = append(out, `,"pageInfo":{`...)
	hasNext, hasPrev := more, !first
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
	f := catalog.EntityFilter{And: []catalog.EntityFilter{base}}
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
			anyOf = append(anyOf, catalog.EntityFilter{Fields: []catalog.FieldFilter{{Key: field, Values: []string{t.Term}, Contains: true}}})
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
