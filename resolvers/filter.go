package resolvers

import (
	"strings"

	"github.com/greenroomhq/greenroom/graph/model"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Limits on a filter's shape, so that one request cannot build a query of
// unbounded size.
const (
	maxFilterDepth  = 5   // nesting of or and not
	maxFilterValues = 200 // values in all fields of the filter together
)

// toFilter converts and checks a filter argument. Returns EINVALID when it
// is nested too deeply, too large, or names a malformed ref or an unknown
// relation type.
func toFilter(f *model.EntityFilter) (catalog.EntityFilter, error) {
	if f == nil {
		return catalog.EntityFilter{}, nil
	}
	values := 0
	return convertFilter(f, 1, &values)
}

func convertFilter(f *model.EntityFilter, depth int, values *int) (catalog.EntityFilter, error) {
	if depth > maxFilterDepth {
		return catalog.EntityFilter{}, portal.Errorf(portal.EINVALID, "filter is nested more than %d levels deep (or/not)", maxFilterDepth)
	}
	count := func(n int) error {
		if *values += n; *values > maxFilterValues {
			return portal.Errorf(portal.EINVALID, "filter has more than %d values", maxFilterValues)
		}
		return nil
	}
	out := catalog.EntityFilter{
		Kinds: f.Kind, Namespaces: f.Namespace, Names: f.Name, Types: f.Type, Lifecycles: f.Lifecycle,
		Orphan: f.Orphan, HasErrors: f.HasErrors,
	}
	if err := count(len(f.Kind) + len(f.Namespace) + len(f.Name) + len(f.Type) + len(f.Lifecycle) + len(f.Docs)); err != nil {
		return out, err
	}
	for _, d := range f.Docs {
		out.Docs = append(out.Docs, catalog.DocsState(strings.ToLower(string(d))))
	}
	var err error
	if out.Owners, err = refs(f.Owner, catalog.KindGroup, count); err != nil {
		return out, err
	}
	if out.Systems, err = refs(f.System, catalog.KindSystem, count); err != nil {
		return out, err
	}
	if f.Tags != nil {
		out.TagsAll, out.TagsAny = f.Tags.All, f.Tags.Any
		if err := count(len(f.Tags.All) + len(f.Tags.Any)); err != nil {
			return out, err
		}
	}
	for _, l := range f.Labels {
		out.Labels = append(out.Labels, catalog.KeyFilter{Key: l.Key, Value: l.Value})
	}
	for _, a := range f.Annotations {
		out.Annotations = append(out.Annotations, catalog.KeyFilter{Key: a.Key, Value: a.Value})
	}
	if err := count(len(f.Labels) + len(f.Annotations)); err != nil {
		return out, err
	}
	for _, rel := range f.Relation {
		typ, err := relationType(rel.Type)
		if err != nil {
			return out, err
		}
		target, err := parseRef(rel.TargetRef, "")
		if err != nil {
			return out, err
		}
		out.Relations = append(out.Relations, catalog.RelationFilter{Type: typ, Target: target})
	}
	if err := count(len(f.Relation)); err != nil {
		return out, err
	}
	if f.Text != nil {
		out.Text = *f.Text
	}
	for _, sub := range f.Or {
		c, err := convertFilter(sub, depth+1, values)
		if err != nil {
			return out, err
		}
		out.Or = append(out.Or, c)
	}
	if f.Not != nil {
		c, err := convertFilter(f.Not, depth+1, values)
		if err != nil {
			return out, err
		}
		out.Not = &c
	}
	return out, nil
}

// refs parses refs given in a filter, with a default kind.
func refs(in []string, defaultKind string, count func(int) error) ([]string, error) {
	if err := count(len(in)); err != nil {
		return nil, err
	}
	var out []string
	for _, s := range in {
		r, err := parseRef(s, defaultKind)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
