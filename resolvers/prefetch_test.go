package resolvers

import (
	"slices"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/greenroomhq/greenroom/graph"
)

// TestRelatedFields checks that every field of an entity type that lists
// related entities is described in relatedFields, so that its resolver and
// the prefetch read the same relations, and that no description is stale.
func TestRelatedFields(t *testing.T) {
	s := graph.NewExecutableSchema(graph.Config{}).Schema()
	isEntity := func(name string) bool {
		def := s.Types[name]
		if def == nil {
			return false
		}
		if name == "Entity" || name == "Owner" {
			return true
		}
		return slices.ContainsFunc(s.GetImplements(def), func(d *ast.Definition) bool { return d.Name == "Entity" })
	}
	// Fields resolved otherwise: owner by ownerField, a User's members is the
	// user itself.
	other := map[string]bool{"owner": true, "User.members": true}
	seen := map[string]bool{}
	for name, def := range s.Types {
		if def.Kind != ast.Object || !isEntity(name) {
			continue
		}
		for _, f := range def.Fields {
			key := name + "." + f.Name
			if !windowOnly(f.Arguments) || !isEntity(f.Type.Name()) || other[f.Name] || other[key] {
				continue
			}
			seen[key] = true
			if _, ok := relatedFields[key]; !ok {
				t.Errorf("%s lists related entities but is not in relatedFields", key)
			}
		}
	}
	for key := range relatedFields {
		if !seen[key] {
			t.Errorf("relatedFields has %s, which is not an entity field of the schema", key)
		}
	}
}

// windowOnly reports whether a field takes no argument but the first and
// after of a list of related entities.
func windowOnly(args ast.ArgumentDefinitionList) bool {
	for _, a := range args {
		if a.Name != "first" && a.Name != "after" {
			return false
		}
	}
	return true
}
