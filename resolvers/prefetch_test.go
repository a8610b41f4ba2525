package resolvers

import (
	"slices"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/greenroomhq/greenroom/graph"
)

// TestRelatedFields checks that every field of an entity type that lists
// related entities, or names one, is declared with @relation (and so has
// its description in relatedByType, which its resolver and the prefetch
// share), but those resolved otherwise.
func TestRelatedFields(t *testing.T) {
	s := graph.NewExecutableSchema(graph.Config{}).Schema()
	isEntity := func(name string) bool {
		def := s.Types[name]
		if def == nil {
			return false
		}
		if name == "CatalogEntity" || name == "Owner" {
			return true
		}
		return slices.ContainsFunc(s.GetImplements(def), func(d *ast.Definition) bool { return d.Name == "CatalogEntity" })
	}
	// Fields resolved otherwise: a User's members is the user itself.
	other := map[string]bool{"User.members": true}
	seen := map[string]bool{}
	for name, def := range s.Types {
		if def.Kind != ast.Object || !isEntity(name) {
			continue
		}
		for _, f := range def.Fields {
			key := name + "." + f.Name
			if !windowOnly(f.Arguments) || !isEntity(f.Type.Name()) || other[key] {
				continue
			}
			seen[key] = true
			if _, ok := relatedByType[name][f.Name]; !ok {
				t.Errorf("%s leads to related entities but is not declared with @relation", key)
			}
		}
	}
	for typ, fields := range relatedByType {
		for field := range fields {
			if !seen[typ+"."+field] {
				t.Errorf("relatedByType has %s.%s, which is not an entity field of the schema", typ, field)
			}
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
