package restapi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// pageSize is how many entities one read fetches: the most the store
// returns at once.
const pageSize = 1000

// ndjson is the media type of a list written one entity a line.
const ndjson = "application/x-ndjson"

// entities serves GET /entities. With offset, limit or after it returns
// one page, in ref order or the order asked for, and a link to the next;
// without, it streams every entity the caller may read, in the same order,
// page by page as read, so that memory stays flat whatever the catalog's
// size.
// Either is a JSON array, or NDJSON when the client accepts
// application/x-ndjson.
func (h *handler) entities(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := parseFilter(q["filter"])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fields, err := parseFields(q["fields"])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	order, err := parseOrder(q["order"])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := h.newListWriter(w, r)
	if !q.Has("offset") && !q.Has("limit") && !q.Has("after") {
		h.stream(r.Context(), out, f, fields, order)
		return
	}
	ctx := r.Context()
	if h.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.Timeout)
		defer cancel()
		r = r.WithContext(ctx)
	}
	type position struct {
		Limit  int `json:"limit"`
		Offset int `json:"offset"`
	}
	var pos position
	if pos.Offset, err = intParam(q, "offset", 0, 0, maxInt); err == nil {
		pos.Limit, err = intParam(q, "limit", -1, 0, maxInt)
	}
	if err == nil && q.Get("after") != "" {
		err = decodeCursor(q.Get("after"), &pos)
		if err == nil && (pos.Limit < 0 || pos.Offset < 0) {
			err = invalid("Malformed cursor: negative limit or offset")
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	query := catalog.EntityQuery{Filter: f, Offset: pos.Offset}
	if order != nil {
		query.OrderPath, query.Desc = order.field, order.desc
	}
	recs, _, more, err := readPages(ctx, h.Catalog, query, pos.Limit)
	if err == nil {
		var rels map[string][]catalog.RelationRow
		if rels, err = relationsOf(ctx, h.Catalog, recs, fields); err == nil {
			if more {
				next := r.URL.Query()
				next.Del("offset")
				next.Set("after", encodeCursor(position{Limit: pos.Limit, Offset: pos.Offset + pos.Limit}))
				w.Header().Set("Link", "</entities?"+next.Encode()+`>; rel="next"`)
			}
			out.start()
			for _, rec := range recs {
				if err = out.entity(rec, rels[rec.Ref], fields); err != nil {
					break
				}
			}
		}
	}
	if err != nil && !out.started {
		h.fail(w, r, err)
		return
	}
	out.end(err)
}

// maxInt bounds numbers read from parameters.
const maxInt = 1<<31 - 1

// stream writes every entity f selects that the caller may read, a page at
// a time, each page written before the next is read: in ref order, each
// page one read of the entities and their relations past the read cache;
// or in the order asked for, each page of entities by its position in
// that order (keyset, never offset) and one read of their relations.
func (h *handler) stream(ctx context.Context, out *listWriter, f catalog.EntityFilter, fields []string, o *order) {
	out.start()
	next := h.refPages(f)
	if o != nil {
		next = h.orderedPages(f, *o, fields)
	}
	for {
		recs, rels, more, err := next(ctx)
		if err != nil {
			out.end(err)
			return
		}
		for _, rec := range recs {
			if err := out.entity(rec, rels[rec.Ref], fields); err != nil {
				out.end(err)
				return
			}
		}
		if !more {
			out.end(nil)
			return
		}
		if err := out.flush(); err != nil {
			out.end(err)
			return
		}
	}
}

// A pageReader returns the next page of a stream, its relations by source,
// and whether another page may follow.
type pageReader func(ctx context.Context) ([]*catalog.Record, map[string][]catalog.RelationRow, bool, error)

// refPages reads the entities f selects in ref order.
func (h *handler) refPages(f catalog.EntityFilter) pageReader {
	after := ""
	return func(ctx context.Context) ([]*catalog.Record, map[string][]catalog.RelationRow, bool, error) {
		recs, rels, err := h.Catalog.ScanEntities(ctx, f, after, pageSize)
		if err != nil || len(recs) < pageSize {
			return recs, groupRelations(rels), false, err
		}
		after = recs[len(recs)-1].Ref
		return recs, groupRelations(rels), true, nil
	}
}

// orderedPages reads the entities f selects in the order of o's field,
// those without the field left out.
func (h *handler) orderedPages(f catalog.EntityFilter, o order, fields []string) pageReader {
	q := catalog.EntityQuery{Filter: f, OrderPath: o.field, Desc: o.desc, Limit: pageSize}
	return func(ctx context.Context) ([]*catalog.Record, map[string][]catalog.RelationRow, bool, error) {
		page, err := h.Catalog.FindEntities(ctx, q)
		if err != nil {
			return nil, nil, false, err
		}
		rels, err := relationsOf(ctx, h.Catalog, page.Records, fields)
		if err != nil || len(page.Records) == 0 {
			return page.Records, rels, false, err
		}
		n := len(page.Records) - 1
		q.After = &catalog.Position{Key: page.Keys[n], Ref: page.Records[n].Ref}
		return page.Records, rels, page.HasMore, nil
	}
}

// readPages reads up to limit entities (all when limit is negative) that q
// selects, a page at a time, with their sort keys, and whether more follow
// in the direction read (backwards with q.FromEnd, still returned in
// order).
func readPages(ctx context.Context, c Catalog, q catalog.EntityQuery, limit int) ([]*catalog.Record, []string, bool, error) {
	if limit == 0 {
		return nil, nil, false, nil
	}
	var recs []*catalog.Record
	var keys []string
	for limit < 0 || len(recs) < limit {
		q.Limit = pageSize
		if limit >= 0 {
			q.Limit = min(pageSize, limit-len(recs))
		}
		page, err := c.FindEntities(ctx, q)
		if err != nil {
			return nil, nil, false, err
		}
		if q.FromEnd {
			recs, keys = append(page.Records, recs...), append(page.Keys, keys...)
		} else {
			recs, keys = append(recs, page.Records...), append(keys, page.Keys...)
		}
		if !page.HasMore {
			return recs, keys, false, nil
		}
		if len(page.Records) == 0 {
			return recs, keys, true, nil
		}
		q.Offset = 0
		if q.FromEnd {
			q.Before = &catalog.Position{Key: page.Keys[0], Ref: page.Records[0].Ref}
		} else {
			n := len(page.Records) - 1
			q.After = &catalog.Position{Key: page.Keys[n], Ref: page.Records[n].Ref}
		}
	}
	return recs, keys, true, nil
}

// relationsOf returns the relations of recs by source, read at once, or
// none when fields leave them out.
func relationsOf(ctx context.Context, c Catalog, recs []*catalog.Record, fields []string) (map[string][]catalog.RelationRow, error) {
	if len(recs) == 0 || !wantsRelations(fields) {
		return nil, nil
	}
	refs := make([]string, len(recs))
	for i, r := range recs {
		refs[i] = r.Ref
	}
	rows, err := c.RelationsBySources(ctx, refs, nil)
	if err != nil {
		return nil, err
	}
	return groupRelations(rows), nil
}

// groupRelations groups relations, ordered by source, type and target, by
// source.
func groupRelations(rows []catalog.RelationRow) map[string][]catalog.RelationRow {
	out := map[string][]catalog.RelationRow{}
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j].Source == rows[i].Source {
			j++
		}
		out[rows[i].Source] = rows[i:j:j]
		i = j
	}
	return out
}

// order is a sort on one field.
type order struct {
	field string
	desc  bool
}

// parseOrder reads GET /entities' order parameters, asc:<field> or
// desc:<field>. The store sorts by one field: a second is refused rather
// than ignored.
func parseOrder(params []string) (*order, error) {
	items := commaList(params)
	if len(items) == 0 {
		return nil, nil
	}
	if len(items) > 1 {
		return nil, invalid("Invalid order, only one order field is supported")
	}
	dir, field, ok := strings.Cut(items[0], ":")
	field = strings.TrimSpace(field)
	if !ok || field == "" || (dir != "asc" && dir != "desc") {
		return nil, invalid("Invalid order field order, %q is not of the form asc:<field> or desc:<field>", items[0])
	}
	return &order{field: field, desc: dir == "desc"}, nil
}

// listWriter writes a list of entities as a JSON array or as NDJSON,
// through a buffer flushed page by page.
type listWriter struct {
	w        http.ResponseWriter
	r        *http.Request
	buf      *bufio.Writer
	ndjson   bool
	started  bool
	n        int
	scratch  []byte
	deadline time.Duration
	log      *slog.Logger
}

func (h *handler) newListWriter(w http.ResponseWriter, r *http.Request) *listWriter {
	return &listWriter{w: w, r: r, ndjson: acceptsNDJSON(r), deadline: h.WriteTimeout, log: h.Logger}
}

// acceptsNDJSON reports whether the client asks for NDJSON.
func acceptsNDJSON(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			if strings.EqualFold(strings.TrimSpace(mt), ndjson) {
				return true
			}
		}
	}
	return false
}

// start writes the headers and the opening of the list.
func (l *listWriter) start() {
	l.started = true
	if l.ndjson {
		l.w.Header().Set("Content-Type", ndjson)
	} else {
		l.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	l.extend()
	l.w.WriteHeader(http.StatusOK)
	l.buf = bufio.NewWriterSize(l.w, 64<<10)
	if !l.ndjson {
		l.buf.WriteByte('[')
	}
}

// extend gives the next page its time to be written.
func (l *listWriter) extend() {
	if l.deadline > 0 {
		http.NewResponseController(l.w).SetWriteDeadline(time.Now().Add(l.deadline))
	}
}

// entity writes one entity.
func (l *listWriter) entity(rec *catalog.Record, rels []catalog.RelationRow, fields []string) error {
	var err error
	l.scratch, err = appendEntity(l.scratch[:0], rec, rels, fields)
	if err != nil {
		return err
	}
	if !l.ndjson && l.n > 0 {
		l.buf.WriteByte(',')
	}
	l.n++
	l.buf.Write(l.scratch)
	if l.ndjson {
		l.buf.WriteByte('\n')
	}
	return nil
}

// flush sends what is buffered, and gives the next page its time.
func (l *listWriter) flush() error {
	if err := l.buf.Flush(); err != nil {
		return err
	}
	http.NewResponseController(l.w).Flush()
	l.extend()
	return l.r.Context().Err()
}

// end closes the list, or, after an error, breaks the connection: a
// response already begun cannot say that it failed, and a well-formed but
// shorter list would pass for the whole catalog.
func (l *listWriter) end(err error) {
	if err == nil {
		if !l.ndjson {
			l.buf.WriteByte(']')
		}
		err = l.buf.Flush()
	}
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, io.ErrClosedPipe) {
		l.log.ErrorContext(l.r.Context(), "entity list cut short", "request_id", portal.RequestIDFromContext(l.r.Context()), "err", err)
	}
	if err != nil {
		panic(http.ErrAbortHandler)
	}
}
