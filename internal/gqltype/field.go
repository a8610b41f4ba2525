package gqltype

import "github.com/99designs/gqlgen/graphql"

// InList reports whether a field belongs to an item of a list: only then
// has it siblings whose reads it can share.
func InList(fc *graphql.FieldContext) bool {
	for f := fc; f != nil; f = f.Parent {
		if f.Index != nil {
			return true
		}
	}
	return false
}
