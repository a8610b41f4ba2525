// Package gqltype holds the Go types that exist only for the GraphQL layer
// and that gqlgen.yml binds schema types to: wrappers that give catalog
// values the methods gqlgen needs, and the opaque cursor.
//
// It imports internal/catalog and internal/portal.
package gqltype

import "github.com/greenroomhq/greenroom/internal/catalog"

// FederatedEntity is implemented by every type of the schema's _Entity
// union, the types a federation gateway can resolve by key.
type FederatedEntity interface{ IsFederatedEntity() }

// Entity is a catalog entity as the GraphQL Entity type serves it.
type Entity struct{ *catalog.Entity }

// IsFederatedEntity implements [FederatedEntity].
func (Entity) IsFederatedEntity() {}

// Ref returns the canonical, lower-cased reference.
func (e Entity) Ref() string { return e.Entity.Ref().String() }

// UID returns metadata.uid.
func (e Entity) UID() string { return e.Metadata.UID }

// Namespace returns metadata.namespace.
func (e Entity) Namespace() string { return e.Metadata.Namespace }

// Name returns metadata.name as written.
func (e Entity) Name() string { return e.Metadata.Name }

// Title returns metadata.title, or nil.
func (e Entity) Title() *string { return optional(e.Metadata.Title) }

// Description returns metadata.description, or nil.
func (e Entity) Description() *string { return optional(e.Metadata.Description) }

// Etag returns metadata.etag.
func (e Entity) Etag() string { return e.Metadata.Etag }

// Raw returns the whole entity as a JSON document.
func (e Entity) Raw() any { return e.Doc() }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
