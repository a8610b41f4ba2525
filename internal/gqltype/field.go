package gqltype

import (
	"slices"

	"github.com/99designs/gqlgen/graphql"
)

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

// Sequential reports whether the fields of an object type are resolved one
// after another rather than each on a goroutine of its own: the entity
// types (those implementing CatalogEntity), Relation, and the small types they
// lead to (RegisteredLocation, ProcessingError, Link, EntityConnection,
// whose totalCount is one query; TechDocs and TechDocsPage, whose fields
// read their own site's rows directly). The fields of an
// entity that read the database are read for a whole page before they run
// (see resolvers/prefetch.go), or come from the store's read cache, so a
// goroutine per field would cost far more than the field; a read that was
// not prefetched goes to the database at once rather than waiting for
// siblings. cmd/greenroom-gqlgen generates the resolution order from it,
// and marshals lists of such types in chunks (see MarshalChunked); the
// server chooses how loaders read by it.
func Sequential(object string, interfaces []string) bool {
	switch object {
	case "Relation", "RegisteredLocation", "ProcessingError", "Link", "EntityConnection", "TechDocs", "TechDocsPage":
		return true
	}
	return slices.Contains(interfaces, "CatalogEntity")
}
