package resolvers

import (
	"context"
	"strings"

	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/plugins/techradar/graph/model"
	"github.com/greenroomhq/greenroom/plugins/techradar/radars"
)

// Bounds of the lists a caller asks for.
const (
	maxSnapshots = 1000
	maxUsedBy    = 500
)

// usedBy asks the core, as the caller, for the entities tagged with the
// entry's id: the core applies its read policy, and the gateway resolves
// the rest of each entity from the core by its ref.
func (r *Resolver) usedBy(ctx context.Context, e *radars.Entry, first *int) ([]model.CatalogEntity, error) {
	n := 100
	if first != nil {
		n = *first
	}
	if n < 0 || n > maxUsedBy {
		return nil, portal.Errorf(portal.EINVALID, "first must be between 0 and %d", maxUsedBy)
	}
	if n == 0 {
		return []model.CatalogEntity{}, nil
	}
	var out struct {
		Entities struct {
			Edges []struct {
				Node coreEntity `json:"node"`
			} `json:"edges"`
		} `json:"entities"`
	}
	// Tags are matched as written; the catalog's tags are lower-case
	// (Backstage's rule), so the entry's id is asked for in lower case.
	err := r.Core.Query(ctx, `query($tag: String!, $first: Int!) {
		entities(filter: {tags: {any: [$tag]}}, first: $first) { edges { node { __typename ref tags } } } }`,
		map[string]any{"tag": strings.ToLower(e.ID), "first": n}, &out)
	if err != nil {
		return nil, err
	}
	list := make([]model.CatalogEntity, len(out.Entities.Edges))
	for i, edge := range out.Entities.Edges {
		list[i] = r.entityOf(edge.Node.Typename, edge.Node.Ref, edge.Node.Tags)
	}
	return list, nil
}

// coreEntity is what the plugin reads of an entity from the core.
type coreEntity struct {
	Typename string   `json:"__typename"`
	Ref      string   `json:"ref"`
	Tags     []string `json:"tags"`
}

// refsPerRead is how many entities the plugin reads from the core in one
// request: the core's entitiesByRefs takes up to 1,000.
const refsPerRead = 500

// read reads the entities an _entities call names by the interface
// (__typename CatalogEntity, which carries no tags: Federation allows no
// @requires on an interface's field) from the core, as the caller, to learn
// their kinds and tags: one request for a batch of up to refsPerRead. The
// gateway names every entity by its kind, with its tags, so it does not
// come here. An entity the core does not return (gone, or hidden from the
// caller) comes back with its ref alone, so it uses no entries.
func (r *Resolver) read(ctx context.Context, refs []string) ([]coreEntity, error) {
	out := make([]coreEntity, len(refs))
	for start := 0; start < len(refs); start += refsPerRead {
		chunk := refs[start:min(start+refsPerRead, len(refs))]
		var got struct {
			EntitiesByRefs []*coreEntity `json:"entitiesByRefs"`
		}
		if err := r.Core.Query(ctx, `query($refs: [String!]!) { entitiesByRefs(refs: $refs) { __typename tags } }`,
			map[string]any{"refs": chunk}, &got); err != nil {
			return nil, err
		}
		for i, ref := range chunk {
			out[start+i] = coreEntity{Ref: ref}
			if i < len(got.EntitiesByRefs) && got.EntitiesByRefs[i] != nil {
				out[start+i].Typename, out[start+i].Tags = got.EntitiesByRefs[i].Typename, got.EntitiesByRefs[i].Tags
			}
		}
	}
	return out, nil
}

// each makes every representation of a batch of one kind into the kind's
// object. The gateway sends each entity's tags in its representation
// (techRadarEntries @requires them), so the batch costs no request to the
// core.
func each[R, T any](reps []R, build func(R) T) []T {
	out := make([]T, len(reps))
	for i, rep := range reps {
		out[i] = build(rep)
	}
	return out
}

// entityOf returns the plugin's object of the kind the core's __typename
// names (GenericEntity for any other).
func (r *Resolver) entityOf(typename, ref string, tags []string) model.CatalogEntity {
	entries := r.Radars.Used(tags)
	switch typename {
	case "Component":
		return &model.Component{Ref: ref, Tags: tags, TechRadarEntries: entries}
	case "API":
		return &model.API{Ref: ref, Tags: tags, TechRadarEntries: entries}
	case "Resource":
		return &model.Resource{Ref: ref, Tags: tags, TechRadarEntries: entries}
	case "System":
		return &model.System{Ref: ref, Tags: tags, TechRadarEntries: entries}
	case "Domain":
		return &model.Domain{Ref: ref, Tags: tags, TechRadarEntries: entries}
	case "Group":
		return &model.Group{Ref: ref, Tags: tags, TechRadarEntries: entries}
	case "User":
		return &model.User{Ref: ref, Tags: tags, TechRadarEntries: entries}
	case "Location":
		return &model.Location{Ref: ref, Tags: tags, TechRadarEntries: entries}
	case "Template":
		return &model.Template{Ref: ref, Tags: tags, TechRadarEntries: entries}
	}
	return &model.GenericEntity{Ref: ref, Tags: tags, TechRadarEntries: entries}
}

func pointers[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// clip shortens what a caller sent to quote it in an error.
func clip(s string) string {
	if len(s) > 40 {
		return strings.ToValidUTF8(s[:40], "") + "…"
	}
	return s
}
