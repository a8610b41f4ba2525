package resolvers

import (
	"context"
	"strings"

	"github.com/greenroomhq/greenroom/internal/portal"
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
func (r *Resolver) usedBy(ctx context.Context, e *radars.Entry, first *int) ([]*radars.Entity, error) {
	n := 100
	if first != nil {
		n = *first
	}
	if n < 0 || n > maxUsedBy {
		return nil, portal.Errorf(portal.EINVALID, "first must be between 0 and %d", maxUsedBy)
	}
	if n == 0 {
		return []*radars.Entity{}, nil
	}
	var out struct {
		Entities struct {
			Edges []struct {
				Node struct{ Ref string } `json:"node"`
			} `json:"edges"`
		} `json:"entities"`
	}
	// Tags are matched as written; the catalog's tags are lower-case
	// (Backstage's rule), so the entry's id is asked for in lower case.
	err := r.Core.Query(ctx, `query($tag: String!, $first: Int!) {
		entities(filter: {tags: {any: [$tag]}}, first: $first) { edges { node { ref } } } }`,
		map[string]any{"tag": strings.ToLower(e.ID), "first": n}, &out)
	if err != nil {
		return nil, err
	}
	list := make([]*radars.Entity, len(out.Entities.Edges))
	for i, e := range out.Entities.Edges {
		list[i] = &radars.Entity{Ref: e.Node.Ref}
	}
	return list, nil
}

// refsPerRead is how many entities the plugin reads from the core in one
// request: the core's entitiesByRefs takes up to 1,000.
const refsPerRead = 500

// entities reads the tags of the entities a gateway's _entities call names,
// from the core as the caller: one request for a batch of up to
// refsPerRead. An entity the core does not return (gone, or hidden from
// the caller) has no tags, so it uses no entries.
func (r *Resolver) entities(ctx context.Context, refs []string) ([]*radars.Entity, error) {
	out := make([]*radars.Entity, len(refs))
	for start := 0; start < len(refs); start += refsPerRead {
		chunk := refs[start:min(start+refsPerRead, len(refs))]
		var got struct {
			EntitiesByRefs []*struct {
				Tags []string `json:"tags"`
			} `json:"entitiesByRefs"`
		}
		if err := r.Core.Query(ctx, `query($refs: [String!]!) { entitiesByRefs(refs: $refs) { tags } }`,
			map[string]any{"refs": chunk}, &got); err != nil {
			return nil, err
		}
		for i, ref := range chunk {
			e := &radars.Entity{Ref: ref}
			if i < len(got.EntitiesByRefs) && got.EntitiesByRefs[i] != nil {
				e.Tags = got.EntitiesByRefs[i].Tags
			}
			out[start+i] = e
		}
	}
	return out, nil
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
