package store

import (
	"slices"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// where builds a SQL condition and its arguments, with ? placeholders,
// over the entities table aliased e.
type where struct {
	d    dialect
	sb   strings.Builder
	args []any
}

// filterSQL returns the condition that selects the entities f selects.
func (db *DB) filterSQL(f *catalog.EntityFilter) (string, []any) {
	w := &where{d: db.d}
	w.filter(f)
	return w.sb.String(), w.args
}

func (w *where) filter(f *catalog.EntityFilter) {
	var conds []func()
	add := func(c func()) { conds = append(conds, c) }
	if len(f.Kinds) > 0 {
		add(func() { w.in("lower(e.kind)", lower(f.Kinds)) })
	}
	if len(f.Namespaces) > 0 {
		add(func() { w.in("lower(e.namespace)", lower(f.Namespaces)) })
	}
	if len(f.Names) > 0 {
		add(func() { w.in("lower(e.name)", lower(f.Names)) })
	}
	if len(f.Types) > 0 {
		add(func() { w.in("lower(e.spec_type)", lower(f.Types)) })
	}
	if len(f.Lifecycles) > 0 {
		add(func() { w.in("lower(e.lifecycle)", lower(f.Lifecycles)) })
	}
	if len(f.Owners) > 0 {
		add(func() { w.related(catalog.RelationOwnedBy, lower(f.Owners)) })
	}
	if len(f.Systems) > 0 {
		add(func() { w.related(catalog.RelationPartOf, lower(f.Systems)) })
	}
	for _, t := range f.TagsAll {
		add(func() { w.tag(t) })
	}
	if len(f.TagsAny) > 0 {
		add(func() { orEach(w, f.TagsAny, w.tag) })
	}
	if len(f.Labels) > 0 {
		add(func() { orEach(w, f.Labels, func(k catalog.KeyFilter) { w.keyValue("e.labels", k) }) })
	}
	if len(f.Annotations) > 0 {
		add(func() { orEach(w, f.Annotations, func(k catalog.KeyFilter) { w.keyValue("e.annotations", k) }) })
	}
	if len(f.Relations) > 0 {
		add(func() {
			orEach(w, f.Relations, func(r catalog.RelationFilter) { w.related(r.Type, []string{strings.ToLower(r.Target)}) })
		})
	}
	for _, ff := range f.Fields {
		add(func() { w.field(ff) })
	}
	if f.Orphan != nil {
		add(func() { w.sb.WriteString("e.orphan = ?"); w.args = append(w.args, *f.Orphan) })
	}
	if f.HasErrors != nil {
		add(func() {
			if !*f.HasErrors {
				w.sb.WriteString("NOT ")
			}
			w.sb.WriteString("EXISTS (SELECT 1 FROM processing_errors pe WHERE pe.entity_ref = e.ref)")
		})
	}
	if len(f.Docs) > 0 {
		add(func() { orEach(w, f.Docs, w.docs) })
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		add(func() {
			w.sb.WriteString(`e.search_text LIKE ? ESCAPE '\'`)
			w.args = append(w.args, "%"+escapeLike(strings.ToLower(t))+"%")
		})
	}
	if len(f.LocationIDs) > 0 {
		add(func() { w.in("e.location_id", f.LocationIDs) })
	}
	if len(f.ParentRefs) > 0 {
		add(func() { w.in("e.parent_ref", lower(f.ParentRefs)) })
	}
	if len(f.Refs) > 0 {
		add(func() {
			in, arg := inList(w.d, "e.ref", lower(f.Refs))
			w.sb.WriteString(in)
			w.args = append(w.args, arg)
		})
	}
	for _, sub := range f.And {
		add(func() { w.filter(&sub) })
	}
	if len(f.Or) > 0 {
		add(func() { orEach(w, f.Or, func(sub catalog.EntityFilter) { w.filter(&sub) }) })
	}
	if f.Not != nil {
		// A condition on a column that may be NULL (spec_type, lifecycle) is
		// NULL, not false, for an entity without the field, and NOT NULL is
		// NULL too: without COALESCE, "not lifecycle production" would leave
		// out the entities that have no lifecycle at all.
		add(func() { w.sb.WriteString("NOT COALESCE("); w.filter(f.Not); w.sb.WriteString(", FALSE)") })
	}
	if len(conds) == 0 {
		w.sb.WriteString("1 = 1")
		return
	}
	for i, c := range conds {
		if i > 0 {
			w.sb.WriteString(" AND ")
		}
		w.paren(c)
	}
}

func (w *where) paren(c func()) {
	w.sb.WriteString("(")
	c()
	w.sb.WriteString(")")
}

// orEach writes one condition per item, joined with OR.
func orEach[T any](w *where, items []T, cond func(T)) {
	for i, item := range items {
		if i > 0 {
			w.sb.WriteString(" OR ")
		}
		w.paren(func() { cond(item) })
	}
}

func (w *where) in(expr string, values []string) {
	w.sb.WriteString(expr + " IN (")
	for i, v := range values {
		if i > 0 {
			w.sb.WriteString(", ")
		}
		w.sb.WriteString("?")
		w.args = append(w.args, v)
	}
	w.sb.WriteString(")")
}

// related matches the entities with a relation of typ to one of targets.
// It is written as e.ref IN (the sources of those relations), not as a
// correlated EXISTS: SQLite then reads the few relations to the targets
// through the target index, instead of probing the relations of every
// entity the rest of the filter lets through (80 times faster for the
// components of one owner among 10,000 entities).
func (w *where) related(typ string, targets []string) {
	w.sb.WriteString("e.ref IN (SELECT r.source_ref FROM relations r WHERE r.type = ? AND ")
	w.args = append(w.args, typ)
	w.in("r.target_ref", targets)
	w.sb.WriteString(")")
}

func (w *where) tag(t string) {
	w.sb.WriteString(`e.tags LIKE ? ESCAPE '\'`)
	w.args = append(w.args, "%|"+escapeLike(strings.ToLower(t))+"|%")
}

// keyValue matches a label or annotation by key, and value when given,
// both case-insensitively.
func (w *where) keyValue(column string, k catalog.KeyFilter) {
	w.sb.WriteString("EXISTS (SELECT 1 FROM ")
	w.sb.WriteString(w.d.objectEntries(column))
	w.sb.WriteString(" WHERE lower(j.key) = ?")
	w.args = append(w.args, strings.ToLower(k.Key))
	if k.Value != nil {
		w.sb.WriteString(" AND lower(j.value) = ?")
		w.args = append(w.args, strings.ToLower(*k.Value))
	}
	w.sb.WriteString(")")
}

// docs matches entities whose TechDocs are in state: by the annotation,
// and the docs_site row a build left.
func (w *where) docs(state catalog.DocsState) {
	annotated := "EXISTS (SELECT 1 FROM " + w.d.objectEntries("e.annotations") + " WHERE j.key = ?)"
	w.args = append(w.args, catalog.AnnotationTechDocsRef)
	switch state {
	case catalog.DocsMissing:
		w.sb.WriteString("NOT " + annotated)
	case catalog.DocsPending:
		w.sb.WriteString(annotated + " AND NOT EXISTS (SELECT 1 FROM docs_site d WHERE d.entity_ref = e.ref)")
	default:
		w.sb.WriteString(annotated + " AND EXISTS (SELECT 1 FROM docs_site d WHERE d.entity_ref = e.ref AND d.status = ?)")
		w.args = append(w.args, string(state))
	}
}

// maxSearchValue is the longest value Backstage's search rows keep: a
// longer one is stored as NULL, so it exists but matches no value.
const maxSearchValue = 200

// field matches a Backstage field filter. The fields that have a column
// or a table of their own are read from it, the relations from their
// table; any other path is walked in the entity's JSON (dialect's
// pathValues), which lists the values of that path only.
func (w *where) field(ff catalog.FieldFilter) {
	key := strings.ToLower(ff.Key)
	values := lower(ff.Values)
	if ff.Match == catalog.MatchEqual {
		values = slices.DeleteFunc(values, func(v string) bool { return len(v) > maxSearchValue })
		if len(ff.Values) > 0 && len(values) == 0 {
			w.sb.WriteString("1 = 0")
			return
		}
	}
	column := func(expr string) bool {
		if len(values) == 0 || ff.Match != catalog.MatchEqual {
			return false
		}
		w.in(expr, values)
		return true
	}
	switch {
	case key == "kind" && (len(values) == 0 || column("lower(e.kind)")),
		key == "metadata.name" && (len(values) == 0 || column("lower(e.name)")),
		key == "metadata.namespace" && (len(values) == 0 || column("lower(e.namespace)")),
		key == "metadata.uid" && (len(values) == 0 || column("lower(e.id)")):
		if len(values) == 0 {
			w.sb.WriteString("1 = 1")
		}
		return
	case key == "spec.type" && column("lower(e.spec_type)"),
		key == "spec.lifecycle" && column("lower(e.lifecycle)"):
		return
	case key == "relations" || key == "attachments" || key == "status" || key == "metadata.etag",
		strings.HasPrefix(key, "attachments."), strings.HasPrefix(key, "status."):
		w.sb.WriteString("1 = 0") // not in Backstage's search rows
		return
	case strings.HasPrefix(key, "relations."):
		w.relation(strings.TrimPrefix(key, "relations."), values, ff.Match)
		return
	}
	w.sb.WriteString("EXISTS (SELECT 1 FROM (" + w.d.pathValues("e.id", "e.data", "") + ") p")
	w.args = append(w.args, key)
	if len(values) > 0 {
		w.sb.WriteString(" WHERE ")
		w.values("p.v", values, ff.Match)
	}
	w.sb.WriteString(")")
}

// values writes that expr, lower-cased, matches one of values.
func (w *where) values(expr string, values []string, match catalog.Match) {
	if match == catalog.MatchEqual {
		w.in("lower("+expr+")", values)
		return
	}
	for i, v := range values {
		if i > 0 {
			w.sb.WriteString(" OR ")
		}
		w.sb.WriteString("lower(" + expr + `) LIKE ? ESCAPE '\'`)
		pattern := escapeLike(v) + "%"
		if match == catalog.MatchContains {
			pattern = "%" + pattern
		}
		w.args = append(w.args, pattern)
	}
}

// relation matches relations.<typ>, whose type compares lower-cased.
func (w *where) relation(typ string, targets []string, match catalog.Match) {
	w.sb.WriteString("e.ref IN (SELECT r.source_ref FROM relations r WHERE lower(r.type) = ?")
	w.args = append(w.args, typ)
	if len(targets) > 0 {
		w.sb.WriteString(" AND (")
		w.values("r.target_ref", targets, match)
		w.sb.WriteString(")")
	}
	w.sb.WriteString(")")
}

func lower(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strings.ToLower(v)
	}
	return out
}

// escapeLike escapes the LIKE wildcards of s, with \ as the escape.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// inList returns a condition that column is one of values, with values as
// its one argument (see the dialect's anyOf).
func (db *DB) inList(column string, values []string) (string, any) {
	return inList(db.d, column, values)
}

func inList(d dialect, column string, values []string) (string, any) {
	if len(values) == 1 { // the fields of one entity: a plain lookup
		return column + ` = ?`, values[0]
	}
	return d.anyOf(column, values)
}
