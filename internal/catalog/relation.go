package catalog

import "strings"

// Relation types (backstage-spec.md §1.6). Each forward type has a reverse,
// and every relation is stored in both directions.
const (
	RelationOwnedBy       = "ownedBy"
	RelationOwnerOf       = "ownerOf"
	RelationConsumesAPI   = "consumesApi"
	RelationAPIConsumedBy = "apiConsumedBy"
	RelationProvidesAPI   = "providesApi"
	RelationAPIProvidedBy = "apiProvidedBy"
	RelationDependsOn     = "dependsOn"
	RelationDependencyOf  = "dependencyOf"
	RelationParentOf      = "parentOf"
	RelationChildOf       = "childOf"
	RelationMemberOf      = "memberOf"
	RelationHasMember     = "hasMember"
	RelationPartOf        = "partOf"
	RelationHasPart       = "hasPart"
)

// ReverseRelation maps each relation type to the type seen from its target.
var ReverseRelation = map[string]string{
	RelationOwnedBy: RelationOwnerOf, RelationOwnerOf: RelationOwnedBy,
	RelationConsumesAPI: RelationAPIConsumedBy, RelationAPIConsumedBy: RelationConsumesAPI,
	RelationProvidesAPI: RelationAPIProvidedBy, RelationAPIProvidedBy: RelationProvidesAPI,
	RelationDependsOn: RelationDependencyOf, RelationDependencyOf: RelationDependsOn,
	RelationParentOf: RelationChildOf, RelationChildOf: RelationParentOf,
	RelationMemberOf: RelationHasMember, RelationHasMember: RelationMemberOf,
	RelationPartOf: RelationHasPart, RelationHasPart: RelationPartOf,
}

// Relation is a directed, typed edge between two entities. Source and Target
// keep the case they were written in; compare them with [Ref.String].
type Relation struct {
	Source Ref
	Type   string
	Target Ref
}

// Relations returns every relation the entity emits, both directions of each
// pair, in spec-field order. A reference that cannot be parsed is returned
// as a [Problem] and emits nothing.
func Relations(e *Entity) ([]Relation, []Problem) {
	k, ok := kinds[e.Kind]
	if !ok {
		k = genericKind
	}
	self := e.Ref()
	var rels []Relation
	var problems []Problem
	for _, rf := range k.relations {
		for i, target := range specRefs(e.Spec, rf.key) {
			if target == "" {
				continue
			}
			t, err := ParseRef(target, RefDefaults{Kind: rf.defaultKind, Namespace: self.Namespace})
			if err != nil {
				path := "spec." + rf.key
				if _, isList := e.Spec[rf.key].([]any); isList {
					path = indexPath(path, i)
				}
				problems = append(problems, Problem{Path: path, Message: err.Error()})
				continue
			}
			rels = append(rels,
				Relation{Source: self, Type: rf.forward, Target: t},
				Relation{Source: t, Type: ReverseRelation[rf.forward], Target: self})
		}
	}
	return rels, problems
}

// specRefs returns the strings at spec[key], which may be one string or a
// list of them. List items keep their index; an item that is not a string
// comes back as "", to be skipped: validation already reported it.
func specRefs(spec map[string]any, key string) []string {
	switch v := spec[key].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, len(v))
		for i, item := range v {
			out[i], _ = item.(string)
		}
		return out
	}
	return nil
}

// canonicalTypes maps relation types, lower-cased, to their spelling.
var canonicalTypes = func() map[string]string {
	m := map[string]string{}
	for t := range ReverseRelation {
		m[strings.ToLower(t)] = t
	}
	return m
}()

// CanonicalRelationType returns the spelling of a relation type given in
// any case, and whether it is one of Backstage's relation types.
func CanonicalRelationType(t string) (string, bool) {
	c, ok := canonicalTypes[strings.ToLower(t)]
	return c, ok
}
