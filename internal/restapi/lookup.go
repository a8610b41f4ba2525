package restapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// byName serves GET /entities/by-name/{kind}/{namespace}/{name}: the ref
// compares lower-cased, and an entity the caller may not read is not found,
// as one that does not exist.
func (h *handler) byName(w http.ResponseWriter, r *http.Request) {
	kind, ns, name := r.PathValue("kind"), r.PathValue("namespace"), r.PathValue("name")
	ref := strings.ToLower(kind + ":" + ns + "/" + name)
	rec, err := h.Catalog.EntityByRef(r.Context(), ref)
	if portal.ErrorCode(err) == portal.ENOTFOUND {
		err = portal.Errorf(portal.ENOTFOUND, "No entity named '%s' found, with kind '%s' in namespace '%s'", name, kind, ns)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rels, err := relationsOf(r.Context(), h.Catalog, []*catalog.Record{rec}, nil)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data, err := appendEntity(nil, rec, rels[rec.Ref], nil)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(data)
}

// byRefs serves POST /entities/by-refs: the entities of the refs in the
// body, in their order, null for a ref that names no entity the caller may
// read (or that the filter parameters or the body's predicate query leave
// out). Refs are full refs, matched lower-cased.
func (h *handler) byRefs(w http.ResponseWriter, r *http.Request) {
	var body struct {
		EntityRefs []string        `json:"entityRefs"`
		Fields     []string        `json:"fields"`
		Query      json.RawMessage `json:"query"`
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&body); err != nil {
		h.fail(w, r, invalid("Invalid request body: %s", bodyError(err)))
		return
	}
	if body.EntityRefs == nil {
		h.fail(w, r, invalid("Invalid request body: entityRefs is required"))
		return
	}
	f, err := parseFilter(r.URL.Query()["filter"])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pred, err := parsePredicate(body.Query)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f = catalog.EntityFilter{And: []catalog.EntityFilter{f, pred}}
	fields, err := parseFields(append(body.Fields, r.URL.Query()["fields"]...))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	byRef := map[string]*catalog.Record{}
	refs := make([]string, len(body.EntityRefs))
	for i, ref := range body.EntityRefs {
		refs[i] = strings.ToLower(ref)
	}
	var found []*catalog.Record
	for start := 0; start < len(refs); start += pageSize {
		chunk := refs[start:min(start+pageSize, len(refs))]
		page, err := h.Catalog.FindEntities(r.Context(), catalog.EntityQuery{
			Filter: catalog.EntityFilter{Refs: chunk, And: []catalog.EntityFilter{f}},
			Limit:  len(chunk),
		})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, rec := range page.Records {
			byRef[rec.Ref] = rec
		}
		found = append(found, page.Records...)
	}
	rels, err := relationsOf(r.Context(), h.Catalog, found, fields)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := append(listBuffer(found, rels, fields), `{"items":[`...)
	for i, ref := range refs {
		if i > 0 {
			out = append(out, ',')
		}
		rec := byRef[ref]
		if rec == nil {
			out = append(out, "null"...)
			continue
		}
		if out, err = appendEntity(out, rec, rels[rec.Ref], fields); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	out = append(out, "]}"...)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(out)
}

// bodyError says what is wrong with a request body, without echoing it.
func bodyError(err error) string {
	if _, ok := err.(*json.UnmarshalTypeError); ok {
		return "a field has the wrong type"
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown field " + field
	}
	return "not a JSON object"
}

// facets serves GET /entity-facets: for each facet parameter, the values
// of that field among the entities the filter selects that the caller may
// read, with how many have each, keyed by the facet as asked for.
func (h *handler) facets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := parseFilter(q["filter"])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeFacets(w, r, q["facet"], f)
}

// facetsPost serves POST /entity-facets: GET's facets, asked for with a
// JSON body {facets, query} whose query is a predicate.
func (h *handler) facetsPost(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Facets []string        `json:"facets"`
		Query  json.RawMessage `json:"query"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		h.fail(w, r, invalid("Invalid request body: %s", bodyError(err)))
		return
	}
	f, err := parsePredicate(body.Query)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeFacets(w, r, body.Facets, f)
}

// writeFacets writes, for each facet, the values of that field among the
// entities f selects that the caller may read.
func (h *handler) writeFacets(w http.ResponseWriter, r *http.Request, names []string, f catalog.EntityFilter) {
	if len(names) == 0 {
		h.fail(w, r, invalid("Missing facet parameter"))
		return
	}
	type count struct {
		Value string `json:"value"`
		Count int    `json:"count"`
	}
	out := map[string][]count{}
	for _, name := range names {
		if strings.Contains(name, "[") {
			h.fail(w, r, invalid("Invalid facet %q: array paths are not supported", name))
			return
		}
		values, err := h.Catalog.PathFacet(r.Context(), name, f)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		counts := make([]count, len(values))
		for i, v := range values {
			counts[i] = count(v)
		}
		out[name] = counts
	}
	writeJSON(w, http.StatusOK, map[string]any{"facets": out})
}
