package policy

import (
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Policy is a parsed policy file. It is immutable, so one value may serve
// any number of requests at once; a [Watcher] swaps in a new one when the
// file changes.
type Policy struct {
	rules []*rule
}

// Len returns the number of rules.
func (pol *Policy) Len() int { return len(pol.rules) }

// rule is one entry of the rules list.
type rule struct {
	name  string
	line  int
	deny  bool
	perms []string // permission names and wildcards, as written
	to    []subject
	when  *conditions // nil when the rule has none
}

// effect returns the verb of the rule, for reasons.
func (r *rule) effect() string {
	if r.deny {
		return "denies"
	}
	return "allows"
}

// covers reports whether the rule names the permission called name.
func (r *rule) covers(name string) bool {
	for _, pat := range r.perms {
		if covers(pat, name) {
			return true
		}
	}
	return false
}

// subjectFor returns the first subject of the rule that p is, and whether
// there is one.
func (r *rule) subjectFor(p *portal.Principal) (subject, bool) {
	for _, s := range r.to {
		if s.matches(p) {
			return s, true
		}
	}
	return subject{}, false
}

// subjectKind is what a subject of a rule's "to" list names.
type subjectKind int

const (
	anyone     subjectKind = iota // every caller, anonymous ones too
	users                         // every user principal
	services                      // every service principal
	anonymous                     // callers without a token
	userRef                       // one user
	groupRef                      // the members of a group, transitively
	serviceRef                    // one service
)

// subject is an entry of a rule's "to" list.
type subject struct {
	kind subjectKind
	ref  string // canonical ref for userRef, groupRef and serviceRef
}

func (s subject) matches(p *portal.Principal) bool {
	switch s.kind {
	case anyone:
		return true
	case users:
		return p.Kind == portal.PrincipalUser
	case services:
		return p.Kind == portal.PrincipalService
	case anonymous:
		return p.Kind == portal.PrincipalAnonymous
	case userRef:
		return p.Kind == portal.PrincipalUser && strings.ToLower(p.Ref) == s.ref
	case serviceRef:
		return p.Kind == portal.PrincipalService && strings.ToLower(p.Ref) == s.ref
	case groupRef:
		return owns(p, s.ref)
	}
	return false
}

// String describes who the subject stands for, as reasons name it.
func (s subject) String() string {
	switch s.kind {
	case anyone:
		return "anyone"
	case users:
		return "users"
	case services:
		return "services"
	case anonymous:
		return "anonymous callers"
	case groupRef:
		return "members of " + s.ref
	}
	return s.ref
}

// owns reports whether ref is among p's ownership refs. Ownership is
// canonical by contract; lower-casing here costs little and keeps a
// principal built by hand from silently matching nothing.
func owns(p *portal.Principal, ref string) bool {
	for _, o := range p.Ownership {
		if strings.ToLower(o) == ref {
			return true
		}
	}
	return false
}

// conditions is a rule's "when": every field that is set must hold.
type conditions struct {
	isOwner     bool
	kinds       []string   // as written; compared lower-cased
	namespaces  []string   // as written; compared lower-cased
	labels      []keyValue // in file order
	annotations []keyValue
}

// keyValue is one required label or annotation.
type keyValue struct {
	key   string // as written; compared lower-cased
	value string // as written; compared lower-cased; "*" means any value
}

// anyValue is the value that only asks for a key to be present.
const anyValue = "*"

func (kv keyValue) String() string {
	if kv.value == anyValue {
		return kv.key
	}
	return kv.key + "=" + kv.value
}

// Resource is the entity a permission is checked against. Decisions
// compare every field case-insensitively, as the store's filters do.
type Resource struct {
	Ref         string // canonical ref, for reasons
	Kind        string
	Namespace   string // "" means "default"
	Labels      map[string]string
	Annotations map[string]string
	// Owners are the targets of the entity's ownedBy relations, canonical,
	// the same refs the store matches [catalog.EntityFilter.Owners] against.
	Owners []string
}

// EntityResource returns the resource for an entity whose ownedBy relations
// point at owners (canonical refs). Owners come from the stored relations,
// not from spec.owner, because the store's filter reads the relations too.
func EntityResource(e *catalog.Entity, owners []string) *Resource {
	return &Resource{
		Ref:         e.Ref().String(),
		Kind:        e.Kind,
		Namespace:   e.Metadata.Namespace,
		Labels:      e.Metadata.Labels,
		Annotations: e.Metadata.Annotations,
		Owners:      owners,
	}
}

// name returns how reasons call the resource.
func (r *Resource) name() string {
	if r.Ref == "" {
		return "the entity"
	}
	return r.Ref
}

func (r *Resource) namespace() string {
	if r.Namespace == "" {
		return catalog.DefaultNamespace
	}
	return r.Namespace
}
