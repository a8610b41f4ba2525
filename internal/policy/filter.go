package policy

import (
	"slices"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// stance is what a rule can do for one caller, before any entity is known.
type stance int

const (
	never  stance = iota // the rule matches no entity for this caller
	some                 // the rule matches the entities its conditions select
	always               // the rule matches every entity
)

// stance says how the rule, which names the permission pm, applies to p.
// It returns the subject p matched, if any. A rule with conditions never
// applies to a basic permission, which has no entity to test them on, and
// isOwner can hold for no entity when p owns through nothing.
func (r *rule) stance(pm permission, p *portal.Principal) (subject, stance) {
	s, ok := r.subjectFor(p)
	switch {
	case !ok:
		return s, never
	case r.when == nil:
		return s, always
	case pm.resource == "", r.when.isOwner && len(p.Ownership) == 0:
		return s, never
	}
	return s, some
}

// Filter returns the entities p may use the permission called perm on, as
// a filter the store turns into SQL: the entities that some matching allow
// rule's conditions select and no matching deny rule's conditions select.
// all reports that p may use it on every entity, so no filter is needed;
// none that p may use it on no entity, so no query is needed. f is set
// only when both are false.
//
// An entity is in f exactly when [Policy.Decide] allows perm on it; a nil
// p is treated as [portal.Anonymous], and an unknown permission gives none.
func (pol *Policy) Filter(perm string, p *portal.Principal) (f catalog.EntityFilter, all, none bool) {
	if p == nil {
		p = portal.Anonymous
	}
	pm, ok := lookup(perm)
	if !ok {
		return catalog.EntityFilter{}, false, true
	}
	if p.Kind == portal.PrincipalCLI {
		return catalog.EntityFilter{}, true, false // as Decide: the operator holds the database
	}
	var allows, denies []catalog.EntityFilter
	allowAll := false
	for _, ru := range pol.rules {
		if !ru.covers(perm) {
			continue
		}
		_, st := ru.stance(pm, p)
		switch {
		case st == never:
		case ru.deny && st == always:
			return catalog.EntityFilter{}, false, true
		case ru.deny:
			denies = append(denies, ru.when.filter(p))
		case st == always:
			allowAll = true
		default:
			allows = append(allows, ru.when.filter(p))
		}
	}
	switch {
	case allowAll && len(denies) == 0:
		return catalog.EntityFilter{}, true, false
	case !allowAll && len(allows) == 0:
		return catalog.EntityFilter{}, false, true
	}
	if !allowAll {
		f.Or = allows
	}
	switch len(denies) {
	case 0:
	case 1:
		f.Not = &denies[0]
	default:
		f.Not = &catalog.EntityFilter{Or: denies}
	}
	return f, false, false
}

// filter returns the entities the conditions select for p. The caller has
// made sure that isOwner can hold (p owns through some ref): an empty
// Owners list would select every entity instead of none. Slices are copies,
// so a caller that edits the filter cannot edit the policy.
func (c *conditions) filter(p *portal.Principal) catalog.EntityFilter {
	f := catalog.EntityFilter{Kinds: slices.Clone(c.kinds), Namespaces: slices.Clone(c.namespaces)}
	if c.isOwner {
		f.Owners = make([]string, len(p.Ownership))
		for i, o := range p.Ownership {
			f.Owners[i] = strings.ToLower(o)
		}
	}
	keyFilters(&f, c.labels, c.annotations)
	return f
}

// keyFilters sets the label and annotation filters of f. The entries of
// one Labels list are alternatives, but every key of a condition must be
// present, so each key after the first goes one level down, into a
// one-element Or, which the store ANDs with the level above.
func keyFilters(f *catalog.EntityFilter, labels, annotations []keyValue) {
	if len(labels) > 0 {
		f.Labels = []catalog.KeyFilter{keyFilter(labels[0])}
		labels = labels[1:]
	}
	if len(annotations) > 0 {
		f.Annotations = []catalog.KeyFilter{keyFilter(annotations[0])}
		annotations = annotations[1:]
	}
	if len(labels) > 0 || len(annotations) > 0 {
		var rest catalog.EntityFilter
		keyFilters(&rest, labels, annotations)
		f.Or = []catalog.EntityFilter{rest}
	}
}

func keyFilter(kv keyValue) catalog.KeyFilter {
	k := catalog.KeyFilter{Key: kv.key}
	if kv.value != anyValue {
		v := kv.value
		k.Value = &v
	}
	return k
}
