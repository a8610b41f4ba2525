package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// Decision is the answer to one permission check, with what it rests on.
type Decision struct {
	Allowed bool
	// Rule names the rule that decided: the deny rule that matched, or
	// else the allow rule that matched; "" when no rule matched and the
	// default denied.
	Rule string
	Line int // the line of Rule in the policy file; 0 when Rule is ""
	// Reason says in one sentence, for the caller to read, why: which rule
	// decided, or, when none did, what each rule that could have allowed
	// the permission was missing.
	Reason string
}

// Decide checks whether p may use the permission called perm on r.
//
// A deny rule that matches wins over every allow rule; otherwise any allow
// rule that matches allows; otherwise the permission is denied. A rule
// matches when it names the permission, the caller is one of its subjects,
// and all its conditions hold for r.
//
// r is nil for a permission about no entity (catalog.location.*,
// audit.event.read, jobs.job.*); rules
// with conditions never match those. For an entity permission a nil r asks
// whether p may use it on every entity: only rules without conditions
// allow, and a deny rule with conditions that could hold denies. That is
// exactly when [Policy.Filter] reports all.
//
// A nil p is treated as [portal.Anonymous]; an unknown permission is denied.
// An operator running a greenroom command ([portal.PrincipalCLI]) may do
// everything: it holds the database, which no policy can take from it, and
// goes through the same services only to be audited the same way.
func (pol *Policy) Decide(perm string, p *portal.Principal, r *Resource) Decision {
	if p == nil {
		p = portal.Anonymous
	}
	pm, ok := lookup(perm)
	if !ok {
		return Decision{Reason: fmt.Sprintf("denied: %q is not a permission Greenroom knows", perm)}
	}
	if p.Kind == portal.PrincipalCLI {
		return Decision{Allowed: true, Reason: fmt.Sprintf("allowed: %s runs a greenroom command on the database, which no policy limits", p.Ref)}
	}
	if pm.resource != "" && r == nil {
		return pol.decideEvery(pm, p)
	}
	var allow, deny *verdict
	var misses []string
	for _, ru := range pol.rules {
		if !ru.covers(perm) {
			continue
		}
		s, ok := ru.subjectFor(p)
		if !ok {
			if !ru.deny {
				misses = append(misses, fmt.Sprintf("rule %s is only for %s", ru.name, subjectList(ru.to)))
			}
			continue
		}
		var held, missed []string
		if ru.when != nil {
			if pm.resource == "" {
				if !ru.deny {
					misses = append(misses, fmt.Sprintf("rule %s has conditions on entities, and %s is not about an entity", ru.name, perm))
				}
				continue
			}
			held, missed = ru.when.check(p, r)
		}
		switch {
		case len(missed) > 0:
			if !ru.deny {
				misses = append(misses, fmt.Sprintf("rule %s %s", ru.name, strings.Join(missed, "; it also ")))
			}
		case ru.deny && deny == nil:
			deny = &verdict{ru, s, held}
		case !ru.deny && allow == nil:
			allow = &verdict{ru, s, held}
		}
	}
	switch {
	case deny != nil:
		d := deny.decision(perm)
		if allow != nil {
			d.Reason += fmt.Sprintf("; this overrides rule %s, which allows it", allow.rule.name)
		}
		return d
	case allow != nil:
		return allow.decision(perm)
	}
	return Decision{Reason: noRule(perm, p, "", misses)}
}

// decideEvery decides an entity permission for every entity at once, from
// the stance of each rule (see [rule.stance]), as [Policy.Filter] does.
func (pol *Policy) decideEvery(pm permission, p *portal.Principal) Decision {
	var allowAll, denyAll, denySome *verdict
	var misses []string
	for _, ru := range pol.rules {
		if !ru.covers(pm.name) {
			continue
		}
		s, st := ru.stance(pm, p)
		switch {
		case ru.deny && st == always && denyAll == nil:
			denyAll = &verdict{rule: ru, subject: s}
		case ru.deny && st == some && denySome == nil:
			denySome = &verdict{rule: ru, subject: s}
		case ru.deny:
		case st == always:
			if allowAll == nil {
				allowAll = &verdict{rule: ru, subject: s}
			}
		case !ru.matchesSubject(p):
			misses = append(misses, fmt.Sprintf("rule %s is only for %s", ru.name, subjectList(ru.to)))
		default:
			misses = append(misses, fmt.Sprintf("rule %s allows it only on entities %s", ru.name, ru.when.describe()))
		}
	}
	switch {
	case denyAll != nil:
		return denyAll.decision(pm.name)
	case allowAll != nil && denySome != nil:
		d := denySome.decision(pm.name)
		d.Reason += fmt.Sprintf(" on entities %s, so not on every entity", denySome.rule.when.describe())
		return d
	case allowAll != nil:
		return allowAll.decision(pm.name)
	}
	return Decision{Reason: noRule(pm.name, p, " on every entity", misses)}
}

// matchesSubject reports whether p is one of the rule's subjects.
func (r *rule) matchesSubject(p *portal.Principal) bool {
	_, ok := r.subjectFor(p)
	return ok
}

// verdict is a rule that matched, with the clauses saying why its
// conditions hold.
type verdict struct {
	rule    *rule
	subject subject
	held    []string
}

func (v *verdict) decision(perm string) Decision {
	word := "allowed"
	if v.rule.deny {
		word = "denied"
	}
	reason := fmt.Sprintf("%s: rule %s %s %s to %s", word, v.rule.name, v.rule.effect(), perm, v.subject)
	if len(v.held) > 0 {
		reason += ", and " + strings.Join(v.held, " and ")
	}
	return Decision{Allowed: !v.rule.deny, Rule: v.rule.name, Line: v.rule.line, Reason: reason}
}

// noRule is the reason for a default denial.
func noRule(perm string, p *portal.Principal, scope string, misses []string) string {
	reason := fmt.Sprintf("denied: no rule allows %s to %s%s", perm, caller(p), scope)
	for _, m := range misses {
		reason += "; " + m
	}
	return reason
}

// caller names p in reasons.
func caller(p *portal.Principal) string {
	if p.Kind == portal.PrincipalAnonymous || p.Ref == "" {
		return "an anonymous caller"
	}
	return strings.ToLower(p.Ref)
}

func subjectList(subjects []subject) string {
	names := make([]string, len(subjects))
	for i, s := range subjects {
		names[i] = s.String()
	}
	return orList(names)
}

// orList joins "a", "a or b", "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// andList joins "a", "a and b", "a, b and c".
func andList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// check tests the conditions against r for p. It returns a clause for
// each condition that holds, saying why, and one for each that does not,
// saying what it needs; the conditions hold when missed is empty.
func (c *conditions) check(p *portal.Principal, r *Resource) (held, missed []string) {
	if c.isOwner {
		if o, ok := ownerOf(p, r); ok {
			clause := fmt.Sprintf("%s owns %s", caller(p), r.name())
			if o != strings.ToLower(p.Ref) {
				clause += " as a member of " + o
			}
			held = append(held, clause)
		} else {
			missed = append(missed, fmt.Sprintf("needs the caller to own %s, %s", r.name(), ownedBy(r)))
		}
	}
	if len(c.kinds) > 0 {
		if containsFold(c.kinds, r.Kind) {
			held = append(held, fmt.Sprintf("%s is of kind %s", r.name(), r.Kind))
		} else {
			missed = append(missed, fmt.Sprintf("needs kind %s, and %s is of kind %s", orList(c.kinds), r.name(), r.Kind))
		}
	}
	if len(c.namespaces) > 0 {
		if containsFold(c.namespaces, r.namespace()) {
			held = append(held, fmt.Sprintf("%s is in namespace %s", r.name(), r.namespace()))
		} else {
			missed = append(missed, fmt.Sprintf("needs namespace %s, and %s is in namespace %s", orList(c.namespaces), r.name(), r.namespace()))
		}
	}
	checkKeys := func(what string, want []keyValue, have map[string]string) {
		for _, kv := range want {
			values := valuesOf(have, kv.key)
			switch {
			case kv.value == anyValue && len(values) > 0 || containsFold(values, kv.value):
				held = append(held, fmt.Sprintf("%s has %s %s", r.name(), what, kv))
			case len(values) == 0:
				missed = append(missed, fmt.Sprintf("needs %s %s, and %s has no %s %s", what, kv, r.name(), what, kv.key))
			default:
				missed = append(missed, fmt.Sprintf("needs %s %s, and %s has %s=%s", what, kv, r.name(), kv.key, values[0]))
			}
		}
	}
	checkKeys("label", c.labels, r.Labels)
	checkKeys("annotation", c.annotations, r.Annotations)
	return held, missed
}

// describe says which entities the conditions select, for a caller who
// named no entity.
func (c *conditions) describe() string {
	var parts []string
	if c.isOwner {
		parts = append(parts, "owned by the caller")
	}
	if len(c.kinds) > 0 {
		parts = append(parts, "of kind "+orList(c.kinds))
	}
	if len(c.namespaces) > 0 {
		parts = append(parts, "in namespace "+orList(c.namespaces))
	}
	for _, kv := range c.labels {
		parts = append(parts, "with label "+kv.String())
	}
	for _, kv := range c.annotations {
		parts = append(parts, "with annotation "+kv.String())
	}
	return andList(parts)
}

// ownerOf returns the first owner of r that p owns through.
func ownerOf(p *portal.Principal, r *Resource) (string, bool) {
	for _, o := range r.Owners {
		if o = strings.ToLower(o); owns(p, o) {
			return o, true
		}
	}
	return "", false
}

// ownedBy says who owns r, as the end of a sentence.
func ownedBy(r *Resource) string {
	if len(r.Owners) == 0 {
		return "which has no owner"
	}
	return "which is owned by " + andList(r.Owners)
}

// valuesOf returns the values of the keys of m equal to key but for case,
// sorted, so that reasons do not depend on map order.
func valuesOf(m map[string]string, key string) []string {
	var out []string
	for k, v := range m {
		if strings.ToLower(k) == strings.ToLower(key) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// containsFold reports whether list holds s, ignoring case as the store's
// lower() does.
func containsFold(list []string, s string) bool {
	s = strings.ToLower(s)
	for _, v := range list {
		if strings.ToLower(v) == s {
			return true
		}
	}
	return false
}
